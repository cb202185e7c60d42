from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from kanban_api.dependencies import SessionDep, SettingsDep
from kanban_api.errors import NotAuthenticatedError
from kanban_api.schemas.user import Token
from kanban_api.services import users as user_service
from kanban_api.utils.token import create_access_token

router = APIRouter(prefix="/auth", tags=["auth"])


class InvalidCredentialsError(NotAuthenticatedError):
    def __init__(self) -> None:
        super().__init__()
        self.detail = "Incorrect email or password"


@router.post(
    "/tokens",
    responses={401: {"description": "Unknown email or wrong password (one answer for both)"}},
)
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange an email (as `username`) and password for a bearer token."""
    user = await user_service.authenticate(session, email=form.username, password=form.password)
    if user is None:
        raise InvalidCredentialsError
    token = create_access_token(
        user_id=user.id,
        email=user.email,
        credentials_version=user.credentials_version,
        secret_key=request.app.state.secret_key,
        minutes=settings.access_token_minutes,
    )
    return Token(access_token=token)
