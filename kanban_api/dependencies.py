"""Request dependencies, as `Annotated` aliases routes can name as parameter types."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.errors import ApiError, NotFoundError
from kanban_api.models import Board, Card, User
from kanban_api.schemas.fields import Id
from kanban_api.services import boards as board_service
from kanban_api.services import cards as card_service
from kanban_api.utils.token import decode_access_token


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async for session in database.session():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit happens before the response is sent, so a failed
# commit is reported to the client instead of being lost after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/tokens", auto_error=False)


class NotAuthenticatedError(ApiError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}

    def __init__(self) -> None:
        super().__init__("Could not validate credentials")


async def get_current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(_bearer)]
) -> User:
    if not token:
        raise NotAuthenticatedError
    claims = decode_access_token(token, secret_key=request.app.state.secret_key)
    if claims is None:
        raise NotAuthenticatedError
    user = await session.get(User, claims.user_id)
    if user is None or user.credentials_version != claims.credentials_version:
        raise NotAuthenticatedError
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_member_board(
    session: SessionDep, user: CurrentUser, board_id: Annotated[Id, Path()]
) -> Board:
    return await board_service.get_member_board(session, board_id=board_id, user=user)


async def get_member_card(
    session: SessionDep, user: CurrentUser, card_id: Annotated[Id, Path()]
) -> Card:
    return await card_service.get_member_card(session, card_id=card_id, user=user)


async def get_member_board_id(
    session: SessionDep, user: CurrentUser, board_id: Annotated[Id, Path()]
) -> int:
    """The board id after a membership check that loads no board row (for the card list)."""
    if not await board_service.is_member(session, board_id=board_id, user_id=user.id):
        raise NotFoundError(board_service.BOARD_NOT_FOUND)
    return board_id


MemberBoard = Annotated[Board, Depends(get_member_board)]
MemberBoardId = Annotated[int, Depends(get_member_board_id)]
MemberCard = Annotated[Card, Depends(get_member_card)]
