"""Request dependencies, as `Annotated` aliases routes can name as parameter types."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.errors import ApiError
from kanban_api.models import Board, Card, User
from kanban_api.schemas.fields import Id
from kanban_api.services import boards as board_service
from kanban_api.services import cards as card_service
from kanban_api.services import events as event_service
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
    event_service.act_as(session, user_id=user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_stream_user(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(_bearer)],
    board_id: Annotated[Id, Path()],
    ticket: Annotated[
        str | None,
        Query(
            max_length=100,
            description="A ticket from POST /api/boards/{board_id}/events/tickets, for "
            "clients that cannot send an Authorization header (browsers' EventSource)",
        ),
    ] = None,
) -> User:
    """The bearer token's user or, since EventSource cannot send headers, a ticket's."""
    if ticket is None:
        return await get_current_user(request, session, token)
    user = await event_service.redeem_ticket(session, ticket=ticket, board_id=board_id)
    if user is None:
        raise NotAuthenticatedError
    return user


StreamUser = Annotated[User, Depends(get_stream_user)]


def _changes_data(request: Request) -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")


async def get_member_board(
    request: Request, session: SessionDep, user: CurrentUser, board_id: Annotated[Id, Path()]
) -> Board:
    """The board; a request that may change it also takes its lock (`lock_board`)."""
    return await board_service.get_member_board(
        session, board_id=board_id, user=user, lock=_changes_data(request)
    )


async def get_member_card(
    request: Request, session: SessionDep, user: CurrentUser, card_id: Annotated[Id, Path()]
) -> Card:
    """The card; a request that may change it also takes its board's lock (`lock_board`)."""
    return await card_service.get_member_card(
        session, card_id=card_id, user=user, lock=_changes_data(request)
    )


MemberBoard = Annotated[Board, Depends(get_member_board)]
MemberCard = Annotated[Card, Depends(get_member_card)]
