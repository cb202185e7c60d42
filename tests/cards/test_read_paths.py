"""The hot reads (card list, card, board list): same answers as the model routes, and a
number of SQL statements that does not grow with the data; card access for changes."""

import itertools
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.models import User
from kanban_api.state import state_of
from tests.helpers import (
    Account,
    Accounts,
    add_member,
    create_board,
    create_cards,
    recorded_statements,
)

MAX_STATEMENTS = 3  # including the user lookup that authenticates the request
OTHER_CONNECTIONS = (
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
# With a timeout, pg_terminate_backend returns once the backend has exited, its socket closed.
TERMINATE_OTHER_CONNECTIONS = "SELECT pg_terminate_backend(pid, 10000) " + OTHER_CONNECTIONS
COUNT_OTHER_CONNECTIONS = "SELECT count(*) " + OTHER_CONNECTIONS


def _cards(count: int, assignees: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """Cards with every detail CardOut shows, varied: labels, assignees (these user
    ids, which must be members), due dates with and without microseconds."""
    columns = ["DONE", "BACKLOG", "DOING", "TODO"]
    labels = [[], ["blue", "red"], ["gray", "red", "gray"], ["green"]]
    due = [None, "2030-01-02T03:04:05Z", "2030-01-02T03:04:05.123456+02:00"]
    return [
        {
            "title": f"Card {n}",
            "column": columns[n % 4],
            "labels": labels[n % len(labels)],
            "dueAt": due[n % len(due)],
            "assigneeIds": list(assignees[: n % (len(assignees) + 1)])[::-1],
        }
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
    editor = await accounts.create()
    for board in (small, large):
        await add_member(client, owner, board["id"], editor, "editor")
    await create_cards(client, owner, small["id"], *_cards(10, (owner.id, editor.id)))
    await create_cards(client, owner, large["id"], *_cards(200, (owner.id, editor.id)))
    cursor = "WyJUT0RPIiwxLDFd"  # ["TODO",1,1]: any valid cursor does
    queries = (
        "",
        "?limit=3",
        f"?column=TODO&label=red&assignee={editor.id}&q=card&dueBefore=2031-01-01T00:00:00Z"
        f"&archived=false&limit=2&cursor={cursor}",
    )

    for query in queries:
        path = "/api/boards/{}/cards" + query
        for_small = await _statements_for(client, engine, owner, path.format(small["id"]))
        for_large = await _statements_for(client, engine, owner, path.format(large["id"]))
        assert for_small == for_large, query
        assert for_large <= MAX_STATEMENTS, query


async def test_reading_a_card_or_the_boards_costs_few_statements(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    owner = await accounts.create()
    first = await create_board(client, owner)
    [card] = await create_cards(client, owner, first["id"], *_cards(3)[2:])
    one_board = await _statements_for(client, engine, owner, "/api/boards")
    for _ in range(5):
        await create_board(client, owner)

    assert await _statements_for(client, engine, owner, "/api/boards") == one_board == 1
    assert await _statements_for(client, engine, owner, f"/api/cards/{card['id']}") == 1


async def test_cards_read_back_exactly_as_created(client: AsyncClient, accounts: Accounts) -> None:
    owner, viewer = await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], viewer, "viewer")
    created = await create_cards(client, owner, board["id"], *_cards(8, (viewer.id, owner.id)))

    response = await client.get(f"/api/boards/{board['id']}/cards", headers=viewer.headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    listed = response.json()
    board_order = ["BACKLOG", "TODO", "DOING", "DONE"]
    expected = sorted(
        created, key=lambda card: (board_order.index(card["column"]), card["position"])
    )
    assert listed == expected
    assert [list(card) for card in listed] == [list(card) for card in expected]
    assert {tuple(card["labels"]) for card in listed} == {
        (),
        ("red", "blue"),
        ("red", "gray"),
        ("green",),
    }
    assert {tuple(card["assigneeIds"]) for card in listed} == {
        (),
        (viewer.id,),
        tuple(sorted((viewer.id, owner.id))),
    }
    for card in created:
        single = await client.get(f"/api/cards/{card['id']}", headers=viewer.headers)
        assert single.status_code == 200
        assert list(single.json().items()) == list(card.items())
        assert single.headers["etag"] == f'"{card["version"]}"'


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
        "/api/users/me", json={"password": "another new password"}, headers=empty_handed.headers
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
    async for session in state_of(app).database.read_session():
        session.add(User(email="sneaky@example.com", hashed_password="x"))
        with pytest.raises(RuntimeError, match="read-only"):
            await session.flush()
        session.expunge_all()
        with pytest.raises(RuntimeError, match="read-only"):
            await session.execute(delete(User))


async def test_archived_cards_are_listed_only_when_asked_for(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    in_play, archived = await create_cards(
        client, owner, board["id"], {"title": "In play"}, {"title": "Old", "archived": True}
    )
    path = f"/api/boards/{board['id']}/cards"

    assert (await client.get(path, headers=owner.headers)).json() == [in_play]
    listed = await client.get(path, params={"archived": "true"}, headers=owner.headers)
    assert listed.json() == [archived]


async def test_pages_follow_the_link_header_through_every_card(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    created = await create_cards(client, owner, board["id"], *_cards(7))
    everything = (
        await client.get(f"/api/boards/{board['id']}/cards", headers=owner.headers)
    ).json()
    paged: list[dict[str, Any]] = []
    url: str | None = f"/api/boards/{board['id']}/cards?limit=3"

    while url is not None:
        response = await client.get(url, headers=owner.headers)
        assert response.status_code == 200
        paged += response.json()
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None

    assert paged == everything
    assert len(paged) == len(created)


async def test_a_read_card_answers_304_while_unchanged(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "Cached"})
    path = f"/api/cards/{card['id']}"
    etag = (await client.get(path, headers=owner.headers)).headers["etag"]

    cached = await client.get(path, headers={**owner.headers, "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.headers["etag"] == etag
    assert cached.content == b""
    await client.patch(path, json={"title": "Changed"}, headers=owner.headers)
    fresh = await client.get(path, headers={**owner.headers, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert fresh.json()["title"] == "Changed"


async def test_listed_boards_carry_the_callers_role_and_version(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, viewer = await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], viewer, "viewer")
    await client.patch(f"/api/boards/{board['id']}", json={"title": "v2"}, headers=owner.headers)

    [as_owner] = (await client.get("/api/boards", headers=owner.headers)).json()
    [as_viewer] = (await client.get("/api/boards", headers=viewer.headers)).json()

    assert (as_owner["role"], as_viewer["role"]) == ("owner", "viewer")
    assert as_owner["version"] == as_viewer["version"] == 2
    single = await client.get(f"/api/boards/{board['id']}", headers=viewer.headers)
    assert list(single.json().items()) == list(as_viewer.items())


async def test_changing_a_card_checks_access_in_two_statements(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    """PATCH's access check: the board lock first (PostgreSQL needs it first: see
    services.boards.lock_board), then the card with its labels and assignees, the
    caller's role and the caller, token checked, in one statement."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], *_cards(3, (owner.id,))[2:])

    with recorded_statements(engine) as statements:
        response = await client.patch(
            f"/api/cards/{card['id']}",
            json={"title": "Renamed"},
            headers={**owner.headers, "If-Match": f'"{card["version"]}"'},
        )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed == {**card, "title": "Renamed", "version": 2, "updatedAt": changed["updatedAt"]}
    reads = list(itertools.takewhile(lambda sql: sql.lstrip().startswith("SELECT"), statements))
    assert len(reads) == 2
    if engine.dialect.name == "postgresql":
        assert "FOR NO KEY UPDATE OF board" in reads[0]


async def test_viewers_may_read_cards_but_not_change_them(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, viewer = await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], viewer, "viewer")
    [card] = await create_cards(client, owner, board["id"], {"title": "Look, don't touch"})
    path = f"/api/cards/{card['id']}"

    assert (await client.get(path, headers=viewer.headers)).json() == card
    for method in ("PATCH", "DELETE"):
        body = {"title": "x"} if method == "PATCH" else None
        response = await client.request(method, path, json=body, headers=viewer.headers)
        assert response.status_code == 403, method
    assert (await client.get(path, headers=owner.headers)).json() == card


async def test_a_drag_writes_in_few_round_trips_under_the_board_lock(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    """A PATCH changing `column` (what a client sends when a card is dragged), counted from
    the board lock to the end: every statement there makes the board's other writers wait.
    The lock reads the event counter and the WIP limits; one UPDATE finds the bottom of the
    new column and moves the card there; on PostgreSQL the counter, the event and its
    NOTIFY are one statement."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    card, _ = await create_cards(client, owner, board["id"], {"title": "A"}, {"title": "B"})
    expected = ["lock", "card", "card update at the bottom of the column", "event"]
    if engine.dialect.name == "sqlite":
        expected.append("event row")  # counter and row apart; the hub is told after commit

    with recorded_statements(engine) as statements:
        response = await client.patch(
            f"/api/cards/{card['id']}", json={"column": "DOING"}, headers=owner.headers
        )

    assert response.status_code == 200, response.text
    assert len(statements) == len(expected), statements
    events = await client.get(f"/api/boards/{board['id']}/events", headers=owner.headers)
    last = events.json()[-1]
    assert (last["type"], last["data"]) == ("card.updated", response.json())


async def test_a_changed_card_is_answered_with_the_bytes_a_read_of_it_sends(
    client: AsyncClient, accounts: Accounts
) -> None:
    """A PATCH or move answers with the model its event carries, encoded without FastAPI;
    a client comparing the answer with a later GET (or caching it by ETag) sees the same."""
    owner, other = await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], other, "editor")
    cards = await create_cards(client, owner, board["id"], *_cards(3, (owner.id, other.id)))
    changes = [
        ("PATCH", "", {"column": "DONE", "title": "Déjà vu ✓", "dueAt": "2030-01-02T03:04:05.5Z"}),
        ("PATCH", "", {"labels": ["red", "blue"], "assigneeIds": [other.id, owner.id]}),
        ("POST", "/move", {"column": "TODO", "afterId": None}),
    ]

    for card, (method, suffix, body) in zip(cards, changes, strict=True):
        path = f"/api/cards/{card['id']}"
        changed = await client.request(method, path + suffix, json=body, headers=owner.headers)
        read = await client.get(path, headers=owner.headers)

        assert changed.status_code == read.status_code == 200, changed.text
        assert changed.content == read.content
        assert changed.headers["content-type"] == read.headers["content-type"]
        assert changed.headers["etag"] == read.headers["etag"] == f'"{read.json()["version"]}"'
