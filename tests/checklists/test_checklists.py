"""Checklists on cards (issue 19): items in order, their counts on the card, roles, events."""

from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import (
    Account,
    Accounts,
    add_member,
    board_events,
    create_board,
    create_cards,
    list_cards,
    recorded_statements,
)

ITEM_FIELDS = ["id", "cardId", "text", "done", "position", "createdAt", "updatedAt"]


async def add_item(
    client: AsyncClient, account: Account, card_id: int, text: str, **fields: object
) -> Response:
    return await client.post(
        f"/api/cards/{card_id}/checklist", json={"text": text, **fields}, headers=account.headers
    )


async def texts(client: AsyncClient, account: Account, card_id: int) -> list[str]:
    response = await client.get(f"/api/cards/{card_id}/checklist", headers=account.headers)
    assert response.status_code == 200, response.text
    items = response.json()
    assert [item["position"] for item in items] == list(range(len(items)))
    return [item["text"] for item in items]


async def card_with_items(
    client: AsyncClient, account: Account, *items: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    board = await create_board(client, account)
    (card,) = await create_cards(client, account, board["id"], {"title": "Card"})
    added = []
    for text in items:
        response = await add_item(client, account, card["id"], text)
        assert response.status_code == 201, response.text
        added.append(response.json())
    return card, added


async def test_items_are_added_in_order_and_counted_on_the_card(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    card, (first, second) = await card_with_items(client, alice, "one", "two")
    assert list(first) == ITEM_FIELDS
    assert first["cardId"] == card["id"]
    assert first["done"] is False
    response = await add_item(client, alice, card["id"], "zero", afterId=None)
    assert response.status_code == 201
    await add_item(client, alice, card["id"], "one and a half", afterId=first["id"])
    assert await texts(client, alice, card["id"]) == ["zero", "one", "one and a half", "two"]
    response = await client.patch(
        f"/api/checklist-items/{second['id']}", json={"done": True}, headers=alice.headers
    )
    assert response.status_code == 200
    assert response.json()["done"] is True
    read = (await client.get(f"/api/cards/{card['id']}", headers=alice.headers)).json()
    assert read["checklist"] == {"done": 1, "total": 4}
    assert read["version"] > card["version"]
    (listed,) = await list_cards(client, alice, card["boardId"])
    assert listed["checklist"] == {"done": 1, "total": 4}
    assert card["checklist"] == {"done": 0, "total": 0}


async def test_items_are_edited_reordered_and_deleted(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    card, (a, b, c) = await card_with_items(client, alice, "a", "b", "c")
    url = "/api/checklist-items/{}"
    response = await client.patch(
        url.format(c["id"]), json={"afterId": None}, headers=alice.headers
    )
    assert response.json()["position"] == 0
    await client.patch(url.format(a["id"]), json={"afterId": b["id"]}, headers=alice.headers)
    await client.patch(url.format(b["id"]), json={"text": "bee"}, headers=alice.headers)
    assert await texts(client, alice, card["id"]) == ["c", "bee", "a"]
    response = await client.delete(url.format(c["id"]), headers=alice.headers)
    assert response.status_code == 204
    assert await texts(client, alice, card["id"]) == ["bee", "a"]
    read = (await client.get(f"/api/cards/{card['id']}", headers=alice.headers)).json()
    assert read["checklist"] == {"done": 0, "total": 2}
    assert (await client.delete(url.format(c["id"]), headers=alice.headers)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": " "},
        {"text": "x" * 501},
        {"text": None},
        {"done": "yes"},
        {"afterId": 999999},
        {"afterId": "1"},
        {"colour": "red"},
    ],
)
async def test_bad_item_input_is_refused_and_changes_nothing(
    client: AsyncClient, accounts: Accounts, body: dict[str, Any]
) -> None:
    alice = await accounts.create()
    card, (item,) = await card_with_items(client, alice, "keep")
    response = await client.patch(
        f"/api/checklist-items/{item['id']}", json=body, headers=alice.headers
    )
    assert response.status_code == 422, response.text
    created = await add_item(client, alice, card["id"], **{"text": "new", **body})
    assert created.status_code == 422, created.text
    assert await texts(client, alice, card["id"]) == ["keep"]


async def test_an_item_of_another_card_is_no_anchor(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    card, _ = await card_with_items(client, alice, "mine")
    _, (foreign,) = await card_with_items(client, alice, "theirs")
    response = await add_item(client, alice, card["id"], "x", afterId=foreign["id"])
    assert response.status_code == 422


async def test_a_card_holds_at_most_100_items(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    card, _ = await card_with_items(client, alice, *(f"item {i}" for i in range(100)))
    response = await add_item(client, alice, card["id"], "one too many")
    assert response.status_code == 409
    assert len(await texts(client, alice, card["id"])) == 100


async def test_viewers_read_editors_write_outsiders_get_404(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, vera, eddie, mallory = [await accounts.create() for _ in range(4)]
    card, (item,) = await card_with_items(client, alice, "task")
    await add_member(client, alice, card["boardId"], vera, "viewer")
    await add_member(client, alice, card["boardId"], eddie, "editor")
    assert await texts(client, vera, card["id"]) == ["task"]
    assert (await add_item(client, vera, card["id"], "no")).status_code == 403
    url = f"/api/checklist-items/{item['id']}"
    assert (await client.patch(url, json={"done": True}, headers=vera.headers)).status_code == 403
    assert (await client.delete(url, headers=vera.headers)).status_code == 403
    assert (await add_item(client, eddie, card["id"], "yes")).status_code == 201
    assert (await client.patch(url, json={"done": True}, headers=eddie.headers)).status_code == 200
    for response in [
        await client.get(f"/api/cards/{card['id']}/checklist", headers=mallory.headers),
        await add_item(client, mallory, card["id"], "no"),
        await client.patch(url, json={"done": False}, headers=mallory.headers),
        await client.delete(url, headers=mallory.headers),
    ]:
        assert response.status_code == 404


async def test_checklist_changes_reach_the_change_feed(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    card, (item,) = await card_with_items(client, alice, "task")
    url = f"/api/checklist-items/{item['id']}"
    await client.patch(url, json={"text": "renamed"}, headers=alice.headers)
    await client.patch(url, json={"text": "renamed"}, headers=alice.headers)  # no change
    await client.delete(url, headers=alice.headers)
    events = await board_events(client, alice, card["boardId"])
    assert [event["type"] for event in events] == [
        "card.created",
        "checklist.item_created",
        "card.updated",
        "checklist.item_updated",
        "checklist.item_deleted",
        "card.updated",
    ]
    assert events[1]["data"] == item
    assert events[2]["data"]["checklist"] == {"done": 0, "total": 1}
    assert events[4]["data"] == {"id": item["id"]}


async def test_listing_cards_with_checklists_costs_no_extra_statement(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    card, _ = await card_with_items(client, alice, "a", "b")
    with recorded_statements(engine) as statements:
        response = await client.get(f"/api/boards/{card['boardId']}/cards", headers=alice.headers)
        await client.get(f"/api/cards/{card['id']}", headers=alice.headers)
    assert response.json()[0]["checklist"] == {"done": 0, "total": 2}
    assert len(statements) == 2


async def test_deleting_a_card_deletes_its_checklist(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    card, (item,) = await card_with_items(client, alice, "task")
    await client.delete(f"/api/cards/{card['id']}", headers=alice.headers)
    response = await client.patch(
        f"/api/checklist-items/{item['id']}", json={"done": True}, headers=alice.headers
    )
    assert response.status_code == 404
