"""Hot statements run on the asyncpg connection itself, on PostgreSQL.

SQLAlchemy still writes every statement and converts its values: each is a Core
construct, compiled once for the connection's dialect, with the bind and result
processors of its types. What is skipped is the Engine's work around each execution
(execution context, cursor adapter, result object and the trips through its greenlet
bridge), which on the hot paths costs about as much CPU as asyncpg's own work
(docs/performance.md, "Direct execution"). Elsewhere, and on SQLite, statements run
through SQLAlchemy as usual, with the same results.

A driver error is raised as SQLAlchemy raises it (a `DBAPIError` subclass around its
adapter's translation), so the app answers a database fault (db_faults.py) the same
whichever way the statement ran, and one that is not the server's drops the connection
from the pool, as SQLAlchemy drops a disconnected one. The engine's
`before_cursor_execute` and `after_cursor_execute` listeners, when it has any (the tests
count statements with them), are called for each statement as SQLAlchemy calls them,
with no cursor and an empty execution context.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import asyncpg
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from kanban_api.database import AUTOCOMMIT

Processor = Callable[[Any], Any]
# What asyncpg raises of its own: the server's errors, and the client's (SQLAlchemy's
# adapter translates each into its PEP 249 class).
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement compiled for asyncpg: its SQL, and how to bind and read its values."""

    compiled: SQLCompiler
    sql: str
    binds: tuple[tuple[str, Processor | None], ...]
    results: tuple[Processor | None, ...]

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect) -> "_Compiled | None":
        """None for a statement SQLAlchemy must render again at each execution (one with
        an expanding `IN` or a literal-execute parameter): it runs as usual."""
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            return None
        binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or ()
        )
        columns = getattr(statement, "exported_columns", ())
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        return cls(compiled, compiled.string, binds, results)

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        return [
            values[name] if process is None else process(values[name])
            for name, process in self.binds
        ]

    def rows(self, records: list[Any]) -> list[Sequence[Any]]:
        """asyncpg's records (sequences of the values, as SQLAlchemy's rows are), converted
        where a column's type asks (the hot reads' columns do not: reads.cards.undecorated)."""
        if not any(self.results):
            return records
        return [self._converted(record) for record in records]

    def _converted(self, record: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for process, value in zip(self.results, record, strict=True)
        )


# Statement → its compiled form. The hot statements are built once (module constants or
# cached per action), so this holds a few dozen entries.
_COMPILED: dict[Executable, _Compiled | None] = {}


async def fetch_all(
    connection: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> list[Sequence[Any]]:
    """Every row of `statement` (a SELECT, or a DML statement with RETURNING), as
    sequences of the values SQLAlchemy's rows would hold.

    Direct on PostgreSQL when the connection is in autocommit mode (`Database.reading`)
    or its transaction has begun: SQLAlchemy's driver adapter sends a transaction's
    BEGIN with its first statement, so that one goes through SQLAlchemy, lest it run
    outside the transaction it belongs to.

    Raises what SQLAlchemy would: `sqlalchemy.exc.DBAPIError` (or a subclass) around a
    driver error.
    """
    direct = await _direct(connection, statement)
    if direct is None:
        return list((await connection.execute(statement, params)).all())
    plan, driver, sync = direct
    sql, arguments = plan.sql, tuple(plan.arguments(params))
    # In place of SQLAlchemy's execution context: what a listener sets on it (a tracer's
    # span, say) is there again in its after-event.
    context = SimpleNamespace()
    try:
        if sync.dispatch.before_cursor_execute:
            for listener in sync.dispatch.before_cursor_execute:
                sql, arguments = listener(sync, None, sql, arguments, context, False)
        records = await driver.fetch(sql, *arguments)
    except Exception as error:
        dbapi_error = connection.dialect.loaded_dbapi.Error
        # An error the server reported leaves the connection as it was; any other (a lost
        # connection, a protocol left mid-operation) may not: the connection is dropped, as
        # SQLAlchemy drops a disconnected one, so that the pool never hands it out again
        # and the transaction is not rolled back on it (that would raise, unawaited).
        lost = driver.is_closed() or not isinstance(error, asyncpg.PostgresError | dbapi_error)
        if lost:
            await connection.invalidate()
        if isinstance(error, (*_DRIVER_ERRORS, dbapi_error)):
            raise _as_sqlalchemy(error, sql, connection.dialect, lost=lost) from error
        raise
    if sync.dispatch.after_cursor_execute:
        for listener in sync.dispatch.after_cursor_execute:
            listener(sync, None, sql, arguments, context, False)
    return plan.rows(records)


async def _direct(
    connection: AsyncConnection, statement: Executable
) -> tuple[_Compiled, "asyncpg.Connection[Any]", Connection] | None:
    """What sending the statement directly takes, if it may be: its compiled form, the
    driver's connection and SQLAlchemy's."""
    sync = connection.sync_connection
    if connection.dialect.name != "postgresql" or sync is None:
        return None
    driver: asyncpg.Connection[Any] = (await connection.get_raw_connection()).driver_connection
    if not (_autocommit(sync) or driver.is_in_transaction()):
        return None  # the transaction's BEGIN is still to be sent, by SQLAlchemy
    if statement not in _COMPILED:
        _COMPILED[statement] = _Compiled.of(statement, connection.dialect)
    plan = _COMPILED[statement]
    return None if plan is None else (plan, driver, sync)


async def fetch_one(
    connection: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> Sequence[Any] | None:
    """The one row of `statement`, or None; more than one is a bug (`MultipleResultsFound`)."""
    rows = await fetch_all(connection, statement, params)
    if len(rows) > 1:
        raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
    return rows[0] if rows else None


def _autocommit(connection: Connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == AUTOCOMMIT


def _as_sqlalchemy(error: Exception, sql: str, dialect: Dialect, *, lost: bool) -> Exception:
    """The error as SQLAlchemy raises a driver's: asyncpg's translated by SQLAlchemy's
    adapter into its PEP 249 class, then wrapped in the matching `sqlalchemy.exc` class
    (OperationalError, IntegrityError, ...), marked as having cost the connection if it
    did (db_faults.py answers those 503); the parameters are never shown."""
    dbapi = dialect.loaded_dbapi
    if not isinstance(error, dbapi.Error):
        try:
            AsyncAdapt_asyncpg_connection._handle_exception_no_connection(dbapi, error)
        except dbapi.Error as translated:
            error = translated
    return exc.DBAPIError.instance(
        sql,
        None,
        error,
        dbapi.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=dialect,
    )
