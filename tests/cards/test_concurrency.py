"""Parallel requests: each runs its handler concurrently, on its own database connection."""

import asyncio

from httpx import AsyncClient

from kanban_api.services import ordering
from tests.helpers import (
    Accounts,
    assert_board_order,
    column_ids,
    create_board,
    create_cards,
    introduce,
    list_cards,
    move_card,
)

CLIENTS = 20


async def test_parallel_moves_into_one_gap_keep_one_total_order(
    client: AsyncClient, accounts: Accounts
) -> None:
    """Every move targets the same gap, the worst case for two moves taking one place.

    More moves than the gap has room for, so the column is also renumbered midway.
    """
    alice = await accounts.create()
    board = await create_board(client, alice)
    count = ordering.GAP.bit_length() + 4
    cards = await create_cards(
        client,
        alice,
        board["id"],
        *({"title": f"card {index}", "column": "DOING"} for index in range(count + 1)),
    )
    anchor, *movers = [card["id"] for card in cards]

    responses = await asyncio.gather(
        *(move_card(client, alice, card_id, "DOING", anchor) for card_id in movers)
    )
    assert [response.status_code for response in responses] == [200] * count

    listed = await list_cards(client, alice, board["id"])
    order = column_ids(listed, "DOING")
    assert order[0] == anchor
    assert sorted(order[1:]) == sorted(movers)
    assert_board_order(listed)


async def test_parallel_moves_across_a_column_keep_one_total_order(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await introduce(client, alice, bob)
    await client.put(f"/api/boards/{board['id']}/users/{bob.id}", headers=alice.headers)
    cards = await create_cards(
        client,
        alice,
        board["id"],
        *({"title": f"card {index}", "column": "TODO"} for index in range(CLIENTS)),
    )
    ids = [card["id"] for card in cards]
    # Card i goes after card 7i+3 (mod 20), or to the top when that is itself.
    moves = [
        (card_id, None if ids[(7 * i + 3) % CLIENTS] == card_id else ids[(7 * i + 3) % CLIENTS])
        for i, card_id in enumerate(ids)
    ]

    responses = await asyncio.gather(
        *(
            move_card(client, (alice, bob)[i % 2], card_id, "TODO", after_id)
            for i, (card_id, after_id) in enumerate(moves)
        )
    )
    assert [response.status_code for response in responses] == [200] * CLIENTS

    listed = await list_cards(client, alice, board["id"])
    assert sorted(column_ids(listed, "TODO")) == sorted(ids)
    assert_board_order(listed)


async def test_parallel_batches_each_land_whole_and_in_order(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    batches = [
        [{"title": f"{batch}.{index}", "column": "TODO"} for index in range(3)]
        for batch in range(CLIENTS)
    ]

    responses = await asyncio.gather(
        *(
            client.post(f"/api/boards/{board['id']}/cards", json=batch, headers=alice.headers)
            for batch in batches
        )
    )
    assert [response.status_code for response in responses] == [201] * CLIENTS

    listed = await list_cards(client, alice, board["id"])
    titles = [card["title"] for card in listed]
    assert sorted(titles) == sorted(card["title"] for batch in batches for card in batch)
    # Each batch went to the bottom at once: its cards sit together, in request order.
    for start in range(0, len(titles), 3):
        batch = titles[start].split(".")[0]
        assert titles[start : start + 3] == [f"{batch}.{index}" for index in range(3)]
    assert_board_order(listed)


async def test_parallel_changes_with_one_etag_let_exactly_one_through(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(client, alice, board["id"], {"title": "c"})
    url = f"/api/cards/{card['id']}"
    headers = {**alice.headers, "If-Match": '"1"'}

    responses = await asyncio.gather(
        *(
            client.patch(url, json={"title": f"edit {index}"}, headers=headers)
            for index in range(CLIENTS // 2)
        ),
        *(
            client.post(f"{url}/move", json={"column": "DONE", "afterId": None}, headers=headers)
            for _ in range(CLIENTS // 2)
        ),
    )
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200] + [412] * (CLIENTS - 1)

    (winner,) = [response.json() for response in responses if response.status_code == 200]
    final = (await client.get(url, headers=alice.headers)).json()
    assert final == winner
    assert final["version"] == 2
    for response in responses:
        if response.status_code == 412:
            assert response.json()["current"] == final
