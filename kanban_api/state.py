"""The application's runtime objects, built once from `Settings`: what `create_app` wires up
and what requests reach through `app_state`."""

import asyncio
import contextlib
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from redis.asyncio import Redis

from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.events.hub import EventHub
from kanban_api.events.postgres import PostgresListener
from kanban_api.events.publish import PUBLISHER, publisher_for
from kanban_api.events.retention import prune_periodically
from kanban_api.rate_limit import (
    REDIS_CLIENT_NAME,
    REDIS_TIMEOUT_SECONDS,
    Counter,
    DatabaseCounter,
    RedisCounter,
)
from kanban_api.utils.token import TokenVerifier
from kanban_api.webhooks.sender import send_periodically


@dataclass
class AppState:
    settings: Settings
    database: Database
    # The streams open in this worker.
    events: EventHub
    secret_key: str
    tokens: TokenVerifier
    # Where API requests are counted against the rate limit; None: no limit.
    rate_counter: Counter | None = None
    redis: Redis | None = None
    _pruning: asyncio.Task[None] | None = field(default=None, init=False)
    _sending: asyncio.Task[None] | None = field(default=None, init=False)

    @classmethod
    def build(cls, settings: Settings) -> "AppState":
        """Connect nothing yet; choose, once, how events reach the hub (events/publish.py)."""
        database = Database(settings)
        hub = EventHub(queue_size=settings.stream_queue_size)
        if not settings.is_sqlite:
            hub.listen(
                PostgresListener(
                    settings.async_database_url,
                    sessionmaker=database.sessionmaker,
                    publish=hub.publish,
                    resync=hub.resync,
                )
            )
        publisher = publisher_for(is_sqlite=settings.is_sqlite, deliver=hub.publish)
        database.sessionmaker.configure(info={PUBLISHER: publisher})
        secret_key = settings.resolve_secret_key()
        tokens = TokenVerifier(secret_key, leeway_seconds=settings.token_leeway_seconds)
        state = cls(settings, database, hub, secret_key, tokens)
        if settings.rate_limit_per_minute:
            if settings.redis_url is not None:
                # Named, so that Redis's CLIENT LIST tells the API's connections apart.
                state.redis = Redis.from_url(
                    settings.redis_url,
                    client_name=REDIS_CLIENT_NAME,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                )
                state.rate_counter = RedisCounter(state.redis)
            else:
                state.rate_counter = DatabaseCounter(database.engine)
        return state

    def start(self) -> None:
        """Background work of a serving worker: pruning old events hourly, sending webhooks."""
        self._pruning = asyncio.create_task(
            prune_periodically(
                self.database.sessionmaker,
                retention_days=self.settings.event_retention_days,
                trash_retention_days=self.settings.trash_retention_days,
            )
        )
        self._sending = asyncio.create_task(
            send_periodically(self.database.sessionmaker, settings=self.settings)
        )

    async def stop(self) -> None:
        for task in (self._pruning, self._sending):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.events.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.kanban
    return state


def app_state(request: Request) -> AppState:
    """The state of the app serving the request."""
    return state_of(request.app)
