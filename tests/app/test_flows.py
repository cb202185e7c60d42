"""The seed web client's whole journey, end to end, as one story."""

from httpx import AsyncClient

from tests.helpers import Accounts


async def test_two_people_share_a_board(client: AsyncClient, accounts: Accounts) -> None:
    signup = await client.post(
        "/api/users", json={"email": "ann@example.com", "password": "ann password"}
    )
    assert signup.status_code == 201
    login = await client.post(
        "/api/auth/tokens", data={"username": "ann@example.com", "password": "ann password"}
    )
    ann = {"Authorization": f"Bearer {login.json()['access_token']}"}
    ben = await accounts.create("ben@example.com")

    board = (await client.post("/api/boards", json={"title": "Launch"}, headers=ann)).json()
    cards = await client.post(
        f"/api/boards/{board['id']}/cards",
        json=[
            {"title": "Write copy", "labels": ["blue"]},
            {"title": "Fix bug", "column": "TODO", "labels": ["red", "orange"]},
        ],
        headers=ann,
    )
    assert cards.status_code == 201
    write_copy, fix_bug = cards.json()

    renamed = await client.patch(
        f"/api/boards/{board['id']}",
        json={"labels": [{"color": "red", "name": "Bug"}]},
        headers=ann,
    )
    assert renamed.json()["labels"][0] == {"color": "red", "name": "Bug"}

    moved = await client.patch(f"/api/cards/{fix_bug['id']}", json={"column": "DOING"}, headers=ann)
    assert moved.json()["column"] == "DOING"

    found = await client.post("/api/users/search", json={"email": "BEN@example.com"}, headers=ann)
    shared = await client.put(f"/api/boards/{board['id']}/users/{found.json()['id']}", headers=ann)
    assert shared.status_code == 200

    bens_boards = (await client.get("/api/boards", headers=ben.headers)).json()
    assert [b["title"] for b in bens_boards] == ["Launch"]
    bens_cards = (await client.get(f"/api/boards/{board['id']}/cards", headers=ben.headers)).json()
    assert {card["title"]: card["column"] for card in bens_cards} == {
        "Write copy": "BACKLOG",
        "Fix bug": "DOING",
    }

    unshared = await client.delete(f"/api/boards/{board['id']}/users/{ben.id}", headers=ann)
    assert unshared.status_code == 204
    assert (await client.get("/api/boards", headers=ben.headers)).json() == []

    deleted = await client.delete(f"/api/boards/{board['id']}", headers=ann)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/cards/{write_copy['id']}", headers=ann)).status_code == 404
    assert (await client.get("/api/boards", headers=ann)).json() == []
