"""Real database outages: the API answers 503 quickly while it lasts and recovers after.

PostgreSQL is reached through a TCP proxy the test controls, which can refuse
connections (the database is down) or accept and swallow them (the network
stopped answering). SQLite's outage is a database file that cannot be opened.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.engine import make_url

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.events import retention
from kanban_api.migrations.runner import upgrade
from kanban_api.state import state_of
from tests.conftest import TEST_SECRET, ClientFactory
from tests.helpers import Accounts

# A guard, not a measurement: a request still unanswered by then is hanging.
HANG = 30


class Proxy:
    """Forwards TCP connections to a target; can refuse them, or stall them without a word."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        """Stop listening and cut every open connection, like a database that went down."""
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        await self.server.wait_closed()

    def stall(self) -> None:
        """Keep every connection open but pass nothing on, like a network that went quiet."""
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        await self.flowing.wait()
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers.add(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                await self.flowing.wait()
                sink.write(data)
                await sink.drain()
        sink.transport.abort()


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[Proxy]:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the proxy speaks TCP to PostgreSQL; SQLite's outage is tested below")
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def proxied(settings: Settings, proxy: Proxy, client_with: ClientFactory) -> AsyncClient:
    """A client of an app whose database connections go through the proxy."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    return await client_with(
        database_url=url.render_as_string(hide_password=False),
        database_connect_timeout=1,
        database_command_timeout=2,
    )


async def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"detail"}
    assert "Traceback" not in response.text
    assert "sqlalchemy" not in response.text.lower()


async def while_out(client: AsyncClient, token: str) -> None:
    """What every kind of request gets while the database is out."""
    async with asyncio.timeout(HANG):
        assert (await client.get("/health/live")).status_code == 200
        await assert_unavailable(await client.get("/health/ready"))
        headers = {"Authorization": f"Bearer {token}"}
        await assert_unavailable(await client.get("/api/boards", headers=headers))
        await assert_unavailable(
            await client.post("/api/boards", json={"title": "t"}, headers=headers)
        )
        keyed = {**headers, "Idempotency-Key": "while-out"}
        await assert_unavailable(
            await client.post("/api/boards", json={"title": "t"}, headers=keyed)
        )
        await assert_unavailable(
            await client.post("/api/users", json={"email": "n@example.com", "password": "p" * 8})
        )
        await assert_unavailable(
            await client.post(
                "/api/auth/tokens", data={"username": "n@example.com", "password": "x"}
            )
        )


async def back_again(client: AsyncClient, token: str) -> None:
    async with asyncio.timeout(HANG):
        assert (await client.get("/health/ready")).json() == {"status": "ok"}
        headers = {"Authorization": f"Bearer {token}"}
        response = await client.post("/api/boards", json={"title": "after"}, headers=headers)
        assert response.status_code == 201


async def test_database_down_then_back(proxied: AsyncClient, proxy: Proxy) -> None:
    account = await Accounts(proxied).create()
    await back_again(proxied, account.token)  # the pool now holds live connections

    await proxy.refuse()
    await while_out(proxied, account.token)

    await proxy.start()  # same port: the same process serves again, without a restart
    await back_again(proxied, account.token)


async def test_database_stops_answering_then_answers_again(
    proxied: AsyncClient, proxy: Proxy
) -> None:
    account = await Accounts(proxied).create()
    await back_again(proxied, account.token)

    proxy.stall()
    await while_out(proxied, account.token)

    proxy.resume()
    await back_again(proxied, account.token)


async def test_sqlite_file_out_of_reach_then_back(tmp_path: Path) -> None:
    folder = tmp_path / "not-mounted-yet"
    url = f"sqlite:///{folder / 'kanban.db'}"
    app = create_app(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        accounts = Accounts(client)
        await assert_unavailable(await client.get("/health/ready"))
        await assert_unavailable(
            await client.post("/api/users", json={"email": "a@example.com", "password": "p" * 8})
        )
        folder.mkdir()
        await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
        account = await accounts.create()
        await back_again(client, account.token)
    await state_of(app).database.dispose()


async def test_a_sqlite_file_that_is_not_a_database_is_a_503(tmp_path: Path) -> None:
    """Production serves without migrating first, so nothing checked the file before."""
    path = tmp_path / "kanban.db"
    path.write_text("not a database\n" * 100)
    url = f"sqlite:///{path}"
    app = create_app(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        await assert_unavailable(await client.get("/health/ready"))
        await assert_unavailable(
            await client.post("/api/users", json={"email": "a@example.com", "password": "p" * 8})
        )
    await state_of(app).database.dispose()


async def test_the_pruner_outlives_a_database_outage(
    settings: Settings, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection reaches the pruner as a bare OSError, not SQLAlchemy's: it is
    logged, and the next round runs (hourly; here at once), rather than ending the task."""
    monkeypatch.setattr(retention, "PRUNE_INTERVAL_SECONDS", 0)
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    database = Database(settings.model_copy(update={"database_url": url.render_as_string(False)}))
    failures = _FailedRounds(wanted=2)
    retention.logger.addHandler(failures)
    await proxy.refuse()
    pruner = asyncio.create_task(
        retention.prune_periodically(
            database.sessionmaker, retention_days=30, trash_retention_days=30
        )
    )
    try:
        async with asyncio.timeout(HANG):
            await asyncio.wait(
                [pruner, asyncio.create_task(failures.reached.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
        assert not pruner.done(), pruner.exception()
        assert failures.count >= 2
    finally:
        retention.logger.removeHandler(failures)
        pruner.cancel()
        await database.dispose()


class _FailedRounds(logging.Handler):
    """Counts the pruner's failed rounds; `reached` is set at the `wanted`th."""

    def __init__(self, *, wanted: int) -> None:
        super().__init__()
        self.wanted, self.count = wanted, 0
        self.reached = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "pruning events failed" in record.getMessage():
            self.count += 1
            if self.count >= self.wanted:
                self.reached.set()
