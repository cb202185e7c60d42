"""Errors the services raise; the app turns each into a JSON answer with `detail`."""

from collections.abc import Sequence
from typing import Any


class ApiError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> dict[str, Any]:
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
    """Well-formed input the database refuses (e.g. a non-member assignee).

    Answered in FastAPI's 422 shape, so clients handle it like any validation error.
    """

    status_code = 422

    def __init__(self, loc: Sequence[str | int], detail: str) -> None:
        super().__init__(detail)
        self.loc = list(loc)

    def body(self) -> dict[str, Any]:
        return {"detail": [{"type": "value_error", "loc": self.loc, "msg": self.detail}]}
