from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from kanban_api.database import Database
from kanban_api.dependencies import SessionDep, SettingsDep
from kanban_api.errors import ApiError, NotAuthenticatedError
from kanban_api.routes.responses import TOO_MANY_ATTEMPTS, Responses
from kanban_api.schemas.error import ErrorOut
from kanban_api.schemas.user import LoginForm, Token
from kanban_api.services import login_limits
from kanban_api.services import users as user_service
from kanban_api.services.login_limits import Attempt, LoginLimits, TooManyAttemptsError
from kanban_api.utils.token import create_access_token

router = APIRouter(prefix="/auth", tags=["auth"])

INVALID_CREDENTIALS: Responses = {
    401: {"model": ErrorOut, "description": "Unknown email or wrong password (one answer for both)"}
}


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOT_FORM_ENCODED: Responses = {
    415: {"model": ErrorOut, "description": "The body is not form-encoded (JSON, for example)"}
}


class NotFormEncodedError(ApiError):
    status_code = 415

    def __init__(self) -> None:
        super().__init__(
            "Log in with form fields, not JSON: send Content-Type: "
            "application/x-www-form-urlencoded and the body username=<email>&password=<password> "
            "(OAuth2's password flow, RFC 6749 section 4.3)"
        )


async def require_form_encoding(request: Request) -> None:
    """Runs before the form is read, so a JSON login is told what to send instead."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        raise NotFormEncodedError


class InvalidCredentialsError(NotAuthenticatedError):
    def __init__(self) -> None:
        super().__init__()
        self.detail = "Incorrect email or password"


@router.post(
    "/tokens",
    responses={**INVALID_CREDENTIALS, **TOO_MANY_ATTEMPTS, **NOT_FORM_ENCODED},
    dependencies=[Depends(require_form_encoding)],
)
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[LoginForm, Form()],
) -> Token:
    """Exchange an email (as `username`) and password, form-encoded, for a bearer token that
    expires after `expires_in` seconds.

    Failed logins are limited per account and per client address (429 with
    `Retry-After` past the limit); a successful login clears its account's count.
    """
    attempt = Attempt.of(
        email=form.username, address=request.client.host if request.client else None
    )
    database: Database = request.app.state.database
    retry_after = await login_limits.reserve(
        database.sessionmaker, attempt=attempt, limits=LoginLimits.from_settings(settings)
    )
    if retry_after is not None:
        raise TooManyAttemptsError(retry_after)
    user = await user_service.authenticate(session, email=form.username, password=form.password)
    if user is None:
        raise InvalidCredentialsError
    await login_limits.forgive(session, attempt=attempt)
    token = create_access_token(
        user_id=user.id,
        email=user.email,
        credentials_version=user.credentials_version,
        secret_key=request.app.state.secret_key,
        minutes=settings.access_token_minutes,
    )
    return Token(access_token=token, expires_in=settings.access_token_minutes * 60)
