"""Nobody learns another account's email, or pushes a board on them, by walking user ids."""

from httpx import AsyncClient

from tests.helpers import Accounts, create_board, detail, introduce


async def test_sharing_with_an_unknown_users_id_reveals_no_email_and_joins_nobody(
    client: AsyncClient, accounts: Accounts
) -> None:
    mallory, victim = await accounts.create(), await accounts.create()
    board = await create_board(client, mallory)
    walked = {}
    for user_id in (victim.id, victim.id + 1000):  # an existing account, and no account
        response = await client.put(
            f"/api/boards/{board['id']}/users/{user_id}",
            json={"role": "viewer"},
            headers=mallory.headers,
        )
        walked[user_id] = (response.status_code, response.json())
    # The account is only invited (tests/boards/test_invitations.py), without its email.
    assert walked[victim.id] == (202, {"id": victim.id, "role": "viewer", "status": "invited"})
    assert walked[victim.id + 1000] == (404, {"detail": "User not found"})
    assert victim.email not in str(walked)
    boards = await client.get("/api/boards", headers=victim.headers)
    assert boards.json() == []


async def test_sharing_works_with_a_user_found_by_email(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    found = await client.post(
        "/api/users/search", json={"email": bob.email.upper()}, headers=alice.headers
    )
    assert found.json() == {"id": bob.id, "email": bob.email}
    shared = await client.put(f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers)
    assert shared.status_code == 200
    assert [b["id"] for b in (await client.get("/api/boards", headers=bob.headers)).json()] == [
        board["id"]
    ]


async def test_a_search_by_someone_else_does_not_let_you_add_them(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob, mallory = [await accounts.create() for _ in range(3)]
    await introduce(client, alice, bob)
    board = await create_board(client, mallory)
    response = await client.put(
        f"/api/boards/{board['id']}/users/{bob.id}", headers=mallory.headers
    )
    assert (response.status_code, response.json()["status"]) == (202, "invited")
    missing = await client.post(
        "/api/users/search", json={"email": "nobody@example.com"}, headers=mallory.headers
    )
    assert missing.status_code == 404
    assert detail(missing) == "User not found"


async def test_sharing_works_with_someone_who_already_shares_a_board(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob, carol = [await accounts.create() for _ in range(3)]
    team = await create_board(client, alice)
    for member in (bob, carol):
        await introduce(client, alice, member)
        await client.put(f"/api/boards/{team['id']}/users/{member.id}", headers=alice.headers)
    # Bob sees Carol in the team's member list, so he may share his own board with her.
    own = await create_board(client, bob)
    shared = await client.put(f"/api/boards/{own['id']}/users/{carol.id}", headers=bob.headers)
    assert shared.status_code == 200
    assert shared.json() == {"id": carol.id, "email": carol.email, "role": "editor"}
