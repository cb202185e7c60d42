"""Sharing with someone the owner never found by email is an invitation until they accept.

The invited user has the role's access to the board addressed by id, but nobody on the
board learns their email, and the board stays out of their own board list, until they
accept; they may decline instead, and the owner may withdraw it.
"""

from typing import Any

from httpx import AsyncClient, Response

from tests.helpers import (
    Account,
    Accounts,
    board_events,
    create_board,
    create_cards,
    detail,
    introduce,
)


async def invite(
    client: AsyncClient, owner: Account, board_id: int, user_id: int, role: str | None = None
) -> Response:
    """PUT the membership by bare id, without finding the user by email first."""
    return await client.put(
        f"/api/boards/{board_id}/users/{user_id}",
        headers=owner.headers,
        json=None if role is None else {"role": role},
    )


async def invited(
    client: AsyncClient, accounts: Accounts, role: str | None = None, title: str = "Board"
) -> tuple[Account, Account, dict[str, Any]]:
    """An owner, their new board, and a user they invited to it by bare id."""
    owner, guest = await accounts.create(), await accounts.create()
    board = await create_board(client, owner, title)
    response = await invite(client, owner, board["id"], guest.id, role)
    assert response.status_code == 202, response.text
    return owner, guest, board


async def board_ids(client: AsyncClient, account: Account) -> list[int]:
    return [
        board["id"] for board in (await client.get("/api/boards", headers=account.headers)).json()
    ]


async def get(client: AsyncClient, account: Account, path: str) -> Any:
    response = await client.get(path, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_sharing_with_a_stranger_invites_them_without_their_email(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, guest = await accounts.create(), await accounts.create()
    board = await create_board(client, owner, "Roadmap")
    response = await invite(client, owner, board["id"], guest.id, "viewer")
    assert response.status_code == 202
    assert response.json() == {"id": guest.id, "role": "viewer", "status": "invited"}
    assert await board_ids(client, guest) == []
    members = await get(client, owner, f"/api/boards/{board['id']}/users")
    assert [member["id"] for member in members] == [owner.id]
    events = await board_events(client, owner, board["id"])
    assert [(event["type"], event["data"]) for event in events] == [
        ("member.invited", {"id": guest.id, "role": "viewer", "status": "invited"})
    ]
    assert guest.email not in str(events)


async def test_an_id_nobody_has_is_still_not_found(client: AsyncClient, accounts: Accounts) -> None:
    owner, guest = await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    response = await invite(client, owner, board["id"], guest.id + 1000)
    assert (response.status_code, detail(response)) == (404, "User not found")
    assert await get(client, owner, f"/api/boards/{board['id']}/invitations") == []


async def test_the_invited_user_has_the_roles_access_by_id(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, editor, viewer = [await accounts.create() for _ in range(3)]
    board = await create_board(client, owner)
    await invite(client, owner, board["id"], editor.id, "editor")
    await invite(client, owner, board["id"], viewer.id, "viewer")
    read = await get(client, viewer, f"/api/boards/{board['id']}")
    assert (read["role"], read["invited"]) == ("viewer", True)
    created = await client.post(
        f"/api/boards/{board['id']}/cards", json=[{"title": "From a guest"}], headers=editor.headers
    )
    assert created.status_code == 201
    refused = await client.post(
        f"/api/boards/{board['id']}/cards", json=[{"title": "No"}], headers=viewer.headers
    )
    assert refused.status_code == 403


async def test_a_role_change_or_acceptance_gives_the_invited_user_a_new_etag(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, guest, board = await invited(client, accounts, "editor")
    path = f"/api/boards/{board['id']}"
    cached = await client.get(path, headers=guest.headers)
    changed = await invite(client, owner, board["id"], guest.id, "viewer")
    assert changed.status_code == 202
    assert changed.json()["role"] == "viewer"
    again = await client.get(
        path, headers={**guest.headers, "If-None-Match": cached.headers["ETag"]}
    )
    assert (again.status_code, again.json()["role"]) == (200, "viewer")
    accepted = await client.post(f"/api/invitations/{board['id']}/accept", headers=guest.headers)
    assert accepted.headers["ETag"] != again.headers["ETag"]
    after = await client.get(
        path, headers={**guest.headers, "If-None-Match": again.headers["ETag"]}
    )
    assert (after.status_code, after.json()["invited"]) == (200, False)
    assert after.headers["ETag"] == accepted.headers["ETag"]


async def test_sharing_again_without_a_role_changes_nothing(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, guest, board = await invited(client, accounts, "viewer")
    again = await invite(client, owner, board["id"], guest.id)
    assert again.json() == {"id": guest.id, "role": "viewer", "status": "invited"}
    events = await board_events(client, owner, board["id"])
    assert [event["type"] for event in events] == ["member.invited"]


async def test_the_invited_user_lists_and_accepts_their_invitations(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, guest, board = await invited(client, accounts, "editor", title="Launch")
    (invitation,) = await get(client, guest, "/api/invitations")
    assert invitation.keys() == {"boardId", "title", "role", "invitedAt"}
    assert (invitation["boardId"], invitation["title"], invitation["role"]) == (
        board["id"],
        "Launch",
        "editor",
    )
    (pending,) = await get(client, owner, f"/api/boards/{board['id']}/invitations")
    assert pending == {"userId": guest.id, "role": "editor", "invitedAt": invitation["invitedAt"]}
    accepted = await client.post(f"/api/invitations/{board['id']}/accept", headers=guest.headers)
    assert accepted.status_code == 200
    assert (accepted.json()["id"], accepted.json()["role"]) == (board["id"], "editor")
    assert accepted.json()["invited"] is False
    assert await board_ids(client, guest) == [board["id"]]
    assert await get(client, guest, "/api/invitations") == []
    assert await get(client, owner, f"/api/boards/{board['id']}/invitations") == []
    members = await get(client, owner, f"/api/boards/{board['id']}/users")
    assert {"id": guest.id, "email": guest.email, "role": "editor"} in members
    events = await board_events(client, owner, board["id"])
    assert (events[-1]["type"], events[-1]["data"], events[-1]["actorId"]) == (
        "member.added",
        {"id": guest.id, "email": guest.email, "role": "editor"},
        guest.id,
    )
    again = await client.post(f"/api/invitations/{board['id']}/accept", headers=guest.headers)
    assert again.status_code == 200
    assert len(await board_events(client, owner, board["id"])) == len(events)


async def test_declining_removes_the_membership(client: AsyncClient, accounts: Accounts) -> None:
    owner, guest, board = await invited(client, accounts)
    declined = await client.delete(f"/api/invitations/{board['id']}", headers=guest.headers)
    assert declined.status_code == 204
    gone = await client.get(f"/api/boards/{board['id']}", headers=guest.headers)
    assert gone.status_code == 404
    assert await get(client, owner, f"/api/boards/{board['id']}/invitations") == []
    events = await board_events(client, owner, board["id"])
    assert [(event["type"], event["data"], event["actorId"]) for event in events][-1] == (
        "member.removed",
        {"id": guest.id},
        guest.id,
    )
    twice = await client.delete(f"/api/invitations/{board['id']}", headers=guest.headers)
    assert twice.status_code == 404


async def test_a_joined_board_is_left_not_declined(client: AsyncClient, accounts: Accounts) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    response = await client.delete(f"/api/invitations/{board['id']}", headers=owner.headers)
    assert response.status_code == 404
    assert await board_ids(client, owner) == [board["id"]]


async def test_the_owner_withdraws_an_invitation(client: AsyncClient, accounts: Accounts) -> None:
    owner, guest, board = await invited(client, accounts)
    withdrawn = await client.delete(
        f"/api/boards/{board['id']}/users/{guest.id}", headers=owner.headers
    )
    assert withdrawn.status_code == 204
    assert await get(client, guest, "/api/invitations") == []
    gone = await client.post(f"/api/invitations/{board['id']}/accept", headers=guest.headers)
    assert gone.status_code == 404


async def test_invited_users_cannot_be_assigned(client: AsyncClient, accounts: Accounts) -> None:
    owner, guest, board = await invited(client, accounts, "editor")
    (card,) = await create_cards(client, owner, board["id"], {"title": "Task"})
    for account in (owner, guest):
        response = await client.patch(
            f"/api/cards/{card['id']}", json={"assigneeIds": [guest.id]}, headers=account.headers
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "assigneeIds"]
    await client.post(f"/api/invitations/{board['id']}/accept", headers=guest.headers)
    assigned = await client.patch(
        f"/api/cards/{card['id']}", json={"assigneeIds": [guest.id]}, headers=owner.headers
    )
    assert assigned.json()["assigneeIds"] == [guest.id]


async def test_an_invitation_introduces_nobody(client: AsyncClient, accounts: Accounts) -> None:
    """Neither side learns the other's email, so neither may add the other elsewhere."""
    owner, guest, _ = await invited(client, accounts)
    guests_board = await create_board(client, guest)
    back = await invite(client, guest, guests_board["id"], owner.id)
    assert back.status_code == 202
    other = await create_board(client, owner)
    assert (await invite(client, owner, other["id"], guest.id)).status_code == 202
    assert await board_ids(client, guest) == [guests_board["id"]]


async def test_an_invited_user_found_by_email_since_joins_when_shared_again(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, guest, board = await invited(client, accounts, "viewer")
    await introduce(client, owner, guest)
    shared = await invite(client, owner, board["id"], guest.id)
    assert (shared.status_code, shared.json()) == (
        200,
        {"id": guest.id, "email": guest.email, "role": "viewer"},
    )
    assert await board_ids(client, guest) == [board["id"]]
    assert (await board_events(client, owner, board["id"]))[-1]["type"] == "member.added"


async def test_an_invited_owner_does_not_count_as_the_boards_owner(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner, guest, board = await invited(client, accounts, "owner")
    leaving = await client.delete(
        f"/api/boards/{board['id']}/users/{owner.id}", headers=owner.headers
    )
    assert leaving.status_code == 409
    declined = await client.delete(f"/api/invitations/{board['id']}", headers=guest.headers)
    assert declined.status_code == 204
