"""Board writes: creating, renaming and deleting boards, and their members (the board
list is reads/boards.py)."""

from collections.abc import Sequence

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import locked_board
from kanban_api.errors import USER_NOT_FOUND, ConflictError, NotFoundError
from kanban_api.events import feed as events
from kanban_api.models import Board, Card, CardAssignee, Label, LabelColor, Membership, Role, User
from kanban_api.models.base import utcnow
from kanban_api.schemas.board import BoardEventOut, BoardUpdate, ColumnUpdate, LabelOut
from kanban_api.schemas.event import EventType
from kanban_api.schemas.member import BoardInvitationOut, InvitedMemberOut, MemberOut
from kanban_api.services import cards, contacts

LAST_OWNER = "A board must keep at least one owner; make someone else an owner first"


async def create_board(session: AsyncSession, *, user: User, title: str, description: str) -> Board:
    """A board with its seven unnamed labels, and its creator as its owner."""
    board = Board(
        title=title,
        description=description,
        labels=[Label(color=color, name="") for color in LabelColor],
    )
    board.memberships = [Membership(user_id=user.id, role=Role.OWNER, accepted_at=utcnow())]
    session.add(board)
    await session.flush()
    return board


async def update_board(session: AsyncSession, *, board: Board, update: BoardUpdate) -> Board:
    """Rename the board and/or its labels.

    Columns named in `update.columns` take the given name and/or WIP limit; a limit
    below the column's current count is allowed (it then takes no more cards).
    Events: one `label.renamed` per label whose name changed, in colour order, then
    `board.updated` (the board, without anyone's role) if the title, description or
    a column changed.
    """
    changes = update.model_dump(exclude_unset=True, exclude={"labels", "columns"}, by_alias=False)
    board_changed = any(getattr(board, field) != value for field, value in changes.items())
    for field, value in changes.items():
        setattr(board, field, value)
    if update.columns is not None:
        board_changed |= _configure_columns(board, update.columns)
        if (locked := locked_board(session, board_id=board.id)) is not None:
            locked.column_settings = board.column_settings
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


def _configure_columns(board: Board, updates: Sequence[ColumnUpdate]) -> bool:
    """Apply the column updates to the board's stored columns; True if any changed."""
    before = board.columns
    after = [dict(column) for column in before]
    by_key = {column["key"]: column for column in after}
    for column_update in updates:
        given = column_update.model_dump(exclude_unset=True, exclude={"key"}, by_alias=True)
        by_key[column_update.key].update(given)
    if after == before:
        return False
    board.column_settings = after
    return True


async def list_members(session: AsyncSession, *, board: Board) -> Sequence[Row[User, Role]]:
    """The members who joined (invitations not yet accepted are left out), oldest first."""
    statement = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.board_id == board.id, Membership.accepted_at.is_not(None))
        .order_by(Membership.created_at, User.id)
    )
    return (await session.execute(statement)).all()


async def list_invitations(session: AsyncSession, *, board: Board) -> list[BoardInvitationOut]:
    """The board's invitations not yet accepted, oldest first, without emails."""
    rows = await session.execute(
        select(Membership.user_id, Membership.role, Membership.created_at)
        .where(Membership.board_id == board.id, Membership.accepted_at.is_(None))
        .order_by(Membership.created_at, Membership.user_id)
    )
    return [
        BoardInvitationOut(user_id=user_id, role=role, invited_at=invited_at)
        for user_id, role, invited_at in rows
    ]


async def add_member(
    session: AsyncSession,
    *,
    board: Board,
    sharer_id: int,
    user_id: int,
    role: Role | None = None,
) -> tuple[User, Membership]:
    """Share the board, or change a member's role; the user and their membership.

    A user `sharer_id` was introduced to (services/contacts.py) joins at once; anyone
    else is invited (`accepted_at` NULL) until they accept, and an invitation of a
    user introduced since joins at once when shared again. Without a role a new
    member joins as an editor and an existing one keeps theirs, so sharing twice (as
    the seed's clients do) changes nothing. The caller holds the board lock (see
    `access.lock_board`).
    Raises NotFoundError for a user id that does not exist, ConflictError for
    demoting the last owner.
    Events: `member.added` for a member who joined, `member.updated` for a member's
    new role, `member.invited` for a new invitation or its new role.
    """
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError(USER_NOT_FOUND)
    joins = await contacts.introduced(session, sharer_id=sharer_id, user_id=user_id)
    owners = await _lock_owners(session, board_id=board.id)
    membership = await session.scalar(
        select(Membership)
        .where(Membership.board_id == board.id, Membership.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if membership is None:
        membership = Membership(
            user_id=user_id, board_id=board.id, role=role or Role.EDITOR, accepted_at=None
        )
        session.add(membership)
        joined = joins
    else:
        joined = joins and membership.pending
        if role is not None and role != membership.role:
            if owners == {user_id}:
                raise ConflictError(LAST_OWNER)
            membership.role = role
        elif not joined:
            return user, membership
    if joined:
        membership.accepted_at = utcnow()
    await session.flush()
    await _record_membership(session, user=user, membership=membership, joined=joined)
    return user, membership


async def accept_invitation(session: AsyncSession, *, board: Board, user: User) -> None:
    """The user joins the board they were invited to: it enters their board list, and
    they its member list. The caller holds the board lock and checked the invitation.
    Events: `member.added`."""
    membership = await session.get_one(Membership, (user.id, board.id), populate_existing=True)
    membership.accepted_at = utcnow()
    await session.flush()
    await _record_membership(session, user=user, membership=membership, joined=True)


async def _record_membership(
    session: AsyncSession, *, user: User, membership: Membership, joined: bool
) -> None:
    """The event of a membership just created or changed: `member.invited` for an
    invitation (no email), `member.added` for one that just `joined`, else `member.updated`."""
    data: events.EventData
    if membership.pending:
        event = EventType.MEMBER_INVITED
        data = InvitedMemberOut(id=membership.user_id, role=membership.role, status="invited")
    else:
        event = EventType.MEMBER_ADDED if joined else EventType.MEMBER_UPDATED
        data = MemberOut(id=user.id, email=user.email, role=membership.role)
    await events.record(session, board_id=membership.board_id, type=event, data=data)


async def remove_member(session: AsyncSession, *, board: Board, user_id: int) -> None:
    """Unshare the board; the database unassigns the member from its cards in the same statement.

    The caller holds the board lock (see `access.lock_board`).
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
        # Their cards' assignees change, so those cards count as changed (their ETags too),
        # those in the trash included: restored, they read differently from before.
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
            *await cards.updated_card_events(session, card_ids=assigned, in_play_only=True),
        ],
    )


async def _lock_owners(session: AsyncSession, *, board_id: int) -> set[int]:
    """The board's owners who joined (an invited owner may decline), locked until the
    transaction ends.

    Every membership change on a board queues here (after the board lock), so
    "is this the last owner?" stays true until commit: two owners demoting each
    other at once cannot leave the board without one. (SQLite needs no lock: its
    write transactions already run one at a time.)
    """
    statement = (
        select(Membership.user_id)
        .where(
            Membership.board_id == board_id,
            Membership.role == Role.OWNER,
            Membership.accepted_at.is_not(None),
        )
        .order_by(Membership.user_id)
        .with_for_update()
    )
    return set(await session.scalars(statement))
