"""The async engine and the per-request session."""

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import ConnectionPoolEntry

from kanban_api.config import Settings
from kanban_api.live.session import EventSession

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(
    url: URL,
    *,
    pool_size: int = 10,
    sqlite_foreign_keys: bool = True,
    connect_timeout: float = 5.0,
    command_timeout: float = 30.0,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine that fails fast when the database is unreachable instead of hanging.

    On PostgreSQL, `connect_timeout` bounds opening a connection and waiting for a
    pooled one, and `command_timeout` bounds every statement (including the
    pre-ping), so a database that stops answering yields errors, not stuck requests.
    """
    # Statement parameters stay out of error messages, hence out of logged tracebacks.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=connect_timeout,
        connect_args={"timeout": connect_timeout, "command_timeout": command_timeout},
        **kwargs,
    )


# PostgreSQL's "serialization failure" and "deadlock detected": the transaction lost a
# race with another one and was rolled back; the same request sent again would succeed.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_concurrent_conflict(error: BaseException) -> bool:
    """Whether the transaction collided with a simultaneous one (so a 409, not a bug)."""
    if isinstance(error, StaleDataError):  # a row changed or vanished under an UPDATE
        return True
    return (
        isinstance(error, exc.DBAPIError)
        and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


def is_unavailable(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached now, rather than a bug.

    Refused or timed-out connects surface from the driver as OSError/TimeoutError;
    lost connections, an unopenable SQLite file, a lock held past the busy timeout
    and an exhausted pool surface as these SQLAlchemy errors.
    """
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, exc.OperationalError | exc.InterfaceError
        )
    return isinstance(error, OSError | exc.TimeoutError)


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    """Foreign keys, WAL and write transactions that queue instead of failing.

    SQLite upgrades a read transaction to a write lock lazily, and that upgrade
    fails at once with "database is locked" when another writer got there first,
    whatever the busy timeout. Taking the write lock at BEGIN (IMMEDIATE) makes
    concurrent writers wait their turn instead; WAL keeps readers unblocked.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine and session factory per application instance."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(
            settings.async_database_url,
            pool_size=settings.database_pool_size,
            connect_timeout=settings.database_connect_timeout,
            command_timeout=settings.database_command_timeout,
        )
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=EventSession
        )

    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed as one transaction when the request succeeds."""
        async with self.sessionmaker() as session:
            yield session
            await session.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()
