"""Safely retried writes: `Idempotency-Key` on POST, PUT, PATCH and DELETE under /api.

The first request with a key claims it (a row in `idempotency_key`, committed at
once, so every worker sees the claim), runs, and stores its answer before sending
it. A later request of the same principal (`access.principal_key`) with that key
gets the stored answer, marked `Idempotency-Replayed: true`, without running; with
another method, path or body, 422; while the first still runs, 409 with
`Retry-After: 1`. Two workers racing for one key: the primary key lets one claim it.

Stored are the answers a retry would get again: 2xx, and 4xx but 409 and 429 (which
say "not now"). A 5xx, or a request that failed, gives the key back, so the client
may retry with it. Answers that carry a secret (a login, a new access token) are
never stored: for them the key is ignored. Keys are kept `KEEP` (24 hours, as
Stripe does); a claim whose request died with its worker is taken over after
`ABANDONED_AFTER`.
"""

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kanban_api.access import principal_is_current, principal_key
from kanban_api.database import Database
from kanban_api.errors import NotAuthenticatedError
from kanban_api.middleware import (
    DATABASE_ERRORS,
    client_address,
    database_fault,
    scope_header,
)
from kanban_api.models import IdempotencyKey
from kanban_api.models.base import utcnow
from kanban_api.utils.token import TokenVerifier

logger = logging.getLogger(__name__)

KEEP = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Their answers carry a secret, which must not be stored.
SECRET_ANSWERS = frozenset({"/api/auth/tokens", "/api/users/me/tokens"})
KEY_MAX = 255
STORED_HEADERS = ("content-type", "etag", "location")
INVALID_KEY = f"Idempotency-Key must be 1 to {KEY_MAX} printable ASCII characters"
KEY_REUSED = "This Idempotency-Key was used with another method, path or body"
IN_PROGRESS = "A request with this Idempotency-Key is still running; retry in 1 second"


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= KEY_MAX and all(" " <= char <= "~" for char in key)


def _storable(status: int) -> bool:
    return 200 <= status < 300 or (400 <= status < 500 and status not in (409, 429))


class IdempotencyMiddleware:
    """Runs a keyed write once per principal and key; replays its answer to retries."""

    def __init__(self, app: ASGIApp, *, tokens: TokenVerifier, database: Database) -> None:
        self.app = app
        self.tokens = tokens
        self.database = database
        self.store = _Store(database.engine)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key_of(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _valid_key(key):
            await JSONResponse({"detail": INVALID_KEY}, 400)(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except HTTPException as error:
            await JSONResponse({"detail": error.detail}, error.status_code)(scope, receive, send)
            return
        authorization = scope_header(scope, b"authorization")
        principal = principal_key(
            self.tokens, authorization=authorization, address=client_address(scope)
        )
        fingerprint = _fingerprint(scope, body)
        try:
            earlier = await self.store.claim(principal, key, fingerprint=fingerprint)
            # A credential revoked or retired since gets the 401 any request of it gets.
            if earlier is not None and not await principal_is_current(
                self.tokens, self.database, authorization=authorization
            ):
                earlier = _not_authenticated()
        except DATABASE_ERRORS as error:
            earlier = database_fault(error, scope)
        if earlier is not None:
            await earlier(scope, receive, send)
            return
        await self._run(scope, _replaying(body, receive), send, principal=principal, key=key)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, *, principal: str, key: str
    ) -> None:
        """Run the request, holding its answer back until it is stored (or the key freed)."""
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            await self.store.release(principal, key)
            raise
        try:
            await self._keep(messages, principal=principal, key=key)
        except DATABASE_ERRORS:
            # The request ran: its answer goes out; the claim is taken over after a while.
            logger.warning("answer for an Idempotency-Key not stored", exc_info=True)
        for message in messages:
            await send(message)

    async def _keep(self, messages: list[Message], *, principal: str, key: str) -> None:
        """Store the answer if a retry should get it again, else give the key back."""
        start: Message = messages[0] if messages else {"status": 500, "headers": []}
        status = int(start["status"])
        if _storable(status):
            body = b"".join(
                m.get("body", b"") for m in messages if m["type"] == "http.response.body"
            )
            headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in start.get("headers", ())
                if name.decode("latin-1").lower() in STORED_HEADERS
            ]
            await self.store.save(principal, key, status=status, headers=headers, body=body)
        else:
            await self.store.release(principal, key)


def _key_of(scope: Scope) -> str | None:
    """The request's Idempotency-Key, if it is a write the key applies to."""
    if (
        scope["type"] != "http"
        or scope["method"] not in WRITE_METHODS
        or not scope["path"].startswith("/api/")
        or scope["path"] in SECRET_ANSWERS
    ):
        return None
    return scope_header(scope, b"idempotency-key")


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (BodySizeLimitMiddleware, outside, bounds it)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then the real messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope["query_string"], body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class _Store:
    """The `idempotency_key` rows, each change in a short transaction of its own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        dialect: Any = postgresql if engine.dialect.name == "postgresql" else sqlite
        self.insert = dialect.insert

    async def claim(
        self, principal: str, key: str, *, fingerprint: str
    ) -> Callable[[Scope, Receive, Send], Awaitable[None]] | None:
        """None if this request now holds the key; else the answer to send instead."""
        now = utcnow()
        values = {"principal": principal, "key": key, "fingerprint": fingerprint}
        claim = (
            self.insert(IdempotencyKey)
            .values(**values, created_at=now)
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        )
        async with self.engine.begin() as connection:
            for _ in range(2):  # a row deleted between the two statements: claim again
                if await connection.scalar(claim) is not None:
                    return None
                row = (await connection.execute(_EARLIER.where(*_row(principal, key)))).first()
                if row is not None:
                    break
            if row is None:
                return _in_progress()
            if _stale(row.status, row.created_at, now=now):
                # Expired, or abandoned by a worker that died: take it over, if no one else did.
                taken: Any = await connection.execute(
                    update(IdempotencyKey)
                    .where(*_row(principal, key), IdempotencyKey.created_at == row.created_at)
                    .values(**values, status=None, headers=None, body=None, created_at=now)
                )
                return None if taken.rowcount else _in_progress()
            return _answer_for(row, fingerprint=fingerprint)

    async def save(
        self, principal: str, key: str, *, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(IdempotencyKey)
                .where(*_row(principal, key))
                .values(status=status, headers=orjson.dumps(headers).decode(), body=body)
            )

    async def release(self, principal: str, key: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(IdempotencyKey).where(*_row(principal, key)))


def _row(principal: str, key: str) -> tuple[Any, ...]:
    return (IdempotencyKey.principal == principal, IdempotencyKey.key == key)


_EARLIER = select(
    IdempotencyKey.fingerprint,
    IdempotencyKey.status,
    IdempotencyKey.headers,
    IdempotencyKey.body,
    IdempotencyKey.created_at,
)


def _stale(status: int | None, created_at: datetime, *, now: datetime) -> bool:
    age = now - created_at
    return age >= KEEP or (status is None and age >= ABANDONED_AFTER)


def _not_authenticated() -> Response:
    error = NotAuthenticatedError()
    return JSONResponse(error.content(), error.status_code, headers=error.headers)


def _in_progress() -> Response:
    return JSONResponse({"detail": IN_PROGRESS}, 409, headers={"Retry-After": "1"})


def _answer_for(row: Row[*tuple[Any, ...]], *, fingerprint: str) -> Response:
    if row.fingerprint != fingerprint:
        # FastAPI's 422 shape, as every 422 here (errors.InvalidInputError).
        error = {"type": "value_error", "loc": ["header", "Idempotency-Key"], "msg": KEY_REUSED}
        return JSONResponse({"detail": [error]}, 422)
    if row.status is None:
        return _in_progress()
    headers = dict(orjson.loads(row.headers or "[]"))
    answer = Response(row.body or b"", row.status, headers=headers)
    answer.headers["Idempotency-Replayed"] = "true"
    return answer


async def prune(session: AsyncSession) -> int:
    """Delete the keys older than `KEEP`; how many."""
    result: Any = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP)
    )
    return int(result.rowcount or 0)
