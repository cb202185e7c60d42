"""The change feed: events recorded in the transaction that makes the change, read back in order.

Emitting is one call from a service function, after its change is flushed:

    await events.record(session, board_id=card.board_id, type=EventType.CARD_UPDATED,
                        data=CardOut.model_validate(card))

The actor is the request's authenticated user (see `access.act_as`). Each event takes the
next `seq` of its board from `board.event_seq`; the UPDATE that bumps it holds the
board row's lock until commit, so seqs are gapless and become visible in order.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, column, delete, insert, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import ACTOR_ID, lock_free_boards
from kanban_api.errors import BOARD_NOT_FOUND, GoneError, NotFoundError
from kanban_api.events.message import LiveEvent
from kanban_api.events.publish import announce
from kanban_api.models import Board, BoardEvent, EventTicket
from kanban_api.models.base import utcnow
from kanban_api.schemas.event import EventOut, EventType

# The statements every change runs, built once and run as Core on the session's
# connection: the ORM's execute adds work these plain statements do not need.
# Only the columns the counter needs: the mapped Board would also bump `updated_at`.
_board_counter = table("board", column("id"), column("event_seq"))
_take_seqs = (
    update(_board_counter)
    .where(_board_counter.c.id == bindparam("board_id"))
    .values(event_seq=_board_counter.c.event_seq + bindparam("count"))
    .returning(_board_counter.c.event_seq)
)
_insert_events = insert(BoardEvent)

EventData = BaseModel | Mapping[str, Any]


def deleted(resource_id: int) -> dict[str, int]:
    """The data of an event about something that no longer exists."""
    return {"id": resource_id}


async def record(session: AsyncSession, *, board_id: int, type: EventType, data: EventData) -> None:
    """Record one event about the board; call it after the change is flushed."""
    await record_many(session, board_id=board_id, events=[(type, data)])


async def record_many(
    session: AsyncSession, *, board_id: int, events: Sequence[tuple[EventType, EventData]]
) -> None:
    """Record events with consecutive seqs, in the given order, in one round of statements."""
    if not events:
        return
    outs = await _number(session, board_id, events)
    connection = await session.connection()
    await connection.execute(
        _insert_events,
        [
            {
                "board_id": board_id,
                "seq": out.seq,
                "type": out.type.value,
                "data": out.data,
                "actor_id": out.actor_id,
                "at": out.at,
            }
            for out in outs
        ],
    )
    await announce(session, [LiveEvent.of(board_id, out) for out in outs])


async def _number(
    session: AsyncSession, board_id: int, events: Sequence[tuple[EventType, EventData]]
) -> list[EventOut]:
    await session.flush()
    connection = await session.connection()
    last = await connection.scalar(_take_seqs, {"board_id": board_id, "count": len(events)})
    if last is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    first = last - len(events) + 1
    actor_id: int | None = session.info.get(ACTOR_ID)
    at = utcnow()
    return [
        EventOut(seq=first + index, type=type, data=_as_data(data), actor_id=actor_id, at=at)
        for index, (type, data) in enumerate(events)
    ]


def _as_data(data: EventData) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        dumped: dict[str, Any] = data.model_dump(mode="json", by_alias=True)
        return dumped
    return dict(data)


async def list_events(
    session: AsyncSession, *, board_id: int, after: int, limit: int
) -> Sequence[BoardEvent]:
    """The board's events after seq `after`, oldest first; 410 if some of them are gone."""
    # Read the latest seq before the events: any event up to it is committed, so a
    # missing one was pruned rather than still in flight.
    latest = await session.scalar(select(Board.event_seq).where(Board.id == board_id))
    if latest is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    if after > latest:
        raise GoneError(
            f"This board has no event {after} (its latest is {latest}); reload the board"
        )
    rows = (
        await session.scalars(
            select(BoardEvent)
            .where(BoardEvent.board_id == board_id, BoardEvent.seq > after)
            .order_by(BoardEvent.seq)
            .limit(limit)
        )
    ).all()
    if after < latest and (not rows or rows[0].seq != after + 1):
        raise GoneError(
            f"Events after {after} are no longer kept; reload the board, then follow it "
            "from its latest event"
        )
    return rows


async def prune(session: AsyncSession, *, retention_days: int) -> int:
    """Delete expired tickets and events older than the retention; returns events deleted.

    Like every writer of a board, it holds the board while deleting its rows, so it
    cannot deadlock with the board's deletion (which removes the same rows by
    cascade). It waits for no board: one in use now is skipped (SKIP LOCKED) and
    pruned next time.
    """
    now = utcnow()
    expired = EventTicket.expires_at < now
    await session.execute(
        delete(EventTicket).where(
            EventTicket.board_id.in_(lock_free_boards(EventTicket.board_id, expired)), expired
        )
    )
    if retention_days == 0:
        return 0
    old = BoardEvent.at < now - timedelta(days=retention_days)
    result = await session.execute(
        delete(BoardEvent).where(
            BoardEvent.board_id.in_(lock_free_boards(BoardEvent.board_id, old)), old
        )
    )
    deleted_count: int = result.rowcount  # type: ignore[attr-defined]
    return deleted_count
