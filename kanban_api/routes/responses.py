"""Documented error answers shared by several routes (they appear in the OpenAPI schema),
and the JSON response of the fast read paths."""

from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]

NOT_A_MEMBER: Responses = {404: {"description": "No such board or card, or not a member"}}
# For routes some members may not use; the rules are in permissions.py.
ROLE_REQUIRED: Responses = {
    **NOT_A_MEMBER,
    403: {"description": "A member whose role does not allow this"},
}
LAST_OWNER: Responses = {409: {"description": "It would leave the board without an owner"}}
EMAIL_TAKEN: Responses = {409: {"description": "Email taken (compared case-insensitively)"}}
USER_NOT_FOUND: Responses = {404: {"description": "No user with this email"}}

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
        304: {"description": "Not modified: If-None-Match names the current ETag; no body"},
        400: {"description": "Malformed If-None-Match header"},
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
        400: {"description": "Malformed If-Match header"},
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
