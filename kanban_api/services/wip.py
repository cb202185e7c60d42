"""Work-in-progress limits: a column with a limit holds at most that many active cards.

Every write that brings active cards into a column (a create, a batch, a PATCH that
moves or unarchives a card, a move) asks `make_room` first. The caller holds the board
lock (`access.lock_board`), so no other writer can add a card between this count and
its own write: twenty concurrent moves into a column limited to five leave five there.
"""

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import card_in_play, locked_board
from kanban_api.errors import ConflictError
from kanban_api.models import Board, Card, CardColumn
from kanban_api.models.board import board_columns


async def make_room(
    session: AsyncSession, *, board_id: int, adding: Mapping[CardColumn, int]
) -> None:
    """Raise ConflictError (409), naming the column and its limit, unless each column can
    take `adding[column]` more active cards. At most two statements (the limits, then
    the counts of the limited columns only); none when nothing is added. The limits
    come from what the board lock read (`access.LockedBoard`) when it did: no statement
    for a column without a limit, the common case, while other writers wait."""
    wanted = {column: count for column, count in adding.items() if count > 0}
    if not wanted:
        return
    locked = locked_board(session, board_id=board_id)
    stored = (
        locked.column_settings
        if locked is not None
        else await session.scalar(select(Board.column_settings).where(Board.id == board_id))
    )
    limited = {
        column["key"]: column
        for column in board_columns(stored)
        if column["key"] in wanted and column["wipLimit"] is not None
    }
    if not limited:
        return
    rows = await session.execute(
        select(Card.column, func.count())
        .where(
            Card.board_id == board_id,
            card_in_play(),
            Card.archived.is_(False),
            Card.column.in_(sorted(limited, key=list(CardColumn).index)),
        )
        .group_by(Card.column)
    )
    counts: dict[CardColumn, int] = dict(rows.all())
    for key, column in limited.items():
        now = counts.get(key, 0)
        if now + wanted[key] > column["wipLimit"]:
            raise ConflictError(
                f"Column {column['name']!r} ({key}) has a WIP limit of {column['wipLimit']} "
                f"active cards and holds {now}; it cannot take {wanted[key]} more"
            )
