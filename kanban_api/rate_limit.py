"""Requests per minute per principal, counted across every worker: the API rate limit.

Each request under /api, and to /mcp, counts against `access.principal_key` (the user, the access
token or, anonymous, the client address) in a fixed one-minute window (the Unix
minute). Past `KANBAN_RATE_LIMIT_PER_MINUTE` it answers 429 with `Retry-After`
before running, so nothing changes. Every answer carries the counters as the IETF
draft "RateLimit header fields for HTTP" names them (draft-ietf-httpapi-ratelimit-
headers-07 §3): `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
(seconds until the window ends).

The counts live where every worker sees them: a row per principal and window in the
database (an upsert: callers never wait for each other's rows), or a Redis key per
principal and window when KANBAN_REDIS_URL is set.
"""

import logging
import time
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kanban_api.access import principal_key
from kanban_api.database import AUTOCOMMIT
from kanban_api.middleware import (
    DATABASE_ERRORS,
    MCP_PATH,
    client_address,
    database_fault,
    scope_header,
)
from kanban_api.models import RateLimitWindow
from kanban_api.utils.token import TokenVerifier

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
RATE_LIMITED = "Rate limit of {limit} requests per minute reached; retry in {reset} seconds"
LIMITED_PREFIXES = ("/api/", MCP_PATH)


def clock() -> float:
    """Unix seconds: the windows' clock (tests set it)."""
    return time.time()


class Counter(Protocol):
    async def hit(self, principal: str, *, window: int) -> int:
        """Count one request of `principal` in `window` (a Unix minute); the count so far."""


class DatabaseCounter:
    """Counts in `rate_limit_window` rows: INSERT … ON CONFLICT DO UPDATE … RETURNING,
    one statement in a transaction of its own (a GET's session does not write), before
    the request's own transaction, so never while a board lock is held.

    On PostgreSQL the statement runs in autocommit: one round trip per request, not
    three (BEGIN, the upsert, COMMIT). SQLite keeps its BEGIN IMMEDIATE (in-process,
    no round trips), so the upsert waits for the write lock rather than failing.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        is_postgresql = engine.dialect.name == "postgresql"
        self.engine = (
            engine.execution_options(isolation_level=AUTOCOMMIT) if is_postgresql else engine
        )
        dialect: Any = postgresql if is_postgresql else sqlite
        table = RateLimitWindow.__table__
        statement = dialect.insert(table).values(count=1)
        self.statement = statement.on_conflict_do_update(
            index_elements=[table.c.principal, table.c.window],
            set_={"count": table.c.count + 1},
        ).returning(table.c.count)

    async def hit(self, principal: str, *, window: int) -> int:
        async with self.engine.begin() as connection:
            count = await connection.scalar(
                self.statement, {"principal": principal, "window": window}
            )
        return int(count or 0)


class RedisCounter:
    """Counts in Redis keys `kanban:rate:<principal>:<window>`, which expire after two
    windows: INCR and EXPIRE in one round trip (a MULTI/EXEC pipeline)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def hit(self, principal: str, *, window: int) -> int:
        key = f"kanban:rate:{principal}:{window}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_SECONDS)
            count, _ = await pipe.execute()
        return int(count)


async def prune(session: AsyncSession, *, now: float | None = None) -> int:
    """Delete the database counter's windows before the current one; how many."""
    current = int((time.time() if now is None else now) // WINDOW_SECONDS)
    result: Any = await session.execute(
        delete(RateLimitWindow).where(RateLimitWindow.window < current)
    )
    return int(result.rowcount or 0)


class RateLimitMiddleware:
    """429s a principal's requests past `limit` per minute; adds the RateLimit headers."""

    def __init__(
        self, app: ASGIApp, *, tokens: TokenVerifier, counter: Counter, limit: int
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.counter = counter
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        principal = principal_key(
            self.tokens,
            authorization=scope_header(scope, b"authorization"),
            address=client_address(scope),
        )
        now = clock()
        window = int(now // WINDOW_SECONDS)
        try:
            count = await self.counter.hit(principal, window=window)
        except DATABASE_ERRORS as error:
            await database_fault(error, scope)(scope, receive, send)
            return
        except RedisError:
            # Redis down must not take the API down: serve, uncounted, and say so in the log.
            logger.warning("rate limit not counted: Redis unavailable", exc_info=True)
            await self.app(scope, receive, send)
            return
        reset = max(1, (window + 1) * WINDOW_SECONDS - int(now))
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - count)),
            "RateLimit-Reset": str(reset),
        }
        if count > self.limit:
            detail = RATE_LIMITED.format(limit=self.limit, reset=reset)
            answer = JSONResponse(
                {"detail": detail}, 429, headers={**headers, "Retry-After": str(reset)}
            )
            await answer(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    message_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
