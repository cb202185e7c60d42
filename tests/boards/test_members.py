"""Sharing a board with other users and taking it back."""

from httpx import AsyncClient

from tests.helpers import Accounts, create_board, introduce


async def test_share_and_list_members(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await introduce(client, alice, bob)
    response = await client.put(f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == {"id": bob.id, "email": bob.email, "role": "editor"}
    members = await client.get(f"/api/boards/{board['id']}/users", headers=bob.headers)
    assert members.status_code == 200
    assert members.json() == [
        {"id": alice.id, "email": alice.email, "role": "owner"},
        {"id": bob.id, "email": bob.email, "role": "editor"},
    ]
    assert [b["id"] for b in (await client.get("/api/boards", headers=bob.headers)).json()] == [
        board["id"]
    ]


async def test_sharing_is_idempotent(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    for _ in range(2):
        await introduce(client, alice, bob)
        response = await client.put(
            f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers
        )
        assert response.status_code == 200
    members = await client.get(f"/api/boards/{board['id']}/users", headers=alice.headers)
    assert len(members.json()) == 2


async def test_share_with_unknown_user_or_board(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    unknown_user = await client.put(
        f"/api/boards/{board['id']}/users/999999", headers=alice.headers
    )
    assert unknown_user.status_code == 404
    await introduce(client, alice, bob)
    unknown_board = await client.put(f"/api/boards/999999/users/{bob.id}", headers=alice.headers)
    assert unknown_board.status_code == 404


async def test_outsiders_cannot_share_or_list(client: AsyncClient, accounts: Accounts) -> None:
    alice, mallory = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    share = await client.put(
        f"/api/boards/{board['id']}/users/{mallory.id}", headers=mallory.headers
    )
    listing = await client.get(f"/api/boards/{board['id']}/users", headers=mallory.headers)
    unshare = await client.delete(
        f"/api/boards/{board['id']}/users/{alice.id}", headers=mallory.headers
    )
    assert [share.status_code, listing.status_code, unshare.status_code] == [404, 404, 404]
    members = await client.get(f"/api/boards/{board['id']}/users", headers=alice.headers)
    assert [member["id"] for member in members.json()] == [alice.id]


async def test_unshare(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await introduce(client, alice, bob)
    await client.put(f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers)
    response = await client.delete(
        f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers
    )
    assert response.status_code == 204
    assert (await client.get(f"/api/boards/{board['id']}", headers=bob.headers)).status_code == 404
    assert (await client.get("/api/boards", headers=bob.headers)).json() == []
    again = await client.delete(f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers)
    assert again.status_code == 404
