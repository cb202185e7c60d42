"""Documented answers shared by several routes (they appear in the OpenAPI schema),
and the JSON response of the fast read paths."""

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from kanban_api.schemas.error import ErrorOut
from kanban_api.utils.wire import WIRE_JSON_OPTIONS

Responses = dict[int | str, dict[str, Any]]


def _error(status: int, description: str) -> Responses:
    return {status: {"model": ErrorOut, "description": description}}


NOT_AUTHENTICATED = _error(401, "Missing, malformed, expired or revoked token")
NOT_A_MEMBER = _error(404, "No such board or card, or not a member")
# For routes some members may not use; the rules are in permissions.py.
ROLE_REQUIRED: Responses = {
    **NOT_A_MEMBER,
    **_error(403, "A member whose role does not allow this"),
}
NO_INVITATION = _error(404, "No such board, or no invitation to it waiting for your answer")
LAST_OWNER = _error(409, "It would leave the board without an owner")
BOARD_FULL = _error(
    409, "The board would pass its cap of active or archived cards, or a column its WIP limit"
)
COLUMN_FULL = _error(409, "The column is at its WIP limit")
CHECKLIST_FULL = _error(409, "The card holds 100 checklist items already")
EMAIL_TAKEN = _error(409, "Email taken (compared case-insensitively)")
USER_NOT_FOUND = _error(404, "No user with this email")
TOKEN_NOT_FOUND = _error(404, "No such access token of yours")
TOKEN_NOT_ALLOWED = _error(403, "An access token cannot do this; it needs a login token")
TOO_MANY_ATTEMPTS = _error(429, "Too many failed logins; retry after `Retry-After` seconds")
REAUTH_REQUIRED = _error(
    403, "Changing email or password needs `currentPassword` (missing or wrong) or a fresh login"
)
_UNPARSABLE = "the body could not be parsed (not UTF-8, or nested too deeply)"
UNPARSABLE_BODY = _error(400, _UNPARSABLE.capitalize())
BODY_TOO_LARGE = _error(413, "Request body over 1 MiB")
SERVICE_UNAVAILABLE = _error(
    503,
    "The database is busy, unreachable, restarting or not migrated (`detail` says which); "
    "retry after `Retry-After` seconds",
)
TOO_MANY_IN_FLIGHT = _error(
    429,
    "Over the rate limit (KANBAN_RATE_LIMIT_PER_MINUTE), or too many requests of this user "
    "or address in progress; nothing changed: retry after `Retry-After` seconds",
)

_ETAG = {
    "ETag": {
        "description": 'The resource\'s version, quoted (`"3"`); send it back in If-Match.',
        "schema": {"type": "string"},
    }
}


def etag_answers(status_code: int = 200) -> Responses:
    """A single-resource answer carrying its ETag."""
    return {status_code: {"headers": _ETAG}}


def conditional_read() -> Responses:
    return {
        **etag_answers(),
        # No `model`: a 304 has no body.
        304: {
            "description": "Not modified: If-None-Match names the current ETag; no body",
            "headers": _ETAG,
        },
        **_error(400, "Malformed If-None-Match header"),
    }


def conditional_write(model: type[BaseModel], status_code: int = 200) -> Responses:
    """A change honouring If-Match; 412 carries the resource as it is now (`model`)."""
    answers: Responses = {
        412: {
            "model": model,
            "description": "If-Match names an outdated ETag: nothing was changed; "
            "`current` is the resource now, and the ETag header its ETag",
            "headers": _ETAG,
        },
        # Replaces the router-wide 400, so it names both causes.
        **_error(400, f"Malformed If-Match header, or {_UNPARSABLE}"),
    }
    if status_code != 204:
        answers.update(etag_answers(status_code))
    return answers


class JsonBytes(Response):
    """JSON rendered by orjson, for read paths that answer with plain dicts.

    Those paths skip building pydantic models per item (the largest cost of a big
    list); routes keep their `response_model` so the OpenAPI schema is unchanged.
    Encoded as utils.wire says, so the bytes match the model routes'; a test compares
    the two.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=WIRE_JSON_OPTIONS)


# Items encoded per chunk of a JsonArrayStream: big enough that the per-chunk overhead
# vanishes, small enough that a chunk of a full board's cards is a few hundred kilobytes.
STREAM_CHUNK_ITEMS = 200
# Lists up to this long are encoded at once (JsonBytes): they take little memory, and a
# streamed answer costs more per request than it saves there.
STREAM_ABOVE_ITEMS = 1000


class JsonArrayStream(StreamingResponse):
    """A JSON array of `items`, each turned into a dict by `shape`, encoded and sent a
    chunk at a time as the client reads, with the bytes `JsonBytes` would send.

    A whole large list encoded at once takes its rows, their dicts and the bytes of the
    answer together, for every request sending one; this keeps only the rows (already
    fetched, the connection long returned) and one chunk.
    """

    media_type = "application/json"

    def __init__(self, items: Sequence[Any], shape: Callable[[Any], Any]) -> None:
        super().__init__(_json_array_chunks(items, shape))


def json_array(items: Sequence[Any], shape: Callable[[Any], Any]) -> Response:
    """`items` shaped into a JSON array: encoded at once when short, else streamed."""
    if len(items) > STREAM_ABOVE_ITEMS:
        return JsonArrayStream(items, shape)
    return JsonBytes([shape(item) for item in items])


async def _json_array_chunks(
    items: Sequence[Any], shape: Callable[[Any], Any]
) -> AsyncIterator[bytes]:
    if not items:
        yield b"[]"
        return
    for start in range(0, len(items), STREAM_CHUNK_ITEMS):
        chunk = items[start : start + STREAM_CHUNK_ITEMS]
        # orjson writes arrays without spaces, so joined items are the array's bytes.
        body = b",".join(orjson.dumps(shape(item), option=WIRE_JSON_OPTIONS) for item in chunk)
        opening = b"[" if start == 0 else b","
        closing = b"]" if start + STREAM_CHUNK_ITEMS >= len(items) else b""
        yield opening + body + closing


# Headers the middleware (rate_limit.py, idempotency.py) reads and writes on every API
# route, which FastAPI cannot see: added to the schema by `document_api_headers`.
_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed per minute (KANBAN_RATE_LIMIT_PER_MINUTE)",
    "RateLimit-Remaining": "Requests left in the current minute",
    "RateLimit-Reset": "Seconds until the current minute's count starts again",
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Run this write once: a retry with the same key, method, path and body "
    "gets the first answer (`Idempotency-Replayed: true`); another request with the key "
    "422; while the first runs, 409. Kept 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


def document_api_headers(schema: dict[str, Any], *, secret_answers: frozenset[str]) -> None:
    """Add the rate-limit headers to every /api answer, and `Idempotency-Key` to every
    write but those whose answer holds a secret (`secret_answers`, paths)."""
    headers = {
        name: {"description": text, "schema": {"type": "integer"}}
        for name, text in _RATE_LIMIT_HEADERS.items()
    }
    replayed = {"description": "`true` on an answer replayed for an Idempotency-Key"}
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            writes = method.upper() in ("POST", "PUT", "PATCH", "DELETE")
            if writes and path not in secret_answers:
                operation.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)
            for answer in operation["responses"].values():
                answer.setdefault("headers", {}).update(headers)
                if writes:
                    answer["headers"]["Idempotency-Replayed"] = replayed


TOO_MANY_WEBHOOKS = _error(409, "The board already has as many webhooks as it may")


# The `Link` header of a paged list's answer, for the OpenAPI document.
NEXT_PAGE_LINK = {
    "Link": {
        "description": 'With `limit`, when more remain: `<url>; rel="next"`',
        "schema": {"type": "string"},
    }
}


def next_page_link(request: Request, cursor: str) -> str:
    """The `Link` header pointing at the next page: this request's URL, path-relative,
    with the same query and `cursor` set (RFC 8288)."""
    url = request.url.include_query_params(cursor=cursor)
    return f'<{url.path}?{url.query}>; rel="next"'
