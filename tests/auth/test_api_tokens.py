"""Personal access tokens: made, listed and revoked with a login; acting as their user,
narrowed to their scopes and boards; dead on the next request once revoked."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.models import ApiToken
from tests.helpers import (
    Accounts,
    add_member,
    board_events,
    create_api_token,
    create_board,
    create_cards,
    detail,
    recorded_statements,
)

TOKENS = "/api/users/me/tokens"


async def test_a_token_is_shown_once_and_stored_only_as_a_hash(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    token = await create_api_token(client, owner, scopes=["read"], expiresInDays=30)
    created = token.token_info
    assert created["token"].startswith("kbp_")
    assert len(created["token"]) > 40
    assert (created["name"], created["scopes"], created["boardIds"]) == ("script", ["read"], None)
    assert created["lastUsedAt"] is None
    expires = datetime.fromisoformat(created["expiresAt"]) - datetime.fromisoformat(
        created["createdAt"]
    )
    assert expires == timedelta(days=30)

    listed = (await client.get(TOKENS, headers=owner.headers)).json()
    assert listed == [{key: value for key, value in created.items() if key != "token"}]
    async with engine.connect() as connection:
        stored = (await connection.execute(select(ApiToken.__table__))).one()
    assert created["token"] not in [str(value) for value in stored]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["admin"]},
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": ["read"], "expiresInDays": 0},
        {"name": "x", "scopes": ["read"], "expiresInDays": 366},
        {"name": "x", "scopes": ["read"], "boardIds": [0]},
        # JSON integers only, as every body takes them (docs/security.md, Input).
        {"name": "x", "scopes": ["read"], "expiresInDays": "5"},
        {"name": "x", "scopes": ["read"], "expiresInDays": True},
    ],
)
async def test_bad_token_requests_answer_422_and_make_nothing(
    client: AsyncClient, accounts: Accounts, body: dict[str, Any]
) -> None:
    owner = await accounts.create()
    response = await client.post(TOKENS, json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert (await client.get(TOKENS, headers=owner.headers)).json() == []


async def test_board_ids_are_json_integers(client: AsyncClient, accounts: Accounts) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    body = {"name": "x", "scopes": ["read"], "boardIds": [str(board["id"])]}
    response = await client.post(TOKENS, json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "boardIds", 0]
    assert (await client.get(TOKENS, headers=owner.headers)).json() == []


async def test_a_token_is_limited_only_to_boards_the_caller_is_a_member_of(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, stranger = await accounts.create(), await accounts.create()
    mine, theirs = await create_board(client, owner), await create_board(client, stranger)
    response = await client.post(
        TOKENS,
        json={"name": "x", "scopes": ["read"], "boardIds": [mine["id"], theirs["id"]]},
        headers=owner.headers,
    )
    assert response.status_code == 422, response.text
    assert str(theirs["id"]) in str(detail(response))
    assert (await client.get(TOKENS, headers=owner.headers)).json() == []


async def test_a_token_acts_as_its_user_on_every_endpoint_and_events_name_the_user(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    token = await create_api_token(client, owner)
    board = await create_board(client, token)
    [card] = await create_cards(client, token, board["id"], {"title": "By a script"})
    me = await client.get("/api/users/me", headers=token.headers)
    assert me.json()["id"] == owner.id
    assert (await client.get(f"/api/cards/{card['id']}", headers=token.headers)).status_code == 200
    events = await board_events(client, token, board["id"])
    assert {event["actorId"] for event in events} == {owner.id}


async def test_a_read_only_token_reads_but_every_write_answers_403(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "Keep"})
    reader = await create_api_token(client, owner, scopes=["read"])
    assert (await client.get("/api/boards", headers=reader.headers)).json()[0]["id"] == board["id"]
    for method, path, body in [
        ("POST", "/api/boards", {"title": "New"}),
        ("PATCH", f"/api/cards/{card['id']}", {"title": "Changed"}),
        ("DELETE", f"/api/cards/{card['id']}", None),
    ]:
        response = await client.request(method, path, json=body, headers=reader.headers)
        assert response.status_code == 403, response.text
        assert "read scope" in detail(response)
    [unchanged] = (
        await client.get(f"/api/boards/{board['id']}/cards", headers=owner.headers)
    ).json()
    assert unchanged == card
    assert len((await client.get("/api/boards", headers=owner.headers)).json()) == 1


async def test_a_write_only_token_reads_too(client: AsyncClient, accounts: Accounts) -> None:
    # `write` includes reading: a write needs what it changes (an ETag, a position).
    owner = await accounts.create()
    board = await create_board(client, owner)
    writer = await create_api_token(client, owner, scopes=["write"])
    assert writer.token_info["scopes"] == ["read", "write"]
    [card] = await create_cards(client, writer, board["id"], {"title": "Made"})
    listed = await client.get(f"/api/boards/{board['id']}/cards", headers=writer.headers)
    assert listed.status_code == 200
    assert [found["id"] for found in listed.json()] == [card["id"]]
    read = await client.get(f"/api/cards/{card['id']}", headers=writer.headers)
    assert read.status_code == 200
    assert read.json()["title"] == "Made"


async def test_a_board_limited_token_sees_only_its_boards(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    allowed, other = await create_board(client, owner, "Allowed"), await create_board(client, owner)
    [hidden] = await create_cards(client, owner, other["id"], {"title": "Hidden"})
    limited = await create_api_token(client, owner, boardIds=[allowed["id"]])
    assert limited.token_info["boardIds"] == [allowed["id"]]

    listed = (await client.get("/api/boards", headers=limited.headers)).json()
    assert [board["id"] for board in listed] == [allowed["id"]]
    await create_cards(client, limited, allowed["id"], {"title": "Allowed"})
    for method, path in [
        ("GET", f"/api/boards/{other['id']}"),
        ("GET", f"/api/boards/{other['id']}/cards"),
        ("GET", f"/api/cards/{hidden['id']}"),
        ("PATCH", f"/api/cards/{hidden['id']}"),
    ]:
        response = await client.request(
            method,
            path,
            headers=limited.headers,
            json={"title": "x"} if method == "PATCH" else None,
        )
        assert response.status_code == 404, (method, path, response.text)
    creating = await client.post("/api/boards", json={"title": "New"}, headers=limited.headers)
    assert creating.status_code == 403
    assert len((await client.get("/api/boards", headers=owner.headers)).json()) == 2


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", TOKENS, None),
        ("POST", TOKENS, {"name": "more", "scopes": ["read"]}),
        ("DELETE", TOKENS + "/1", None),
        ("PATCH", "/api/users/me", {"password": "a brand new password"}),
        ("PATCH", "/api/users/me", {"email": "elsewhere@example.com"}),
    ],
)
async def test_a_token_cannot_manage_tokens_or_the_account(
    client: AsyncClient, accounts: Accounts, method: str, path: str, body: Any
) -> None:
    owner = await accounts.create()
    token = await create_api_token(client, owner)
    response = await client.request(method, path, json=body, headers=token.headers)
    assert response.status_code == 403, response.text
    assert "login" in detail(response)
    assert len((await client.get(TOKENS, headers=owner.headers)).json()) == 1
    assert (await client.get("/api/users/me", headers=token.headers)).json()["email"] == owner.email


async def test_a_revoked_token_answers_401_on_the_next_request(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, other = await accounts.create(), await accounts.create()
    token = await create_api_token(client, owner)
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    token_id = token.token_info["id"]
    # Another user's token is not theirs to revoke.
    assert (await client.delete(f"{TOKENS}/{token_id}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"{TOKENS}/{token_id}", headers=owner.headers)).status_code == 204
    response = await client.get("/api/boards", headers=token.headers)
    assert response.status_code == 401
    assert (await client.get(TOKENS, headers=owner.headers)).json() == []
    assert (await client.delete(f"{TOKENS}/{token_id}", headers=owner.headers)).status_code == 404


async def test_unknown_and_expired_tokens_answer_401(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    token = await create_api_token(client, owner, expiresInDays=1)
    unknown = {"Authorization": "Bearer kbp_" + "x" * 43}
    assert (await client.get("/api/boards", headers=unknown)).status_code == 401
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    async with engine.begin() as connection:
        await connection.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 401


async def test_a_password_change_revokes_the_users_tokens(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    token = await create_api_token(client, owner)
    response = await client.patch(
        "/api/users/me",
        json={"password": "another good password", "currentPassword": owner.password},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    assert (await client.get("/api/boards", headers=token.headers)).status_code == 401


async def test_last_used_is_recorded_at_most_once_a_minute(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    token = await create_api_token(client, owner)
    await client.get("/api/boards", headers=token.headers)
    [first] = (await client.get(TOKENS, headers=owner.headers)).json()
    assert first["lastUsedAt"] is not None
    await client.get("/api/boards", headers=token.headers)
    [second] = (await client.get(TOKENS, headers=owner.headers)).json()
    assert second["lastUsedAt"] == first["lastUsedAt"]
    async with engine.begin() as connection:
        await connection.execute(
            update(ApiToken).values(last_used_at=datetime.now(UTC) - timedelta(minutes=2))
        )
    await client.get("/api/boards", headers=token.headers)
    [third] = (await client.get(TOKENS, headers=owner.headers)).json()
    assert third["lastUsedAt"] > first["lastUsedAt"]


@pytest.mark.parametrize("limited", [False, True])
async def test_a_token_adds_one_statement_to_the_hot_reads(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine, limited: bool
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "Card"})
    token = await create_api_token(
        client, owner, **({"boardIds": [board["id"]]} if limited else {})
    )
    await client.get("/api/boards", headers=token.headers)  # records lastUsedAt
    for path in ("/api/boards", f"/api/boards/{board['id']}/cards", f"/api/cards/{card['id']}"):
        counts = []
        for account in (owner, token):
            with recorded_statements(engine) as statements:
                response = await client.get(path, headers=account.headers)
            assert response.status_code == 200, response.text
            counts.append(len(statements))
        assert counts == [1, 2], path


async def test_a_token_opens_event_streams_and_tickets(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    reader = await create_api_token(client, owner, scopes=["read"], boardIds=[board["id"]])
    response = await client.post(
        f"/api/boards/{board['id']}/events/tickets", headers=reader.headers
    )
    assert response.status_code in (200, 201), response.text


async def test_tokens_follow_membership(client: AsyncClient, accounts: Accounts) -> None:
    """A token acts as its user: removed from a board, the token loses it too."""
    owner, member = await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], member, "editor")
    token = await create_api_token(client, member, boardIds=[board["id"]])
    assert (
        await client.get(f"/api/boards/{board['id']}", headers=token.headers)
    ).status_code == 200
    removed = await client.delete(
        f"/api/boards/{board['id']}/users/{member.id}", headers=owner.headers
    )
    assert removed.status_code == 204
    assert (
        await client.get(f"/api/boards/{board['id']}", headers=token.headers)
    ).status_code == 404
