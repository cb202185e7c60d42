from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.errors import ConflictError
from kanban_api.models import User
from kanban_api.utils.emails import email_key
from kanban_api.utils.password import hash_password, verify_password

EMAIL_TAKEN = "A user with this email already exists"


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
    """Change email and/or password.

    A password change retires every token issued before it (409 if the email is
    another account's). An email change alone keeps the caller's tokens: they name
    the user by id, and the old address no longer logs in anyway.
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
