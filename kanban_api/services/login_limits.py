"""Failed-login limits per account and per client address, counted in the database.

Every worker on every machine shares the counters. A login first reads them
(`standing`, no transaction, no lock) and is refused if either is at its limit;
only a failed check is counted (`count_failure`), in its own committed
transaction with an atomic upsert, so the count survives the rollback of its
request, and correct logins never use up a budget, however many run at once. The
price: guesses already past the read when the limit is reached still get their
answer, at most as many as one address may have in flight (see overload.py).

Windows are fixed: a key's window opens at its first counted attempt and lasts
`login_failure_window_seconds`; when it has passed, the next attempt opens a new one.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from kanban_api.config import Settings
from kanban_api.models import LoginThrottle
from kanban_api.models.base import UTCDateTime, utcnow
from kanban_api.utils.emails import email_key

# Bounds the work of clearing expired counters to what one login may spend on it.
PURGE_BATCH = 100


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_account: int
    per_address: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginLimits":
        return cls(
            per_account=settings.login_max_failures_per_account,
            per_address=settings.login_max_failures_per_address,
            window=timedelta(seconds=settings.login_failure_window_seconds),
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """The counter keys a login attempt is charged to."""

    account_key: str
    address_key: str

    @classmethod
    def of(cls, *, email: str, address: str | None) -> "Attempt":
        """An account's counter is keyed as login finds the account (`email_key`), so no
        spelling of an email counts apart from the others."""
        return cls(
            account_key=_key("account", email_key(email)),
            address_key=_key("address", address or "unknown"),
        )


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Standing:
    """What the counters say before a check: the wait if refused, and whether the
    account has failures that a successful login should clear."""

    retry_after: int | None
    account_has_failures: bool


async def standing(
    connection: AsyncConnection, *, attempt: Attempt, limits: LoginLimits
) -> Standing:
    """Read the attempt's counters; one statement on a connection in autocommit mode."""
    now = utcnow()
    budgets = {attempt.account_key: limits.per_account, attempt.address_key: limits.per_address}
    rows = await connection.execute(
        select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.window_start).where(
            LoginThrottle.key.in_(budgets), LoginThrottle.window_start > now - limits.window
        )
    )
    waits, account_failures = [], 0
    for key, failures, window_start in rows:
        if key == attempt.account_key:
            account_failures = failures
        if failures >= budgets[key]:
            waits.append(max(1, math.ceil((window_start + limits.window - now).total_seconds())))
    return Standing(max(waits, default=None), account_failures > 0)


async def count_failure(
    sessionmaker: async_sessionmaker[AsyncSession], *, attempt: Attempt, limits: LoginLimits
) -> None:
    """Count a failed check against its account and address, in a transaction of its own."""
    now = utcnow()
    budgets = {attempt.account_key: limits.per_account, attempt.address_key: limits.per_address}
    async with sessionmaker() as session, session.begin():
        opened_window = False
        # Keys are always locked in sorted order, so concurrent failures cannot deadlock.
        for key in sorted(budgets):
            failures = await _count(
                session, key=key, limit=budgets[key], now=now, window=limits.window
            )
            opened_window |= failures == 1
        if opened_window:
            # New windows are what grows the table, so they pay for clearing expired ones.
            await _purge_expired(session, cutoff=now - limits.window)


async def forgive(session: AsyncSession, *, attempt: Attempt) -> None:
    """After a successful login the account starts afresh (its address does not).

    Runs in the login's own transaction, so it is undone if the login is.
    """
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == attempt.account_key))


async def _count(
    session: AsyncSession, *, key: str, limit: int, now: datetime, window: timedelta
) -> int:
    """Atomically add one failure to the key's window (or open a new one); the new count."""
    # Both dialects speak INSERT ... ON CONFLICT DO UPDATE ... RETURNING (SQLite since 3.35).
    postgres = session.get_bind().dialect.name == "postgresql"
    insert: Any = postgresql.insert if postgres else sqlite.insert
    expired = LoginThrottle.window_start <= now - window
    statement = (
        insert(LoginThrottle)
        .values(key=key, failures=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case(
                    (expired, 1),
                    # Failures past the limit are refused anyway; the count need not grow.
                    (LoginThrottle.failures > limit, LoginThrottle.failures),
                    else_=LoginThrottle.failures + 1,
                ),
                "window_start": case(
                    (expired, literal(now, UTCDateTime())), else_=LoginThrottle.window_start
                ),
            },
        )
        .returning(LoginThrottle.failures)
    )
    failures: int = (await session.execute(statement)).scalar_one()
    return failures


async def _purge_expired(session: AsyncSession, *, cutoff: datetime) -> None:
    """Delete some expired counters, skipping rows other logins hold (PostgreSQL)."""
    expired = (
        select(LoginThrottle.key)
        .where(LoginThrottle.window_start <= cutoff)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(expired)))
