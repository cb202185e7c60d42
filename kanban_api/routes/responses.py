"""Documented answers shared by several routes (they appear in the OpenAPI schema),
and the JSON response of the fast read paths."""

from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel

from kanban_api.schemas.error import ErrorOut

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
LAST_OWNER = _error(409, "It would leave the board without an owner")
EMAIL_TAKEN = _error(409, "Email taken (compared case-insensitively)")
USER_NOT_FOUND = _error(404, "No user with this email")
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
    429, "Too many requests of this user or address in progress; retry after `Retry-After`"
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
    OPT_UTC_Z writes UTC as `Z`, as pydantic does, so the bytes match the model
    routes'; a test compares the two.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_UTC_Z)
