"""Where cards sit in their column: sparse integer positions, rebalanced when a gap runs out.

A card's `position` is an integer, unique within its (board, column) (a unique
index enforces it). Cards are spaced `GAP` apart, so a move takes the midpoint
between its new neighbours and writes one row. Only after about log2(GAP) = 20
moves into the very same gap is there no integer left between two neighbours;
then that one column is renumbered in the same transaction, with `GAP` between
cards again. Typical moves thus write one row; even a client that keeps splitting
the same gap pays one renumbering of the column per ~20 moves. Integers rather
than string fractional keys: they compare the same in every database and client,
stay 8 bytes, and cannot grow without bound.

Positions stay within 1..2**53 - 1 so JavaScript clients read them exactly, and
a renumbered column starts in the middle of that range, leaving 2**32 inserts of
room above and below it. Renumbering first parks the cards it moves at negative
positions (each at minus its id), so no intermediate state ever breaks the unique
index, on any database and without deferred constraints.

Cards in the trash hold no place: every statement here leaves them out, and the unique
index is partial (a trashed card keeps its position for its restore, if still free).

Callers must serialize writers of one board: on PostgreSQL by locking the board
row (access.lock_board); SQLite transactions already run one at a time.
"""

from collections.abc import Sequence
from datetime import timedelta
from enum import Enum
from typing import Final, Literal, NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kanban_api.access import card_in_play
from kanban_api.database import flush_pending
from kanban_api.direct import fetch_one
from kanban_api.errors import InvalidInputError
from kanban_api.models import Board, Card, CardColumn, CardRenumbering
from kanban_api.models.base import UTCDateTime, utcnow

GAP: Final = 2**20
MAX_POSITION: Final = 2**53 - 1
FIRST_POSITION: Final = 2**52


class _End(Enum):
    BOTTOM = "bottom"


BOTTOM: Final = _End.BOTTOM
"""Place a card after the last card of the column."""

Anchor = int | None | Literal[_End.BOTTOM]
"""Where a card goes: after the card with this id, at the top (None), or at the BOTTOM."""

# Renumbering runs plain Core statements: many rows, no ORM bookkeeping.
_card = cast(Table, Card.__table__)
_board = cast(Table, Board.__table__)


# A card dragged to another column goes to its bottom: in the common case (room below
# the last card), one UPDATE finds the bottom and moves the card there, built once so that
# each drag reuses its compiled form. The card's row is written as the ORM would write it
# (version + 1 where the version is still the loaded one, updatedAt now); when there is no
# room below, nothing is written and `place_card` takes its general path.
_other = _card.alias("other")
_to_column = bindparam("to_column", type_=_card.c.column.type)
_bottom = (
    select(func.max(_other.c.position))
    .where(
        _other.c.board_id == bindparam("of_board"),
        _other.c.column == _to_column,
        _other.c.id != bindparam("card_id"),
        _other.c.deleted_at.is_(None),
    )
    .scalar_subquery()
)
_to_bottom = (
    update(_card)
    .where(
        _card.c.id == bindparam("card_id"),
        _card.c.version == bindparam("loaded_version"),
        func.coalesce(_bottom, 0) <= MAX_POSITION - GAP,
    )
    .values(
        column=_to_column,
        position=func.coalesce(_bottom + GAP, FIRST_POSITION),
        version=_card.c.version + 1,
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
    .returning(_card.c.position, _card.c.version)
)


def position_between(lower: int | None, upper: int | None) -> int | None:
    """A free position strictly between two neighbours (None: no neighbour on that side).

    None when there is no integer left between them: the column needs renumbering.
    """
    if upper is None:
        if lower is None:
            return FIRST_POSITION
        return lower + GAP if lower + GAP <= MAX_POSITION else _midpoint(lower, MAX_POSITION + 1)
    if lower is None:
        return upper - GAP if upper - GAP >= 1 else _midpoint(0, upper)
    return _midpoint(lower, upper)


def _midpoint(lower: int, upper: int) -> int | None:
    middle = (lower + upper) // 2
    return middle if lower < middle < upper else None


async def place_card(
    session: AsyncSession, *, card: Card, column: CardColumn, anchor: Anchor
) -> list[int]:
    """Put `card` into `column` at `anchor`, writing only the card unless a gap ran out.

    Leaves the card untouched (and its version unchanged) when it is already there.
    Returns the ids of the other cards a renumbering moved (usually none), in column order.
    A drag (to the bottom of another column) is one statement when there is room below
    (`_move_to_bottom`): it runs while every other writer of the board waits for the lock.
    """
    if anchor is BOTTOM and card.column != column and await _move_to_bottom(session, card, column):
        return []
    others = (
        Card.board_id == card.board_id,
        Card.column == column,
        Card.id != card.id,
        card_in_play(),
    )
    if anchor is BOTTOM:
        lower = await session.scalar(select(func.max(Card.position)).where(*others))
        upper = None
    else:
        lower = None if anchor is None else await _anchor_position(session, card, column, anchor)
        after_lower = () if lower is None else (Card.position > lower,)
        upper = await session.scalar(select(func.min(Card.position)).where(*others, *after_lower))
    if card.column == column and _strictly_between(card.position, lower, upper):
        return []
    position = position_between(lower, upper)
    if position is not None:
        card.column = column
        card.position = position
        await session.flush()
        return []
    order = list(await session.scalars(select(Card.id).where(*others).order_by(Card.position)))
    if anchor is BOTTOM:
        order.append(card.id)
    else:
        order.insert(0 if anchor is None else order.index(anchor) + 1, card.id)
    moved = await renumber(session, board_id=card.board_id, column=column, card_ids=order)
    await session.refresh(card, ["column", "position", "version", "updated_at"])
    return [card_id for card_id in moved if card_id != card.id]


async def _move_to_bottom(session: AsyncSession, card: Card, column: CardColumn) -> bool:
    """Move the card to the bottom of another column in one statement, if there is room
    below its last card (see `_to_bottom`); False, with nothing written, if not.

    The card's loaded state is brought up to date as a flush would have left it, so the
    rest of the request (its event, its answer, a later flush) sees the row as written.
    """
    await flush_pending(session)  # what a flush would have written first still goes first
    now = utcnow()
    connection = await session.connection()
    row = await fetch_one(
        connection,
        _to_bottom,
        {
            "card_id": card.id,
            "of_board": card.board_id,
            "to_column": column,
            "loaded_version": card.version,
            "now": now,
        },
    )
    if row is None:
        return False
    position, version = row
    for field, value in (
        ("column", column),
        ("position", position),
        ("version", version),
        ("updated_at", now),
    ):
        set_committed_value(card, field, value)
    return True


class NewPositions(NamedTuple):
    positions: list[int]
    # The existing cards of the column that had to be renumbered to make room, in order.
    renumbered: list[int]


async def bottom_positions(
    session: AsyncSession, *, board_id: int, column: CardColumn, count: int
) -> NewPositions:
    """`count` free positions, in order, below the column's last card (for new cards)."""
    in_column = (Card.board_id == board_id, Card.column == column, card_in_play())
    last = await session.scalar(select(func.max(Card.position)).where(*in_column))
    if last is None:
        return NewPositions(spaced(count), [])
    if last + count * GAP <= MAX_POSITION:
        return NewPositions([last + (index + 1) * GAP for index in range(count)], [])
    existing = list(
        await session.scalars(select(Card.id).where(*in_column).order_by(Card.position))
    )
    renumbered = await renumber(session, board_id=board_id, column=column, card_ids=existing)
    return NewPositions(spaced(len(existing) + count)[len(existing) :], renumbered)


def spaced(count: int) -> list[int]:
    """The positions of a freshly renumbered (or filled) column of `count` cards."""
    return [FIRST_POSITION + index * GAP for index in range(count)]


async def renumber(
    session: AsyncSession, *, board_id: int, column: CardColumn, card_ids: Sequence[int]
) -> list[int]:
    """Give these cards, all of board `board_id`, evenly spaced positions in `column` in
    this order.

    Only cards whose place changes are written; their version (and updatedAt) grows,
    so cached copies and ETags showing the old position go stale. The board's
    `renumber_count` grows by one, and each card of the column that moves keeps its old
    position under that count (`CardRenumbering`), so a card list walk begun before
    continues exactly (reads/cards.py). Returns the ids of the cards written, in the
    given order (their events are the caller's).
    """
    positions = spaced(len(card_ids))
    current = {
        row.id: (row.column, row.position)
        for row in await session.execute(
            select(_card.c.id, _card.c.column, _card.c.position).where(_card.c.id.in_(card_ids))
        )
    }
    changes = [
        {"card_id": card_id, "new_position": position}
        for card_id, position in zip(card_ids, positions, strict=True)
        if current[card_id] != (column, position)
    ]
    if not changes:
        return []
    await _remember_positions(
        session,
        board_id=board_id,
        positions={
            change["card_id"]: current[change["card_id"]][1]
            for change in changes
            if current[change["card_id"]][0] == column
        },
    )
    # Park the changing cards at negative places no position uses, then set the final
    # ones: no statement ever puts two cards in one place, whatever order rows go in.
    await session.execute(
        update(_card)
        .where(_card.c.id.in_([change["card_id"] for change in changes]))
        .values(position=-_card.c.id)
    )
    await session.execute(
        update(_card)
        .where(_card.c.id == bindparam("card_id"))
        .values(column=column, position=bindparam("new_position"), version=_card.c.version + 1),
        changes,
    )
    return [change["card_id"] for change in changes]


async def _remember_positions(
    session: AsyncSession, *, board_id: int, positions: dict[int, int]
) -> None:
    """Count the board's renumbering and keep the cards' positions before it."""
    renumbering = await session.scalar(
        update(_board)
        .where(_board.c.id == board_id)
        .values(renumber_count=_board.c.renumber_count + 1)
        .returning(_board.c.renumber_count)
    )
    if positions:
        await session.execute(
            insert(CardRenumbering),
            [
                {"card_id": card_id, "renumbering": renumbering, "position": position}
                for card_id, position in positions.items()
            ],
        )


async def _anchor_position(
    session: AsyncSession, card: Card, column: CardColumn, anchor: int
) -> int:
    if anchor == card.id:
        raise InvalidInputError(("body", "afterId"), "A card cannot be placed after itself")
    position = await session.scalar(
        select(Card.position).where(
            Card.id == anchor, Card.board_id == card.board_id, Card.column == column, card_in_play()
        )
    )
    if position is None:
        raise InvalidInputError(
            ("body", "afterId"),
            f"afterId must be the id of a card in column {column} of this board",
        )
    return position


def _strictly_between(position: int, lower: int | None, upper: int | None) -> bool:
    return (lower is None or lower < position) and (upper is None or position < upper)


async def prune_renumberings(session: AsyncSession, *, retention_days: int) -> None:
    """Forget positions before renumberings older than `retention_days`: a card list walk
    resumed after that long takes positions as they are (docs/api.md)."""
    cutoff = utcnow() - timedelta(days=retention_days)
    await session.execute(delete(CardRenumbering).where(CardRenumbering.created_at < cutoff))
