from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kanban_api.errors import NotFoundError
from kanban_api.models import Board, Label, LabelColor, Membership, User
from kanban_api.models.base import utcnow
from kanban_api.schemas.board import BoardUpdate

BOARD_NOT_FOUND = "Board not found"


async def list_boards(session: AsyncSession, *, user_id: int) -> list[dict[str, Any]]:
    """The user's boards in BoardOut's wire shape, from two statements whatever their number.

    Plain rows rather than ORM entities, as for cards (see services.cards.select_cards):
    one statement for the boards, one for all their labels, grouped here.
    """
    boards = await session.execute(
        select(Board.id, Board.title, Board.description, Board.created_at, Board.updated_at)
        .join(Membership, Membership.board_id == Board.id)
        .where(Membership.user_id == user_id)
        .order_by(Board.id)
    )
    labels = await session.execute(
        select(Label.board_id, Label.color, Label.name)
        .join(Membership, Membership.board_id == Label.board_id)
        .where(Membership.user_id == user_id)
        .order_by(Label.board_id, Label.color)
    )
    labels_by_board: dict[int, list[dict[str, Any]]] = {}
    for label in labels:
        labels_by_board.setdefault(label.board_id, []).append(
            {"color": label.color, "name": label.name}
        )
    return [
        {
            "id": board.id,
            "title": board.title,
            "description": board.description,
            "labels": labels_by_board.get(board.id, []),
            "createdAt": board.created_at,
            "updatedAt": board.updated_at,
        }
        for board in boards
    ]


async def is_member(session: AsyncSession, *, board_id: int, user_id: int) -> bool:
    """Membership alone, for reads that need the board's id but not its row."""
    membership = await session.scalar(
        select(Membership.board_id).where(
            Membership.board_id == board_id, Membership.user_id == user_id
        )
    )
    return membership is not None


async def get_member_board(session: AsyncSession, *, board_id: int, user: User) -> Board:
    """The board if the user is a member; otherwise 404, so outsiders cannot tell it exists."""
    statement = (
        select(Board)
        .join(Membership, Membership.board_id == Board.id)
        .where(Board.id == board_id, Membership.user_id == user.id)
        .options(selectinload(Board.labels))
    )
    board = await session.scalar(statement)
    if board is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    return board


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
    changes = update.model_dump(exclude_unset=True, exclude={"labels"})
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
            pass
    return user


async def remove_member(session: AsyncSession, *, board: Board, user_id: int) -> None:
    result = await session.execute(
        delete(Membership).where(Membership.board_id == board.id, Membership.user_id == user_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError("User is not a member of this board")
