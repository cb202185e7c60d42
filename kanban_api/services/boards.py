from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    delete,
    exists,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from kanban_api.errors import ConflictError, NotFoundError
from kanban_api.models import Board, Card, CardAssignee, Label, LabelColor, Membership, Role, User
from kanban_api.models.base import utcnow
from kanban_api.schemas.board import BoardEventOut, BoardUpdate, LabelOut
from kanban_api.schemas.event import EventType
from kanban_api.schemas.member import MemberOut
from kanban_api.services import cards, contacts, events
from kanban_api.services.users import check_token, token_is_current, token_params
from kanban_api.utils.sql import DialectFunction
from kanban_api.utils.token import TokenClaims

BOARD_NOT_FOUND = "Board not found"
LAST_OWNER = "A board must keep at least one owner; make someone else an owner first"


class _LabelPairs(DialectFunction):
    """A board's labels as JSON text, `[[colour position, name], ...]`, in no order.

    Aggregated in the database so that the board list is one statement, and a
    board one row; sorted in Python, since SQLite before 3.44 has no ordered
    aggregates. NULL for a board without labels. Cast to text on PostgreSQL: the
    driver would otherwise decode the json with the standard library.
    """

    inherit_cache = True
    templates = {
        "postgresql": "CAST(json_agg(json_build_array({})) AS TEXT)",
        "sqlite": "json_group_array(json_array({}))",
    }


# The board list's statement, built once: see list_boards.
_MY_BOARDS = (
    select(
        Board.id,
        Board.title,
        Board.description,
        _LabelPairs(Label.color, Label.name)
        .select()
        .where(Label.board_id == Board.id)
        .scalar_subquery(),
        Board.created_at,
        Board.updated_at,
        Board.version,
        Membership.role,
    )
    .join(Membership, Membership.board_id == Board.id)
    .where(Membership.user_id == bindparam("user_id"), token_is_current())
    .order_by(Board.id)
)
_LABEL_COLORS = tuple(LabelColor)


def member_of_board() -> ColumnElement[bool]:
    """SQL that holds while the token's user is a member of board `:board_id` (and the
    token is current); takes `board_id` and the bind parameters of `token_params`."""
    membership = exists().where(
        Membership.board_id == bindparam("board_id"), Membership.user_id == bindparam("user_id")
    )
    return and_(membership, token_is_current())


_MEMBERSHIP = select(Membership.board_id).where(
    Membership.board_id == bindparam("board_id"),
    Membership.user_id == bindparam("user_id"),
    token_is_current(),
)


async def list_boards(connection: AsyncConnection, *, claims: TokenClaims) -> list[dict[str, Any]]:
    """The token user's boards in BoardOut's wire shape, each with the user's role:
    one statement, however many.

    The read path of services.cards.list_cards, for boards: Core rows (not ORM
    entities) from a statement built once, the token checked in it, each board's
    labels aggregated into its row (see `_LabelPairs`): a second statement for
    them, or a row per label, cost a third more.
    """
    rows = (await connection.execute(_MY_BOARDS, token_params(claims))).all()
    if not rows:
        await check_token(connection, claims=claims)  # no boards, or a stale token?
    return [
        {
            "id": board_id,
            "title": title,
            "description": description,
            "labels": [
                {"color": _LABEL_COLORS[position], "name": name}
                for position, name in sorted(orjson.loads(labels or "[]"))
            ],
            "createdAt": created_at,
            "updatedAt": updated_at,
            "version": version,
            "role": role,
        }
        for board_id, title, description, labels, created_at, updated_at, version, role in rows
    ]


async def check_member(connection: AsyncConnection, *, board_id: int, claims: TokenClaims) -> None:
    """404 unless the token's user is a member of the board (401 if the token went stale)."""
    params = {**token_params(claims), "board_id": board_id}
    if await connection.scalar(_MEMBERSHIP, params) is None:
        await check_token(connection, claims=claims)
        raise NotFoundError(BOARD_NOT_FOUND)


_LOCK_MEMBER_BOARD = (
    select(Board.id)
    .join(Membership, Membership.board_id == Board.id)
    .where(Board.id == bindparam("board_id"), Membership.user_id == bindparam("user_id"))
    .with_for_update(of=Board, key_share=True)
)


async def get_member_board(
    session: AsyncSession, *, board_id: int, user: User, for_update: bool = False
) -> tuple[Board, Role]:
    """The board and the user's role on it; 404 for outsiders, so they cannot tell it exists.

    `for_update` first locks the board row (see `lock_board`; members only), then
    reads the board and the role once the lock is granted. In one statement, a
    role changed by the writer this one waited for would go unseen: a row locked
    through a join is re-checked after the wait, the rows joined to it are not.
    """
    if for_update:
        params = {"board_id": board_id, "user_id": user.id}
        connection = await session.connection()
        if await connection.scalar(_LOCK_MEMBER_BOARD, params) is None:
            raise NotFoundError(BOARD_NOT_FOUND)
    statement = (
        select(Board, Membership.role)
        .join(Membership, Membership.board_id == Board.id)
        .where(Board.id == board_id, Membership.user_id == user.id)
        .options(selectinload(Board.labels))
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    found, role = row
    return found, role


async def lock_board(
    session: AsyncSession, *, board_id: int, not_found: str = BOARD_NOT_FOUND
) -> None:
    """Hold the board row until the transaction ends; every writer of the board takes it first.

    One lock, always taken first, serializes the writers of a board's cards (their
    positions depend on each other) and makes `If-Match` checks atomic with the
    write that follows, without deadlocks. It must come before any other row lock or
    write on the board: each change also bumps the board's event counter (see
    services/events.py), so a writer holding, say, a card row when it reaches the
    counter would deadlock with a board deletion holding the board row and waiting
    for the card. FOR NO KEY UPDATE leaves foreign key checks, such as sharing the
    board, unblocked. SQLite needs none: its transactions already run one at a time
    (BEGIN IMMEDIATE).

    404 (`not_found`) if the board was deleted while this request waited for it.
    """
    locked = await session.scalar(
        select(Board.id).where(Board.id == board_id).with_for_update(key_share=True)
    )
    if locked is None:
        raise NotFoundError(not_found)


async def create_board(session: AsyncSession, *, user: User, title: str, description: str) -> Board:
    """A board with its seven unnamed labels, and its creator as its owner."""
    board = Board(
        title=title,
        description=description,
        labels=[Label(color=color, name="") for color in LabelColor],
    )
    board.memberships = [Membership(user_id=user.id, role=Role.OWNER)]
    session.add(board)
    await session.flush()
    return board


async def update_board(session: AsyncSession, *, board: Board, update: BoardUpdate) -> Board:
    """Rename the board and/or its labels.

    Events: one `label.renamed` per label whose name changed, in colour order, then
    `board.updated` (the board, without anyone's role) if the title or description
    changed.
    """
    changes = update.model_dump(exclude_unset=True, exclude={"labels"}, by_alias=False)
    board_changed = any(getattr(board, field) != value for field, value in changes.items())
    for field, value in changes.items():
        setattr(board, field, value)
    names_before = {label.color: label.name for label in board.labels}
    labels_by_color = {label.color: label for label in board.labels}
    for rename in update.labels or ():
        labels_by_color[rename.color].name = rename.name
    # board.labels is in colour order.
    renamed = [label for label in board.labels if label.name != names_before[label.color]]
    if renamed:
        # A renamed label changes how the board reads, so the board counts as changed.
        board.updated_at = utcnow()
    await session.flush()
    recorded: list[tuple[EventType, events.EventData]] = [
        (EventType.LABEL_RENAMED, LabelOut.model_validate(label)) for label in renamed
    ]
    if board_changed:
        recorded.append((EventType.BOARD_UPDATED, BoardEventOut.model_validate(board)))
    await events.record_many(session, board_id=board.id, events=recorded)
    return board


async def delete_board(session: AsyncSession, *, board: Board) -> None:
    await events.record_board_deleted(session, board_id=board.id)
    # The database cascades to cards, labels, memberships and events in the same statement.
    await session.execute(delete(Board).where(Board.id == board.id))


async def list_members(session: AsyncSession, *, board: Board) -> Sequence[Row[User, Role]]:
    statement = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.board_id == board.id)
        .order_by(Membership.created_at, User.id)
    )
    return (await session.execute(statement)).all()


async def add_member(
    session: AsyncSession,
    *,
    board: Board,
    sharer_id: int,
    user_id: int,
    role: Role | None = None,
) -> tuple[User, Role]:
    """Share the board, or change a member's role.

    Without a role a new member joins as an editor and an existing one keeps
    theirs, so sharing twice (as the seed's clients do) changes nothing.
    The caller holds the board lock (`get_member_board(..., for_update=True)`).
    Raises NotFoundError for a user id that does not exist or that `sharer_id`
    may not share with (one answer for both: see services/contacts.py).
    Events: `member.added` for a new member, `member.updated` for a new role.
    """
    user = await contacts.shareable_user(session, sharer_id=sharer_id, user_id=user_id)
    if user is None:
        raise NotFoundError("User not found")
    owners = await _lock_owners(session, board_id=board.id)
    membership = await session.scalar(
        select(Membership)
        .where(Membership.board_id == board.id, Membership.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if membership is None:
        membership = Membership(user_id=user_id, board_id=board.id, role=role or Role.EDITOR)
        session.add(membership)
        event = EventType.MEMBER_ADDED
    elif role is not None and role != membership.role:
        if owners == {user_id}:
            raise ConflictError(LAST_OWNER)
        membership.role = role
        event = EventType.MEMBER_UPDATED
    else:
        return user, membership.role
    await session.flush()
    await events.record(
        session,
        board_id=board.id,
        type=event,
        data=MemberOut(id=user.id, email=user.email, role=membership.role),
    )
    return user, membership.role


async def remove_member(session: AsyncSession, *, board: Board, user_id: int) -> None:
    """Unshare the board; the database unassigns the member from its cards in the same statement.

    The caller holds the board lock (`get_member_board(..., for_update=True)`).
    Events: `member.removed`, then `card.updated` for each card they were assigned to.
    """
    if await _lock_owners(session, board_id=board.id) == {user_id}:
        raise ConflictError(LAST_OWNER)
    assigned = list(
        await session.scalars(
            select(CardAssignee.card_id).where(
                CardAssignee.board_id == board.id, CardAssignee.user_id == user_id
            )
        )
    )
    if assigned:
        # Their cards' assignees change, so those cards count as changed (their ETags too).
        await session.execute(
            update(Card)
            .where(Card.id.in_(assigned))
            .values(updated_at=utcnow(), version=Card.version + 1)
            .execution_options(synchronize_session=False)
        )
    result = await session.execute(
        delete(Membership).where(Membership.board_id == board.id, Membership.user_id == user_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError("User is not a member of this board")
    await events.record_many(
        session,
        board_id=board.id,
        events=[
            (EventType.MEMBER_REMOVED, events.deleted(user_id)),
            *await cards.updated_card_events(session, card_ids=assigned),
        ],
    )


async def _lock_owners(session: AsyncSession, *, board_id: int) -> set[int]:
    """The board's owners, locked until the transaction ends.

    Every membership change on a board queues here (after the board lock), so
    "is this the last owner?" stays true until commit: two owners demoting each
    other at once cannot leave the board without one. (SQLite needs no lock: its
    write transactions already run one at a time.)
    """
    statement = (
        select(Membership.user_id)
        .where(Membership.board_id == board_id, Membership.role == Role.OWNER)
        .order_by(Membership.user_id)
        .with_for_update()
    )
    return set(await session.scalars(statement))
