"""A database that is reachable but cannot serve: restarting, out of resources, losing
races, holding locks, or without the code's schema. Each answer is a quick 503 (or 409
for a write that lost a race) with `Retry-After`, never a 500."""

import asyncio
import struct
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.migrations.runner import head_revision, upgrade
from kanban_api.state import state_of
from tests.conftest import TEST_SECRET, ClientFactory
from tests.helpers import Accounts, create_board, create_cards, detail

# A guard, not a measurement: a request still unanswered by then is hanging.
HANG = 30
SSL_REQUEST, GSS_REQUEST = 80877103, 80877104


class RefusingPostgres:
    """Answers every connection's startup with one FATAL error, as PostgreSQL does while
    starting up (57P03), out of connection slots (53300) and the like."""

    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._refuse, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            (size,) = struct.unpack("!I", await reader.readexactly(4))
            rest = await reader.readexactly(size - 4)
            if size == 8 and struct.unpack("!I", rest[:4])[0] in (SSL_REQUEST, GSS_REQUEST):
                writer.write(b"N")  # no encryption: the client sends its startup message
                (size,) = struct.unpack("!I", await reader.readexactly(4))
                await reader.readexactly(size - 4)
            fields = f"SFATAL\0VFATAL\0C{self.sqlstate}\0Mnot now\0\0".encode()
            writer.write(b"E" + struct.pack("!I", len(fields) + 4) + fields)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def refusing_app_client(request: pytest.FixtureRequest) -> AsyncIterator[AsyncClient]:
    fake = RefusingPostgres(request.param)
    port = await fake.start()
    settings = Settings(
        _env_file=None,
        database_url=f"postgresql://postgres@127.0.0.1:{port}/kanban",
        secret_key=TEST_SECRET,
        database_connect_timeout=2,
    )
    app = create_app(settings)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client
    await state_of(app).database.dispose()
    fake.stop()


def assert_retry_later(response: Response, status: int = 503) -> None:
    assert response.status_code == status, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert set(response.json()) == {"detail"}
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("refusing_app_client", "said"),
    [
        ("57P03", "starting up or shutting down"),  # cannot_connect_now
        ("57P01", "starting up or shutting down"),  # admin_shutdown
        ("53300", "out of resources"),  # too_many_connections
        ("08004", "cannot be reached"),  # server rejected the connection
    ],
    indirect=["refusing_app_client"],
)
async def test_a_database_refusing_connections_gets_503_everywhere(
    refusing_app_client: AsyncClient, said: str
) -> None:
    client = refusing_app_client
    async with asyncio.timeout(HANG):
        answers = [
            await client.get("/health/ready"),
            await client.post("/api/users", json={"email": "n@example.com", "password": "p" * 8}),
            await client.post(
                "/api/auth/tokens", data={"username": "n@example.com", "password": "x"}
            ),
        ]
    for response in answers:
        assert_retry_later(response)
        assert said in detail(response)


@pytest.fixture
def postgres_engine(engine: AsyncEngine) -> AsyncEngine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLSTATEs are PostgreSQL's")
    return engine


@pytest.fixture
def failing_statements(postgres_engine: AsyncEngine) -> Iterator[list[str]]:
    """Append a SQLSTATE: the next statement on a board or card fails with it, as the
    driver reports it (asyncpg's errors, translated by SQLAlchemy's adapter)."""
    failures: list[str] = []
    dbapi: Any = postgres_engine.dialect.dbapi

    def fail(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if failures and ("FROM board" in statement or "FROM card" in statement):
            error = dbapi.Error(f"injected {failures[0]}")
            error.sqlstate = error.pgcode = failures.pop()
            raise error

    event.listen(postgres_engine.sync_engine, "before_cursor_execute", fail)
    yield failures
    event.remove(postgres_engine.sync_engine, "before_cursor_execute", fail)


@pytest.mark.parametrize(
    ("sqlstate", "read_status", "write_status"),
    [
        ("40001", 503, 409),  # serialization_failure: a write's client should look again
        ("40P01", 503, 409),  # deadlock_detected
        ("55P03", 503, 503),  # lock_not_available: lock_timeout ran out
        ("57P01", 503, 503),  # admin_shutdown, mid-request
        ("08006", 503, 503),  # connection_failure
        ("53200", 503, 503),  # out_of_memory
    ],
)
async def test_try_again_sqlstates_are_answered_with_retry_after(
    client: AsyncClient,
    accounts: Accounts,
    failing_statements: list[str],
    sqlstate: str,
    read_status: int,
    write_status: int,
) -> None:
    account = await accounts.create()
    board = await create_board(client, account)
    (card,) = await create_cards(client, account, board["id"], {"title": "Card"})
    failing_statements.append(sqlstate)
    read = await client.get(f"/api/cards/{card['id']}", headers=account.headers)
    assert_retry_later(read, read_status)
    failing_statements.append(sqlstate)
    write = await client.patch(
        f"/api/cards/{card['id']}", json={"title": "New"}, headers=account.headers
    )
    assert_retry_later(write, write_status)
    # Sent again, both go through: nothing was left half done.
    again = await client.patch(
        f"/api/cards/{card['id']}", json={"title": "New"}, headers=account.headers
    )
    assert again.status_code == 200


async def test_ready_needs_the_schema_of_this_code(
    empty_database_url: str, client_with: ClientFactory
) -> None:
    client = await client_with(database_url=empty_database_url)
    empty = await client.get("/health/ready")
    assert_retry_later(empty)
    assert "kanban-api migrate" in detail(empty)
    signup = await client.post("/api/users", json={"email": "a@example.com", "password": "p" * 8})
    assert_retry_later(signup)
    assert "kanban-api migrate" in detail(signup)

    await asyncio.to_thread(upgrade, empty_database_url, "c2054fe2d7c4")  # an older revision
    behind = await client.get("/health/ready")
    assert_retry_later(behind)
    assert "c2054fe2d7c4" in detail(behind)

    await asyncio.to_thread(upgrade, empty_database_url)
    assert (await client.get("/health/ready")).json() == {"status": "ok"}


async def test_ready_accepts_a_schema_newer_than_this_code(
    client: AsyncClient, engine: AsyncEngine
) -> None:
    # A rollout: the new code has migrated; this older worker keeps serving meanwhile.
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'fffffffffff1'"))
    try:
        assert (await client.get("/health/ready")).json() == {"status": "ok"}
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
            )
