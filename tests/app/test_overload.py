"""One client cannot starve the others: bursts are bounded per user or address, and
nothing waits for a password hash while holding a database connection or lock."""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from kanban_api.config import to_async_url
from kanban_api.state import state_of
from kanban_api.utils import password as password_module
from tests.app.test_rate_limits import REDIS_URL, made_up_token
from tests.conftest import ClientFactory
from tests.helpers import (
    Accounts,
    create_api_token,
    create_board,
    create_cards,
    detail,
    eventually,
    login,
)

# A guard, not a measurement: a request still unanswered by then is hanging.
HANG = 30
ATTACKS = 10


class BoardLock:
    """A board's row lock (PostgreSQL) or the database's write lock (SQLite), held from
    another connection as a long write would, until `release` or the test's end."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_async_engine(to_async_url(database_url))
        self.connection: AsyncConnection | None = None

    async def hold(self, board_id: int) -> None:
        self.connection = await self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            await self.connection.execute(
                text("SELECT id FROM board WHERE id = :id FOR UPDATE"), {"id": board_id}
            )
        else:
            await self.connection.exec_driver_sql("BEGIN IMMEDIATE")

    async def release(self) -> None:
        if self.connection is not None:
            await self.connection.rollback()
            await self.connection.close()
            self.connection = None


@pytest.fixture
async def board_locked(database_url: str) -> AsyncIterator[BoardLock]:
    lock = BoardLock(database_url)
    yield lock
    await lock.release()
    await lock.engine.dispose()


async def test_a_burst_on_one_board_leaves_other_users_served(
    client_with: ClientFactory,
    accounts: Accounts,
    board_locked: BoardLock,
    database_url: str,
) -> None:
    # SQLite's lock held here is the whole database's: the database rate counter would
    # wait for it too (docs/security.md, Known limits), so there requests count in Redis.
    counter = {} if database_url.startswith("postgresql") else {"redis_url": REDIS_URL}
    client = await client_with(
        database_pool_size=2, max_requests_in_flight=2, max_requests_queued=3, **counter
    )
    bystander, attacker = await accounts.create(), await accounts.create()
    other = await create_board(client, bystander)
    (card,) = await create_cards(client, bystander, other["id"], {"title": "Mine"})
    hot = await create_board(client, attacker)
    await board_locked.hold(hot["id"])
    batch = [{"title": "t", "labels": ["red", "blue"]}] * 50
    attacks = [
        asyncio.create_task(
            client.post(f"/api/boards/{hot['id']}/cards", json=batch, headers=attacker.headers)
        )
        for _ in range(ATTACKS)
    ]
    # Two run (waiting for the lock), three wait their turn; the rest are refused at once.
    await eventually(lambda: sum(attack.done() for attack in attacks) == ATTACKS - 5)
    refused = [attack.result() for attack in attacks if attack.done()]
    waiting = [attack for attack in attacks if not attack.done()]
    for response in refused:
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert "in progress" in detail(response)
    async with asyncio.timeout(HANG):
        for _ in range(3):
            listed = await client.get(f"/api/boards/{other['id']}/cards", headers=bystander.headers)
            assert listed.status_code == 200
            read = await client.get(f"/api/cards/{card['id']}", headers=bystander.headers)
            assert read.status_code == 200
    # The waiting writes then go through; awaited, so none still runs when the test ends.
    await board_locked.release()
    for attack in waiting:
        # 503 if the lock was held past the lock timeout (KANBAN_DATABASE_LOCK_TIMEOUT).
        assert (await attack).status_code in (201, 503)


async def test_a_write_waiting_too_long_for_a_busy_board_gets_503(
    client_with: ClientFactory,
    accounts: Accounts,
    board_locked: BoardLock,
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("lock_timeout is PostgreSQL's; SQLite waits for its busy timeout")
    client = await client_with(database_lock_timeout=0.2)
    owner = await accounts.create()
    board = await create_board(client, owner)
    await board_locked.hold(board["id"])
    async with asyncio.timeout(HANG):
        response = await client.post(
            f"/api/boards/{board['id']}/cards", json=[{"title": "t"}], headers=owner.headers
        )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "too long" in detail(response)


async def test_requests_in_flight_are_counted_per_user(
    client_with: ClientFactory, accounts: Accounts, hashing_paused: Any
) -> None:
    client = await client_with(max_requests_in_flight=1, max_requests_queued=0)
    first, second = await accounts.create(), await accounts.create()
    entered, release = hashing_paused
    release.clear()
    busy = asyncio.create_task(
        client.patch("/api/users/me", json={"password": "a new password"}, headers=first.headers)
    )
    await asyncio.to_thread(entered.wait, HANG)
    refused = await client.get("/api/users/me", headers=first.headers)
    assert refused.status_code == 429
    assert (await client.get("/api/users/me", headers=second.headers)).status_code == 200
    release.set()
    assert (await busy).status_code == 200


async def test_made_up_access_tokens_share_their_addresses_slots(
    client_with: ClientFactory, accounts: Accounts, hashing_paused: Any
) -> None:
    client = await client_with(max_requests_in_flight=1, max_requests_queued=0)
    owner = await accounts.create()
    token = await create_api_token(await client_with(), owner)
    # Once it authenticated a request, a token has slots of its own.
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    entered, release = hashing_paused
    release.clear()
    # A sign-up carrying a made-up token, held while its password is hashed.
    body = {"email": "newcomer@example.com", "password": "long enough pass"}
    busy = asyncio.create_task(client.post("/api/users", json=body, headers=made_up_token()))
    await asyncio.to_thread(entered.wait, HANG)
    refused = await client.get("/api/boards", headers=made_up_token())
    assert refused.status_code == 429
    assert "address" in detail(refused)
    assert (await client.get("/api/boards")).status_code == 429
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    release.set()
    assert (await busy).status_code == 201


@pytest.fixture
def hashing_paused() -> Iterator[tuple[threading.Event, threading.Event]]:
    """(entered, release): password hashes and checks wait while `release` is clear."""
    entered, release = threading.Event(), threading.Event()
    release.set()
    hasher = password_module._hasher
    originals = {name: getattr(hasher, name) for name in ("hash", "verify_and_update")}

    def paused(name: str) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            entered.set()
            release.wait(HANG)
            return originals[name](*args)

        return run

    for name in originals:
        setattr(hasher, name, paused(name))
    yield entered, release
    release.set()
    for name, original in originals.items():
        setattr(hasher, name, original)


async def while_hashing(
    app: FastAPI,
    client: AsyncClient,
    request: Any,
    hashing: tuple[threading.Event, threading.Event],
    bystander: Callable[[], Any],
) -> Response:
    """Start `request`; while its hash is paused, check that it holds no database
    connection and that `bystander` (a write) goes through; then let it finish."""
    entered, release = hashing
    entered.clear()
    release.clear()
    engine: AsyncEngine = state_of(app).database.engine
    task = asyncio.create_task(request)
    async with asyncio.timeout(HANG):
        await asyncio.to_thread(entered.wait, HANG)
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        await bystander()
        release.set()
        response: Response = await task
    return response


async def test_no_connection_or_lock_is_held_while_a_password_is_hashed(
    app: FastAPI, client: AsyncClient, accounts: Accounts, hashing_paused: Any
) -> None:
    writer, user = await accounts.create(), await accounts.create()
    board = await create_board(client, writer)
    (card,) = await create_cards(client, writer, board["id"], {"title": "Card"})

    async def write() -> None:
        response = await client.patch(
            f"/api/cards/{card['id']}", json={"title": "Changed"}, headers=writer.headers
        )
        assert response.status_code == 200

    logged_in = await while_hashing(
        app, client, login(client, user.email, user.password), hashing_paused, write
    )
    assert logged_in.status_code == 200
    failed = await while_hashing(
        app, client, login(client, user.email, "wrong password"), hashing_paused, write
    )
    assert failed.status_code == 401
    signup = client.post("/api/users", json={"email": "new@example.com", "password": "p" * 8})
    assert (await while_hashing(app, client, signup, hashing_paused, write)).status_code == 201
    change = client.patch(
        "/api/users/me", json={"password": "another password"}, headers=user.headers
    )
    assert (await while_hashing(app, client, change, hashing_paused, write)).status_code == 200


async def test_signing_up_hashes_once_whether_the_email_is_taken_or_not(
    client: AsyncClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = await accounts.create()
    hashed: list[str] = []
    original = password_module._hasher.hash

    def counting(password: str) -> str:
        hashed.append(password)
        return original(password)

    monkeypatch.setattr(password_module._hasher, "hash", counting)
    body = {"password": "p" * 8}
    conflict = await client.post("/api/users", json={"email": taken.email, **body})
    assert conflict.status_code == 409
    created = await client.post("/api/users", json={"email": "fresh@example.com", **body})
    assert created.status_code == 201
    assert len(hashed) == 2  # one each: a taken email costs what a new one does
