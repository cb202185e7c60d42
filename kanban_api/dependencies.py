"""Request dependencies, as `Annotated` aliases routes can name as parameter types."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.config import Settings
from kanban_api.database import Database

# Re-exported: it used to live here, and other modules may still import it from here.
from kanban_api.errors import NotAuthenticatedError as NotAuthenticatedError
from kanban_api.models import Board, Card, User
from kanban_api.schemas.fields import Id
from kanban_api.services import boards as board_service
from kanban_api.services import cards as card_service
from kanban_api.utils.token import TokenClaims, decode_access_token

# Dependencies are `async def` even when they never await: FastAPI runs a plain
# `def` in a worker thread, a hand-off that costs more than the work here.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Safe methods only read (HTTP semantics), so they get the cheaper read-only session.
READ_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    sessions = database.read_session if request.method in READ_METHODS else database.session
    async for session in sessions():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit happens before the response is sent, so a failed
# commit is reported to the client instead of being lost after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/tokens", auto_error=False)


async def get_token_claims(
    request: Request, token: Annotated[str | None, Depends(_bearer)]
) -> TokenClaims:
    """The bearer token's claims, once its signature and expiry are checked.

    Whether its user still exists with the same credentials takes the database:
    `get_current_user` loads the user to know; the hot reads check it inside their
    own SQL instead (see services.users.token_is_current).
    """
    claims = decode_access_token(token, secret_key=request.app.state.secret_key) if token else None
    if claims is None:
        raise NotAuthenticatedError
    return claims


Claims = Annotated[TokenClaims, Depends(get_token_claims)]


async def get_current_user(session: SessionDep, claims: Claims) -> User:
    user = await session.get(User, claims.user_id)
    if user is None or user.credentials_version != claims.credentials_version:
        raise NotAuthenticatedError
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


BoardId = Annotated[Id, Path()]
CardId = Annotated[Id, Path()]


async def get_member_board(session: SessionDep, user: CurrentUser, board_id: BoardId) -> Board:
    return await board_service.get_member_board(session, board_id=board_id, user=user)


async def get_member_card(session: SessionDep, claims: Claims, card_id: CardId) -> Card:
    return await card_service.get_member_card(session, card_id=card_id, claims=claims)


MemberBoard = Annotated[Board, Depends(get_member_board)]
MemberCard = Annotated[Card, Depends(get_member_card)]
