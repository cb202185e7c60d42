from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kanban_api.errors import ConflictError
from kanban_api.models import User
from kanban_api.services import api_tokens
from kanban_api.utils.emails import email_key
from kanban_api.utils.password import hash_password

EMAIL_TAKEN = "A user with this email already exists"


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The account `email` names under `utils.emails.email_key`, however it is spelled."""
    return await session.scalar(select(User).where(User.email_key == email_key(email)))


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
                User.email_key == email_key(email)
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
    """Change email and/or password; 409 if the new email is another account's.

    A password change retires every token issued before it and deletes the user's
    access tokens. An email change alone keeps the caller's tokens: they name the
    user by id, and the old address no longer logs in anyway.
    """
    if email is not None and email != user.email:
        other = await get_by_email(session, email=email)
        if other is not None and other.id != user.id:
            raise ConflictError(EMAIL_TAKEN)
        user.email = email
    if hashed_password is not None:
        user.hashed_password = hashed_password
        user.credentials_version += 1
        await api_tokens.revoke_all(session, user_id=user.id)
    await _flush_or_conflict(session)
    return user


async def _flush_or_conflict(session: AsyncSession) -> None:
    """Two sign-ups racing for one email: the unique index decides, the loser gets 409."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise ConflictError(EMAIL_TAKEN) from error
