"""Every error class of the application, and the messages more than one module uses.

The app turns each `ApiError` into a JSON answer with `detail` (app.py).
"""

import re
from collections.abc import Sequence
from typing import Any

BOARD_NOT_FOUND = "Board not found"
CARD_NOT_FOUND = "Card not found"
COMMENT_NOT_FOUND = "Comment not found"
CHECKLIST_ITEM_NOT_FOUND = "Checklist item not found"
USER_NOT_FOUND = "User not found"


class ConfigError(Exception):
    """Raised when the settings cannot run the server safely; the message tells how to fix it."""


class ApiError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def content(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {"detail": self.detail}


class NotFoundError(ApiError):
    """Also used for what the caller may not see, so outsiders cannot probe for ids."""

    status_code = 404


class ForbiddenError(ApiError):
    """A member whose role does not allow the action (outsiders get NotFoundError instead)."""

    status_code = 403


class ConflictError(ApiError):
    status_code = 409


class InvalidInputError(ApiError):
    """Well-formed input the database refuses (a non-member assignee, an unknown afterId).

    Answered in FastAPI's 422 shape, without `input` like every 422 here (see app.py), so
    clients handle it like any validation error.
    """

    status_code = 422

    def __init__(self, loc: Sequence[str | int], detail: str) -> None:
        super().__init__(detail)
        self.loc = list(loc)

    def content(self) -> dict[str, Any]:
        return {"detail": [{"type": "value_error", "loc": self.loc, "msg": self.detail}]}


class PreconditionFailedError(ApiError):
    """A stale `If-Match`: the body carries the resource as it is now, to reapply the change on."""

    status_code = 412

    def __init__(self, detail: str, *, current: dict[str, Any], etag: str) -> None:
        super().__init__(detail)
        self.current = current
        self.headers = {"ETag": etag}

    def content(self) -> dict[str, Any]:
        return {"detail": self.detail, "current": self.current}


class GoneError(ApiError):
    """What the client asked to resume from is no longer (or never was) available."""

    status_code = 410


class NotAuthenticatedError(ApiError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}

    def __init__(self) -> None:
        super().__init__("Could not validate credentials")


class InvalidCredentialsError(NotAuthenticatedError):
    """A login with an unknown email or a wrong password: one answer for both."""

    def __init__(self) -> None:
        super().__init__()
        self.detail = "Incorrect email or password"


class TooManyAttemptsError(ApiError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed logins; try again in {retry_after} seconds")
        self.headers = {"Retry-After": str(retry_after)}


class MalformedHeaderError(ApiError):
    """An If-Match or If-None-Match header that is not `*` or a list of entity tags."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f'{name} must be * or a comma-separated list of quoted entity tags, such as "3"'
        )


class SchemaNotReadyError(ApiError):
    """The database's schema is older than this code needs (readiness probe)."""

    status_code = 503

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


class NotFormEncodedError(ApiError):
    """A login whose body is not form-encoded (JSON, say, or no body at all): what to send
    instead, naming the media type that was sent when it is one (`type/subtype`)."""

    status_code = 415

    def __init__(self, content_type: str) -> None:
        sent = "no Content-Type"
        if content_type == "application/json":
            sent = "JSON"
        elif _MEDIA_TYPE.fullmatch(content_type):
            sent = content_type
        elif content_type:
            sent = "that Content-Type"
        super().__init__(
            f"Log in with form fields (this request sent {sent}): send Content-Type: "
            "application/x-www-form-urlencoded and the body username=<email>&password=<password> "
            "(OAuth2's password flow, RFC 6749 section 4.3)"
        )


# A media type as RFC 9110 section 8.3.1 writes one, short enough to quote back.
_MEDIA_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]{1,40}/[a-z0-9!#$&^_.+-]{1,60}")
