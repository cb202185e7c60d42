"""The card list's filters and its cursor pagination."""

import base64
import json
import re
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers import Account, Accounts, add_member, create_board, create_cards, move_card

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


async def test_a_walk_lists_every_untouched_card_once_while_the_column_is_renumbered(
    client: AsyncClient, accounts: Accounts, owner: Account
) -> None:
    """A colleague moves cards out, then drops cards into one gap until the column is
    renumbered (every position in it changes) while the owner pages through it."""
    colleague = await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], colleague, "editor")
    todo = await create_cards(
        client, owner, board["id"], *({"title": f"A{n}", "column": "TODO"} for n in range(30))
    )
    dropped = await create_cards(
        client, owner, board["id"], *({"title": f"X{n}"} for n in range(25))
    )
    url = f"/api/boards/{board['id']}/cards"
    first = await client.get(url, params={"column": "TODO", "limit": 10}, headers=owner.headers)
    next_page = LINK.match(first.headers["link"])
    assert next_page

    for card in todo[1:6]:
        assert (await move_card(client, colleague, card["id"], "DOING", None)).status_code == 200
    for card in dropped:
        moved = await move_card(client, colleague, card["id"], "TODO", todo[19]["id"])
        assert moved.status_code == 200
    renumbered = await client.get(f"/api/cards/{todo[12]['id']}", headers=owner.headers)
    assert renumbered.json()["position"] != todo[12]["position"]  # the premise

    response = await client.get(next_page.group(1), headers=owner.headers)
    seen = [card["id"] for card in first.json() + response.json()]
    while (link := LINK.match(response.headers.get("link", ""))) is not None:
        response = await client.get(link.group(1), headers=owner.headers)
        seen += [card["id"] for card in response.json()]
    untouched = [card["id"] for card in todo if card not in todo[1:6]]
    assert [card_id for card_id in seen if card_id in untouched] == untouched


async def walk(client: AsyncClient, account: Account, first: Any) -> list[int]:
    """The ids of `first` and of every page its Link headers lead to."""
    seen, response = [], first
    while True:
        seen += [card["id"] for card in response.json()]
        link = LINK.match(response.headers.get("link", ""))
        if link is None:
            return seen
        response = await client.get(link.group(1), headers=account.headers)


@pytest.mark.parametrize("renumbered", [False, True])
@pytest.mark.parametrize("moves", [[(4, 19)], [(5, 19)], [(3, 19), (4, 18)], [(5, 3)]])
async def test_a_walk_survives_moves_at_the_page_boundary(
    client: AsyncClient, owner: Account, moves: list[tuple[int, int]], renumbered: bool
) -> None:
    """Before the next page is fetched, cards at the boundary move (the last shown, the
    first held back, two of them, or the first held back above the last shown), alone or
    while moves into one gap renumber the column: every untouched card once, in order."""
    board = await create_board(client, owner)
    todo = await create_cards(
        client, owner, board["id"], *({"title": f"A{n}", "column": "TODO"} for n in range(20))
    )
    url = f"/api/boards/{board['id']}/cards"
    first = await client.get(url, params={"column": "TODO", "limit": 5}, headers=owner.headers)
    next_page = LINK.match(first.headers["link"])
    assert next_page
    for moved, after in moves:
        response = await move_card(client, owner, todo[moved]["id"], "TODO", todo[after]["id"])
        assert response.status_code == 200
    if renumbered:
        dropped = await create_cards(
            client, owner, board["id"], *({"title": f"X{n}"} for n in range(25))
        )
        for card in dropped:
            response = await move_card(client, owner, card["id"], "TODO", todo[14]["id"])
            assert response.status_code == 200
        now = await client.get(f"/api/cards/{todo[16]['id']}", headers=owner.headers)
        assert now.json()["position"] != todo[16]["position"]  # the premise
    rest = await client.get(next_page.group(1), headers=owner.headers)
    seen = [card["id"] for card in first.json()] + await walk(client, owner, rest)
    touched = {todo[moved]["id"] for moved, _ in moves}
    untouched = [card["id"] for card in todo if card["id"] not in touched]
    assert [card_id for card_id in seen if card_id in untouched] == untouched


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [cursor_of(["TODO", 2**63, 1]), cursor_of(["TODO", 1, 1])])
async def test_outsiders_learn_nothing_from_a_cursor(
    client: AsyncClient, accounts: Accounts, owner: Account, cursor: str
) -> None:
    board = await create_board(client, owner)
    outsider = await accounts.create()
    response = await client.get(
        f"/api/boards/{board['id']}/cards",
        params={"limit": 2, "cursor": cursor},
        headers=outsider.headers,
    )
    assert response.status_code == 404


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
        {"archived": "0"},
        {"archived": "yes"},
        {"dueBefore": "0.5"},
        {"dueBefore": "1700000000"},
        {"dueBefore": "2030-01-01T00:00Z"},
        {"cursor": "not base64!"},
        {"cursor": "x" * 201},
        {"cursor": cursor_of({"column": "TODO"})},
        {"cursor": cursor_of(["TODO"])},
        {"cursor": cursor_of(["LATER", 1])},
        {"cursor": cursor_of(["TODO", 2**40])},
        {"cursor": cursor_of(["TODO", "one"])},
        {"cursor": cursor_of(["TODO", 2**63, 1])},
        {"cursor": cursor_of(["TODO", 2**64, 1])},
        {"cursor": cursor_of(["TODO", -(2**63) - 1, 1])},
        {"cursor": cursor_of(["TODO", 0, 1])},
        {"cursor": cursor_of(["TODO", 2**53, 1])},
        {"cursor": cursor_of(["TODO", 1, 2**31])},
        {"cursor": cursor_of(["TODO", 1, 0])},
        {"cursor": cursor_of(["TODO", 1.5, 1])},
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
