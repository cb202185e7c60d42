"""Roles on memberships: sharing with a role, changing it, leaving, and the last owner."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.models import Board, Membership, Role
from tests.helpers import (
    Account,
    Accounts,
    Boards,
    add_member,
    create_board,
    create_cards,
    create_comment,
    detail,
    introduce,
    share,
    until_a_request_waits_for_a_lock,
)


async def members(client: AsyncClient, account: Account, board_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/boards/{board_id}/users", headers=account.headers)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def role_of(client: AsyncClient, account: Account, board_id: int) -> str:
    response = await client.get(f"/api/boards/{board_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    role: str = response.json()["role"]
    return role


async def test_creator_is_owner_and_each_member_sees_their_own_role(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    assert board["role"] == "owner"
    await add_member(client, alice, board["id"], bob, "viewer")

    assert await role_of(client, alice, board["id"]) == "owner"
    assert await role_of(client, bob, board["id"]) == "viewer"
    response = await client.get("/api/boards", headers=bob.headers)
    assert [(listed["id"], listed["role"]) for listed in response.json()] == [
        (board["id"], "viewer")
    ]


async def test_members_are_listed_with_their_roles(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob, carol = [await accounts.create() for _ in range(3)]
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "viewer")
    await add_member(client, alice, board["id"], carol, "owner")
    assert await members(client, bob, board["id"]) == [
        {"id": alice.id, "email": alice.email, "role": "owner"},
        {"id": bob.id, "email": bob.email, "role": "viewer"},
        {"id": carol.id, "email": carol.email, "role": "owner"},
    ]


async def test_sharing_without_a_role_adds_an_editor_and_keeps_an_existing_role(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)

    response = await share(client, alice, board["id"], bob.id)
    assert response.status_code == 200
    assert response.json() == {"id": bob.id, "email": bob.email, "role": "editor"}

    response = await share(client, alice, board["id"], bob.id, "viewer")
    assert response.json()["role"] == "viewer"
    # The seed's clients share without a body; doing so again must not promote anyone.
    assert (await share(client, alice, board["id"], bob.id)).json()["role"] == "viewer"
    await introduce(client, alice, bob)
    response = await client.put(
        f"/api/boards/{board['id']}/users/{bob.id}", json={}, headers=alice.headers
    )
    assert response.json()["role"] == "viewer"
    assert await role_of(client, bob, board["id"]) == "viewer"


@pytest.mark.parametrize("body", [{"role": "admin"}, {"role": None}, {"rank": "viewer"}, []])
async def test_invalid_share_bodies_are_rejected(
    client: AsyncClient, accounts: Accounts, body: Any
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await introduce(client, alice, bob)
    response = await client.put(
        f"/api/boards/{board['id']}/users/{bob.id}", json=body, headers=alice.headers
    )
    assert response.status_code == 422
    assert await members(client, alice, board["id"]) == [
        {"id": alice.id, "email": alice.email, "role": "owner"}
    ]


async def test_the_last_owner_can_neither_leave_nor_step_down(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "editor")
    board_users = f"/api/boards/{board['id']}/users"

    response = await client.delete(f"{board_users}/{alice.id}", headers=alice.headers)
    assert response.status_code == 409
    assert "owner" in detail(response)
    response = await share(client, alice, board["id"], alice.id, "editor")
    assert response.status_code == 409
    assert await role_of(client, alice, board["id"]) == "owner"

    # With a second owner, either may step down or leave, but not both.
    await add_member(client, alice, board["id"], bob, "owner")
    response = await share(client, alice, board["id"], alice.id, "viewer")
    assert response.status_code == 200
    response = await client.delete(f"{board_users}/{bob.id}", headers=bob.headers)
    assert response.status_code == 409
    response = await share(client, bob, board["id"], bob.id, "editor")
    assert response.status_code == 409
    assert await role_of(client, bob, board["id"]) == "owner"


async def test_an_owner_may_remove_another_owner(
    client: AsyncClient, accounts: Accounts, boards: Boards
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await boards.create(alice, {"owner": bob})
    response = await client.delete(f"/api/boards/{board.id}/users/{alice.id}", headers=bob.headers)
    assert response.status_code == 204
    response = await client.get(f"/api/boards/{board.id}", headers=alice.headers)
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["editor", "viewer"])
async def test_any_member_may_leave(
    client: AsyncClient, accounts: Accounts, boards: Boards, role: str
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await boards.create(alice, {role: bob})
    response = await client.delete(f"/api/boards/{board.id}/users/{bob.id}", headers=bob.headers)
    assert response.status_code == 204
    assert [member["id"] for member in await members(client, alice, board.id)] == [alice.id]
    response = await client.get(f"/api/boards/{board.id}", headers=bob.headers)
    assert response.status_code == 404


async def test_removing_a_non_member_is_404_and_changes_nothing(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    response = await client.delete(
        f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers
    )
    assert response.status_code == 404
    response = await share(client, alice, board["id"], 2**31 - 1)
    assert response.status_code == 404


async def test_a_member_who_leaves_is_unassigned_from_that_boards_cards_only(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    first, second = await create_board(client, alice), await create_board(client, alice)
    for board in (first, second):
        await add_member(client, alice, board["id"], bob, "editor")
    assigned = {"title": "Shared work", "assigneeIds": [alice.id, bob.id]}
    (left_card,) = await create_cards(client, alice, first["id"], assigned)
    (kept_card,) = await create_cards(client, alice, second["id"], assigned)

    response = await client.delete(f"/api/boards/{first['id']}/users/{bob.id}", headers=bob.headers)
    assert response.status_code == 204

    response = await client.get(f"/api/cards/{left_card['id']}", headers=alice.headers)
    assert response.json()["assigneeIds"] == [alice.id]
    assert response.json()["updatedAt"] > left_card["updatedAt"]
    response = await client.get(f"/api/cards/{kept_card['id']}", headers=alice.headers)
    assert response.json()["assigneeIds"] == [alice.id, bob.id]
    # Sharing again does not bring the assignments back.
    await add_member(client, alice, first["id"], bob, "editor")
    response = await client.get(f"/api/cards/{left_card['id']}", headers=alice.headers)
    assert response.json()["assigneeIds"] == [alice.id]


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "owner")
    for _ in range(3):  # a race: more rounds, more chances to catch a wrong interleaving
        responses = await asyncio.gather(
            share(client, alice, board["id"], bob.id, "editor"),
            share(client, bob, board["id"], alice.id, "editor"),
        )
        # The loser finds itself the last owner (409), or already demoted (403).
        assert sorted(response.status_code for response in responses) in ([200, 403], [200, 409])
        listed = await members(client, alice, board["id"])
        assert sorted(member["role"] for member in listed) == ["editor", "owner"]
        (owner,) = [
            alice if member["id"] == alice.id else bob
            for member in listed
            if member["role"] == "owner"
        ]
        demoted = bob if owner is alice else alice
        await add_member(client, owner, board["id"], demoted, "owner")


# Demoted while the request waits for the board: the route, the role demoted from and to.
RACES = {
    "create cards": ("POST", "/api/boards/{board}/cards", [{"title": "c"}], "editor", "viewer"),
    "comment": ("POST", "/api/cards/{card}/comments", {"body": "hi"}, "editor", "viewer"),
    "share": ("PUT", "/api/boards/{board}/users/{other}", {"role": "editor"}, "owner", "editor"),
    "unshare": ("DELETE", "/api/boards/{board}/users/{other}", None, "owner", "editor"),
    "delete board": ("DELETE", "/api/boards/{board}", None, "owner", "editor"),
    "edit card": ("PATCH", "/api/cards/{card}", {"title": "x"}, "editor", "viewer"),
    "edit comment": ("PATCH", "/api/comments/{comment}", {"body": "x"}, "editor", "viewer"),
}


@pytest.mark.parametrize("race", RACES.values(), ids=RACES.keys())
async def test_a_role_changed_while_a_write_waits_is_the_one_checked(
    client: AsyncClient,
    accounts: Accounts,
    engine: AsyncEngine,
    race: tuple[str, str, Any, str, str],
) -> None:
    """A writer that committed a role change while this request queued for the board
    wins: the request is judged by the new role (403), not the one it started with."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: nothing to overtake")
    method, path, body, before, after = race
    owner, member, other = await accounts.create(), await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "card"})
    await add_member(client, owner, board["id"], member, before)
    await add_member(client, owner, board["id"], other, "viewer")
    comment = await create_comment(client, member, card["id"])
    url = path.format(board=board["id"], card=card["id"], other=other.id, comment=comment["id"])

    async with engine.connect() as writer:
        # A concurrent writer: holds the board, as every writer does, and demotes the member.
        await writer.execute(
            select(Board.id).where(Board.id == board["id"]).with_for_update(key_share=True)
        )
        await writer.execute(
            update(Membership)
            .where(Membership.board_id == board["id"], Membership.user_id == member.id)
            .values(role=Role(after))
        )
        request = asyncio.create_task(
            client.request(method, url, json=body, headers=member.headers)
        )
        await until_a_request_waits_for_a_lock(engine)
        await writer.commit()
    response = await request

    assert response.status_code == 403, response.text
    assert await role_of(client, member, board["id"]) == after
    assert {m["id"] for m in await members(client, owner, board["id"])} >= {other.id}
