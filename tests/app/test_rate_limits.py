"""The API rate limit: requests per minute per principal, counted across workers in the
database or in Redis, announced in RateLimit-* headers, 429 past the limit."""

import asyncio
import logging
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kanban_api import rate_limit
from kanban_api.access import CountedAs
from kanban_api.models import Board, RateLimitWindow
from tests.conftest import ClientFactory
from tests.helpers import Accounts, create_api_token, recorded_statements

REDIS_URL = "redis://127.0.0.1:6379/15"
# Inside one window: 20 seconds into a Unix minute, so no test crosses a window's end.
NOW = 1_800_000_000 - 1_800_000_000 % 60 + 20


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "clock", lambda: NOW)


@pytest.fixture(params=["database", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str | None]]:
    """Settings for one counter; Redis's test keys are cleared before and after."""
    if request.param == "database":
        yield {"redis_url": None}
        return
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    yield {"redis_url": REDIS_URL}
    await redis.flushdb()
    await redis.aclose()


async def test_answers_carry_the_limit_and_past_it_429_changes_nothing(
    client_with: ClientFactory,
    accounts: Accounts,
    engine: AsyncEngine,
    backend: dict[str, str | None],
) -> None:
    client = await client_with(rate_limit_per_minute=3, **backend)
    owner = await accounts.create()
    remaining = []
    for _ in range(3):
        response = await client.get("/api/boards", headers=owner.headers)
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Reset"] == "40"
        remaining.append(response.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]

    refused = await client.post("/api/boards", json={"title": "Too many"}, headers=owner.headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert "3 requests per minute" in refused.json()["detail"]
    other = await accounts.create()
    assert (await client.get("/api/boards", headers=other.headers)).status_code == 200
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Board)) == 0


async def test_counts_are_shared_by_workers(
    client_with: ClientFactory, accounts: Accounts, backend: dict[str, str | None]
) -> None:
    first = await client_with(rate_limit_per_minute=2, **backend)
    second = await client_with(rate_limit_per_minute=2, **backend)
    owner = await accounts.create()
    assert (await first.get("/api/boards", headers=owner.headers)).status_code == 200
    assert (await second.get("/api/boards", headers=owner.headers)).status_code == 200
    assert (await first.get("/api/boards", headers=owner.headers)).status_code == 429
    assert (await second.get("/api/boards", headers=owner.headers)).status_code == 429


async def test_anonymous_requests_count_per_address(
    client_with: ClientFactory, backend: dict[str, str | None]
) -> None:
    one = await client_with("10.0.0.1", rate_limit_per_minute=1, **backend)
    another = await client_with("10.0.0.2", rate_limit_per_minute=1, **backend)
    body = {"email": "someone@example.com", "password": "long enough pass"}
    assert (await one.post("/api/users", json=body)).status_code == 201
    assert (await one.post("/api/users", json=body | {"email": "x@example.com"})).status_code == 429
    assert (await another.get("/api/users/me")).status_code == 401


async def test_a_zero_limit_turns_it_off(client_with: ClientFactory, accounts: Accounts) -> None:
    client = await client_with(rate_limit_per_minute=0)
    owner = await accounts.create()
    response = await client.get("/api/boards", headers=owner.headers)
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers


async def test_the_database_counter_is_one_statement_on_a_row_per_principal_and_window(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    with recorded_statements(engine, rate_limit=True) as statements:
        await client.get("/api/boards", headers=alice.headers)
    assert len([sql for sql in statements if "rate_limit_window" in sql]) == 1
    await client.get("/api/boards", headers=alice.headers)
    await client.get("/api/boards", headers=bob.headers)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(RateLimitWindow.__table__))).all()
    assert sorted(tuple(row) for row in rows) == [
        (f"user:{alice.id}", NOW // 60, 2),
        (f"user:{bob.id}", NOW // 60, 1),
    ]


async def test_the_database_counter_is_one_round_trip_on_postgresql(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    """No BEGIN and COMMIT around the count (autocommit): one round trip per request,
    made before the request's transaction, so never while a board lock is held."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE costs no round trip: it is in-process")
    alice = await accounts.create()
    isolation: list[str | None] = []

    def record(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "rate_limit_window" in statement:
            isolation.append(connection.get_execution_options().get("isolation_level"))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        response = await client.get("/api/boards", headers=alice.headers)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert isolation == ["AUTOCOMMIT"]


async def test_past_windows_are_pruned(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    await client.get("/api/boards", headers=alice.headers)
    async with AsyncSession(engine) as session, session.begin():
        assert await rate_limit.prune(session, now=NOW) == 0
        assert await rate_limit.prune(session, now=NOW + 60) == 1


def made_up_token() -> dict[str, str]:
    return {"Authorization": f"Bearer kbp_{secrets.token_urlsafe(32)}"}


async def test_made_up_access_tokens_count_against_the_address(
    client_with: ClientFactory, backend: dict[str, str | None]
) -> None:
    client = await client_with(rate_limit_per_minute=10, **backend)
    answers = [await client.get("/api/boards", headers=made_up_token()) for _ in range(15)]
    assert [answer.status_code for answer in answers] == [401] * 10 + [429] * 5
    remaining = [answer.headers["RateLimit-Remaining"] for answer in answers]
    assert remaining == [str(left) for left in range(9, -1, -1)] + ["0"] * 5
    # The address's budget is spent, for anonymous requests too.
    assert (await client.get("/api/boards")).status_code == 429


async def test_a_valid_access_token_counts_against_itself_not_its_address(
    client_with: ClientFactory, accounts: Accounts, backend: dict[str, str | None]
) -> None:
    # Made outside the limited app, so that the sign-up and token count nowhere here.
    owner = await accounts.create()
    token = await create_api_token(await client_with(**backend), owner)
    client = await client_with(rate_limit_per_minute=3, **backend)
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    # Its neighbours behind the same address spend the address's budget...
    while (await client.get("/api/boards", headers=made_up_token())).status_code != 429:
        pass
    # ...not the token's.
    response = await client.get("/api/boards", headers=token.headers)
    assert response.status_code == 200


async def test_a_revoked_access_token_counts_against_the_address_again(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    owner = await accounts.create()
    token = await create_api_token(await client_with(), owner)
    client = await client_with(rate_limit_per_minute=2)
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    revoked = await client_with()
    path = f"/api/users/me/tokens/{token.token_info['id']}"
    assert (await revoked.delete(path, headers=owner.headers)).status_code == 204
    # The token's own budget is spent, but it is no credential any more: its address's.
    answer = await client.get("/api/boards", headers=token.headers)
    assert answer.status_code == 401
    assert answer.headers["RateLimit-Remaining"] == "1"


async def test_concurrent_requests_each_get_their_own_count(
    client_with: ClientFactory, accounts: Accounts, backend: dict[str, str | None]
) -> None:
    client = await client_with(rate_limit_per_minute=10, **backend)
    owner = await accounts.create()
    answers = await asyncio.gather(
        *(client.get("/api/boards", headers=owner.headers) for _ in range(12))
    )
    assert sorted(answer.status_code for answer in answers) == [200] * 10 + [429] * 2
    remaining = sorted(int(answer.headers["RateLimit-Remaining"]) for answer in answers)
    assert remaining == [0, 0, 0, *range(1, 10)]


async def test_hits_of_one_turn_of_the_event_loop_share_one_redis_connection() -> None:
    """Started together, they go to Redis in one pipeline, so one connection serves them
    all (sent one by one, each would take a connection of its own meanwhile)."""
    name = f"kanban-test-{secrets.token_hex(4)}"
    redis = Redis.from_url(REDIS_URL, client_name=name)
    try:
        counter = rate_limit.RedisCounter(redis)
        hits = [counter.hit(CountedAs(f"user:{user}"), window=1) for user in (1, 1, 2, 1, 2)]
        counts = await asyncio.gather(*hits)
        assert counts == [(1, "user:1"), (2, "user:1"), (1, "user:2"), (3, "user:1"), (2, "user:2")]
        clients = await redis.client_list()
        assert [client["name"] for client in clients].count(name) == 1
    finally:
        await redis.flushdb()
        await redis.aclose()


async def test_the_api_serves_uncounted_while_redis_is_down_and_says_so_once(
    client_with: ClientFactory, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 1 on the loopback interface: nothing listens, so connecting fails at once.
    client = await client_with(rate_limit_per_minute=1, redis_url="redis://127.0.0.1:1/0")
    owner = await accounts.create()
    with caplog.at_level(logging.WARNING, logger="kanban_api.rate_limit"):
        for _ in range(3):
            answers = await asyncio.gather(
                *(client.get("/api/boards", headers=owner.headers) for _ in range(2))
            )
            for answer in answers:
                assert answer.status_code == 200
                assert "RateLimit-Limit" not in answer.headers
    # One line for the outage, not one per request.
    [said] = [record.getMessage() for record in caplog.records]
    assert (
        said
        == "rate limit not counted: Redis unavailable (0 more such failures since the last line)"
    )


async def test_a_redis_that_never_answers_is_given_up_on(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    """A server that accepts connections and says nothing (a hung Redis, a wrong port
    behind a proxy): each request is served uncounted after REDIS_TIMEOUT_SECONDS."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:
        port = silent.getsockname()[1]
        client = await client_with(rate_limit_per_minute=1, redis_url=f"redis://127.0.0.1:{port}/0")
        owner = await accounts.create()
        async with asyncio.timeout(3 * rate_limit.REDIS_TIMEOUT_SECONDS):
            answers = await asyncio.gather(
                *(client.get("/api/boards", headers=owner.headers) for _ in range(3))
            )
    assert [answer.status_code for answer in answers] == [200] * 3
    assert all("RateLimit-Limit" not in answer.headers for answer in answers)


async def test_a_silent_redis_is_not_asked_again_for_a_while(
    client_with: ClientFactory, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once Redis has failed to answer, requests are served uncounted at once, without a
    word to Redis, for REDIS_RETRY_SECONDS (rather than each waiting out the timeout);
    then Redis is asked again."""
    received: list[bytes] = []

    async def swallow(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            received.append(data)

    now = [1000.0]
    monkeypatch.setattr(rate_limit, "monotonic", lambda: now[0])
    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        client = await client_with(rate_limit_per_minute=1, redis_url=f"redis://127.0.0.1:{port}/0")
        owner = await accounts.create()
        first = await client.get("/api/boards", headers=owner.headers)  # finds Redis silent
        asked = len(received)

        paused = [await client.get("/api/boards", headers=owner.headers) for _ in range(3)]
        assert len(received) == asked
        now[0] += rate_limit.REDIS_RETRY_SECONDS
        retried = await client.get("/api/boards", headers=owner.headers)

    assert asked > 0
    answers = [first, *paused, retried]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert all("RateLimit-Limit" not in answer.headers for answer in answers)
    assert len(received) > asked
