"""Idempotency-Key: a keyed write runs once; retries get its stored answer."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.models import Board, Card, IdempotencyKey
from kanban_api.services import boards
from tests.helpers import (
    Account,
    Accounts,
    board_events,
    create_api_token,
    create_board,
    recorded_statements,
)


async def count(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(model)) or 0)


async def create_cards(
    client: AsyncClient, account: Account, board_id: int, key: str, title: str = "Once"
) -> Response:
    return await client.post(
        f"/api/boards/{board_id}/cards",
        json=[{"title": title}],
        headers={**account.headers, "Idempotency-Key": key},
    )


async def test_a_retry_replays_the_answer_without_running_again(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    first = await create_cards(client, owner, board["id"], "key-1")
    assert first.status_code == 201, first.text
    assert "Idempotency-Replayed" not in first.headers
    again = await create_cards(client, owner, board["id"], "key-1")
    assert again.status_code == 201
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await count(engine, Card) == 1
    events = await board_events(client, owner, board["id"])
    assert [event["type"] for event in events] == ["card.created"]


async def test_the_same_key_with_another_request_answers_422(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    assert (await create_cards(client, owner, board["id"], "key")).status_code == 201
    other_body = await create_cards(client, owner, board["id"], "key", title="Different")
    assert other_body.status_code == 422
    [error] = other_body.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "another method, path or body" in error["msg"]
    other_path = await client.post(
        "/api/boards", json=[{"title": "Once"}], headers={**owner.headers, "Idempotency-Key": "key"}
    )
    assert other_path.status_code == 422
    assert await count(engine, Card) == 1
    assert await count(engine, Board) == 1


async def test_keys_belong_to_their_principal(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    token = await create_api_token(client, owner)
    assert (await create_cards(client, owner, board["id"], "shared")).status_code == 201
    by_token = await create_cards(client, token, board["id"], "shared")
    assert by_token.status_code == 201
    assert "Idempotency-Replayed" not in by_token.headers
    assert await count(engine, Card) == 2


@pytest.mark.parametrize("credential", ["revoked access token", "retired login token"])
async def test_a_credential_no_longer_current_gets_401_not_the_stored_answer(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine, credential: str
) -> None:
    """Revoked and password-retired tokens answer 401 from the next request on: a retry
    with one of them does not get the answer stored for it while it was current."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    caller = await create_api_token(client, owner) if credential.startswith("revoked") else owner
    assert (await create_cards(client, caller, board["id"], "before")).status_code == 201
    if credential.startswith("revoked"):
        revoked = await client.delete(
            f"/api/users/me/tokens/{caller.token_info['id']}", headers=owner.headers
        )
        assert revoked.status_code == 204
    else:
        changed = await client.patch(
            "/api/users/me",
            json={"password": "another long pass", "currentPassword": owner.password},
            headers=owner.headers,
        )
        assert changed.status_code == 200, changed.text
    retry = await create_cards(client, caller, board["id"], "before")
    assert retry.status_code == 401
    assert "Idempotency-Replayed" not in retry.headers
    assert retry.headers["WWW-Authenticate"] == "Bearer"
    assert "Once" not in retry.text
    assert await count(engine, Card) == 1


async def test_a_running_request_makes_a_retry_wait_with_409(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    """The key claimed by a request still running (its row holds no answer yet)."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    assert (await create_cards(client, owner, board["id"], "busy")).status_code == 201
    async with engine.begin() as connection:
        await connection.execute(
            update(IdempotencyKey).values(status=None, body=None, created_at=datetime.now(UTC))
        )
    response = await create_cards(client, owner, board["id"], "busy")
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert await count(engine, Card) == 1


@pytest.mark.parametrize(
    ("age", "status"), [(timedelta(hours=25), 201), (timedelta(minutes=10), None)]
)
async def test_expired_keys_and_abandoned_claims_run_again(
    client: AsyncClient,
    accounts: Accounts,
    engine: AsyncEngine,
    age: timedelta,
    status: int | None,
) -> None:
    """A key older than 24 hours is forgotten; a claim whose worker died is taken over."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    assert (await create_cards(client, owner, board["id"], "old")).status_code == 201
    async with engine.begin() as connection:
        await connection.execute(
            update(IdempotencyKey).values(status=status, created_at=datetime.now(UTC) - age)
        )
    response = await create_cards(client, owner, board["id"], "old")
    assert response.status_code == 201
    assert "Idempotency-Replayed" not in response.headers
    assert await count(engine, Card) == 2


async def test_conflicts_are_not_stored_and_may_be_retried(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    """A 409 says "not now": the key is given back, and the retry runs."""
    owner = await accounts.create()
    body = {"email": owner.email, "password": "long enough pass"}
    headers = {"Idempotency-Key": "sign-up"}
    taken = await client.post("/api/users", json=body, headers=headers)
    assert taken.status_code == 409
    assert await count(engine, IdempotencyKey) == 0
    free = await client.post(
        "/api/users", json=body | {"email": "fresh@example.com"}, headers=headers
    )
    assert free.status_code == 201


async def test_client_errors_are_stored(client: AsyncClient, accounts: Accounts) -> None:
    owner = await accounts.create()
    headers = {**owner.headers, "Idempotency-Key": "bad"}
    first = await client.post("/api/boards", json={"title": ""}, headers=headers)
    assert first.status_code == 422
    again = await client.post("/api/boards", json={"title": ""}, headers=headers)
    assert (again.status_code, again.headers["Idempotency-Replayed"]) == (422, "true")
    assert again.json() == first.json()


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é"])
async def test_malformed_keys_answer_400_and_change_nothing(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine, key: str
) -> None:
    owner = await accounts.create()
    response = await client.post(
        "/api/boards",
        json={"title": "No"},
        headers=[
            *((name.encode(), value.encode()) for name, value in owner.headers.items()),
            (b"Idempotency-Key", key.encode()),
        ],
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert await count(engine, Board) == 0


async def test_server_errors_give_the_key_back(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that failed with a 5xx may be retried with the same key, and runs."""
    owner = await accounts.create()
    headers = {**owner.headers, "Idempotency-Key": "k"}
    real = boards.create_board

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(boards, "create_board", broken)
    failed = await client.post("/api/boards", json={"title": "Try"}, headers=headers)
    assert failed.status_code == 500
    assert await count(engine, IdempotencyKey) == 0
    monkeypatch.setattr(boards, "create_board", real)
    retried = await client.post("/api/boards", json={"title": "Try"}, headers=headers)
    assert retried.status_code == 201
    assert "Idempotency-Replayed" not in retried.headers
    assert await count(engine, Board) == 1


def test_the_api_schema_documents_the_headers(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    create = paths["/api/boards/{board_id}/cards"]["post"]
    assert "Idempotency-Key" in [parameter["name"] for parameter in create["parameters"]]
    assert "Idempotency-Replayed" in create["responses"]["201"]["headers"]
    login = paths["/api/auth/tokens"]["post"]
    assert "Idempotency-Key" not in [p["name"] for p in login.get("parameters", [])]
    listed = paths["/api/boards"]["get"]["responses"]["200"]["headers"]
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(listed)


async def test_reads_ignore_the_key_and_cost_no_statement_more(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    await create_board(client, owner)
    counts = []
    for headers in (owner.headers, {**owner.headers, "Idempotency-Key": "read"}):
        with recorded_statements(engine) as statements:
            response = await client.get("/api/boards", headers=headers)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts == [1, 1]
    assert await count(engine, IdempotencyKey) == 0
