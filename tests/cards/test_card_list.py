"""The card list's filters and its cursor pagination."""

import base64
import json
import re
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers import Account, Accounts, add_member, create_board, create_cards

LINK = re.compile(r'^<(/api/boards/\d+/cards\?[^>]+)>; rel="next"$')


async def titles(client: AsyncClient, account: Account, board_id: int, **params: Any) -> list[str]:
    response = await client.get(
        f"/api/boards/{board_id}/cards", params=params, headers=account.headers
    )
    assert response.status_code == 200, response.text
    assert "link" not in response.headers
    return [card["title"] for card in response.json()]


@pytest.fixture
async def owner(accounts: Accounts) -> Account:
    return await accounts.create()


async def test_each_filter_narrows_the_list(
    client: AsyncClient, accounts: Accounts, owner: Account
) -> None:
    bob = await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], bob, "viewer")
    await create_cards(
        client,
        owner,
        board["id"],
        {"title": "Alpha", "column": "TODO", "labels": ["red"], "assigneeIds": [bob.id]},
        {"title": "Beta", "description": "About ALPHA", "column": "DONE", "labels": ["red"]},
        {"title": "Gamma", "dueAt": "2030-01-01T00:00:00Z", "assigneeIds": [owner.id]},
        {"title": "Delta", "dueAt": "2030-06-01T00:00:00+00:00", "labels": ["blue"]},
    )
    board_id = board["id"]
    assert await titles(client, bob, board_id) == ["Gamma", "Delta", "Alpha", "Beta"]
    assert await titles(client, bob, board_id, column="DONE") == ["Beta"]
    assert await titles(client, bob, board_id, label="red") == ["Alpha", "Beta"]
    assert await titles(client, bob, board_id, assignee=bob.id) == ["Alpha"]
    assert await titles(client, bob, board_id, assignee=999) == []
    assert await titles(client, bob, board_id, q="alpha") == ["Alpha", "Beta"]
    assert await titles(client, bob, board_id, q="") == ["Gamma", "Delta", "Alpha", "Beta"]
    # Strictly before; the offset is honoured; cards without a due date never match.
    before = {"dueBefore": "2030-06-01T02:00:00+02:00"}
    assert await titles(client, bob, board_id, **before) == ["Gamma"]
    assert await titles(client, bob, board_id, label="red", q="ALPHA", column="TODO") == ["Alpha"]
    assert await titles(client, bob, board_id, label="blue", q="alpha") == []


async def test_search_text_is_literal(client: AsyncClient, owner: Account) -> None:
    board = await create_board(client, owner)
    await create_cards(
        client,
        owner,
        board["id"],
        {"title": "100% done"},
        {"title": "1000 done"},
        {"title": "snake_case"},
        {"title": "snakeXcase"},
        {"title": "back\\slash"},
    )
    assert await titles(client, owner, board["id"], q="0% d") == ["100% done"]
    assert await titles(client, owner, board["id"], q="e_c") == ["snake_case"]
    assert await titles(client, owner, board["id"], q="k\\s") == ["back\\slash"]


async def test_archived_cards_are_listed_only_on_request(
    client: AsyncClient, owner: Account
) -> None:
    board = await create_board(client, owner)
    cards = await create_cards(
        client, owner, board["id"], {"title": "Live"}, {"title": "Old", "archived": True}
    )
    assert await titles(client, owner, board["id"]) == ["Live"]
    assert await titles(client, owner, board["id"], archived="false") == ["Live"]
    assert await titles(client, owner, board["id"], archived="true") == ["Old"]
    response = await client.patch(
        f"/api/cards/{cards[0]['id']}", json={"archived": True}, headers=owner.headers
    )
    assert response.status_code == 200
    assert await titles(client, owner, board["id"]) == []
    # Reading an archived card directly still works.
    response = await client.get(f"/api/cards/{cards[1]['id']}", headers=owner.headers)
    assert response.json()["archived"] is True


async def fetch_pages(
    client: AsyncClient, account: Account, url: str, params: dict[str, Any]
) -> list[list[str]]:
    """Follows the Link headers from the first page to the last."""
    pages = []
    response = await client.get(url, params=params, headers=account.headers)
    while True:
        assert response.status_code == 200, response.text
        pages.append([card["title"] for card in response.json()])
        if "link" not in response.headers:
            return pages
        match = LINK.match(response.headers["link"])
        assert match, response.headers["link"]
        response = await client.get(match.group(1), headers=account.headers)


async def test_pages_follow_each_other_in_board_order(client: AsyncClient, owner: Account) -> None:
    board = await create_board(client, owner)
    await create_cards(
        client,
        owner,
        board["id"],
        *(
            {"title": f"{column} {n}", "column": column, "labels": ["green"] if n % 2 else []}
            for n in range(3)
            for column in ("DONE", "TODO", "BACKLOG")
        ),
    )
    url = f"/api/boards/{board['id']}/cards"
    everything = await titles(client, owner, board["id"])
    assert len(everything) == 9

    pages = await fetch_pages(client, owner, url, {"limit": 4})
    assert [len(page) for page in pages] == [4, 4, 1]
    assert [title for page in pages for title in page] == everything
    # An exact fit has no further page.
    assert await fetch_pages(client, owner, url, {"limit": 9}) == [everything]
    # The Link keeps the filters.
    pages = await fetch_pages(client, owner, url, {"limit": 2, "label": "green"})
    assert [len(page) for page in pages] == [2, 1]
    assert [title for page in pages for title in page] == await titles(
        client, owner, board["id"], label="green"
    )


async def test_a_cursor_survives_the_deletion_of_its_card(
    client: AsyncClient, owner: Account
) -> None:
    board = await create_board(client, owner)
    cards = await create_cards(client, owner, board["id"], *({"title": str(n)} for n in range(3)))
    url = f"/api/boards/{board['id']}/cards"
    response = await client.get(url, params={"limit": 1}, headers=owner.headers)
    match = LINK.match(response.headers["link"])
    assert match
    response = await client.delete(f"/api/cards/{cards[0]['id']}", headers=owner.headers)
    assert response.status_code == 204
    response = await client.get(match.group(1), headers=owner.headers)
    assert [card["title"] for card in response.json()] == ["1"]


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"limit": "ten"},
        {"column": "LATER"},
        {"label": "pink"},
        {"assignee": 0},
        {"assignee": 2**40},
        {"dueBefore": "2030-01-01T00:00:00"},
        {"q": "nul\x00"},
        {"q": "x" * 201},
        {"archived": "maybe"},
        {"cursor": "not base64!"},
        {"cursor": "x" * 201},
        {"cursor": cursor_of({"column": "TODO"})},
        {"cursor": cursor_of(["TODO"])},
        {"cursor": cursor_of(["LATER", 1])},
        {"cursor": cursor_of(["TODO", 2**40])},
        {"cursor": cursor_of(["TODO", "one"])},
        {"cursor": base64.urlsafe_b64encode(b"\xff\xfe").decode()},
    ],
)
async def test_bad_filters_and_cursors_are_422(
    client: AsyncClient, owner: Account, params: dict[str, Any]
) -> None:
    board = await create_board(client, owner)
    response = await client.get(
        f"/api/boards/{board['id']}/cards", params=params, headers=owner.headers
    )
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
