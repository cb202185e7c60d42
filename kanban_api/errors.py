"""Errors the services raise; the app turns each into a JSON answer with `detail`."""

from typing import Any


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


class ConflictError(ApiError):
    status_code = 409


class InvalidFieldError(ApiError):
    """A well-formed body the database state rejects, answered in FastAPI's 422 shape."""

    status_code = 422

    def __init__(self, field: str, detail: str, value: Any) -> None:
        super().__init__(detail)
        self.field = field
        self.value = value

    def content(self) -> dict[str, Any]:
        error = {"type": "value_error", "loc": ["body", self.field], "msg": self.detail}
        return {"detail": [{**error, "input": self.value}]}


class PreconditionFailedError(ApiError):
    """A stale `If-Match`: the body carries the resource as it is now, to reapply the change on."""

    status_code = 412

    def __init__(self, detail: str, *, current: dict[str, Any], etag: str) -> None:
        super().__init__(detail)
        self.current = current
        self.headers = {"ETag": etag}

    def content(self) -> dict[str, Any]:
        return {"detail": self.detail, "current": self.current}
