import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.state import state_of
from tests import factories
from tests.helpers import Accounts, create_board, create_cards, introduce

COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "gray"]


async def test_create_board(auth_client: AsyncClient) -> None:
    response = await auth_client.post(
        "/api/boards", json={"title": "Test Board", "description": "Test Description"}
    )
    assert response.status_code == 201
    board = response.json()
    assert list(board) == [
        "id",
        "title",
        "description",
        "labels",
        "createdAt",
        "updatedAt",
        "version",
        "role",
        "columns",
        "invited",
    ]
    assert board["role"] == "owner"
    assert board["title"] == "Test Board"
    assert board["description"] == "Test Description"
    assert board["labels"] == [{"color": color, "name": ""} for color in COLORS]
    assert board["createdAt"].endswith("Z") or board["createdAt"].endswith("+00:00")


async def test_description_defaults_to_empty(auth_client: AsyncClient) -> None:
    response = await auth_client.post("/api/boards", json={"title": "Plain"})
    assert response.status_code == 201
    assert response.json()["description"] == ""


async def test_list_boards_shows_only_the_callers(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    mine = await create_board(client, alice, "Alice's")
    await create_board(client, bob, "Bob's")
    response = await client.get("/api/boards", headers=alice.headers)
    assert response.status_code == 200
    assert [board["id"] for board in response.json()] == [mine["id"]]


async def test_read_board(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice, "Read me")
    response = await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == board


async def test_outsiders_cannot_tell_a_board_exists(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, mallory = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    existing = await client.get(f"/api/boards/{board['id']}", headers=mallory.headers)
    missing = await client.get("/api/boards/424242", headers=mallory.headers)
    assert existing.status_code == missing.status_code == 404
    assert existing.json() == missing.json()
    for response in [
        await client.patch(
            f"/api/boards/{board['id']}", json={"title": "pwned"}, headers=mallory.headers
        ),
        await client.delete(f"/api/boards/{board['id']}", headers=mallory.headers),
    ]:
        assert response.status_code == 404
    after = await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    assert after.json()["title"] == board["title"]


async def test_update_title_and_description(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice, "Old", description="old")
    response = await client.patch(
        f"/api/boards/{board['id']}", json={"title": "New"}, headers=alice.headers
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "New"
    assert updated["description"] == "old"
    assert updated["updatedAt"] > board["updatedAt"]
    assert updated["createdAt"] == board["createdAt"]


async def test_rename_labels_by_color(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    response = await client.patch(
        f"/api/boards/{board['id']}",
        json={"labels": [{"color": "green", "name": "Done-ish"}, {"color": "red", "name": "Bug"}]},
        headers=alice.headers,
    )
    assert response.status_code == 200
    labels = response.json()["labels"]
    assert [label["color"] for label in labels] == COLORS
    assert {label["color"]: label["name"] for label in labels} == {
        **dict.fromkeys(COLORS, ""),
        "green": "Done-ish",
        "red": "Bug",
    }
    assert response.json()["updatedAt"] > board["updatedAt"]
    again = await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    assert again.json() == response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": None},
        {"description": "x" * 20_001},
        {"labels": [{"color": "pink", "name": "x"}]},
        {"labels": [{"color": "red"}]},
        {"labels": [{"color": "red", "name": "a"}, {"color": "red", "name": "b"}]},
        {"columns": [{"key": "TODO", "name": "a"}, {"key": "TODO", "wipLimit": 3}]},
        {"unknown": 1},
    ],
)
async def test_update_rejects_invalid_input(
    client: AsyncClient, accounts: Accounts, body: dict[str, object]
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    response = await client.patch(f"/api/boards/{board['id']}", json=body, headers=alice.headers)
    assert response.status_code == 422
    after = await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    assert after.json() == board


async def test_a_column_or_colour_named_twice_is_a_422_saying_which_list(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    for field, twice, what in [
        ("columns", [{"key": "TODO", "name": "a"}, {"key": "TODO", "wipLimit": 3}], "column"),
        ("labels", [{"color": "red", "name": "a"}, {"color": "red", "name": "b"}], "colour"),
    ]:
        response = await client.patch(
            f"/api/boards/{board['id']}", json={field: twice}, headers=alice.headers
        )
        assert response.status_code == 422
        assert [(e["loc"], e["msg"]) for e in response.json()["detail"]] == [
            (["body", field], f"must name each {what} at most once")
        ]


@pytest.mark.parametrize(
    "body", [{}, {"title": ""}, {"title": "x" * 201}, {"title": "ok", "description": None}, []]
)
async def test_create_rejects_invalid_input(
    auth_client: AsyncClient, body: dict[str, object]
) -> None:
    response = await auth_client.post("/api/boards", json=body)
    assert response.status_code == 422
    assert (await auth_client.get("/api/boards")).json() == []


async def test_delete_board_then_purge_removes_its_cards_labels_and_memberships(
    app: FastAPI, client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    keep = await create_board(client, alice, "Keep")
    cards = await create_cards(client, alice, board["id"], {"title": "a", "labels": ["red"]})
    await introduce(client, alice, bob)
    await client.put(f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers)

    response = await client.delete(f"/api/boards/{board['id']}", headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert (
        await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/cards/{cards[0]['id']}", headers=alice.headers)
    ).status_code == 404
    assert [b["id"] for b in (await client.get("/api/boards", headers=bob.headers)).json()] == []
    assert await factories.empty_trash(state_of(app).database) == 1
    async with engine.connect() as connection:
        leftovers = await connection.execute(
            text(
                "SELECT (SELECT count(*) FROM card WHERE board_id = :id),"
                " (SELECT count(*) FROM label WHERE board_id = :id),"
                " (SELECT count(*) FROM user_board WHERE board_id = :id),"
                " (SELECT count(*) FROM card_label)"
            ),
            {"id": board["id"]},
        )
        assert tuple(leftovers.one()) == (0, 0, 0, 0)
    assert (await client.get(f"/api/boards/{keep['id']}", headers=alice.headers)).status_code == 200


async def test_the_board_list_shows_each_boards_own_labels_as_they_change(
    client: AsyncClient, accounts: Accounts
) -> None:
    """Boards with the same labels share one shaped list in the board list (it is cached
    by the labels' text), so a rename must show on its board only, and at once."""
    alice = await accounts.create()
    first, second = await create_board(client, alice), await create_board(client, alice)
    listed = (await client.get("/api/boards", headers=alice.headers)).json()
    assert listed[0]["labels"] == listed[1]["labels"] == first["labels"]

    for name in ("Bug", "Bug!", ""):
        renamed = await client.patch(
            f"/api/boards/{second['id']}",
            json={"labels": [{"color": "red", "name": name}]},
            headers=alice.headers,
        )
        listed = (await client.get("/api/boards", headers=alice.headers)).json()

        assert [board["labels"] for board in listed] == [first["labels"], renamed.json()["labels"]]
        assert {label["color"]: label["name"] for label in listed[1]["labels"]}["red"] == name
