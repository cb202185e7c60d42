"""Request dependencies, as `Annotated` aliases routes can name as parameter types."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.config import Settings
from kanban_api.database import Database

# Re-exported: it used to live here, and other modules may still import it from here.
from kanban_api.errors import NotAuthenticatedError as NotAuthenticatedError
from kanban_api.models import User
from kanban_api.permissions import Action, BoardAccess, CardAccess, CommentAccess, require
from kanban_api.schemas.board import BoardOut, board_entity_tag
from kanban_api.schemas.card import CardOut
from kanban_api.schemas.fields import Id
from kanban_api.services import boards as board_service
from kanban_api.services import cards as card_service
from kanban_api.services import comments as comment_service
from kanban_api.services import events as event_service
from kanban_api.services import tickets as ticket_service
from kanban_api.utils.etag import ETAGS_PATTERN, require_if_match
from kanban_api.utils.token import TokenClaims, TokenVerifier

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


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


SettingsDep = Annotated[Settings, Depends(get_settings)]
# For the hot reads, which take a bare connection (`Database.reading`) for their
# one Core statement instead of a session.
DatabaseDep = Annotated[Database, Depends(get_database)]
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
    tokens: TokenVerifier = request.app.state.tokens
    claims = tokens.claims(token) if token else None
    if claims is None:
        raise NotAuthenticatedError
    return claims


Claims = Annotated[TokenClaims, Depends(get_token_claims)]


async def get_current_user(session: SessionDep, claims: Claims) -> User:
    user = await session.get(User, claims.user_id)
    if user is None or user.credentials_version != claims.credentials_version:
        raise NotAuthenticatedError
    event_service.act_as(session, user_id=user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

BoardId = Annotated[Id, Path()]
CardId = Annotated[Id, Path()]


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
        return await get_current_user(session, await get_token_claims(request, token))
    # Redeeming deletes the ticket: a write, which this GET's read-only session must
    # not do, so it commits in a transaction of its own before the stream starts.
    database: Database = request.app.state.database
    async with database.sessionmaker() as write_session, write_session.begin():
        user = await ticket_service.redeem_ticket(write_session, ticket=ticket, board_id=board_id)
    if user is None:
        raise NotAuthenticatedError
    return user


StreamUser = Annotated[User, Depends(get_stream_user)]


# Optional headers; SkipJsonSchema keeps `null`, which no header can be, out of the schema.
IfMatch = Annotated[
    str | SkipJsonSchema[None],
    Header(
        description="Change only if the resource is still at this ETag (or `*`); "
        "otherwise 412 with the current resource. Without it, the last write wins.",
        json_schema_extra={"pattern": ETAGS_PATTERN},
    ),
]
IfNoneMatch = Annotated[
    str | SkipJsonSchema[None],
    Header(
        description="Answer 304 without a body if the resource still has this ETag.",
        json_schema_extra={"pattern": ETAGS_PATTERN},
    ),
]


# Each route names the action it performs through one of the aliases below:
# outsiders get 404, members whose role lacks the action 403 (rules: permissions.py).
# `for_update` dependencies serve routes that write: they lock the board for the
# transaction first (writers of one board queue up) and read the role after the
# lock, so a role changed by the writer they waited for is the one checked.
# `if_match` ones also honour If-Match on the resource's version.


def board_for(
    action: Action, *, for_update: bool = False, if_match: bool = False
) -> Callable[..., Awaitable[BoardAccess]]:
    async def board_access(
        session: SessionDep, user: CurrentUser, board_id: Annotated[Id, Path()]
    ) -> BoardAccess:
        board, role = await board_service.get_member_board(
            session, board_id=board_id, user=user, for_update=for_update
        )
        require(role, action)
        return BoardAccess(user=user, role=role, board=board)

    async def board_access_if_match(
        session: SessionDep,
        user: CurrentUser,
        board_id: Annotated[Id, Path()],
        if_match: IfMatch = None,
    ) -> BoardAccess:
        access = await board_access(session, user, board_id)
        require_if_match(
            if_match,
            tag=board_entity_tag(access.board.version, access.role),
            current=lambda: BoardOut.of(access.board, access.role),
            what="board",
        )
        return access

    return board_access_if_match if if_match else board_access


def card_for(
    action: Action, *, for_update: bool = False, if_match: bool = False
) -> Callable[..., Awaitable[CardAccess]]:
    # These take the token's claims, not CurrentUser: the card's lookup loads the
    # user and checks the token itself, a statement fewer (see get_member_card).
    async def card_access(session: SessionDep, claims: Claims, card_id: CardId) -> CardAccess:
        card, role, user = await card_service.get_member_card(
            session, card_id=card_id, claims=claims, for_update=for_update
        )
        event_service.act_as(session, user_id=user.id)
        require(role, action)
        return CardAccess(user=user, role=role, card=card)

    async def card_access_if_match(
        session: SessionDep, claims: Claims, card_id: CardId, if_match: IfMatch = None
    ) -> CardAccess:
        access = await card_access(session, claims, card_id)
        require_if_match(
            if_match,
            tag=str(access.card.version),
            current=lambda: CardOut.model_validate(access.card),
            what="card",
        )
        return access

    return card_access_if_match if if_match else card_access


def comment_for(
    action: Action, *, for_update: bool = False
) -> Callable[..., Awaitable[CommentAccess]]:
    async def comment_access(
        session: SessionDep, user: CurrentUser, comment_id: Annotated[Id, Path()]
    ) -> CommentAccess:
        comment, role, board_id = await comment_service.get_member_comment(
            session, comment_id=comment_id, user=user, for_update=for_update
        )
        require(role, action)
        return CommentAccess(user=user, role=role, comment=comment, board_id=board_id)

    return comment_access


# Routes whose action depends on the request (which fields, whose comment, whom
# to remove) take a VIEW alias and call `access.require(...)` once they know.
ViewBoard = Annotated[BoardAccess, Depends(board_for(Action.VIEW))]
UpdateBoard = Annotated[
    BoardAccess, Depends(board_for(Action.VIEW, for_update=True, if_match=True))
]
ManageBoard = Annotated[
    BoardAccess, Depends(board_for(Action.MANAGE_BOARD, for_update=True, if_match=True))
]
ManageMembers = Annotated[BoardAccess, Depends(board_for(Action.MANAGE_MEMBERS, for_update=True))]
# Removing a member (MANAGE_MEMBERS) or leaving (LEAVE).
ChangeMembers = Annotated[BoardAccess, Depends(board_for(Action.VIEW, for_update=True))]
EditCardsOnBoard = Annotated[BoardAccess, Depends(board_for(Action.EDIT_CARDS, for_update=True))]
ViewCard = Annotated[CardAccess, Depends(card_for(Action.VIEW))]
EditCard = Annotated[
    CardAccess, Depends(card_for(Action.EDIT_CARDS, for_update=True, if_match=True))
]
CommentOnCard = Annotated[CardAccess, Depends(card_for(Action.COMMENT, for_update=True))]
# Comments have no ETag, so changing one needs the board lock but honours no If-Match.
ChangeComment = Annotated[CommentAccess, Depends(comment_for(Action.VIEW, for_update=True))]
