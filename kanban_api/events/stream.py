"""One client's event stream: replay from the database, then live events, in seq order.

The subscription is taken before the database is read, so an event committed
meanwhile is either read or queued (or both: duplicates are dropped by seq). A
live event that arrives ahead of the next expected seq, or a RESYNC after the
listener reconnected, makes the stream read the missing events from the database.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import ServerSentEvent

from kanban_api.access import Principal, may_still_view
from kanban_api.errors import GoneError, NotFoundError
from kanban_api.events import feed
from kanban_api.events.hub import EventHub, Signal, Subscription
from kanban_api.events.message import LiveEvent
from kanban_api.schemas.event import EventOut, EventType

REPLAY_PAGE_SIZE = 500
SEPARATOR = "\n"
PING = ServerSentEvent(comment="ping", sep=SEPARATOR)


@dataclass(frozen=True, slots=True)
class Viewer:
    board_id: int
    # With the credentials version the stream was opened with: a change (a new
    # password) ends the stream.
    principal: Principal


class BoardStream:
    """The messages of one stream, from `after` on; ends when the viewer may no longer see them."""

    def __init__(
        self,
        *,
        hub: EventHub,
        sessionmaker: async_sessionmaker[AsyncSession],
        viewer: Viewer,
        after: int,
        heartbeat_seconds: float,
    ) -> None:
        self._hub = hub
        self._sessionmaker = sessionmaker
        self._viewer = viewer
        self._last = after
        self._heartbeat = heartbeat_seconds
        self._done = False
        self._subscription: Subscription | None = None

    async def end_on(self, shutdown: anyio.Event) -> None:
        """Run beside the stream: end it, cleanly, when the server shuts down."""
        await shutdown.wait()
        self._done = True
        if self._subscription is not None:
            self._subscription.end()

    async def messages(self) -> AsyncIterator[ServerSentEvent]:
        subscription = self._subscription = await self._hub.subscribe(self._viewer.board_id)
        try:
            async for message in self._catch_up():
                yield message
            if self._done:
                return
            # Tells the client it is live, and sets its Last-Event-ID even if nothing happened.
            yield ServerSentEvent(
                json.dumps({"seq": self._last}, separators=(",", ":")),
                event="ready",
                id=str(self._last),
                sep=SEPARATOR,
            )
            loop = asyncio.get_running_loop()
            check_at = loop.time() + self._heartbeat
            while not self._done:
                item = await subscription.next(max(check_at - loop.time(), 0))
                if loop.time() >= check_at:
                    # Timed, not only when idle: a busy board must not keep a lost user on.
                    if not await self._still_allowed():
                        return
                    check_at = loop.time() + self._heartbeat
                if item is None:
                    yield PING
                elif item is Signal.END:
                    return
                elif item is Signal.RESYNC:
                    async for message in self._catch_up():
                        yield message
                else:
                    async for message in self._live(item):
                        yield message
        finally:
            subscription.close()

    async def _live(self, live: LiveEvent) -> AsyncIterator[ServerSentEvent]:
        if live.seq > self._last + 1 and live.event.type is not EventType.BOARD_DELETED:
            async for message in self._catch_up():
                yield message
        if live.seq > self._last and not self._done:
            yield self._deliver(live)

    async def _catch_up(self) -> AsyncIterator[ServerSentEvent]:
        """Everything committed after the last delivered seq, page by page."""
        while not self._done:
            try:
                async with self._sessionmaker() as session:
                    rows = await feed.list_events(
                        session,
                        board_id=self._viewer.board_id,
                        after=self._last,
                        limit=REPLAY_PAGE_SIZE,
                    )
            except (GoneError, NotFoundError):
                # Pruned meanwhile (the reconnect is answered 410), or the board is gone.
                self._done = True
                return
            for row in rows:
                yield self._deliver(LiveEvent.of(row.board_id, EventOut.model_validate(row)))
                if self._done:
                    return
            if len(rows) < REPLAY_PAGE_SIZE:
                return

    def _deliver(self, live: LiveEvent) -> ServerSentEvent:
        self._last = live.seq
        event = live.event
        if event.type is EventType.BOARD_DELETED or (
            event.type is EventType.MEMBER_REMOVED
            and event.data.get("id") == self._viewer.principal.user_id
        ):
            self._done = True
        return ServerSentEvent(live.json, event=event.type.value, id=str(live.seq), sep=SEPARATOR)

    async def _still_allowed(self) -> bool:
        async with self._sessionmaker() as session:
            return await may_still_view(
                session, board_id=self._viewer.board_id, principal=self._viewer.principal
            )
