"""The hot reads (card list, card, board list): same answers as the model routes, and a
number of SQL statements that does not grow with the data."""

from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.models import User
from tests.helpers import Account, Accounts, create_board, create_cards, recorded_statements

MAX_STATEMENTS = 3  # including the user lookup that authenticates the request
OTHER_CONNECTIONS = (
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
# With a timeout, pg_terminate_backend returns once the backend has exited, its socket closed.
TERMINATE_OTHER_CONNECTIONS = "SELECT pg_terminate_backend(pid, 10000) " + OTHER_CONNECTIONS
COUNT_OTHER_CONNECTIONS = "SELECT count(*) " + OTHER_CONNECTIONS


def _cards(count: int) -> list[dict[str, Any]]:
    columns = ["DONE", "BACKLOG", "DOING", "TODO"]
    labels = [[], ["blue", "red"], ["gray", "red", "gray"], ["green"]]
    return [
        {"title": f"Card {n}", "column": columns[n % 4], "labels": labels[n % len(labels)]}
        for n in range(count)
    ]


async def _statements_for(
    client: AsyncClient, engine: AsyncEngine, account: Account, path: str
) -> int:
    with recorded_statements(engine) as statements:
        response = await client.get(path, headers=account.headers)
    assert response.status_code == 200, response.text
    return len(statements)


async def test_listing_cards_costs_the_same_statements_whatever_the_board_size(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    small, large = await create_board(client, owner), await create_board(client, owner)
    await create_cards(client, owner, small["id"], *_cards(10))
    await create_cards(client, owner, large["id"], *_cards(200))

    for_small = await _statements_for(client, engine, owner, f"/api/boards/{small['id']}/cards")
    for_large = await _statements_for(client, engine, owner, f"/api/boards/{large['id']}/cards")

    assert for_small == for_large
    assert for_large <= MAX_STATEMENTS


async def test_reading_a_card_or_the_boards_costs_few_statements(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    first = await create_board(client, owner)
    [card] = await create_cards(client, owner, first["id"], *_cards(3)[2:])
    one_board = await _statements_for(client, engine, owner, "/api/boards")
    for _ in range(5):
        await create_board(client, owner)

    assert await _statements_for(client, engine, owner, "/api/boards") == one_board
    assert one_board <= MAX_STATEMENTS
    assert await _statements_for(client, engine, owner, f"/api/cards/{card['id']}") <= 2


async def test_cards_read_back_exactly_as_created(client: AsyncClient, accounts: Accounts) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    created = await create_cards(client, owner, board["id"], *_cards(8))

    response = await client.get(f"/api/boards/{board['id']}/cards", headers=owner.headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    listed = response.json()
    board_order = ["BACKLOG", "TODO", "DOING", "DONE"]
    expected = sorted(created, key=lambda card: (board_order.index(card["column"]), card["id"]))
    assert listed == expected
    assert [list(card) for card in listed] == [list(card) for card in expected]
    assert {tuple(card["labels"]) for card in listed} == {
        (),
        ("red", "blue"),
        ("red", "gray"),
        ("green",),
    }
    for card in created:
        single = await client.get(f"/api/cards/{card['id']}", headers=owner.headers)
        assert single.status_code == 200
        assert list(single.json().items()) == list(card.items())


async def test_a_changed_card_reads_back_as_the_change_answered(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "Move me"})

    patched = await client.patch(
        f"/api/cards/{card['id']}",
        json={"column": "DOING", "labels": ["purple", "orange"]},
        headers=owner.headers,
    )
    read = await client.get(f"/api/cards/{card['id']}", headers=owner.headers)

    assert patched.status_code == 200
    assert read.json() == patched.json()
    assert read.json()["labels"] == ["orange", "purple"]
    assert read.json()["column"] == "DOING"


async def test_an_empty_board_lists_no_cards_but_outsiders_get_404(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, outsider = await accounts.create(), await accounts.create()
    empty = await create_board(client, owner)
    full = await create_board(client, owner)
    [card] = await create_cards(client, owner, full["id"], {"title": "Secret"})

    assert (
        await client.get(f"/api/boards/{empty['id']}/cards", headers=owner.headers)
    ).json() == []
    for path in (
        f"/api/boards/{empty['id']}/cards",
        f"/api/boards/{full['id']}/cards",
        f"/api/cards/{card['id']}",
        "/api/boards/999999/cards",
        "/api/cards/999999",
    ):
        response = await client.get(path, headers=outsider.headers)
        assert response.status_code == 404, path
        assert set(response.json()) == {"detail"}


async def test_listed_boards_read_as_each_board_does(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, other = await accounts.create(), await accounts.create()
    first = await create_board(client, owner, "First", description="one")
    await create_board(client, other, "Not mine")
    second = await create_board(client, owner, "Second")
    renamed = await client.patch(
        f"/api/boards/{second['id']}",
        json={"labels": [{"color": "green", "name": "Done, really"}]},
        headers=owner.headers,
    )
    assert renamed.status_code == 200

    listed = (await client.get("/api/boards", headers=owner.headers)).json()

    assert [board["id"] for board in listed] == [first["id"], second["id"]]
    for board in listed:
        single = await client.get(f"/api/boards/{board['id']}", headers=owner.headers)
        assert list(single.json().items()) == list(board.items())
    assert {"color": "green", "name": "Done, really"} in listed[1]["labels"]
    assert (await client.get("/api/boards", headers=(await accounts.create()).headers)).json() == []


async def test_a_token_gone_stale_gets_401_not_404(client: AsyncClient, accounts: Accounts) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "Mine"})
    changed = await client.patch(
        "/api/users/me", json={"password": "a brand new password"}, headers=owner.headers
    )
    assert changed.status_code == 200
    empty_handed = await accounts.create()
    emptied = await client.patch(
        "/api/users/me", json={"email": "renamed@example.com"}, headers=empty_handed.headers
    )
    assert emptied.status_code == 200

    for account, method, path in (
        (owner, "GET", f"/api/cards/{card['id']}"),
        (owner, "PATCH", f"/api/cards/{card['id']}"),
        (owner, "DELETE", f"/api/cards/{card['id']}"),
        (owner, "GET", f"/api/boards/{board['id']}/cards"),
        (owner, "GET", "/api/boards"),
        (owner, "GET", "/api/cards/999999"),
        (empty_handed, "GET", "/api/boards"),
    ):
        body = {"title": "x"} if method == "PATCH" else None
        response = await client.request(method, path, json=body, headers=account.headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"
    fresh = await accounts.login(owner.email, "a brand new password")
    response = await client.get(
        f"/api/cards/{card['id']}", headers={"Authorization": f"Bearer {fresh}"}
    )
    assert response.status_code == 200


async def test_connections_the_server_closed_are_replaced(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine, database_url: str
) -> None:
    """A PostgreSQL restart drops pooled connections; the next requests must not fail."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to close connections")
    owner = await accounts.create()
    board = await create_board(client, owner)
    admin = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        await admin.execute(TERMINATE_OTHER_CONNECTIONS)
        # One more round trip, during which the event loop reads the pool's closed sockets.
        assert await admin.fetchval(COUNT_OTHER_CONNECTIONS) == 0
    finally:
        await admin.close()

    for path in ("/api/boards", f"/api/boards/{board['id']}/cards", "/api/users/me"):
        response = await client.get(path, headers=owner.headers)
        assert response.status_code == 200, path


async def test_a_read_session_refuses_writes(app: FastAPI) -> None:
    """GET requests share no transaction, so a write there must fail loudly, not half-commit."""
    async for session in app.state.database.read_session():
        session.add(User(email="sneaky@example.com", hashed_password="x"))
        with pytest.raises(RuntimeError, match="read-only"):
            await session.flush()
