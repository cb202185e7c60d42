from typing import Annotated

from fastapi import APIRouter, Form, Request

from kanban_api.dependencies import SessionDep, SettingsDep
from kanban_api.errors import InvalidCredentialsError, TooManyAttemptsError
from kanban_api.routes.responses import TOO_MANY_ATTEMPTS, Responses
from kanban_api.schemas.error import ErrorOut
from kanban_api.schemas.user import LoginForm, Token
from kanban_api.services import login_limits
from kanban_api.services import users as user_service
from kanban_api.services.login_limits import Attempt, LoginLimits
from kanban_api.state import app_state
from kanban_api.utils.token import create_access_token

router = APIRouter(prefix="/auth", tags=["auth"])

INVALID_CREDENTIALS: Responses = {
    401: {"model": ErrorOut, "description": "Unknown email or wrong password (one answer for both)"}
}


@router.post("/tokens", responses={**INVALID_CREDENTIALS, **TOO_MANY_ATTEMPTS})
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[LoginForm, Form()],
) -> Token:
    """Exchange an email (as `username`) and password for a bearer token.

    Failed logins are limited per account and per client address (429 with
    `Retry-After` past the limit); a successful login clears its account's count.
    """
    attempt = Attempt.of(
        email=form.username, address=request.client.host if request.client else None
    )
    state = app_state(request)
    retry_after = await login_limits.reserve(
        state.database.sessionmaker, attempt=attempt, limits=LoginLimits.from_settings(settings)
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
        secret_key=state.secret_key,
        minutes=settings.access_token_minutes,
    )
    return Token(access_token=token)
