from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kanban_api.errors import NotFoundError
from kanban_api.models import Board, Label, LabelColor, Membership, User
from kanban_api.models.base import utcnow
from kanban_api.schemas.board import BoardOut, BoardUpdate, LabelOut
from kanban_api.schemas.event import EventType
from kanban_api.schemas.user import UserPublic
from kanban_api.services import events

BOARD_NOT_FOUND = "Board not found"


async def list_boards(session: AsyncSession, *, user: User) -> Sequence[Board]:
    statement = (
        select(Board)
        .join(Membership, Membership.board_id == Board.id)
        .where(Membership.user_id == user.id)
        .options(selectinload(Board.labels))
        .order_by(Board.id)
    )
    return (await session.scalars(statement)).all()


async def get_member_board(
    session: AsyncSession, *, board_id: int, user: User, lock: bool = False
) -> Board:
    """The board if the user is a member; otherwise 404, so outsiders cannot tell it exists.

    With `lock`, for a request that will change the board, see `lock_board`.
    """
    statement = (
        select(Board)
        .join(Membership, Membership.board_id == Board.id)
        .where(Board.id == board_id, Membership.user_id == user.id)
        .options(selectinload(Board.labels))
    )
    if lock:
        statement = statement.with_for_update(of=Board, key_share=True)
    board = await session.scalar(statement)
    if board is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    return board


async def lock_board(session: AsyncSession, *, board_id: int) -> None:
    """Take the board row's write lock (PostgreSQL; SQLite writers are serialized already).

    Every change to a board takes it first, before any row on the board: writers then
    queue per board in one order. Without it, a card update (card row, then the board's
    event counter) and a board deletion (board row, then its cards by cascade) deadlock.
    """
    await session.execute(
        select(Board.id).where(Board.id == board_id).with_for_update(key_share=True)
    )


async def create_board(session: AsyncSession, *, user: User, title: str, description: str) -> Board:
    """A board with its seven unnamed labels, and its creator as the first member."""
    board = Board(
        title=title,
        description=description,
        labels=[Label(color=color, name="") for color in LabelColor],
    )
    board.memberships = [Membership(user_id=user.id)]
    session.add(board)
    await session.flush()
    return board


async def update_board(session: AsyncSession, *, board: Board, update: BoardUpdate) -> Board:
    """Rename the board and/or its labels.

    Events: `board.updated` (the whole board) if the title or description changed,
    and one `label.renamed` per label whose name changed, in colour order.
    """
    changes = update.model_dump(exclude_unset=True, exclude={"labels"})
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
        recorded.append((EventType.BOARD_UPDATED, BoardOut.model_validate(board)))
    await events.record_many(session, board_id=board.id, events=recorded)
    return board


async def delete_board(session: AsyncSession, *, board: Board) -> None:
    await events.record_board_deleted(session, board_id=board.id)
    # The database cascades to cards, labels, memberships and events in the same statement.
    await session.execute(delete(Board).where(Board.id == board.id))


async def list_members(session: AsyncSession, *, board: Board) -> Sequence[User]:
    statement = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.board_id == board.id)
        .order_by(Membership.created_at, User.id)
    )
    return (await session.scalars(statement)).all()


async def add_member(session: AsyncSession, *, board: Board, user_id: int) -> User:
    """Share the board; sharing with an existing member changes nothing."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("User not found")
    if await session.get(Membership, (user_id, board.id)) is None:
        try:
            # A savepoint, so that losing a race with an identical share keeps the transaction.
            async with session.begin_nested():
                session.add(Membership(user_id=user_id, board_id=board.id))
        except IntegrityError:
            pass  # the other share recorded the event
        else:
            await events.record(
                session,
                board_id=board.id,
                type=EventType.MEMBER_ADDED,
                data=UserPublic.model_validate(user),
            )
    return user


async def remove_member(session: AsyncSession, *, board: Board, user_id: int) -> None:
    result = await session.execute(
        delete(Membership).where(Membership.board_id == board.id, Membership.user_id == user_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError("User is not a member of this board")
    await events.record(
        session, board_id=board.id, type=EventType.MEMBER_REMOVED, data=events.deleted(user_id)
    )
