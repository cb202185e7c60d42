from collections.abc import Sequence

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kanban_api.errors import ConflictError, NotFoundError
from kanban_api.models import Board, Card, CardAssignee, Label, LabelColor, Membership, Role, User
from kanban_api.models.base import utcnow
from kanban_api.schemas.board import BoardUpdate

BOARD_NOT_FOUND = "Board not found"
LAST_OWNER = "A board must keep at least one owner; make someone else an owner first"


async def list_boards(session: AsyncSession, *, user: User) -> Sequence[Row[Board, Role]]:
    """The user's boards, each with the user's role on it."""
    statement = (
        select(Board, Membership.role)
        .join(Membership, Membership.board_id == Board.id)
        .where(Membership.user_id == user.id)
        .options(selectinload(Board.labels))
        .order_by(Board.id)
    )
    return (await session.execute(statement)).all()


async def get_member_board(
    session: AsyncSession, *, board_id: int, user: User, for_update: bool = False
) -> tuple[Board, Role]:
    """The board and the user's role on it; 404 for outsiders, so they cannot tell it exists.

    `for_update` also locks the board row (see `lock_board`) before reading it.
    """
    statement = (
        select(Board, Membership.role)
        .join(Membership, Membership.board_id == Board.id)
        .where(Board.id == board_id, Membership.user_id == user.id)
        .options(selectinload(Board.labels))
    )
    if for_update:
        statement = statement.with_for_update(of=Board, key_share=True)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    found, role = row
    return found, role


async def lock_board(session: AsyncSession, *, board_id: int) -> None:
    """Hold the board row until the transaction ends; every writer of the board takes it first.

    One lock, always taken first, serializes the writers of a board's cards (their
    positions depend on each other) and makes `If-Match` checks atomic with the
    write that follows, without deadlocks. FOR NO KEY UPDATE leaves foreign key
    checks, such as sharing the board, unblocked. SQLite needs none: its
    transactions already run one at a time (BEGIN IMMEDIATE).
    """
    await session.execute(
        select(Board.id).where(Board.id == board_id).with_for_update(key_share=True)
    )


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
    changes = update.model_dump(exclude_unset=True, exclude={"labels"}, by_alias=False)
    for field, value in changes.items():
        setattr(board, field, value)
    if update.labels:
        labels_by_color = {label.color: label for label in board.labels}
        renamed = False
        for rename in update.labels:
            label = labels_by_color[rename.color]
            if label.name != rename.name:
                label.name = rename.name
                renamed = True
        if renamed:
            # A renamed label changes how the board reads, so the board counts as changed.
            board.updated_at = utcnow()
    await session.flush()
    return board


async def delete_board(session: AsyncSession, *, board: Board) -> None:
    # The database cascades to cards, labels and memberships in the same statement.
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
    session: AsyncSession, *, board: Board, user_id: int, role: Role | None = None
) -> tuple[User, Role]:
    """Share the board, or change a member's role.

    Without a role a new member joins as an editor and an existing one keeps
    theirs, so sharing twice (as the seed's clients do) changes nothing.
    """
    user = await session.get(User, user_id)
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
    elif role is not None and role != membership.role:
        if owners == {user_id}:
            raise ConflictError(LAST_OWNER)
        membership.role = role
    await session.flush()
    return user, membership.role


async def remove_member(session: AsyncSession, *, board: Board, user_id: int) -> None:
    """Unshare the board; the database unassigns the member from its cards in the same statement."""
    if await _lock_owners(session, board_id=board.id) == {user_id}:
        raise ConflictError(LAST_OWNER)
    # Their cards' assignees change, so those cards count as changed.
    await session.execute(
        update(Card)
        .where(
            Card.id.in_(
                select(CardAssignee.card_id).where(
                    CardAssignee.board_id == board.id, CardAssignee.user_id == user_id
                )
            )
        )
        .values(updated_at=utcnow())
    )
    result = await session.execute(
        delete(Membership).where(Membership.board_id == board.id, Membership.user_id == user_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError("User is not a member of this board")


async def _lock_owners(session: AsyncSession, *, board_id: int) -> set[int]:
    """The board's owners, locked until the transaction ends.

    Every membership change on a board queues here first, so "is this the last
    owner?" stays true until commit: two owners demoting each other at once
    cannot leave the board without one. (SQLite needs no lock: its write
    transactions already run one at a time.)
    """
    statement = (
        select(Membership.user_id)
        .where(Membership.board_id == board_id, Membership.role == Role.OWNER)
        .order_by(Membership.user_id)
        .with_for_update()
    )
    return set(await session.scalars(statement))
