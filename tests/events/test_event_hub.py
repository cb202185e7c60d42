"""The in-process fan-out: slow subscribers are dropped, undone events never delivered."""

import contextlib
from datetime import UTC, datetime

from fastapi import FastAPI
from httpx import AsyncClient

from kanban_api.config import Settings
from kanban_api.events import feed as events
from kanban_api.events.hub import EventHub, Signal, Subscription
from kanban_api.events.message import LiveEvent
from kanban_api.schemas.event import EventOut, EventType
from kanban_api.state import state_of
from tests.helpers import STREAM_TIMEOUT_SECONDS, Accounts, create_board


def _event(board_id: int, seq: int) -> LiveEvent:
    event = EventOut(
        seq=seq,
        type=EventType.CARD_DELETED,
        data={"id": seq},
        actor_id=None,
        at=datetime.now(UTC),
    )
    return LiveEvent.of(board_id, event)


async def _next_event(subscription: Subscription) -> LiveEvent:
    """The next event, past any RESYNC a (re)connecting listener sends."""
    while True:
        item = await subscription.next(STREAM_TIMEOUT_SECONDS)
        assert item is not None, "nothing arrived"
        if item is not Signal.RESYNC:
            assert isinstance(item, LiveEvent), item
            return item


async def test_a_subscriber_that_falls_behind_is_dropped_without_delaying_others() -> None:
    settings = Settings(_env_file=None, database_url="sqlite://", stream_queue_size=3)
    hub = EventHub(queue_size=settings.stream_queue_size)
    slow, fast = await hub.subscribe(1), await hub.subscribe(1)
    other_board = await hub.subscribe(2)
    for seq in range(1, 6):
        event = _event(1, seq)
        hub.publish([event])
        assert await fast.next(STREAM_TIMEOUT_SECONDS) is event
    # The slow one overflowed on its fourth event: it is out of the registry, holds only
    # the signal that ends its stream, and the others never waited for it.
    assert slow.closed
    assert await slow.next(STREAM_TIMEOUT_SECONDS) is Signal.END
    assert hub.subscriber_count == 2
    assert await other_board.next(0.01) is None
    for subscription in (fast, other_board):
        subscription.close()
    assert hub.subscriber_count == 0


async def test_events_undone_with_a_savepoint_are_never_delivered(
    app: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board_id = (await create_board(client, alice))["id"]
    subscription = await state_of(app).events.subscribe(board_id)
    async with state_of(app).database.sessionmaker() as session:
        with contextlib.suppress(LookupError):
            async with session.begin_nested():
                await events.record(
                    session, board_id=board_id, type=EventType.CARD_DELETED, data={"id": 1}
                )
                raise LookupError
        await events.record(session, board_id=board_id, type=EventType.CARD_DELETED, data={"id": 2})
        await session.commit()
    delivered = await _next_event(subscription)
    assert (delivered.seq, delivered.event.data) == (1, {"id": 2})
    subscription.close()
