"""Request dependencies, as `Annotated` aliases routes name as parameter types.

The rule they apply is `access.py`'s; here it only meets FastAPI (path parameters,
headers, the app's state). Each board-scoped route names the action it performs
through one alias: outsiders get 404, members whose role lacks the action 403
(rules: permissions.py). `for_update` aliases serve routes that write: they take the
board lock first (see `access.lock_board`). `if_match` ones also honour If-Match on
the resource's version. Routes whose action depends on the request (which fields,
whose comment, whom to remove) take a VIEW alias and call `access.require(...)`.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api import access
from kanban_api.access import (
    BoardAccess,
    CardAccess,
    ChecklistItemAccess,
    CommentAccess,
    Principal,
    ReadAccess,
)
from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.models import User
from kanban_api.permissions import Action
from kanban_api.schemas.board import BoardOut, board_entity_tag
from kanban_api.schemas.card import CardOut
from kanban_api.schemas.fields import Id
from kanban_api.state import app_state
from kanban_api.utils.etag import ETAGS_PATTERN, require_if_match

# Dependencies are `async def` even when they never await: FastAPI runs a plain
# `def` in a worker thread, a hand-off that costs more than the work here.


async def get_settings(request: Request) -> Settings:
    return app_state(request).settings


# Safe methods only read (HTTP semantics), so they get the cheaper read-only session.
READ_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = app_state(request).database
    sessions = database.read_session if request.method in READ_METHODS else database.session
    async for session in sessions():
        yield session


async def get_database(request: Request) -> Database:
    return app_state(request).database


SettingsDep = Annotated[Settings, Depends(get_settings)]
# For the hot reads, which take a bare connection (`Database.reading`) for their
# one Core statement instead of a session.
DatabaseDep = Annotated[Database, Depends(get_database)]
# scope="function": the commit happens before the response is sent, so a failed
# commit is reported to the client instead of being lost after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

LOGIN_PATH = "/api/auth/tokens"
SCHEME_NAME = "OAuth2PasswordBearer"
_bearer = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH, scheme_name=SCHEME_NAME, auto_error=False)
Bearer = Annotated[str | None, Depends(_bearer)]
BoardId = Annotated[Id, Path()]
CardId = Annotated[Id, Path()]
CommentId = Annotated[Id, Path()]
ChecklistItemId = Annotated[Id, Path()]


# Marks an endpoint that changes no board though its method is not GET (a search, a
# stream ticket): a read-only access token may call it.
READS_ONLY = "kanban_reads_only"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark the endpoint as READS_ONLY (`_principal` reads the mark)."""
    endpoint.__dict__[READS_ONLY] = True
    return endpoint


async def _principal(request: Request, token: str | None) -> Principal:
    """The bearer token's principal, its scope checked against the request's method."""
    state = app_state(request)
    principal = await access.authenticate_bearer(state.tokens, state.database, bearer=token)
    _mark_token(request, principal)
    endpoint = request.scope.get("endpoint")
    marked = getattr(endpoint, "__dict__", {}).get(READS_ONLY, False)
    access.require_scope(principal, writes=request.method not in READ_METHODS and not marked)
    return principal


class _Authenticated(OAuth2PasswordBearer):
    """A dependency that reads the bearer token and authenticates it in one step.

    As an OAuth2PasswordBearer, it gives the OpenAPI document its password flow (the
    docs' Authorize button); authenticating in the same call, rather than in a
    dependency of the scheme's, saves FastAPI solving a second dependency on every
    request. Subclasses say what the route receives.
    """

    def __init__(self) -> None:
        super().__init__(tokenUrl=LOGIN_PATH, scheme_name=SCHEME_NAME, auto_error=False)

    async def principal(self, request: Request) -> Principal:
        return await _principal(request, await super().__call__(request))


class _GetPrincipal(_Authenticated):
    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        return await self.principal(request)


@dataclass(frozen=True, slots=True)
class HotRead:
    """What a hot read receives: the access its statement checks, and the database it
    reads (given together, so that FastAPI solves one dependency for both)."""

    access: ReadAccess
    database: Database


class _HotReadFor(_Authenticated):
    """For the hot reads: they check `action` in their own SQL (see access.caller_may)."""

    def __init__(self, action: Action) -> None:
        super().__init__()
        self.action = action

    async def __call__(self, request: Request) -> HotRead:  # type: ignore[override]
        access = ReadAccess(await self.principal(request), self.action)
        return HotRead(access, app_state(request).database)


get_principal = _GetPrincipal()


async def get_stream_principal(
    request: Request,
    token: Bearer,
    board_id: BoardId,
    ticket: Annotated[
        str | None,
        Query(
            max_length=100,
            description="A ticket from POST /api/boards/{board_id}/events/tickets, for "
            "clients that cannot send an Authorization header (browsers' EventSource)",
        ),
    ] = None,
) -> Principal:
    state = app_state(request)
    if ticket is None:
        principal = await access.authenticate_bearer(state.tokens, state.database, bearer=token)
        _mark_token(request, principal)
        return principal
    return await access.authenticate_ticket(state.database, ticket=ticket, board_id=board_id)


def _mark_token(request: Request, principal: Principal) -> None:
    """Tell the counters that the request's access token, if any, authenticated."""
    if principal.token_id is not None:
        request.scope[access.TOKEN_AUTHENTICATED] = True


# Who is calling; routes that need the user's row take CurrentUser.
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
# The bearer token's principal or, since EventSource cannot send headers, a ticket's.
StreamPrincipal = Annotated[Principal, Depends(get_stream_principal)]


async def get_current_user(session: SessionDep, principal: CurrentPrincipal) -> User:
    return await access.current_user(session, principal=principal)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_login_principal(principal: CurrentPrincipal) -> Principal:
    access.require_login(principal, what="manage access tokens or change email or password")
    return principal


async def get_board_creator(session: SessionDep, principal: CurrentPrincipal) -> User:
    access.require_all_boards(principal)
    return await access.current_user(session, principal=principal)


# A principal from a login: access tokens get 403 (they may not manage the account).
LoginPrincipal = Annotated[Principal, Depends(get_login_principal)]
# The caller, if it may create a board (a board-limited access token may not).
BoardCreator = Annotated[User, Depends(get_board_creator)]


# Optional headers; SkipJsonSchema keeps `null`, which no header can be, out of the schema.
IfMatch = Annotated[
    str | SkipJsonSchema[None],
    Header(
        description="Change only if the resource is still at this ETag (or `*`); "
        "otherwise 412 with the current resource. Without it, the last write wins.",
        json_schema_extra={"pattern": ETAGS_PATTERN},
    ),
]
_IF_NONE_MATCH = "Answer 304 without a body if the resource still has this ETag."
IfNoneMatch = Annotated[
    str | SkipJsonSchema[None],
    Header(description=_IF_NONE_MATCH, json_schema_extra={"pattern": ETAGS_PATTERN}),
]
# For the hot card read, which reads If-None-Match from the request itself: a header
# parameter is among the costliest things FastAPI does for a request. Documented as
# IfNoneMatch is (the route's `openapi_extra`).
IF_NONE_MATCH_DOCUMENTED: dict[str, Any] = {
    "parameters": [
        {
            "name": "if-none-match",
            "in": "header",
            "required": False,
            "description": _IF_NONE_MATCH,
            "schema": {
                "type": "string",
                "title": "If-None-Match",
                "description": _IF_NONE_MATCH,
                "pattern": ETAGS_PATTERN,
            },
        }
    ]
}


def _checks(action: Action, dependency: Callable[..., Awaitable[Any]]) -> Any:
    """Mark the dependency with the action it checks (tests/access reads it)."""
    dependency.__dict__[access.ACTION_CHECKED] = action
    return Depends(dependency)


def board_for(action: Action, *, for_update: bool = False, if_match: bool = False) -> Any:
    async def board_access(
        session: SessionDep, principal: CurrentPrincipal, board_id: BoardId
    ) -> BoardAccess:
        return await access.board_access(
            session, principal=principal, board_id=board_id, action=action, for_update=for_update
        )

    async def board_access_if_match(
        session: SessionDep,
        principal: CurrentPrincipal,
        board_id: BoardId,
        if_match: IfMatch = None,
    ) -> BoardAccess:
        found = await board_access(session, principal, board_id)
        require_if_match(
            if_match,
            tag=board_entity_tag(found.board.version, found.role, invited=found.invited),
            current=lambda: BoardOut.of(found.board, found.role, invited=found.invited),
            what="board",
        )
        return found

    return _checks(action, board_access_if_match if if_match else board_access)


def card_for(action: Action, *, for_update: bool = False, if_match: bool = False) -> Any:
    async def card_access(
        session: SessionDep, principal: CurrentPrincipal, card_id: CardId
    ) -> CardAccess:
        return await access.card_access(
            session, principal=principal, card_id=card_id, action=action, for_update=for_update
        )

    async def card_access_if_match(
        session: SessionDep, principal: CurrentPrincipal, card_id: CardId, if_match: IfMatch = None
    ) -> CardAccess:
        found = await card_access(session, principal, card_id)
        require_if_match(
            if_match,
            tag=str(found.card.version),
            current=lambda: CardOut.model_validate(found.card),
            what="card",
        )
        return found

    return _checks(action, card_access_if_match if if_match else card_access)


def comment_for(action: Action, *, for_update: bool = False) -> Any:
    async def comment_access(
        session: SessionDep, principal: CurrentPrincipal, comment_id: CommentId
    ) -> CommentAccess:
        return await access.comment_access(
            session,
            principal=principal,
            comment_id=comment_id,
            action=action,
            for_update=for_update,
        )

    return _checks(action, comment_access)


def checklist_item_for(action: Action) -> Any:
    async def item_access(
        session: SessionDep, principal: CurrentPrincipal, item_id: ChecklistItemId
    ) -> ChecklistItemAccess:
        return await access.checklist_item_access(
            session, principal=principal, item_id=item_id, action=action
        )

    return _checks(action, item_access)


def trashed_board_for(action: Action) -> Any:
    async def trashed_board_access(
        session: SessionDep, principal: CurrentPrincipal, board_id: BoardId
    ) -> BoardAccess:
        return await access.trashed_board_access(
            session, principal=principal, board_id=board_id, action=action
        )

    return _checks(action, trashed_board_access)


def trashed_card_for(action: Action) -> Any:
    async def trashed_card_access(
        session: SessionDep, principal: CurrentPrincipal, card_id: CardId
    ) -> CardAccess:
        return await access.trashed_card_access(
            session, principal=principal, card_id=card_id, action=action
        )

    return _checks(action, trashed_card_access)


def read_for(action: Action) -> Any:
    return _checks(action, _HotReadFor(action))


async def get_stream_access(
    session: SessionDep, principal: StreamPrincipal, board_id: BoardId
) -> BoardAccess:
    return await access.board_access(
        session, principal=principal, board_id=board_id, action=Action.VIEW
    )


ViewBoard = Annotated[BoardAccess, board_for(Action.VIEW)]
UpdateBoard = Annotated[BoardAccess, board_for(Action.VIEW, for_update=True, if_match=True)]
ManageBoard = Annotated[BoardAccess, board_for(Action.MANAGE_BOARD, for_update=True, if_match=True)]
ManageMembers = Annotated[BoardAccess, board_for(Action.MANAGE_MEMBERS, for_update=True)]
# The board's invitations not yet accepted (owners).
ViewInvitations = Annotated[BoardAccess, board_for(Action.MANAGE_MEMBERS)]
# The invitee accepting or declining their invitation (declining is leaving: LEAVE).
AnswerInvitation = Annotated[BoardAccess, board_for(Action.VIEW, for_update=True)]
ViewWebhooks = Annotated[BoardAccess, board_for(Action.MANAGE_WEBHOOKS)]
ManageWebhooks = Annotated[BoardAccess, board_for(Action.MANAGE_WEBHOOKS, for_update=True)]
# Removing a member (MANAGE_MEMBERS) or leaving (LEAVE).
ChangeMembers = Annotated[BoardAccess, board_for(Action.VIEW, for_update=True)]
EditCardsOnBoard = Annotated[BoardAccess, board_for(Action.EDIT_CARDS, for_update=True)]
ViewCard = Annotated[CardAccess, card_for(Action.VIEW)]
EditCard = Annotated[CardAccess, card_for(Action.EDIT_CARDS, for_update=True, if_match=True)]
CommentOnCard = Annotated[CardAccess, card_for(Action.COMMENT, for_update=True)]
# A checklist belongs to its card: editing it takes the board lock, no If-Match.
EditChecklist = Annotated[CardAccess, card_for(Action.EDIT_CARDS, for_update=True)]
EditChecklistItem = Annotated[ChecklistItemAccess, checklist_item_for(Action.EDIT_CARDS)]
# Comments have no ETag, so changing one needs the board lock but honours no If-Match.
ChangeComment = Annotated[CommentAccess, comment_for(Action.VIEW, for_update=True)]
# The hot reads (card list, one card): the check is part of their statement.
ReadCards = Annotated[HotRead, read_for(Action.VIEW)]
# An event stream, opened with a bearer token or a ticket.
StreamBoard = Annotated[BoardAccess, _checks(Action.VIEW, get_stream_access)]
# A board or card in the trash, to restore it (its board's lock held).
RestoreBoard = Annotated[BoardAccess, trashed_board_for(Action.MANAGE_BOARD)]
RestoreCard = Annotated[CardAccess, trashed_card_for(Action.EDIT_CARDS)]
# The board list: the boards on which the caller may view.
ListBoards = Annotated[HotRead, read_for(Action.VIEW)]
# The caller's invitations: the boards on which they may view but have not joined.
ListInvitations = Annotated[HotRead, read_for(Action.VIEW)]
