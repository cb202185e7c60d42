"""Documented error answers shared by several routes (they appear in the OpenAPI schema)."""

from typing import Any

from kanban_api.schemas.error import ErrorOut

Responses = dict[int | str, dict[str, Any]]


def _error(status: int, description: str) -> Responses:
    return {status: {"model": ErrorOut, "description": description}}


NOT_AUTHENTICATED = _error(401, "Missing, malformed, expired or revoked token")
NOT_A_MEMBER = _error(404, "No such board or card, or not a member")
EMAIL_TAKEN = _error(409, "Email taken (compared case-insensitively)")
USER_NOT_FOUND = _error(404, "No user with this email")
TOO_MANY_ATTEMPTS = _error(429, "Too many failed logins; retry after `Retry-After` seconds")
UNPARSABLE_BODY = _error(400, "The body could not be parsed (not UTF-8, or nested too deeply)")
BODY_TOO_LARGE = _error(413, "Request body over 1 MiB")
SERVICE_UNAVAILABLE = _error(503, "The database is unreachable; retry later")
