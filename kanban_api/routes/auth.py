from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from kanban_api.dependencies import DatabaseDep, SessionDep, SettingsDep
from kanban_api.errors import NotFormEncodedError
from kanban_api.routes.responses import TOO_MANY_ATTEMPTS, Responses
from kanban_api.schemas.error import ErrorOut
from kanban_api.schemas.user import LoginForm, Token
from kanban_api.services.login import log_in
from kanban_api.services.login_limits import LoginLimits
from kanban_api.state import app_state
from kanban_api.utils.token import create_access_token
from kanban_api.validation import StrictQueryRoute

router = APIRouter(route_class=StrictQueryRoute, prefix="/auth", tags=["auth"])

INVALID_CREDENTIALS: Responses = {
    401: {"model": ErrorOut, "description": "Unknown email or wrong password (one answer for both)"}
}


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOT_FORM_ENCODED: Responses = {
    415: {"model": ErrorOut, "description": "The body is not form-encoded (JSON, for example)"}
}


async def require_form_encoding(request: Request) -> None:
    """Runs before the form is read, so a JSON login is told what to send instead."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        raise NotFormEncodedError(content_type)


@router.post(
    "/tokens",
    responses={**INVALID_CREDENTIALS, **TOO_MANY_ATTEMPTS, **NOT_FORM_ENCODED},
    dependencies=[Depends(require_form_encoding)],
)
async def login(
    request: Request,
    database: DatabaseDep,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[LoginForm, Form()],
) -> Token:
    """Exchange an email (as `username`) and password, form-encoded, for a bearer token that
    expires after `expires_in` seconds.

    Failed logins are limited per account and per client address (429 with
    `Retry-After` at the limit); a successful login clears its account's count.
    """
    account = await log_in(
        database,
        session,
        email=form.username,
        password=form.password,
        address=request.client.host if request.client else None,
        limits=LoginLimits.from_settings(settings),
    )
    token = create_access_token(
        user_id=account.id,
        email=account.email,
        credentials_version=account.credentials_version,
        secret_key=app_state(request).secret_key,
        minutes=settings.access_token_minutes,
    )
    return Token(access_token=token, expires_in=settings.access_token_minutes * 60)
