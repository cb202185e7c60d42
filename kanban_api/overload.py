"""A bound on the requests one user (or, without a valid token, one address) has in progress.

Without it, one client sending a burst (card batches to one busy board, sign-ups)
gets every pooled database connection of a worker, queued behind each other, and
everyone else's requests wait for a connection until they time out. With it, a
client has at most `max_in_flight` requests being worked on in this worker and
`max_queued` more waiting their turn (holding nothing but memory); beyond that it
gets 429 with `Retry-After` at once. The bound is per worker process, which is
what it protects: a worker's own connection pool.

A request counts until its answer begins: an event stream, or a card list being
sent, no longer holds a database connection by then.

Who a request counts against is chosen as for the rate limit (`access.counted_as`):
an access token counts against itself only once it is known to be current, else
against its address, so that made-up tokens share their address's slots. Known here
means: it authenticated a request in this worker within KNOWN_TOKEN_SECONDS (the
bound is this worker's, and so is what it remembers; the token's own requests still
check it in the database, so a token revoked meanwhile only keeps its slots, and
its requests answer 401).
"""

import asyncio
import time
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kanban_api.access import (
    KNOWN_TOKEN_SECONDS,
    TOKEN_AUTHENTICATED,
    CountedAs,
    counted_as,
)
from kanban_api.middleware import MCP_PATH, client_address, scope_header
from kanban_api.utils.token import TokenVerifier

RETRY_AFTER_SECONDS = 1
TOO_MANY_IN_FLIGHT = (
    "Too many requests of this {who} in progress at once; " f"retry in {RETRY_AFTER_SECONDS} second"
)
# Only the API (and /mcp) touches the database; health probes and static files stay unbounded.
BOUNDED_PREFIXES = ("/api/", MCP_PATH)


@dataclass(slots=True)
class _Slots:
    """One principal's requests: the running ones hold the semaphore, the rest wait on it."""

    running: asyncio.Semaphore
    waiting: int = 0
    holders: int = 0


class InFlightLimitMiddleware:
    """429s a principal's requests beyond `max_in_flight` running plus `max_queued` waiting."""

    def __init__(
        self, app: ASGIApp, *, tokens: TokenVerifier, max_in_flight: int, max_queued: int
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued
        self.slots: dict[str, _Slots] = {}
        # Access tokens' hashes that authenticated lately: until when (monotonic seconds).
        self.known_tokens: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(BOUNDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        counted = counted_as(
            self.tokens,
            authorization=scope_header(scope, b"authorization"),
            address=client_address(scope),
        )
        key = self._key(counted)
        slots = self.slots.get(key)
        if slots is None:
            slots = self.slots[key] = _Slots(asyncio.Semaphore(self.max_in_flight))
        if slots.running.locked() and slots.waiting >= self.max_queued:
            who = "address" if key.startswith("address:") else "user"
            answer = JSONResponse(
                {"detail": TOO_MANY_IN_FLIGHT.format(who=who)},
                429,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await answer(scope, receive, send)
            return
        slots.holders += 1
        try:
            await self._run(slots, scope, receive, send)
        finally:
            slots.holders -= 1
            if slots.holders == 0:
                del self.slots[key]
            if counted.token_hash is not None and scope.get(TOKEN_AUTHENTICATED):
                self._know(counted.token_hash)

    async def _run(self, slots: _Slots, scope: Scope, receive: Receive, send: Send) -> None:
        slots.waiting += 1
        try:
            await slots.running.acquire()
        finally:
            slots.waiting -= 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                slots.running.release()

        async def send_releasing(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            release()

    def _key(self, counted: CountedAs) -> str:
        """The access token's key if it authenticated lately here, else the fallback."""
        known_until = self.known_tokens.get(counted.token_hash) if counted.token_hash else None
        if known_until is not None and known_until > time.monotonic():
            return counted.token or counted.fallback
        return counted.fallback

    def _know(self, token_hash: str) -> None:
        """Remember the token as current; forget those not seen for KNOWN_TOKEN_SECONDS."""
        now = time.monotonic()
        if token_hash not in self.known_tokens:
            for stale in [known for known, until in self.known_tokens.items() if until <= now]:
                del self.known_tokens[stale]
        self.known_tokens[token_hash] = now + KNOWN_TOKEN_SECONDS
