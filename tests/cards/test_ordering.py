"""Card order: positions, moves, column changes and rebalancing, as clients see them."""

from itertools import pairwise
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import (
    Account,
    Accounts,
    assert_board_order,
    column_ids,
    create_board,
    create_cards,
    detail,
    list_cards,
    move_card,
    set_card_position,
)

# Positions stay exactly representable in JavaScript numbers.
MAX_JS_INTEGER = 2**53 - 1


async def _column_of(
    client: AsyncClient, account: Account, count: int, column: str = "TODO"
) -> tuple[int, list[int]]:
    """A board with `count` cards in one column; its id and the card ids, top to bottom."""
    board = await create_board(client, account)
    cards = await create_cards(
        client,
        account,
        board["id"],
        *({"title": f"card {index}", "column": column} for index in range(count)),
    )
    return board["id"], [card["id"] for card in cards]


def _by_id(cards: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {card["id"]: card for card in cards}


async def test_new_cards_go_to_the_bottom_in_request_order(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    first = await create_cards(
        client,
        alice,
        board["id"],
        {"title": "a", "column": "TODO"},
        {"title": "b"},
        {"title": "c", "column": "TODO"},
        {"title": "d"},
    )
    second = await create_cards(
        client, alice, board["id"], {"title": "e", "column": "TODO"}, {"title": "f"}
    )
    assert all(isinstance(card["position"], int) for card in first + second)

    cards = await list_cards(client, alice, board["id"])
    assert [card["title"] for card in cards] == ["b", "d", "f", "a", "c", "e"]
    assert_board_order(cards)


async def test_cards_are_listed_by_column_then_position(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    created = await create_cards(
        client,
        alice,
        board["id"],
        *({"title": column, "column": column} for column in ["DONE", "DOING", "TODO", "BACKLOG"]),
        {"title": "second todo", "column": "TODO"},
    )
    ids = {card["title"]: card["id"] for card in created}
    # Put the newer TODO card above the older one: position, not id, decides.
    response = await move_card(client, alice, ids["second todo"], "TODO", None)
    assert response.status_code == 200, response.text

    cards = await list_cards(client, alice, board["id"])
    titles = ["BACKLOG", "second todo", "TODO", "DOING", "DONE"]
    assert [card["title"] for card in cards] == titles
    assert_board_order(cards)


async def test_move_after_a_card_to_the_top_and_across_columns(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board_id, (a, b, c, d) = await _column_of(client, alice, 4)
    done = await create_cards(client, alice, board_id, {"title": "done", "column": "DONE"})

    response = await move_card(client, alice, a, "TODO", c)
    assert response.status_code == 200, response.text
    moved = response.json()
    assert (moved["id"], moved["column"], moved["version"]) == (a, "TODO", 2)
    assert response.headers["ETag"] == '"2"'
    assert column_ids(await list_cards(client, alice, board_id), "TODO") == [b, c, a, d]

    response = await move_card(client, alice, d, "TODO", None)
    assert response.status_code == 200, response.text
    assert column_ids(await list_cards(client, alice, board_id), "TODO") == [d, b, c, a]

    response = await move_card(client, alice, b, "DONE", done[0]["id"])
    assert response.status_code == 200, response.text
    assert response.json()["column"] == "DONE"
    response = await move_card(client, alice, c, "DONE", None)
    assert response.status_code == 200, response.text
    response = await move_card(client, alice, d, "BACKLOG", None)
    assert response.status_code == 200, response.text

    cards = await list_cards(client, alice, board_id)
    assert column_ids(cards, "BACKLOG") == [d]
    assert column_ids(cards, "TODO") == [a]
    assert column_ids(cards, "DONE") == [c, done[0]["id"], b]
    assert_board_order(cards)


async def test_move_accepts_snake_case(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board_id, (a, b) = await _column_of(client, alice, 2)
    response = await client.post(
        f"/api/cards/{a}/move", json={"column": "TODO", "after_id": b}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert column_ids(await list_cards(client, alice, board_id), "TODO") == [b, a]


async def test_a_move_to_where_the_card_already_is_changes_nothing(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board_id, (a, b, _) = await _column_of(client, alice, 3)
    before = await list_cards(client, alice, board_id)
    for card_id, after_id in [(b, a), (a, None)]:
        response = await move_card(client, alice, card_id, "TODO", after_id)
        assert response.status_code == 200, response.text
    assert await list_cards(client, alice, board_id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"column": "TODO"},
        {"afterId": None},
        {"column": "NOWHERE", "afterId": None},
        {"column": "TODO", "afterId": 0},
        {"column": "TODO", "afterId": 2**31},
        {"column": "TODO", "afterId": "first"},
        {"column": "TODO", "afterId": None, "position": 1},
    ],
)
async def test_move_rejects_malformed_bodies(
    client: AsyncClient, accounts: Accounts, body: dict[str, Any]
) -> None:
    alice = await accounts.create()
    _, (card,) = await _column_of(client, alice, 1)
    response = await client.post(f"/api/cards/{card}/move", json=body, headers=alice.headers)
    assert response.status_code == 422, response.text


async def test_move_after_a_card_elsewhere_is_rejected(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board_id, (a, b) = await _column_of(client, alice, 2)
    _, (other_board_card,) = await _column_of(client, alice, 1)
    _, (bobs_card,) = await _column_of(client, bob, 1)
    before = await list_cards(client, alice, board_id)

    for column, after_id in [
        ("DOING", b),  # b is in TODO, not DOING
        ("TODO", other_board_card),  # another board of hers
        ("TODO", bobs_card),  # a board she cannot see: same answer as a missing card
        ("TODO", 2**31 - 1),
    ]:
        response = await move_card(client, alice, a, column, after_id)
        assert response.status_code == 422, response.text
        (error,) = detail(response)
        assert error["loc"] == ["body", "afterId"]
        assert f"column {column}" in error["msg"]

    response = await move_card(client, alice, a, "TODO", a)
    assert response.status_code == 422
    assert detail(response)[0]["msg"] == "A card cannot be placed after itself"
    assert await list_cards(client, alice, board_id) == before


async def test_outsiders_cannot_move_cards(client: AsyncClient, accounts: Accounts) -> None:
    alice, mallory = await accounts.create(), await accounts.create()
    _, (card,) = await _column_of(client, alice, 1)
    response = await move_card(client, mallory, card, "TODO", None)
    assert response.status_code == 404
    response = await move_card(client, mallory, 2**31 - 1, "TODO", None)
    assert response.status_code == 404


async def test_changing_column_by_patch_puts_the_card_at_the_bottom(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board_id, (a, b) = await _column_of(client, alice, 2, column="DOING")
    (top,) = await create_cards(client, alice, board_id, {"title": "top", "column": "BACKLOG"})

    response = await client.patch(
        f"/api/cards/{top['id']}", json={"column": "DOING", "title": "moved"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["column"] == "DOING"
    assert column_ids(await list_cards(client, alice, board_id), "DOING") == [a, b, top["id"]]

    # Naming the card's own column is no move: it keeps its place.
    response = await client.patch(
        f"/api/cards/{a}", json={"column": "DOING"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    cards = await list_cards(client, alice, board_id)
    assert column_ids(cards, "DOING") == [a, b, top["id"]]
    assert_board_order(cards)


async def test_a_move_writes_only_the_moved_card(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board_id, ids = await _column_of(client, alice, 10)
    before = _by_id(await list_cards(client, alice, board_id))

    response = await move_card(client, alice, ids[-1], "TODO", ids[1])
    assert response.status_code == 200, response.text

    after = _by_id(await list_cards(client, alice, board_id))
    for card_id in ids[:-1]:
        assert after[card_id] == before[card_id]
    moved = after[ids[-1]]
    assert before[ids[1]]["position"] < moved["position"] < before[ids[2]]["position"]


async def test_moves_into_one_gap_rebalance_the_column_and_keep_the_order(
    client: AsyncClient, accounts: Accounts
) -> None:
    """Each move halves the gap below the top card, until no integer is left in it."""
    alice = await accounts.create()
    board_id, ids = await _column_of(client, alice, 5)
    top = ids[0]
    expected = list(ids)
    gaps_below_top = []
    for _ in range(40):
        mover = expected.pop()
        expected.insert(1, mover)
        response = await move_card(client, alice, mover, "TODO", top)
        assert response.status_code == 200, response.text
        cards = await list_cards(client, alice, board_id)
        assert column_ids(cards, "TODO") == expected
        assert_board_order(cards)
        gaps_below_top.append(cards[1]["position"] - cards[0]["position"])

    # The gap only shrinks, except where the column was renumbered.
    assert any(later > earlier for earlier, later in pairwise(gaps_below_top))


async def test_cards_added_below_the_last_possible_position_renumber_the_column(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    board_id, (a, b) = await _column_of(client, alice, 2)
    (other,) = await create_cards(client, alice, board_id, {"title": "other"})
    await set_card_position(engine, b, MAX_JS_INTEGER)
    response = await client.patch(
        f"/api/cards/{other['id']}", json={"column": "TODO"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert column_ids(await list_cards(client, alice, board_id), "TODO") == [a, b, other["id"]]

    await set_card_position(engine, other["id"], MAX_JS_INTEGER)
    new = await create_cards(
        client,
        alice,
        board_id,
        {"title": "new 1", "column": "TODO"},
        {"title": "new 2", "column": "TODO"},
    )

    cards = await list_cards(client, alice, board_id)
    assert column_ids(cards, "TODO") == [a, b, other["id"], new[0]["id"], new[1]["id"]]
    assert_board_order(cards)
    assert all(1 <= card["position"] <= MAX_JS_INTEGER for card in cards)


async def test_a_move_above_the_first_possible_position_renumbers_the_column(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    board_id, (a, b, c) = await _column_of(client, alice, 3)
    await set_card_position(engine, a, 1)
    before = _by_id(await list_cards(client, alice, board_id))

    response = await move_card(client, alice, c, "TODO", None)
    assert response.status_code == 200, response.text

    cards = await list_cards(client, alice, board_id)
    assert column_ids(cards, "TODO") == [c, a, b]
    assert_board_order(cards)
    assert all(card["position"] >= 1 for card in cards)
    # The renumbered card shows a new place, so its version and ETag move on too.
    renumbered = _by_id(cards)[a]
    assert renumbered["position"] != before[a]["position"]
    assert renumbered["version"] > before[a]["version"]
