"""Boards hold a bounded number of cards, and a long card list is sent a chunk at a time."""

import pytest
from httpx import AsyncClient

from kanban_api.routes import responses
from tests.conftest import ClientFactory
from tests.helpers import Accounts, create_board, create_cards, detail


async def test_active_cards_are_capped_per_board(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    client = await client_with(max_cards_per_board=3, max_archived_cards_per_board=2)
    owner = await accounts.create()
    board = await create_board(client, owner)
    url = f"/api/boards/{board['id']}/cards"
    cards = await create_cards(client, owner, board["id"], {"title": "a"}, {"title": "b"})
    too_many = await client.post(url, json=[{"title": "c"}, {"title": "d"}], headers=owner.headers)
    assert too_many.status_code == 409
    assert "at most 3 active cards" in detail(too_many)
    assert len((await client.get(url, headers=owner.headers)).json()) == 2  # nothing added
    await create_cards(client, owner, board["id"], {"title": "c"})
    # Archiving makes room; archived cards have a cap of their own.
    archived = await client.patch(
        f"/api/cards/{cards[0]['id']}", json={"archived": True}, headers=owner.headers
    )
    assert archived.status_code == 200
    await create_cards(client, owner, board["id"], {"title": "d"}, {"title": "e", "archived": True})
    full = await client.post(url, json=[{"title": "f", "archived": True}], headers=owner.headers)
    assert full.status_code == 409
    assert "at most 2 archived cards" in detail(full)
    # Back from the archive only when there is room among the active cards.
    back = await client.patch(
        f"/api/cards/{cards[0]['id']}", json={"archived": False}, headers=owner.headers
    )
    assert back.status_code == 409
    assert "at most 3 active cards" in detail(back)


async def test_other_boards_are_not_counted(client_with: ClientFactory, accounts: Accounts) -> None:
    client = await client_with(max_cards_per_board=1)
    owner = await accounts.create()
    for title in ("one", "two"):
        board = await create_board(client, owner, title)
        await create_cards(client, owner, board["id"], {"title": title})


async def test_a_long_list_is_streamed_with_the_bytes_of_a_short_one(
    client: AsyncClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    await create_cards(
        client,
        owner,
        board["id"],
        *({"title": f"card {n}", "labels": ["red"], "description": "é" * n} for n in range(7)),
    )
    url = f"/api/boards/{board['id']}/cards"
    whole = await client.get(url, headers=owner.headers)
    assert "content-length" in whole.headers
    monkeypatch.setattr(responses, "STREAM_ABOVE_ITEMS", 2)
    monkeypatch.setattr(responses, "STREAM_CHUNK_ITEMS", 3)
    streamed = await client.get(url, headers=owner.headers)
    assert streamed.status_code == 200
    assert "content-length" not in streamed.headers  # sent in chunks
    assert streamed.headers["content-type"] == "application/json"
    assert streamed.content == whole.content
    archived = await client.get(url, params={"archived": "true"}, headers=owner.headers)
    assert archived.content == b"[]"
