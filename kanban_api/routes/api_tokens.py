from fastapi import APIRouter, Response, status

from kanban_api.access import current_user
from kanban_api.dependencies import LoginPrincipal, SessionDep
from kanban_api.routes.responses import NOT_AUTHENTICATED, TOKEN_NOT_ALLOWED, TOKEN_NOT_FOUND
from kanban_api.schemas.api_token import ApiTokenCreate, ApiTokenCreated, ApiTokenOut
from kanban_api.schemas.fields import Id
from kanban_api.services import api_tokens
from kanban_api.validation import StrictQueryRoute

router = APIRouter(route_class=StrictQueryRoute, prefix="/users/me/tokens", tags=["users"])

_NEEDS_LOGIN = {**NOT_AUTHENTICATED, **TOKEN_NOT_ALLOWED}


@router.post("", status_code=status.HTTP_201_CREATED, responses=_NEEDS_LOGIN)
async def create_token(
    session: SessionDep, principal: LoginPrincipal, body: ApiTokenCreate
) -> ApiTokenCreated:
    """Make a personal access token: `Authorization: Bearer kbp_…` on any endpoint, as
    its user, narrowed to its scopes and boards. The secret is in this answer only."""
    user = await current_user(session, principal=principal)
    return await api_tokens.create_token(session, user=user, request=body)


@router.get("", responses=_NEEDS_LOGIN)
async def list_tokens(session: SessionDep, principal: LoginPrincipal) -> list[ApiTokenOut]:
    """Your access tokens, oldest first, without their secrets."""
    user = await current_user(session, principal=principal)
    return await api_tokens.list_tokens(session, user=user)


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NEEDS_LOGIN, **TOKEN_NOT_FOUND},
)
async def revoke_token(session: SessionDep, principal: LoginPrincipal, token_id: Id) -> Response:
    """Revoke one of your tokens: it answers 401 from the next request on, everywhere."""
    user = await current_user(session, principal=principal)
    await api_tokens.revoke_token(session, user=user, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
