"""Fixtures: every test runs once per database backend, against a freshly emptied schema.

The schema is built once per backend by the real Alembic migrations. PostgreSQL
tests use a throw-away database, so parallel runs never collide; when PostgreSQL
cannot be reached they are skipped (and the summary says so), unless
KANBAN_TEST_REQUIRE_POSTGRES=1, as in CI, where that is a failure.
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
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.migrations.runner import upgrade
from kanban_api.models import Base
from kanban_api.services.card_caps import CardCaps
from kanban_api.state import state_of
from tests.helpers import Accounts, Boards

POSTGRES_URL = os.environ.get(
    "KANBAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = os.environ.get("KANBAN_TEST_BACKENDS", "sqlite,postgresql").split(",")
REQUIRE_POSTGRES = os.environ.get("KANBAN_TEST_REQUIRE_POSTGRES") == "1"
TEST_SECRET = "test-secret-key-long-enough-for-every-hmac-algorithm-0123456789abcdef"

_postgres_skip_reason: list[str] = []


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
    admin_url = make_url(POSTGRES_URL)
    admin_dsn = admin_url.render_as_string(hide_password=False)
    name = f"kanban_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin(admin_dsn, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as error:
        reason = f"PostgreSQL is not reachable at {admin_url.render_as_string()}: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        _postgres_skip_reason.append(reason)
        pytest.skip(reason)
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        if revision is not None:
            upgrade(url, revision)
        yield url
    finally:
        asyncio.run(_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_skip_reason:
        terminalreporter.write_sep("!", "PostgreSQL tests were SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(_postgres_skip_reason[0])
        terminalreporter.write_line(
            "Only SQLite was tested. Start PostgreSQL or set KANBAN_TEST_POSTGRES_URL to test both."
        )


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
