from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kanban_api.errors import NotFoundError
from kanban_api.models import Board, Label, LabelColor, Membership, User
from kanban_api.models.base import utcnow
from kanban_api.schemas.board import BoardUpdate
from kanban_api.services.users import check_token, token_is_current, token_params
from kanban_api.utils.token import TokenClaims

BOARD_NOT_FOUND = "Board not found"


# The board list's two statements, built once: see list_boards.
_MY_BOARDS = (
    select(Board.id, Board.title, Board.description, Board.created_at, Board.updated_at)
    .join(Membership, Membership.board_id == Board.id)
    .where(Membership.user_id == bindparam("user_id"), token_is_current())
    .order_by(Board.id)
)
_MY_LABELS = (
    select(Label.board_id, Label.color, Label.name)
    .join(Membership, Membership.board_id == Label.board_id)
    .where(Membership.user_id == bindparam("user_id"))
    .order_by(Label.board_id, Label.color)
)


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


async def list_boards(session: AsyncSession, *, claims: TokenClaims) -> list[dict[str, Any]]:
    """The token user's boards in BoardOut's wire shape: two statements, however many.

    The read path of services.cards.list_cards, for boards: Core rows (not ORM
    entities) from statements built once, the token checked in the first one,
    all labels in the second, grouped here.
    """
    connection = await session.connection()
    params = token_params(claims)
    boards = (await connection.execute(_MY_BOARDS, params)).all()
    if not boards:
        await check_token(session, claims=claims)  # no boards, or a stale token?
        return []
    # Each statement sees the database as of its own start, so a board shared in
    # between may show up in the labels only: it is skipped, not a KeyError.
    labels_by_board: dict[int, list[dict[str, Any]]] = {board_id: [] for board_id, *_ in boards}
    for board_id, color, name in await connection.execute(_MY_LABELS, params):
        if (labels := labels_by_board.get(board_id)) is not None:
            labels.append({"color": color, "name": name})
    return [
        {
            "id": board_id,
            "title": title,
            "description": description,
            "labels": labels_by_board[board_id],
            "createdAt": created_at,
            "updatedAt": updated_at,
        }
        for board_id, title, description, created_at, updated_at in boards
    ]


async def check_member(session: AsyncSession, *, board_id: int, claims: TokenClaims) -> None:
    """404 unless the token's user is a member of the board (401 if the token went stale)."""
    params = {**token_params(claims), "board_id": board_id}
    connection = await session.connection()
    if await connection.scalar(_MEMBERSHIP, params) is None:
        await check_token(session, claims=claims)
        raise NotFoundError(BOARD_NOT_FOUND)


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
