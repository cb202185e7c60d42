"""The async engine and the per-request session."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import ConnectionPoolEntry

from kanban_api.config import Settings
from kanban_api.events.publish import EventSession

SQLITE_BUSY_TIMEOUT_MS = 30_000
AUTOCOMMIT = "AUTOCOMMIT"


def create_engine(
    url: URL,
    *,
    pool_size: int = 10,
    sqlite_foreign_keys: bool = True,
    connect_timeout: float = 5.0,
    command_timeout: float = 30.0,
    lock_timeout: float | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine that fails fast when the database is unreachable instead of hanging.

    On PostgreSQL, `connect_timeout` bounds opening a connection and waiting for a
    pooled one, and `command_timeout` bounds every statement (including the
    pre-ping), so a database that stops answering yields errors, not stuck requests.
    `lock_timeout` (seconds) bounds each wait for a row lock, such as a busy board's,
    so a request queued behind other writers gives its connection back (SQLSTATE
    55P03, answered 503) instead of holding it for the whole command timeout. It is
    set once per connection, at connect time: no statement per transaction.
    """
    # Statement parameters stay out of error messages, hence out of logged tracebacks.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=connect_timeout,
        connect_args={
            "timeout": connect_timeout,
            "command_timeout": command_timeout,
            "server_settings": _server_settings(lock_timeout=lock_timeout),
        },
        **kwargs,
    )
    _discard_closed_connections(engine)
    return engine


def _server_settings(*, lock_timeout: float | None) -> dict[str, str]:
    """PostgreSQL session settings sent with the connection's startup message."""
    if lock_timeout is None:
        return {}
    return {"lock_timeout": f"{round(lock_timeout * 1000)}ms"}


def _discard_closed_connections(engine: AsyncEngine) -> None:
    """Replace pooled connections the server has closed, without a round trip.

    `pool_pre_ping` would cost three round trips (BEGIN, a ping, ROLLBACK) per
    request, more than a card read itself. asyncpg marks a connection closed as
    soon as the event loop reads the server's goodbye (a restart, an idle timeout,
    pg_terminate_backend), so checking that flag at checkout catches those cases;
    raising DisconnectionError makes the pool retry with a fresh connection.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if record.driver_connection is not None and record.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")


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
    def _on_begin(connection: Connection) -> None:
        # Read sessions run in autocommit: each statement is its own read transaction.
        if connection.get_execution_options().get("isolation_level") != AUTOCOMMIT:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


async def flush_pending(session: AsyncSession) -> None:
    """Flush the session if it holds changes: an empty flush still costs a trip through
    SQLAlchemy's greenlet bridge and the session's machinery, and the write paths often
    reach a flush with nothing to write (a drag's card is written by Core)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()


READ_ONLY = "this session is read-only: write in a non-GET request"


class ReadOnlySession(Session):
    """The session of requests that only read; a flush or a DML statement would mean a
    write slipped in, which autocommit would not even roll back with the request."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise RuntimeError(READ_ONLY)
        super().flush(objects)


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError(READ_ONLY)


class Database:
    """One engine and session factories per application instance."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(
            settings.async_database_url,
            pool_size=settings.database_pool_size,
            connect_timeout=settings.database_connect_timeout,
            command_timeout=settings.database_command_timeout,
            lock_timeout=settings.database_lock_timeout,
        )
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=EventSession
        )
        # GET/HEAD requests (see dependencies.get_session): no BEGIN/COMMIT, no writes.
        self._autocommit_engine = self.engine.execution_options(isolation_level=AUTOCOMMIT)
        self.read_sessionmaker = async_sessionmaker(
            self._autocommit_engine,
            sync_session_class=ReadOnlySession,
            expire_on_commit=False,
        )

    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed as one transaction when the request succeeds."""
        async with self.transaction() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed as one transaction when the block succeeds,
        and rolled back when it raises."""
        async with self.sessionmaker() as session:
            yield session
            await session.commit()

    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only, in which every statement commits on its own.

        This saves the BEGIN and COMMIT round trips.
        Nothing is lost: at PostgreSQL's READ COMMITTED every statement takes a
        fresh snapshot even inside a transaction, and on SQLite it keeps readers
        off the write lock that BEGIN IMMEDIATE takes (WAL lets them run alongside).
        """
        async with self.read_sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A bare connection in autocommit mode, for the hot reads' Core statements.

        Like `read_session` without the ORM session around it, whose setup and
        teardown a one-statement read does not need. Held only while used: the
        connection goes back to the pool before the answer is sent.
        """
        async with self._autocommit_engine.connect() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()
