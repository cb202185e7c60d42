"""What a database error means for the client: a lost race, a busy or missing database, or a bug.

The app's error handler answers with `classify(error, method)`; None means a bug (500).
PostgreSQL errors are told apart by SQLSTATE (PostgreSQL manual, Appendix A, "PostgreSQL
Error Codes"), whichever exception class the driver and SQLAlchemy wrapped them in:
during connect, asyncpg's errors reach SQLAlchemy as a generic DBAPIError.
"""

from dataclasses import dataclass

from sqlalchemy import exc
from sqlalchemy.orm.exc import StaleDataError

# Safe methods only read (HTTP semantics), so sending them again can never repeat a change.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Seconds a client should wait: a busy database frees up within moments, a restart takes longer.
RETRY_BUSY_SECONDS = 1
RETRY_DOWN_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Fault:
    """An answer for a database error: status, JSON `detail` and `Retry-After` seconds."""

    status_code: int
    detail: str
    retry_after: int


CONCURRENT_CHANGE = Fault(
    409, "The request collided with a simultaneous change; send it again", RETRY_BUSY_SECONDS
)
RACE_LOST_ON_READ = Fault(
    503, "Service busy: the read collided with simultaneous changes; retry", RETRY_BUSY_SECONDS
)
UNREACHABLE = Fault(
    503, "Service unavailable: the database cannot be reached; retry later", RETRY_DOWN_SECONDS
)
RESTARTING = Fault(
    503,
    "Service unavailable: the database is starting up or shutting down; retry later",
    RETRY_DOWN_SECONDS,
)
OUT_OF_RESOURCES = Fault(
    503,
    "Service unavailable: the database is out of resources (connections, memory or disk); "
    "retry later",
    RETRY_DOWN_SECONDS,
)
LOCK_TIMEOUT = Fault(
    503,
    "Service busy: other changes held the data this request needs for too long; retry",
    RETRY_BUSY_SECONDS,
)
STATEMENT_TIMEOUT = Fault(
    503, "Service busy: the database took too long to answer; retry", RETRY_BUSY_SECONDS
)
POOL_EXHAUSTED = Fault(
    503,
    "Service busy: every database connection of this server is in use; retry",
    RETRY_BUSY_SECONDS,
)
SCHEMA_OUTDATED = Fault(
    503,
    "Service unavailable: the database schema is not up to date (run `kanban-api migrate`)",
    RETRY_DOWN_SECONDS,
)

# Classes (two characters) and codes meaning "not now": the same request may succeed later.
_BY_SQLSTATE = {
    "08": UNREACHABLE,  # connection exception
    "53": OUT_OF_RESOURCES,  # insufficient resources, e.g. 53300 too_many_connections
    "57P01": RESTARTING,  # admin_shutdown
    "57P02": RESTARTING,  # crash_shutdown
    "57P03": RESTARTING,  # cannot_connect_now (starting up, or in recovery)
    "57014": STATEMENT_TIMEOUT,  # query_canceled: statement_timeout
    "55P03": LOCK_TIMEOUT,  # lock_not_available: lock_timeout
    "42P01": SCHEMA_OUTDATED,  # undefined_table
}
# serialization_failure, deadlock_detected: the transaction lost a race and was rolled back.
_LOST_RACE = frozenset({"40001", "40P01"})


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind an error, wrapped or not; None for other errors."""
    for candidate in (getattr(error, "orig", None), error, error.__cause__):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def classify(error: BaseException, *, method: str) -> Fault | None:
    """The answer for a database error of a request made with `method`; None for a bug.

    A lost race (40001, 40P01, or a row changed under an UPDATE) is a 409 for a
    write, whose client should look again before resending, and a 503 for a safe
    method, which can simply be retried.
    """
    code = sqlstate(error)
    if code in _LOST_RACE or isinstance(error, StaleDataError):
        return RACE_LOST_ON_READ if method in SAFE_METHODS else CONCURRENT_CHANGE
    if code is not None:
        return _BY_SQLSTATE.get(code) or _BY_SQLSTATE.get(code[:2]) or _unavailable(error)
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return POOL_EXHAUSTED
    return _unavailable(error)


def _unavailable(error: BaseException) -> Fault | None:
    """Errors without a SQLSTATE: refused or timed-out connects, lost connections, SQLite."""
    if isinstance(error, exc.DBAPIError):
        message = str(error.orig)
        if message.startswith("no such table"):  # SQLite's undefined_table
            return SCHEMA_OUTDATED
        if message.startswith("database is locked"):  # SQLite's busy timeout ran out
            return LOCK_TIMEOUT
        # SQLite's file is there but cannot be read as a database (replaced, damaged).
        if message.startswith(("file is not a database", "disk I/O error")):
            return UNREACHABLE
        if error.connection_invalidated or isinstance(
            error, exc.OperationalError | exc.InterfaceError
        ):
            return UNREACHABLE
        return None
    if isinstance(error, OSError):  # refused or timed-out connects, TimeoutError included
        return UNREACHABLE
    return None
