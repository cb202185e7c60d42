"""Named columns with WIP limits (issue 19): the board's columns, their names and limits,
and every write that would put one more active card into a full column refused."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.helpers import (
    Account,
    Accounts,
    add_member,
    board_events,
    create_board,
    create_cards,
    detail,
    list_cards,
    move_card,
)

DEFAULT_COLUMNS = [
    {"key": "BACKLOG", "name": "Backlog", "wipLimit": None},
    {"key": "TODO", "name": "To do", "wipLimit": None},
    {"key": "DOING", "name": "Doing", "wipLimit": None},
    {"key": "DONE", "name": "Done", "wipLimit": None},
]


async def configure(
    client: AsyncClient, account: Account, board_id: int, *columns: dict[str, Any]
) -> Response:
    return await client.patch(
        f"/api/boards/{board_id}", json={"columns": list(columns)}, headers=account.headers
    )


async def limited_board(
    client: AsyncClient, account: Account, column: str, limit: int
) -> dict[str, Any]:
    board = await create_board(client, account)
    response = await configure(client, account, board["id"], {"key": column, "wipLimit": limit})
    assert response.status_code == 200, response.text
    return board


async def test_a_board_has_four_named_columns_without_limits(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    assert board["columns"] == DEFAULT_COLUMNS
    listed = (await client.get("/api/boards", headers=alice.headers)).json()
    assert listed[0]["columns"] == DEFAULT_COLUMNS
    assert list(listed[0]) == list(board)


async def test_an_editor_renames_columns_and_sets_limits(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "editor")
    response = await configure(
        client,
        bob,
        board["id"],
        {"key": "DOING", "name": "In progress", "wipLimit": 3},
        {"key": "TODO", "name": "Next"},
    )
    assert response.status_code == 200, response.text
    columns = response.json()["columns"]
    assert columns[1] == {"key": "TODO", "name": "Next", "wipLimit": None}
    assert columns[2] == {"key": "DOING", "name": "In progress", "wipLimit": 3}
    # Omitting a field leaves it; null clears a limit.
    response = await configure(client, bob, board["id"], {"key": "DOING", "wipLimit": None})
    assert response.json()["columns"][2] == {
        "key": "DOING",
        "name": "In progress",
        "wipLimit": None,
    }
    read = await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    assert read.json()["columns"] == response.json()["columns"]


@pytest.mark.parametrize(
    "columns",
    [
        [{"key": "DOING", "wipLimit": 0}],
        [{"key": "DOING", "wipLimit": 1001}],
        [{"key": "DOING", "wipLimit": "5"}],
        [{"key": "DOING", "name": ""}],
        [{"key": "DOING", "name": "x" * 51}],
        [{"key": "DOING", "name": None}],
        [{"key": "LATER", "name": "Later"}],
        [{"key": "DOING", "name": "A"}, {"key": "DOING", "name": "B"}],
        [{"name": "No key"}],
    ],
)
async def test_bad_columns_are_refused_and_change_nothing(
    client: AsyncClient, accounts: Accounts, columns: list[dict[str, Any]]
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    response = await configure(client, alice, board["id"], *columns)
    assert response.status_code == 422, response.text
    read = await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    assert read.json() == board


async def test_a_viewer_cannot_configure_columns(client: AsyncClient, accounts: Accounts) -> None:
    alice, vera = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], vera, "viewer")
    response = await configure(client, vera, board["id"], {"key": "DONE", "wipLimit": 1})
    assert response.status_code == 403


async def test_column_changes_reach_the_change_feed(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    response = await configure(client, alice, board["id"], {"key": "DONE", "name": "Shipped"})
    events = await board_events(client, alice, board["id"])
    assert [event["type"] for event in events] == ["board.updated"]
    assert events[0]["data"]["columns"] == response.json()["columns"]
    # The same settings again change nothing, so nothing is recorded.
    await configure(client, alice, board["id"], {"key": "DONE", "name": "Shipped"})
    assert len(await board_events(client, alice, board["id"])) == 1


async def test_a_full_column_refuses_creates_and_batches(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await limited_board(client, alice, "DOING", 2)
    await create_cards(client, alice, board["id"], {"title": "one", "column": "DOING"})
    response = await client.post(
        f"/api/boards/{board['id']}/cards",
        json=[{"title": "two", "column": "DOING"}, {"title": "three", "column": "DOING"}],
        headers=alice.headers,
    )
    assert response.status_code == 409
    assert "'Doing' (DOING)" in detail(response)
    assert "limit of 2" in detail(response)
    assert len(await list_cards(client, alice, board["id"])) == 1
    # Archived cards do not count, and other columns are not limited.
    await create_cards(
        client,
        alice,
        board["id"],
        {"title": "two", "column": "DOING"},
        {"title": "old", "column": "DOING", "archived": True},
        {"title": "later", "column": "TODO"},
    )


async def test_a_full_column_refuses_moves_patches_and_unarchiving(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await limited_board(client, alice, "DONE", 1)
    done, todo, archived = await create_cards(
        client,
        alice,
        board["id"],
        {"title": "done", "column": "DONE"},
        {"title": "todo", "column": "TODO"},
        {"title": "archived", "column": "DONE", "archived": True},
    )
    refused = [
        await move_card(client, alice, todo["id"], "DONE", None),
        await client.patch(
            f"/api/cards/{todo['id']}", json={"column": "DONE"}, headers=alice.headers
        ),
        await client.patch(
            f"/api/cards/{archived['id']}", json={"archived": False}, headers=alice.headers
        ),
    ]
    assert [response.status_code for response in refused] == [409, 409, 409]
    assert "limit of 1" in detail(refused[0])
    listed = {card["id"]: card for card in await list_cards(client, alice, board["id"])}
    assert listed[todo["id"]]["column"] == "TODO"
    assert listed[todo["id"]]["version"] == todo["version"]
    # Moving within the column, and moving an archived card, are not entering it.
    assert (await move_card(client, alice, done["id"], "DONE", None)).status_code == 200
    response = await client.patch(
        f"/api/cards/{todo['id']}", json={"column": "DONE", "archived": True}, headers=alice.headers
    )
    assert response.status_code == 200, response.text


async def test_lowering_a_limit_below_the_count_is_allowed_and_the_column_drains(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    first, second, other = await create_cards(
        client,
        alice,
        board["id"],
        {"title": "a", "column": "DOING"},
        {"title": "b", "column": "DOING"},
        {"title": "c", "column": "TODO"},
    )
    response = await configure(client, alice, board["id"], {"key": "DOING", "wipLimit": 1})
    assert response.status_code == 200
    assert (await move_card(client, alice, other["id"], "DOING", None)).status_code == 409
    assert (await move_card(client, alice, first["id"], "DONE", None)).status_code == 200
    assert (await move_card(client, alice, other["id"], "DOING", None)).status_code == 409
    assert (await move_card(client, alice, second["id"], "DONE", None)).status_code == 200
    assert (await move_card(client, alice, other["id"], "DOING", None)).status_code == 200


async def test_twenty_concurrent_moves_into_a_column_limited_to_five_leave_five(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await limited_board(client, alice, "DOING", 5)
    cards = await create_cards(
        client, alice, board["id"], *({"title": f"card {i}", "column": "TODO"} for i in range(20))
    )
    responses = await asyncio.gather(
        *(move_card(client, alice, card["id"], "DOING", None) for card in cards)
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [409] * 15
    listed = await list_cards(client, alice, board["id"])
    assert sum(card["column"] == "DOING" for card in listed) == 5
