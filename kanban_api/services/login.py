"""Checking a login: limits first, then the password, with no transaction open while hashing.

A password check takes a hashing thread, and may wait for one; doing it inside the
request's transaction would hold a pooled connection (PostgreSQL) or the whole
database's write lock (SQLite, whose write transactions begin IMMEDIATE) for that
long. So the counters and the account are read first in autocommit mode, the
connection goes back to the pool, the password is checked, and only then does the
request's transaction write, if there is anything to write.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.database import Database
from kanban_api.errors import InvalidCredentialsError, TooManyAttemptsError
from kanban_api.services import login_limits
from kanban_api.services import users as user_service
from kanban_api.services.login_limits import Attempt, LoginLimits
from kanban_api.services.users import LoginAccount
from kanban_api.utils.password import verify_password


async def log_in(
    database: Database,
    session: AsyncSession,
    *,
    email: str,
    password: str,
    address: str | None,
    limits: LoginLimits,
) -> LoginAccount:
    """The account these credentials belong to.

    Raises TooManyAttemptsError (429) when the account or address is at its limit of
    failures, without checking the password, and InvalidCredentialsError (401, one
    answer for an unknown email and a wrong password) after counting the failure.
    An unknown email is checked against a dummy hash of the same cost.
    """
    attempt = Attempt.of(email=email, address=address)
    async with database.reading() as connection:
        standing = await login_limits.standing(connection, attempt=attempt, limits=limits)
        if standing.retry_after is not None:
            raise TooManyAttemptsError(standing.retry_after)
        account = await user_service.find_login_account(connection, email=email)
    valid, upgraded_hash = await verify_password(
        password, account.hashed_password if account else None
    )
    if account is None or not valid:
        await login_limits.count_failure(database.sessionmaker, attempt=attempt, limits=limits)
        raise InvalidCredentialsError
    if standing.account_has_failures:
        await login_limits.forgive(session, attempt=attempt)
    if upgraded_hash is not None:
        await user_service.store_upgraded_hash(
            session, user_id=account.id, hashed_password=upgraded_hash
        )
    return account
