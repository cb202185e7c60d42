"""The async engine and the per-request session."""

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from kanban_api.config import Settings
from kanban_api.live.session import EventSession

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(
    url: URL, *, pool_size: int = 10, sqlite_foreign_keys: bool = True, **kwargs: Any
) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
        return engine
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **kwargs
    )


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
            settings.async_database_url, pool_size=settings.database_pool_size
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
