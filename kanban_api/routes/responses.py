"""Documented error answers shared by several routes (they appear in the OpenAPI schema),
and the JSON response of the fast read paths."""

from typing import Any

import orjson
from fastapi import Response

Responses = dict[int | str, dict[str, Any]]

NOT_A_MEMBER: Responses = {404: {"description": "No such board or card, or not a member"}}
EMAIL_TAKEN: Responses = {409: {"description": "Email taken (compared case-insensitively)"}}
USER_NOT_FOUND: Responses = {404: {"description": "No user with this email"}}


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
