"""Requests per minute per principal, counted across every worker: the API rate limit.

Each request under /api, and to /mcp, counts against `access.counted_as` (the user of a login
token, a current access token or, otherwise, the client address) in a fixed one-minute
window (the Unix minute). Past `KANBAN_RATE_LIMIT_PER_MINUTE` it answers 429 with `Retry-After`
before running, so nothing changes. Every answer carries the counters as the IETF
draft "RateLimit header fields for HTTP" names them (draft-ietf-httpapi-ratelimit-
headers-07 §3): `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
(seconds until the window ends).

The counts live where every worker sees them: a row per principal and window in the
database (an upsert: callers never wait for each other's rows), or a Redis key per
principal and window when KANBAN_REDIS_URL is set.
"""

import asyncio
import logging
import math
import time
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import String, bindparam, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kanban_api.access import (
    KNOWN_TOKEN_SECONDS,
    TOKEN_AUTHENTICATED,
    CountedAs,
    access_token_is_current,
    counted_as,
)
from kanban_api.database import AUTOCOMMIT
from kanban_api.middleware import (
    DATABASE_ERRORS,
    MCP_PATH,
    client_address,
    database_fault,
    scope_header,
)
from kanban_api.models import RateLimitWindow
from kanban_api.models.base import utcnow
from kanban_api.utils.failure_log import RepeatedFailureLog
from kanban_api.utils.token import TokenVerifier

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# The name the API's connections give themselves in Redis (CLIENT SETNAME).
REDIS_CLIENT_NAME = "kanban-api"
# Redis answers a counter at once; one that takes this long is taken as down, and the
# request is served uncounted, rather than every request waiting on it.
REDIS_TIMEOUT_SECONDS = 1.0
# After Redis failed, requests are served uncounted at once for this long, rather than
# each waiting out REDIS_TIMEOUT_SECONDS while a silent Redis stays silent; then one
# batch of hits tries again.
REDIS_RETRY_SECONDS = 5.0
RATE_LIMITED = "Rate limit of {limit} requests per minute reached; retry in {reset} seconds"
LIMITED_PREFIXES = ("/api/", MCP_PATH)


def clock() -> float:
    """Unix seconds: the windows' clock (tests set it)."""
    return time.time()


def monotonic() -> float:
    """Seconds from an arbitrary start: the clock of Redis retries (tests set it)."""
    return time.monotonic()


class RedisPausedError(RedisConnectionError):
    """Redis failed lately: not asked again until REDIS_RETRY_SECONDS have passed."""


# What Redis's being away raises (an error Redis itself answered is not that).
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class Counter(Protocol):
    async def hit(self, counted: CountedAs, *, window: int) -> tuple[int, str]:
        """Count one request in `window` (a Unix minute) against `counted.token` if that
        access token is current, else against `counted.fallback`: the count so far, and
        which of the two keys it is."""

    async def authenticated(self, counted: CountedAs) -> None:
        """Note that the request's access token authenticated (its answer is the token's)."""


class DatabaseCounter:
    """Counts in `rate_limit_window` rows: INSERT … ON CONFLICT DO UPDATE … RETURNING,
    one statement in a transaction of its own (a GET's session does not write), before
    the request's own transaction, so never while a board lock is held. With an access
    token, the statement itself chooses the row's key: the token's if `api_token` holds
    it as current (`access.access_token_is_current`), else the fallback's, so an unknown
    token costs no more than an anonymous request and counts with its address.

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
        fallback = bindparam("fallback", type_=String)
        chosen = case((access_token_is_current(), bindparam("token", type_=String)), else_=fallback)
        self.plain, self.with_token = (
            dialect.insert(table)
            .values(principal=principal, window=bindparam("window"), count=1)
            .on_conflict_do_update(
                index_elements=[table.c.principal, table.c.window],
                set_={"count": table.c.count + 1},
            )
            .returning(table.c.count, table.c.principal)
            for principal in (fallback, chosen)
        )

    async def hit(self, counted: CountedAs, *, window: int) -> tuple[int, str]:
        params: dict[str, Any] = {"fallback": counted.fallback, "window": window}
        statement = self.plain
        if counted.token is not None:
            statement = self.with_token
            params |= {"token": counted.token, "token_hash": counted.token_hash, "now": utcnow()}
        async with self.engine.begin() as connection:
            count, principal = (await connection.execute(statement, params)).one()
        return int(count), str(principal)

    async def authenticated(self, counted: CountedAs) -> None:
        """Nothing to note: the statement reads `api_token` itself."""


# KEYS: the token's marker, the fallback's and the token's counters. The marker says
# the token authenticated lately; without it the request counts as its fallback.
_HIT = """
local chosen = 2
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then chosen = 3 end
local count = redis.call('INCR', KEYS[chosen])
redis.call('EXPIRE', KEYS[chosen], ARGV[2])
return {count, chosen}
"""


class RedisCounter:
    """Counts in Redis keys `kanban:rate:<principal>:<window>`, which expire after two
    windows: INCR and EXPIRE in one script, atomic.

    Redis cannot see `api_token`, so an access token counts against itself only while
    its marker `kanban:known-token:<hash>` exists: set, for KNOWN_TOKEN_SECONDS, after
    a request the token authenticated, checked by the same script. A made-up token
    never gets one; a revoked or expired token keeps its own count (each of its requests
    answered 401) until its marker expires.

    The hits of one worker that arrive in the same turn of its event loop go to Redis
    together, in one pipeline on one connection: under load a worker starts several
    requests per turn, and a command sent alone costs redis-py several times the CPU
    of its share of a pipeline (docs/performance.md). A hit waits for no later turn.

    When Redis fails to answer, every request would wait REDIS_TIMEOUT_SECONDS for it
    while it stays away; so for REDIS_RETRY_SECONDS after a failure, hits raise
    `RedisPausedError` at once, and then the first batch alone tries Redis again (the hits
    of later turns raise meanwhile) until it answers.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        # Hits of the current turn, with the futures their requests await.
        self._pending: list[tuple[list[str | int], asyncio.Future[Any]]] = []
        # The batches being sent (held here, as the event loop keeps only weak references).
        self._sending: set[asyncio.Task[None]] = set()
        # Until when (`monotonic`) Redis is not asked, and whether it failed last time.
        self._paused_until = -math.inf
        self._failed = False

    async def hit(self, counted: CountedAs, *, window: int) -> tuple[int, str]:
        self._check_paused()
        token = counted.token or counted.fallback
        keys_and_args: list[str | int] = [
            f"kanban:known-token:{counted.token_hash}",
            f"kanban:rate:{counted.fallback}:{window}",
            f"kanban:rate:{token}:{window}",
            int(counted.token is not None),
            2 * WINDOW_SECONDS,
        ]
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        if self._pending and self._pending[0][1].get_loop() is not loop:
            self._pending = []  # left by an event loop that closed before sending them
        if not self._pending:
            loop.call_soon(self._send_pending)
        self._pending.append((keys_and_args, answer))
        count, chosen = await answer
        return int(count), token if int(chosen) == 3 else counted.fallback

    def _check_paused(self) -> None:
        if monotonic() < self._paused_until:
            raise RedisPausedError("Redis failed lately; not asked again yet")

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        if self._failed:
            # This batch finds out whether Redis is back; later ones do not wait with it.
            self._paused_until = monotonic() + REDIS_RETRY_SECONDS
        task = asyncio.create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[list[str | int], asyncio.Future[Any]]]) -> None:
        """Every hit of `batch` in one round trip; each request gets its own answer, or the
        error (RedisError when Redis fails: the middleware then serves it uncounted)."""
        try:
            async with self.redis.pipeline(transaction=False) as pipeline:
                for keys_and_args, _ in batch:
                    # EVAL, not EVALSHA: no NOSCRIPT to recover from after Redis restarts.
                    pipeline.eval(_HIT, 3, *keys_and_args)
                replies = await pipeline.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for _, answer in batch:
                answer.cancel()
            raise
        except Exception as error:
            replies = [error] * len(batch)
        self._note_outcome(failed=any(isinstance(reply, REDIS_UNREACHABLE) for reply in replies))
        for (_, answer), reply in zip(batch, replies, strict=True):
            if answer.done():  # its request was cancelled meanwhile
                continue
            if isinstance(reply, Exception):
                answer.set_exception(reply)
            else:
                answer.set_result(reply)

    def _note_outcome(self, *, failed: bool) -> None:
        """Pause after a failure to reach Redis (a timeout is one); resume once it answers."""
        self._failed = failed
        self._paused_until = monotonic() + REDIS_RETRY_SECONDS if failed else -math.inf

    async def authenticated(self, counted: CountedAs) -> None:
        self._check_paused()
        try:
            await self.redis.set(
                f"kanban:known-token:{counted.token_hash}", 1, ex=KNOWN_TOKEN_SECONDS
            )
        except REDIS_UNREACHABLE:
            self._note_outcome(failed=True)
            raise


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
        self.outage = RepeatedFailureLog(logger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        counted = counted_as(
            self.tokens,
            authorization=scope_header(scope, b"authorization"),
            address=client_address(scope),
        )
        now = clock()
        window = int(now // WINDOW_SECONDS)
        try:
            count, principal = await self.counter.hit(counted, window=window)
        except DATABASE_ERRORS as error:
            await database_fault(error, scope)(scope, receive, send)
            return
        except RedisError:
            # Redis down must not take the API down: serve, uncounted, and say so in the log.
            self.outage.failed("rate limit not counted: Redis unavailable")
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
                if principal != counted.token and scope.get(TOKEN_AUTHENTICATED):
                    await self._note_authenticated(counted)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _note_authenticated(self, counted: CountedAs) -> None:
        """Let the counter know the token from now on; if Redis is down, its requests
        keep counting with its address meanwhile (said in the log)."""
        try:
            await self.counter.authenticated(counted)
        except RedisError:
            self.outage.failed("access token not noted: Redis unavailable")
