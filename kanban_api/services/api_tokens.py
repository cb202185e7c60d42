"""Personal access tokens: made, listed and revoked by their user (a login, not a token).

The secret is `kbp_` and 43 URL-safe characters (256 random bits); only its SHA-256
hash is stored (`access.ticket_hash`). How a token authenticates and what it may
reach is access.py's business.
"""

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import API_TOKEN_PREFIX, board_is_live, boards_not_joined, ticket_hash
from kanban_api.errors import InvalidInputError, NotFoundError
from kanban_api.models import ApiToken, ApiTokenBoard, User
from kanban_api.models.base import utcnow
from kanban_api.schemas.api_token import ApiTokenCreate, ApiTokenCreated, ApiTokenOut

TOKEN_NOT_FOUND = "Token not found"  # noqa: S105 (a message)


async def create_token(
    session: AsyncSession, *, user: User, request: ApiTokenCreate
) -> ApiTokenCreated:
    """A new token of `user`, with its secret; 422 if a board is not one of the user's."""
    board_ids = sorted(set(request.board_ids)) if request.board_ids is not None else None
    if board_ids:
        not_mine = await boards_not_joined(session, user_id=user.id, board_ids=board_ids)
        if not_mine:
            raise InvalidInputError(("body", "boardIds"), f"Not a member of boards {not_mine}")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=request.name,
        token_hash=ticket_hash(secret),
        can_write="write" in request.scopes,
        board_limited=board_ids is not None,
        credentials_version=user.credentials_version,
        created_at=now,
        expires_at=(
            None
            if request.expires_in_days is None
            else now + timedelta(days=request.expires_in_days)
        ),
    )
    session.add(token)
    await session.flush()
    session.add_all(
        ApiTokenBoard(token_id=token.id, board_id=board_id) for board_id in board_ids or ()
    )
    await session.flush()
    return ApiTokenCreated(**_out(token, board_ids).model_dump(), token=secret)


async def list_tokens(session: AsyncSession, *, user: User) -> list[ApiTokenOut]:
    """The user's live tokens (expired ones too, until revoked), oldest first; no secrets."""
    tokens = (
        await session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
    ).all()
    rows = await session.execute(
        select(ApiTokenBoard.token_id, ApiTokenBoard.board_id)
        .where(
            ApiTokenBoard.token_id.in_([token.id for token in tokens if token.board_limited]),
            # A board in the trash is not there, not even in a token's list.
            board_is_live(ApiTokenBoard.board_id),
        )
        .order_by(ApiTokenBoard.board_id)
    )
    boards: dict[int, list[int]] = {}
    for token_id, board_id in rows:
        boards.setdefault(token_id, []).append(board_id)
    return [
        _out(token, boards.get(token.id, []) if token.board_limited else None) for token in tokens
    ]


async def revoke_all(session: AsyncSession, *, user_id: int) -> None:
    """Delete every token of the user (a password change does)."""
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


async def revoke_token(session: AsyncSession, *, user: User, token_id: int) -> None:
    """Delete one of the user's tokens; 404 if it is not theirs (or already gone)."""
    result = await session.execute(
        delete(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user.id)
        .returning(ApiToken.id)
    )
    if result.first() is None:
        raise NotFoundError(TOKEN_NOT_FOUND)


def _out(token: ApiToken, board_ids: list[int] | None) -> ApiTokenOut:
    return ApiTokenOut(
        id=token.id,
        name=token.name,
        scopes=["read", "write"] if token.can_write else ["read"],
        board_ids=board_ids,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )
