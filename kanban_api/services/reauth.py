"""Proof for credential changes: a leaked token alone must not take an account over.

Changing email or password takes either the current password (`currentPassword`)
or a token from a login within the last `KANBAN_REAUTH_MINUTES`, which is what a
client that has just asked its user for the password holds. Wrong passwords count
as failed logins, so a token cannot be used to guess past the login limits.
"""

import time

from sqlalchemy import select

from kanban_api.access import Principal
from kanban_api.database import Database
from kanban_api.errors import ForbiddenError, TooManyAttemptsError
from kanban_api.models import User
from kanban_api.services import login_limits
from kanban_api.services.login_limits import Attempt, LoginLimits
from kanban_api.utils.password import verify_password


async def require_proof(
    database: Database,
    *,
    principal: Principal,
    current_password: str | None,
    reauth_minutes: int,
    address: str | None,
    limits: LoginLimits,
) -> None:
    """Return if the request proves it is the account's owner; raise otherwise.

    Raises ForbiddenError (403) naming what is missing or wrong, and
    TooManyAttemptsError (429) when the account or address is at its failure limit.
    The password is checked with no transaction open (see services/login.py).
    """
    if current_password is None:
        authenticated_at = principal.authenticated_at
        if authenticated_at is not None and time.time() - authenticated_at <= reauth_minutes * 60:
            return
        raise ForbiddenError(
            "Changing email or password needs `currentPassword` (this token comes from a "
            f"login more than {reauth_minutes} minutes ago)"
        )
    attempt = Attempt.of(email=principal.email or "", address=address)
    async with database.reading() as connection:
        standing = await login_limits.standing(connection, attempt=attempt, limits=limits)
        if standing.retry_after is not None:
            raise TooManyAttemptsError(standing.retry_after)
        hashed = await connection.scalar(
            select(User.hashed_password).where(User.id == principal.user_id)
        )
    valid, _ = await verify_password(current_password, hashed)
    if not valid:
        await login_limits.count_failure(database.sessionmaker, attempt=attempt, limits=limits)
        raise ForbiddenError("`currentPassword` is not the account's password")
