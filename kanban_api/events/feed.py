"""The change feed: events recorded in the transaction that makes the change, read back in order.

Emitting is one call from a service function, after its change is flushed:

    await events.record(session, board_id=card.board_id, type=EventType.CARD_UPDATED,
                        data=CardOut.model_validate(card))

The actor is the request's authenticated user (see `access.act_as`). Each event takes the
next `seq` of its board from `board.event_seq`; the UPDATE that bumps it holds the
board row's lock until commit, so seqs are gapless and become visible in order.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import (
    ARRAY,
    Integer,
    Text,
    bindparam,
    column,
    delete,
    insert,
    select,
    table,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import ACTOR_ID, LockedBoard, lock_free_boards, locked_board
from kanban_api.database import flush_pending
from kanban_api.direct import fetch_all
from kanban_api.errors import BOARD_NOT_FOUND, GoneError, NotFoundError
from kanban_api.events.message import LiveEvent
from kanban_api.events.publish import CHANNEL, announce, notifies
from kanban_api.models import Board, BoardEvent, EventTicket
from kanban_api.models.base import UTCDateTime, utcnow
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
# PostgreSQL, the board locked (its counter known): the counter, the events and their
# NOTIFYs in one statement, one round trip instead of three while the lock is held.
# The counter moves only if it still holds what the lock read (`:before`); otherwise
# nothing is written and no row comes back (see `_record_locked`).
_record_and_notify = text("""WITH counter AS (
        UPDATE board SET event_seq = :last WHERE id = :board_id AND event_seq = :before
        RETURNING id),
    added AS (
        INSERT INTO board_event (board_id, seq, type, data, actor_id, at)
        SELECT counter.id, event.seq, event.type, CAST(event.data AS json), :actor_id, :at
        FROM counter, unnest(:seqs, :types, :datas) AS event(seq, type, data))
    SELECT pg_notify(:channel, payload) FROM counter, unnest(:payloads) AS payload""").bindparams(
    bindparam("last", type_=Integer),
    bindparam("board_id", type_=Integer),
    bindparam("before", type_=Integer),
    bindparam("actor_id", type_=Integer),
    bindparam("at", type_=UTCDateTime()),
    bindparam("seqs", type_=ARRAY(Integer)),
    bindparam("types", type_=ARRAY(Text)),
    bindparam("datas", type_=ARRAY(Text)),
    bindparam("payloads", type_=ARRAY(Text)),
)

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
    """Record events with consecutive seqs, in the given order, in one round of statements.

    Writes made under the board lock take the fewest round trips, since every other
    writer of the board waits for them: with the counter the lock read
    (`access.LockedBoard`), the events are numbered without asking the database, and on
    PostgreSQL the counter, the rows and the NOTIFY go in one statement. Otherwise
    (no lock read, or SQLite): the counter's UPDATE ... RETURNING, then the rows, then
    the publisher (events/publish.py).
    """
    if not events:
        return
    await flush_pending(session)
    locked = locked_board(session, board_id=board_id)
    if (
        locked is not None
        and notifies(session)
        and await _record_locked(session, board_id, locked, events)
    ):
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


async def _record_locked(
    session: AsyncSession,
    board_id: int,
    locked: LockedBoard,
    events: Sequence[tuple[EventType, EventData]],
) -> bool:
    """The events, numbered from the counter the lock read, in one statement (PostgreSQL).

    False, with nothing written, if the counter is not what the lock read (a change
    this code did not number, which `record_many` then numbers the usual way).
    """
    outs = _numbered(session, locked.event_seq + 1, events)
    notices = [LiveEvent.of(board_id, out).notify_payload() for out in outs]
    connection = await session.connection()
    sent = await fetch_all(
        connection,
        _record_and_notify,
        {
            "board_id": board_id,
            "before": locked.event_seq,
            "last": outs[-1].seq,
            "actor_id": outs[0].actor_id,
            "at": outs[0].at,
            "seqs": [out.seq for out in outs],
            "types": [out.type.value for out in outs],
            "datas": [orjson.dumps(out.data).decode() for out in outs],
            "channel": CHANNEL,
            "payloads": notices,
        },
    )
    if not sent:
        return False
    locked.event_seq = outs[-1].seq
    return True


async def _number(
    session: AsyncSession, board_id: int, events: Sequence[tuple[EventType, EventData]]
) -> list[EventOut]:
    """The events numbered from the board's counter, which this bumps past them."""
    await flush_pending(session)
    connection = await session.connection()
    last = await connection.scalar(_take_seqs, {"board_id": board_id, "count": len(events)})
    if last is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    if (locked := locked_board(session, board_id=board_id)) is not None:
        locked.event_seq = last
    return _numbered(session, last - len(events) + 1, events)


def _numbered(
    session: AsyncSession, first: int, events: Sequence[tuple[EventType, EventData]]
) -> list[EventOut]:
    """The events as EventOut, numbered from `first`, by the session's actor, now."""
    actor_id: int | None = session.info.get(ACTOR_ID)
    at: datetime = utcnow()
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
