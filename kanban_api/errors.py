"""Errors the services raise; the app turns each into a JSON answer with `detail`."""


class ApiError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ApiError):
    """Also used for what the caller may not see, so outsiders cannot probe for ids."""

    status_code = 404


class ConflictError(ApiError):
    status_code = 409


class NotAuthenticatedError(ApiError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}

    def __init__(self) -> None:
        super().__init__("Could not validate credentials")
