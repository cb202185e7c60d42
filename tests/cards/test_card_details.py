"""Due dates, assignees and the archived flag on cards."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers import (
    CARD_FIELDS,
    Account,
    Accounts,
    add_member,
    create_board,
    create_cards,
    detail,
)


async def patch_card(
    client: AsyncClient, account: Account, card_id: int, **changes: Any
) -> dict[str, Any]:
    response = await client.patch(f"/api/cards/{card_id}", json=changes, headers=account.headers)
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()
    return card


async def test_new_fields_have_defaults_and_come_last(auth_client: AsyncClient) -> None:
    board = (await auth_client.post("/api/boards", json={"title": "B"})).json()
    response = await auth_client.post(f"/api/boards/{board['id']}/cards", json=[{"title": "T"}])
    (card,) = response.json()
    assert list(card) == CARD_FIELDS
    assert (card["dueAt"], card["assigneeIds"], card["archived"]) == (None, [], False)


async def test_due_dates_are_stored_and_answered_in_utc(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(
        client, alice, board["id"], {"title": "T", "dueAt": "2030-01-01T12:30:00+02:00"}
    )
    assert card["dueAt"] == "2030-01-01T10:30:00Z"
    response = await client.get(f"/api/cards/{card['id']}", headers=alice.headers)
    assert response.json()["dueAt"] == "2030-01-01T10:30:00Z"

    card = await patch_card(client, alice, card["id"], due_at="2031-06-01T00:00:00Z")
    assert card["dueAt"] == "2031-06-01T00:00:00Z"
    card = await patch_card(client, alice, card["id"], title="Renamed")
    assert card["dueAt"] == "2031-06-01T00:00:00Z"
    card = await patch_card(client, alice, card["id"], dueAt=None)
    assert card["dueAt"] is None


@pytest.mark.parametrize(
    "due_at",
    [
        "2030-01-01T12:00:00",  # naive: which zone? refused rather than guessed
        "9999-12-31T23:00:00-05:00",  # past year 9999 in UTC
        "tomorrow",
        "2030-13-01T00:00:00Z",
    ],
)
async def test_bad_due_dates_are_422(client: AsyncClient, accounts: Accounts, due_at: Any) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(client, alice, board["id"], {"title": "T"})
    response = await client.post(
        f"/api/boards/{board['id']}/cards",
        json=[{"title": "T", "dueAt": due_at}],
        headers=alice.headers,
    )
    assert response.status_code == 422
    response = await client.patch(
        f"/api/cards/{card['id']}", json={"dueAt": due_at}, headers=alice.headers
    )
    assert response.status_code == 422


async def test_archiving_a_card(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(client, alice, board["id"], {"title": "T", "archived": True})
    assert card["archived"] is True
    card = await patch_card(client, alice, card["id"], archived=False)
    assert card["archived"] is False
    response = await client.patch(
        f"/api/cards/{card['id']}", json={"archived": None}, headers=alice.headers
    )
    assert response.status_code == 422


async def test_assignees_are_members_sorted_and_deduplicated(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob, carol = [await accounts.create() for _ in range(3)]
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "viewer")
    await add_member(client, alice, board["id"], carol, "editor")
    (card,) = await create_cards(
        client, alice, board["id"], {"title": "T", "assigneeIds": [carol.id, alice.id, carol.id]}
    )
    assert card["assigneeIds"] == sorted([alice.id, carol.id])

    changed = await patch_card(client, alice, card["id"], assigneeIds=[bob.id, carol.id])
    assert changed["assigneeIds"] == sorted([bob.id, carol.id])
    assert changed["updatedAt"] > card["updatedAt"]
    response = await client.get(f"/api/cards/{card['id']}", headers=bob.headers)
    assert response.json()["assigneeIds"] == sorted([bob.id, carol.id])
    unchanged = await patch_card(client, alice, card["id"], assigneeIds=[carol.id, bob.id])
    assert unchanged["updatedAt"] == changed["updatedAt"]

    cleared = await patch_card(client, alice, card["id"], assignee_ids=[])
    assert cleared["assigneeIds"] == []


async def test_only_members_can_be_assigned(client: AsyncClient, accounts: Accounts) -> None:
    alice, outsider = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(client, alice, board["id"], {"title": "T"})

    response = await client.post(
        f"/api/boards/{board['id']}/cards",
        json=[{"title": "Fine"}, {"title": "Bad", "assigneeIds": [alice.id, outsider.id]}],
        headers=alice.headers,
    )
    assert response.status_code == 422
    (error,) = detail(response)
    assert error["loc"] == ["body", 1, "assigneeIds"]
    assert str(outsider.id) in error["msg"]
    # All or nothing: the valid card of the batch was not created either.
    response = await client.get(f"/api/boards/{board['id']}/cards", headers=alice.headers)
    assert [listed["id"] for listed in response.json()] == [card["id"]]

    for ids in ([outsider.id], [2**31 - 1]):
        response = await client.patch(
            f"/api/cards/{card['id']}", json={"assigneeIds": ids}, headers=alice.headers
        )
        assert response.status_code == 422
        assert detail(response)[0]["loc"] == ["body", "assigneeIds"]
    response = await client.get(f"/api/cards/{card['id']}", headers=alice.headers)
    assert response.json()["assigneeIds"] == []


@pytest.mark.parametrize("ids", [[0], [2**40], ["me"], None, list(range(1, 102))])
async def test_malformed_assignee_lists_are_422(
    client: AsyncClient, accounts: Accounts, ids: Any
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(client, alice, board["id"], {"title": "T"})
    response = await client.patch(
        f"/api/cards/{card['id']}", json={"assigneeIds": ids}, headers=alice.headers
    )
    assert response.status_code == 422
