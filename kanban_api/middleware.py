"""Pure ASGI middleware: request size limit, security headers, request ids and the access log.

Pure ASGI (rather than BaseHTTPMiddleware) so that bodies stream through untouched
and each layer costs one function call per message.
"""

import logging
import os
import re
import time
from collections.abc import Iterable

import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kanban_api.db_faults import classify

MAX_BODY_BYTES = 1024 * 1024
BODY_TOO_LARGE = f"Request body exceeds {MAX_BODY_BYTES} bytes"

access_log = logging.getLogger("kanban_api.access")
logger = logging.getLogger(__name__)

# Ids from a client or proxy are echoed and logged, so only short, plain ones are trusted.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Responses the API itself writes (JSON): nothing may load, nothing may frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI starts with an inline script, and the static web client may load any; they only
# lose framing.
PAGE_CSP = "frame-ancestors 'none'"
# The Model Context Protocol endpoint (mcp_endpoint/): an API too, limited like /api.
MCP_PATH = "/mcp"
API_PREFIXES = ("/api", "/health", "/openapi.json", MCP_PATH)
INTERNAL_ERROR = "Internal Server Error"


class BodySizeLimitMiddleware:
    """Answers 413 to bodies over the limit, before reading them when Content-Length tells.

    Chunked uploads have no Content-Length, so the bytes are also counted as the app
    reads them; the first chunk past the limit stops the request.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = scope_header(scope, b"content-length")
        if declared is not None:
            declared = declared.strip()
            if not (declared.isascii() and declared.isdigit()):
                await JSONResponse({"detail": "Invalid Content-Length"}, 400)(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await JSONResponse({"detail": BODY_TOO_LARGE}, 413)(scope, receive, send)
                return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the route, where the app's handlers turn it into a JSON 413.
                    raise HTTPException(413, BODY_TOO_LARGE)
            return message

        await self.app(scope, counting_receive, send)


def _security_headers(*, api: bool, https: bool) -> tuple[tuple[bytes, bytes], ...]:
    headers = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "content-security-policy": API_CSP if api else PAGE_CSP,
    }
    if api:
        # Answers carry tokens and private boards; no shared cache may keep them.
        headers["cache-control"] = "no-store"
    if https:
        headers["strict-transport-security"] = "max-age=31536000"
    return tuple((name.encode(), value.encode()) for name, value in headers.items())


class SecurityHeadersMiddleware:
    """Headers that stop MIME sniffing, framing, referrer leaks and caching of API answers.

    Each is added unless the answer already has it. The four possible sets are
    encoded once: this runs on every response.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = {
            (api, https): _security_headers(api=api, https=https)
            for api in (False, True)
            for https in (False, True)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        is_api = any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)
        extra = self.headers[is_api, scope.get("scheme") == "https"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message["headers"] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in extra if header[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLogMiddleware:
    """One JSON log line per request, and an `X-Request-ID` to find it by.

    A sane `X-Request-ID` from the client or a proxy is kept, so one id follows the
    request across services; otherwise one is generated. The query string and
    headers are never logged: they may carry tokens.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope_header(scope, b"x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            access_log.info(
                orjson.dumps(
                    {
                        "event": "request",
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status or 500,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "request_id": request_id,
                        "client": client[0] if client else None,
                    }
                ).decode()
            )


class InternalErrorMiddleware:
    """Answers a bug with `500 {"detail": "Internal Server Error"}` and logs its traceback
    once, with the request id.

    It sits inside the CORS, request-id and security-header layers, so the 500 is
    an answer like any other: a browser client can read it (and its request id)
    instead of seeing a network error. Starlette's ServerErrorMiddleware, outside
    them all, is never reached.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def send_tracked(message: Message) -> None:
            nonlocal answered
            answered |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            if answered:
                raise  # the answer has begun: the server logs this and drops the connection
            request_id = scope.get("state", {}).get("request_id", "-")
            logger.exception("unhandled error in request %s", request_id)
            await JSONResponse({"detail": INTERNAL_ERROR}, 500)(scope, receive, send)


def _request_id(candidate: str | None) -> str:
    if candidate is not None and _SAFE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return os.urandom(16).hex()


# What a database that is out raises: the classes the app's handler answers (app.py).
DATABASE_ERRORS = (SQLAlchemyError, OSError)


def database_fault(error: SQLAlchemyError | OSError, scope: Scope) -> JSONResponse:
    """The answer the app's handler gives a database error (db_faults.py: 503 or 409 with
    `Retry-After`), for middleware that reaches the database outside the app; re-raises
    what is a bug."""
    fault = classify(error, method=scope["method"])
    if fault is None:
        raise error
    headers = {"Retry-After": str(fault.retry_after)}
    return JSONResponse({"detail": fault.detail}, fault.status_code, headers=headers)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def scope_header(scope: Scope, name: bytes) -> str | None:
    """The first value of the request header `name` (lowercase bytes)."""
    headers: Iterable[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
