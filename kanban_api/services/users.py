from sqlalchemy import Exists, bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kanban_api.errors import ConflictError, NotAuthenticatedError
from kanban_api.models import User
from kanban_api.utils.emails import email_key
from kanban_api.utils.password import hash_password, verify_password
from kanban_api.utils.token import TokenClaims

EMAIL_TAKEN = "A user with this email already exists"


def token_is_current() -> Exists:
    """SQL that holds while the token's user exists with the credentials it was issued for.

    Hot reads put this in their own statement instead of loading the user first:
    a statement costs about as much CPU as the rest of a small request, so this
    saves a third to a half of it. It takes the bind parameters of `token_params`.
    When such a read finds nothing, `check_token` tells a stale token (401) from
    a missing or foreign row (404).
    """
    return exists().where(
        User.id == bindparam("user_id"),
        User.credentials_version == bindparam("credentials_version"),
    )


def token_params(claims: TokenClaims) -> dict[str, int]:
    """Values for `token_is_current`; `user_id` also serves membership conditions."""
    return {"user_id": claims.user_id, "credentials_version": claims.credentials_version}


async def check_token(connection: AsyncConnection, *, claims: TokenClaims) -> None:
    """401 unless the token's user still exists with the credentials it was issued for."""
    version = await connection.scalar(
        select(User.credentials_version).where(User.id == claims.user_id)
    )
    if version != claims.credentials_version:
        raise NotAuthenticatedError


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The account `email` names under `utils.emails.email_key`, however it is spelled."""
    return await session.scalar(select(User).where(User.email_key == email_key(email)))


async def create_user(session: AsyncSession, *, email: str, password: str) -> User:
    if await get_by_email(session, email=email) is not None:
        raise ConflictError(EMAIL_TAKEN)
    user = User(email=email, hashed_password=await hash_password(password))
    session.add(user)
    await _flush_or_conflict(session)
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    """The user these credentials belong to; upgrades an outdated hash (the seed's bcrypt)."""
    user = await get_by_email(session, email=email)
    valid, upgraded_hash = await verify_password(password, user.hashed_password if user else None)
    if user is None or not valid:
        return None
    if upgraded_hash is not None:
        user.hashed_password = upgraded_hash
    return user


async def update_user(
    session: AsyncSession, *, user: User, email: str | None = None, password: str | None = None
) -> User:
    """Change email and/or password; 409 if the new email is another account's.

    A password change retires every token issued before it. An email change alone
    keeps the caller's tokens: they name the user by id, and the old address no
    longer logs in anyway.
    """
    if email is not None and email != user.email:
        other = await get_by_email(session, email=email)
        if other is not None and other.id != user.id:
            raise ConflictError(EMAIL_TAKEN)
        user.email = email
    if password is not None:
        user.hashed_password = await hash_password(password)
        user.credentials_version += 1
    await _flush_or_conflict(session)
    return user


async def _flush_or_conflict(session: AsyncSession) -> None:
    """Two sign-ups racing for one email: the unique index decides, the loser gets 409."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise ConflictError(EMAIL_TAKEN) from error
