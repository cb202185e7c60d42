"""The worker's LISTEN connection: turns NOTIFYs from any process into local deliveries.

Writers NOTIFY inside their transaction, so PostgreSQL delivers the notice only if
and when the change commits, in commit order. A lost connection is re-opened with
backoff, and every stream is then told to re-read what it may have missed from the
database, so nothing sent while we were away is lost.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kanban_api.events.message import LiveEvent, Notice
from kanban_api.events.publish import CHANNEL
from kanban_api.models import BoardEvent
from kanban_api.schemas.event import EventOut

logger = logging.getLogger(__name__)

# Names the connection in pg_stat_activity, for operators.
APPLICATION_NAME = "kanban-api event listener"
CONNECT_TIMEOUT_SECONDS = 10
# An idle LISTEN connection is probed this often, so a silently dropped one is noticed.
PROBE_INTERVAL_SECONDS = 30
RETRY_MIN_SECONDS = 0.5
RETRY_MAX_SECONDS = 15

Publish = Callable[[list[LiveEvent]], None]


class PostgresListener:
    def __init__(
        self,
        url: URL,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        publish: Publish,
        resync: Callable[[], None],
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._sessionmaker = sessionmaker
        self._publish = publish
        self._resync = resync
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._first_attempt = asyncio.Event()

    async def start(self) -> None:
        """Start listening (once); returns when the first connection attempt has ended."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._listen(), name="kanban-event-listener"),
                asyncio.create_task(self._deliver(), name="kanban-event-delivery"),
            ]
        await self._first_attempt.wait()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        delay = RETRY_MIN_SECONDS
        while True:
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=CONNECT_TIMEOUT_SECONDS,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except Exception as error:  # the listener must outlive any failure
                logger.warning("event listener cannot reach the database (%s); retrying", error)
            else:
                delay = RETRY_MIN_SECONDS
                try:
                    await self._follow(connection)
                except Exception as error:
                    logger.warning("event listener connection failed (%s); reconnecting", error)
                finally:
                    connection.terminate()
            self._first_attempt.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _follow(self, connection: Any) -> None:
        """LISTEN on the connection until it is lost (or stops answering a probe)."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(CHANNEL, self._on_notify)
        # Streams opened or notified before now re-read the database from their last seq.
        self._inbox.put_nowait(None)
        self._first_attempt.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PROBE_INTERVAL_SECONDS):
                    await lost.wait()
            if not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
        logger.warning("event listener connection lost; reconnecting")

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._inbox.put_nowait(payload)

    async def _deliver(self) -> None:
        """One notice at a time, so events reach streams in commit order."""
        while True:
            payload = await self._inbox.get()
            if payload is None:
                self._resync()
                continue
            try:
                live = await self._resolve(Notice.parse(payload))
            except (ValueError, KeyError, TypeError, ValidationError, SQLAlchemyError, OSError):
                # One bad notice (a foreign payload, a failed read) must not stop delivery.
                logger.exception("event notice could not be delivered")
                continue
            if live is not None:
                self._publish([live])

    async def _resolve(self, notice: Notice) -> LiveEvent | None:
        if notice.event is not None:
            return notice.event
        async with self._sessionmaker() as session:
            row = await session.scalar(
                select(BoardEvent).where(
                    BoardEvent.board_id == notice.board_id, BoardEvent.seq == notice.seq
                )
            )
        # Gone only if the board was deleted meanwhile; its streams get board.deleted.
        return None if row is None else LiveEvent.of(notice.board_id, EventOut.model_validate(row))
