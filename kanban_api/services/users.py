from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.errors import ConflictError
from kanban_api.models import User
from kanban_api.utils.password import hash_password, verify_password

EMAIL_TAKEN = "A user with this email already exists"


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == func.lower(email)))


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
    """Change email and/or password; either change retires every token issued before it."""
    credentials_changed = False
    if email is not None and email != user.email:
        other = await get_by_email(session, email=email)
        if other is not None and other.id != user.id:
            raise ConflictError(EMAIL_TAKEN)
        user.email = email
        credentials_changed = True
    if password is not None:
        user.hashed_password = await hash_password(password)
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
