from typing import NamedTuple

from sqlalchemy import Exists, bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kanban_api.errors import ConflictError, NotAuthenticatedError
from kanban_api.models import User
from kanban_api.utils.password import hash_password
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
    return await session.scalar(select(User).where(func.lower(User.email) == func.lower(email)))


async def create_user(session: AsyncSession, *, email: str, password: str) -> User:
    """A new account; 409 if the email is taken.

    The password is hashed first, whether the email turns out taken or not: a taken
    email costs the same time as a new one (nobody learns who has an account by
    timing sign-ups), and no connection is held while the hash waits for a thread.
    """
    hashed_password = await hash_password(password)
    if await get_by_email(session, email=email) is not None:
        raise ConflictError(EMAIL_TAKEN)
    user = User(email=email, hashed_password=hashed_password)
    session.add(user)
    await _flush_or_conflict(session)
    return user


class LoginAccount(NamedTuple):
    id: int
    email: str
    hashed_password: str
    credentials_version: int


async def find_login_account(connection: AsyncConnection, *, email: str) -> LoginAccount | None:
    """What checking a login needs, read in autocommit mode: no transaction is open
    (so no SQLite write lock is held, no PostgreSQL connection kept) while it hashes."""
    row = (
        await connection.execute(
            select(User.id, User.email, User.hashed_password, User.credentials_version).where(
                func.lower(User.email) == func.lower(email)
            )
        )
    ).one_or_none()
    return None if row is None else LoginAccount(*row)


async def store_upgraded_hash(session: AsyncSession, *, user_id: int, hashed_password: str) -> None:
    """Replace an outdated hash (the seed's bcrypt) once the password it came with passed."""
    await session.execute(
        update(User).where(User.id == user_id).values(hashed_password=hashed_password)
    )


async def update_user(
    session: AsyncSession,
    *,
    user: User,
    email: str | None = None,
    hashed_password: str | None = None,
) -> User:
    """Change email and/or password (already hashed, outside the transaction); either
    change retires every token issued before it."""
    credentials_changed = False
    if email is not None and email != user.email:
        other = await get_by_email(session, email=email)
        if other is not None and other.id != user.id:
            raise ConflictError(EMAIL_TAKEN)
        user.email = email
        credentials_changed = True
    if hashed_password is not None:
        user.hashed_password = hashed_password
        credentials_changed = True
    if credentials_changed:
        user.credentials_version += 1
        await _flush_or_conflict(session)
    return user


async def _flush_or_conflict(session: AsyncSession) -> None:
    """Two sign-ups racing for one email: the unique index decides, the loser gets 409."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise ConflictError(EMAIL_TAKEN) from error
