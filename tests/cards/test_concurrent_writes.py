"""Many simultaneous writes to one board: each succeeds or fails cleanly; nothing is lost."""

import asyncio
from collections import Counter

from httpx import AsyncClient

from tests.helpers import Accounts, create_board, create_cards

CLIENTS = 50


async def test_simultaneous_card_creations(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.create()
    board = await create_board(client, account)
    path = f"/api/boards/{board['id']}/cards"
    responses = await asyncio.gather(
        *(
            client.post(
                path, json=[{"title": f"card {n}", "labels": ["red"]}], headers=account.headers
            )
            for n in range(CLIENTS)
        )
    )
    assert {response.status_code for response in responses} == {201}
    created = [response.json()[0] for response in responses]
    listed = (await client.get(path, headers=account.headers)).json()
    assert sorted(card["id"] for card in listed) == sorted(card["id"] for card in created)
    assert Counter(card["title"] for card in listed) == {f"card {n}": 1 for n in range(CLIENTS)}
    assert all(card["labels"] == ["red"] for card in listed)


async def test_simultaneous_updates_of_different_cards(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()
    board = await create_board(client, account)
    cards = await create_cards(
        client, account, board["id"], *({"title": f"card {n}"} for n in range(CLIENTS))
    )
    responses = await asyncio.gather(
        *(
            client.patch(
                f"/api/cards/{card['id']}",
                json={"title": f"renamed {n}", "column": "DONE", "labels": ["blue", "red"]},
                headers=account.headers,
            )
            for n, card in enumerate(cards)
        )
    )
    assert {response.status_code for response in responses} == {200}
    listed = (await client.get(f"/api/boards/{board['id']}/cards", headers=account.headers)).json()
    assert sorted((card["id"], card["title"]) for card in listed) == sorted(
        (card["id"], f"renamed {n}") for n, card in enumerate(cards)
    )
    assert all(card["column"] == "DONE" for card in listed)
    assert all(card["labels"] == ["red", "blue"] for card in listed)


async def test_simultaneous_updates_of_one_card(client: AsyncClient, accounts: Accounts) -> None:
    """Last writer wins for each field; label sets never end up mixed or duplicated."""
    account = await accounts.create()
    board = await create_board(client, account)
    [card] = await create_cards(client, account, board["id"], {"title": "shared"})
    label_sets = [["red"], ["blue", "green"], [], ["red", "gray"], ["yellow"]]
    changes = [
        {"title": f"title {n}", "labels": label_sets[n % len(label_sets)]} for n in range(CLIENTS)
    ]
    responses = await asyncio.gather(
        *(
            client.patch(f"/api/cards/{card['id']}", json=change, headers=account.headers)
            for change in changes
        )
    )
    assert {response.status_code for response in responses} == {200}
    final = (await client.get(f"/api/cards/{card['id']}", headers=account.headers)).json()
    assert {"title": final["title"], "labels": final["labels"]} in [
        {"title": change["title"], "labels": sorted(change["labels"], key=COLOR_ORDER.index)}
        for change in changes
    ]
    listed = (await client.get(f"/api/boards/{board['id']}/cards", headers=account.headers)).json()
    assert [c["id"] for c in listed] == [card["id"]]


COLOR_ORDER = ["red", "orange", "yellow", "green", "blue", "purple", "gray"]


async def test_updates_racing_a_delete(client: AsyncClient, accounts: Accounts) -> None:
    """Whoever loses the race to a delete gets a 404, as if it had come a moment later."""
    account = await accounts.create()
    board = await create_board(client, account)
    cards = await create_cards(client, account, board["id"], *({"title": "c"} for _ in range(3)))
    card_path, board_path = f"/api/cards/{cards[0]['id']}", f"/api/boards/{board['id']}"
    card_updates = [{"title": f"t{n}", "labels": [["red"], ["blue"]][n % 2]} for n in range(20)]
    board_updates = [
        {"title": f"b{n}", "labels": [{"color": "red", "name": f"n{n}"}]} for n in range(20)
    ]
    requests = [
        *(client.patch(card_path, json=change, headers=account.headers) for change in card_updates),
        client.delete(card_path, headers=account.headers),
        *(
            client.patch(board_path, json=change, headers=account.headers)
            for change in board_updates
        ),
        *(
            client.patch(f"/api/cards/{card['id']}", json={"title": "x"}, headers=account.headers)
            for card in cards[1:]
        ),
        client.delete(board_path, headers=account.headers),
    ]
    responses = await asyncio.gather(*requests)
    statuses = Counter(response.status_code for response in responses)
    # 409: a board update whose board was deleted between its read and its write.
    assert set(statuses) <= {200, 204, 404, 409}, [
        r.text for r in responses if r.status_code >= 500
    ]
    card_deleted, board_deleted = responses[len(card_updates)], responses[-1]
    if board_deleted.status_code == 204:
        assert (await client.get(board_path, headers=account.headers)).status_code == 404
        assert (await client.get(card_path, headers=account.headers)).status_code == 404
    elif card_deleted.status_code == 204:
        assert (await client.get(card_path, headers=account.headers)).status_code == 404


async def test_comments_racing_their_card_s_delete(client: AsyncClient, accounts: Accounts) -> None:
    """A comment sent while its card is deleted is either kept until the delete or a 404."""
    account = await accounts.create()
    board = await create_board(client, account)
    [card] = await create_cards(client, account, board["id"], {"title": "doomed"})
    card_path = f"/api/cards/{card['id']}"
    comment = {"body": "last words"}
    requests = [
        *(
            client.post(f"{card_path}/comments", json=comment, headers=account.headers)
            for _ in range(CLIENTS // 2)
        ),
        client.delete(card_path, headers=account.headers),
        *(
            client.post(f"{card_path}/comments", json=comment, headers=account.headers)
            for _ in range(CLIENTS // 2)
        ),
    ]
    responses = await asyncio.gather(*requests)
    assert responses[CLIENTS // 2].status_code == 204
    statuses = {response.status_code for response in responses}
    assert statuses <= {201, 204, 404}, [r.text for r in responses if r.status_code >= 500]
