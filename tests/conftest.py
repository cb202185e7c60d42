"""Fixtures: every test runs once per database backend, against a freshly emptied schema.

The schema is built once per backend by the real Alembic migrations. PostgreSQL tests use
throw-away databases, created through KANBAN_TEST_POSTGRES_URL (by default the stock
`postgres` database as the `postgres` user on 127.0.0.1; a password may come from PGPASSWORD
or ~/.pgpass), so parallel runs never collide. PostgreSQL is probed once: when it cannot be
reached or may not create databases, its tests are deselected, unless
KANBAN_TEST_REQUIRE_POSTGRES=1, as in CI, where that stops the run. The run's last lines
say whether PostgreSQL was tested.
"""

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.migrations.runner import upgrade
from kanban_api.models import Base
from kanban_api.services.card_caps import CardCaps
from kanban_api.state import state_of
from tests.helpers import Accounts, Boards

POSTGRES_URL = os.environ.get(
    "KANBAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = os.environ.get("KANBAN_TEST_BACKENDS", "sqlite,postgresql").split(",")
REQUIRE_POSTGRES = os.environ.get("KANBAN_TEST_REQUIRE_POSTGRES") == "1"
TEST_SECRET = "test-secret-key-long-enough-for-every-hmac-algorithm-0123456789abcdef"
# Databases every PostgreSQL has, to create the throw-away ones from when the URL's is missing.
MAINTENANCE_DATABASES = ("postgres", "template1")

_postgres: dict[str, Any] = {"admin": None, "skipped": None}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Probes PostgreSQL once; deselects its tests (one summary line, not one per test) when
    it cannot serve them, or stops the run when it is required."""
    on_postgres = [item for item in items if _backend(item) == "postgresql"]
    if not on_postgres:
        return
    admin, reason = asyncio.run(_probe_postgres(make_url(POSTGRES_URL)))
    if admin is not None:
        _postgres["admin"] = admin
        return
    if REQUIRE_POSTGRES:
        raise pytest.UsageError(f"KANBAN_TEST_REQUIRE_POSTGRES=1, but {reason}")
    _postgres["skipped"] = reason
    config.hook.pytest_deselected(items=on_postgres)
    items[:] = [item for item in items if _backend(item) != "postgresql"]


def _backend(item: pytest.Item) -> object:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("database_url") if callspec is not None else None


async def _probe_postgres(url: URL) -> tuple[URL | None, str]:
    """The URL to create throw-away databases through (the given database, or a maintenance
    one when that does not exist), or None and why PostgreSQL cannot be used."""
    shown = url.render_as_string()
    for database in (url.database, *MAINTENANCE_DATABASES):
        candidate = url.set(database=database)
        try:
            connection = await asyncpg.connect(_dsn(candidate), timeout=5)
        except asyncpg.InvalidCatalogNameError:
            continue
        except (OSError, asyncpg.PostgresError) as error:
            return None, f"PostgreSQL is not reachable at {shown}: {error}"
        try:
            allowed = await connection.fetchval(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await connection.close()
        if not allowed:
            return None, f"the user of {shown} may not create databases (needs CREATEDB)"
        return candidate, ""
    return None, f"neither the database of {shown} nor a maintenance database exists"


def _dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest's own summary (so it stays on screen): whether PostgreSQL was tested."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or "postgresql" not in BACKENDS:
        return
    if _postgres["skipped"]:
        reporter.write_sep("!", "PostgreSQL was NOT tested", red=True, bold=True)
        reporter.write_line(_postgres["skipped"])
        reporter.write_line(
            "Only SQLite was tested. Start PostgreSQL, or point KANBAN_TEST_POSTGRES_URL at "
            "one whose user may create databases, to test both."
        )
    elif _postgres["admin"] is not None:
        url = _postgres["admin"].render_as_string()
        reporter.write_sep("=", f"PostgreSQL was tested, at {url}", green=True)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'kanban.db'}"
        upgrade(url)
        yield url
        return
    yield from _postgres_database()


def _postgres_database(revision: str | None = "head") -> Iterator[str]:
    """A throw-away database, migrated to `revision` (None: left empty)."""
    admin_url: URL = _postgres["admin"] or make_url(POSTGRES_URL)
    name = f"kanban_test_{secrets.token_hex(4)}"
    asyncio.run(_admin(_dsn(admin_url), f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        if revision is not None:
            upgrade(url, revision)
        yield url
    finally:
        asyncio.run(_admin(_dsn(admin_url), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database without any table, on the same backend, for testing migrations."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    yield from _postgres_database(revision=None)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=TEST_SECRET,
        # A loaded CI machine has taken over the default 5 s to open a connection while
        # other tests created and dropped databases; what the tests check is not that.
        database_connect_timeout=30,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    await state_of(app).events.close()
    await empty_tables(state_of(app).database.engine)
    await state_of(app).database.dispose()


async def empty_tables(engine: AsyncEngine) -> None:
    tables = [table.name for table in Base.metadata.sorted_tables]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                await connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608


ClientFactory = Callable[..., Awaitable[AsyncClient]]


@pytest.fixture
async def client_with(app: FastAPI, settings: Settings) -> AsyncIterator[ClientFactory]:
    """Makes clients of apps with other settings, e.g. `await client_with(cors_origins=["*"])`.

    Each call is a new app instance, like another worker process, calling from
    `address`. They share the test's database, which the `app` fixture empties afterwards.
    """
    async with AsyncExitStack() as stack:

        async def make(address: str = "127.0.0.1", **overrides: Any) -> AsyncClient:
            other = create_app(Settings(_env_file=None, **(settings.model_dump() | overrides)))
            stack.push_async_callback(state_of(other).database.dispose)
            transport = ASGITransport(app=other, client=(address, 50000))
            return await stack.enter_async_context(
                AsyncClient(transport=transport, base_url="http://test")
            )

        yield make


@pytest.fixture
def engine(app: FastAPI) -> AsyncEngine:
    """The app's own engine, for tests that check what reached the database."""
    engine: AsyncEngine = state_of(app).database.engine
    return engine


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
def accounts(client: AsyncClient, app: FastAPI) -> Accounts:
    """Users made in the database, with minted tokens; `sign_up` for the HTTP path."""
    return Accounts(client, database=state_of(app).database, secret_key=state_of(app).secret_key)


@pytest.fixture
def boards(app: FastAPI) -> Boards:
    """Boards with members and cards, made in the database."""
    state = state_of(app)
    return Boards(state.database, CardCaps.from_settings(state.settings))


@pytest.fixture
async def auth_client(client: AsyncClient, accounts: Accounts) -> AsyncClient:
    """The seed's fixture: a client logged in as a fresh user."""
    account = await accounts.create()
    client.headers["Authorization"] = account.headers["Authorization"]
    return client
