"""Fan-out of committed board events to the streams open in this process.

Delivery never waits for a subscriber: each has a bounded queue, and one that
falls too far behind is dropped (its stream ends; the client reconnects with
Last-Event-ID and catches up from the database), so a slow or vanished client
can neither delay the others nor grow memory without bound.
"""

import asyncio
import enum
from collections.abc import Iterable

from kanban_api.events.message import LiveEvent
from kanban_api.events.postgres import PostgresListener


class Signal(enum.Enum):
    RESYNC = enum.auto()  # notifications may have been missed: re-read from the database
    END = enum.auto()  # end the stream: it fell behind and was dropped, or the server stops


Item = LiveEvent | Signal


class Subscription:
    """One open stream's view of a board's live events."""

    __slots__ = ("_hub", "_queue", "board_id", "closed")

    def __init__(self, hub: "EventHub", board_id: int, maxsize: int) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[Item] = asyncio.Queue(maxsize)
        self.board_id = board_id
        self.closed = False

    def offer(self, item: Item) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.end()

    def end(self) -> None:
        """Drop the subscription and free what it held at once; its stream ends on the signal."""
        self.close()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(Signal.END)

    async def next(self, within: float) -> Item | None:
        """The next item, or None when nothing came within that many seconds."""
        try:
            async with asyncio.timeout(within):
                return await self._queue.get()
        except TimeoutError:
            return None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub.discard(self)


class EventHub:
    """The subscriber registry of one worker process, fed by NOTIFY (through `listen`) or
    by this process's commits (events/publish.py's `AfterCommit`)."""

    def __init__(self, *, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[int, set[Subscription]] = {}
        self._listener: PostgresListener | None = None

    def listen(self, listener: PostgresListener) -> None:
        """Take events from a LISTEN connection too (PostgreSQL: other workers' commits)."""
        self._listener = listener

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    async def subscribe(self, board_id: int) -> Subscription:
        if self._listener is not None:
            # Started on first use, so it also runs where no lifespan does (ASGI test clients).
            await self._listener.start()
        subscription = Subscription(self, board_id, self._queue_size)
        self._subscribers.setdefault(board_id, set()).add(subscription)
        return subscription

    def discard(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.board_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.board_id]

    def publish(self, events: Iterable[LiveEvent]) -> None:
        for live in events:
            # A copy: an overflowing subscriber removes itself while we iterate.
            for subscription in list(self._subscribers.get(live.board_id, ())):
                subscription.offer(live)

    def resync(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.offer(Signal.RESYNC)

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.close()
        if self._listener is not None:
            await self._listener.stop()
