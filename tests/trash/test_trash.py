"""The trash (issue 19): deleting a board or card moves it there, invisible everywhere,
restorable as it was by the right members, purged for good after the retention."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from kanban_api.events import retention
from kanban_api.models import Board, Card
from kanban_api.models.base import utcnow
from kanban_api.state import state_of
from kanban_api.utils.cursor import encode_cursor
from tests.conftest import ClientFactory
from tests.helpers import (
    Account,
    Accounts,
    Boards,
    add_member,
    board_events,
    create_api_token,
    create_board,
    create_cards,
    create_comment,
    detail,
    list_cards,
)


async def trash(client: AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get("/api/trash", headers=account.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def delete(client: AsyncClient, account: Account, path: str) -> None:
    response = await client.delete(path, headers=account.headers)
    assert response.status_code == 204, response.text


async def restore(client: AsyncClient, account: Account, kind: str, item_id: int) -> Any:
    return await client.post(f"/api/trash/{kind}/{item_id}/restore", headers=account.headers)


async def full_card(client: AsyncClient, account: Account, board_id: int) -> dict[str, Any]:
    """A card with labels, an assignee, two comments and a checklist."""
    (card,) = await create_cards(
        client,
        account,
        board_id,
        {"title": "Full", "column": "TODO", "labels": ["red", "blue"], "assigneeIds": [account.id]},
    )
    await create_comment(client, account, card["id"], "first")
    await create_comment(client, account, card["id"], "second")
    for text in ("one", "two"):
        response = await client.post(
            f"/api/cards/{card['id']}/checklist", json={"text": text}, headers=account.headers
        )
        assert response.status_code == 201, response.text
    response = await client.get(f"/api/cards/{card['id']}", headers=account.headers)
    full: dict[str, Any] = response.json()
    return full


async def card_view(client: AsyncClient, account: Account, card_id: int) -> list[Any]:
    """What a member sees of a card: itself, its comments and its checklist."""
    return [
        (await client.get(path, headers=account.headers)).json()
        for path in (
            f"/api/cards/{card_id}",
            f"/api/cards/{card_id}/comments",
            f"/api/cards/{card_id}/checklist",
        )
    ]


def without_versions(card: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in card.items() if key not in ("version", "updatedAt")}


async def test_a_deleted_card_is_gone_everywhere_but_the_trash(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    card = await full_card(client, alice, board["id"])
    await delete(client, alice, f"/api/cards/{card['id']}")

    for method, path in (
        ("GET", f"/api/cards/{card['id']}"),
        ("PATCH", f"/api/cards/{card['id']}"),
        ("DELETE", f"/api/cards/{card['id']}"),
        ("GET", f"/api/cards/{card['id']}/comments"),
        ("POST", f"/api/cards/{card['id']}/comments"),
        ("GET", f"/api/cards/{card['id']}/checklist"),
    ):
        body = {"title": "x"} if method == "PATCH" else {"body": "x"}
        response = await client.request(method, path, json=body, headers=alice.headers)
        assert response.status_code == 404, (method, path)
    assert await list_cards(client, alice, board["id"]) == []
    searched = await client.get(
        f"/api/boards/{board['id']}/cards", params={"q": "Full"}, headers=alice.headers
    )
    assert searched.json() == []
    (item,) = await trash(client, alice)
    assert item == {
        "type": "card",
        "id": card["id"],
        "title": "Full",
        "boardId": board["id"],
        "deletedAt": item["deletedAt"],
        "deletedBy": alice.id,
    }
    types = [event["type"] for event in await board_events(client, alice, board["id"])]
    assert types[-1] == "card.deleted"


async def test_a_restored_card_is_as_it_was(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    card = await full_card(client, alice, board["id"])
    before = await card_view(client, alice, card["id"])
    await delete(client, alice, f"/api/cards/{card['id']}")

    response = await restore(client, alice, "cards", card["id"])
    assert response.status_code == 200, response.text
    assert without_versions(response.json()) == without_versions(before[0])
    assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    after = await card_view(client, alice, card["id"])
    assert [without_versions(after[0]), *after[1:]] == [without_versions(before[0]), *before[1:]]
    assert await list_cards(client, alice, board["id"]) == [after[0]]
    assert await trash(client, alice) == []
    event = (await board_events(client, alice, board["id"]))[-1]
    assert (event["type"], event["data"]) == ("card.restored", after[0])
    # Restored once: a second restore finds nothing in the trash.
    assert (await restore(client, alice, "cards", card["id"])).status_code == 404


async def test_a_restored_card_whose_place_was_taken_goes_to_the_bottom(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    first, second = await create_cards(
        client, alice, board["id"], {"title": "First"}, {"title": "Second"}
    )
    await delete(client, alice, f"/api/cards/{second['id']}")
    # The new card takes the bottom place, the one the trashed card had.
    (third,) = await create_cards(client, alice, board["id"], {"title": "Third"})
    assert third["position"] == second["position"]

    response = await restore(client, alice, "cards", second["id"])
    assert response.status_code == 200, response.text
    listed = await list_cards(client, alice, board["id"])
    assert [card["title"] for card in listed] == ["First", "Third", "Second"]
    # A card whose place is still free gets it back.
    await delete(client, alice, f"/api/cards/{first['id']}")
    restored = (await restore(client, alice, "cards", first["id"])).json()
    assert restored["position"] == first["position"]


async def test_trashed_cards_count_towards_no_wip_limit_and_restoring_respects_it(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    response = await client.patch(
        f"/api/boards/{board['id']}",
        json={"columns": [{"key": "DOING", "wipLimit": 1}]},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    (doing,) = await create_cards(client, alice, board["id"], {"title": "A", "column": "DOING"})
    await delete(client, alice, f"/api/cards/{doing['id']}")
    # The trashed card no longer fills the column.
    await create_cards(client, alice, board["id"], {"title": "B", "column": "DOING"})

    response = await restore(client, alice, "cards", doing["id"])
    assert response.status_code == 409
    assert "'Doing' (DOING) has a WIP limit of 1" in detail(response)
    assert [item["id"] for item in await trash(client, alice)] == [doing["id"]]


async def test_trashed_cards_count_towards_no_card_cap(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    client = await client_with(max_cards_per_board=1)
    alice = await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(client, alice, board["id"], {"title": "A"})
    await delete(client, alice, f"/api/cards/{card['id']}")
    await create_cards(client, alice, board["id"], {"title": "B"})

    response = await restore(client, alice, "cards", card["id"])
    assert response.status_code == 409
    assert "at most 1 active cards" in detail(response)


async def test_a_deleted_board_is_gone_everywhere_but_its_owners_trash(
    app: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice, "Plans")
    await add_member(client, alice, board["id"], bob, "editor")
    card = await full_card(client, alice, board["id"])
    limited = await create_api_token(client, alice, boardIds=[board["id"]])
    await delete(client, alice, f"/api/boards/{board['id']}")

    for account in (alice, bob, limited):
        for path in (
            f"/api/boards/{board['id']}",
            f"/api/boards/{board['id']}/cards",
            f"/api/boards/{board['id']}/users",
            f"/api/boards/{board['id']}/events",
            f"/api/boards/{board['id']}/webhooks",
            f"/api/cards/{card['id']}",
            f"/api/cards/{card['id']}/comments",
            f"/api/cards/{card['id']}/checklist",
        ):
            response = await client.get(path, headers=account.headers)
            assert response.status_code == 404, (path, response.status_code)
        response = await client.post(
            f"/api/boards/{board['id']}/events/tickets", headers=account.headers
        )
        assert response.status_code == 404
        assert (await client.get("/api/boards", headers=account.headers)).json() == []
    tokens = (await client.get("/api/users/me/tokens", headers=alice.headers)).json()
    assert tokens[0]["boardIds"] == []
    response = await client.post(
        "/api/users/me/tokens",
        json={"name": "x", "scopes": ["read"], "boardIds": [board["id"]]},
        headers=alice.headers,
    )
    assert response.status_code == 422
    # The owner sees the board in the trash (not its cards, gone with it); the editor nothing.
    (item,) = await trash(client, alice)
    assert (item["type"], item["id"], item["title"], item["boardId"], item["deletedBy"]) == (
        "board",
        board["id"],
        "Plans",
        board["id"],
        alice.id,
    )
    assert await trash(client, bob) == []


async def test_a_restored_board_comes_back_with_everything_on_it(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice, "Plans", description="All of it")
    await add_member(client, alice, board["id"], bob, "editor")
    response = await client.patch(
        f"/api/boards/{board['id']}",
        json={
            "labels": [{"color": "red", "name": "Urgent"}],
            "columns": [{"key": "DOING", "name": "In progress", "wipLimit": 3}],
        },
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    card = await full_card(client, alice, board["id"])
    await create_cards(client, bob, board["id"], {"title": "Archived", "archived": True})
    trashed_alone = (await create_cards(client, bob, board["id"], {"title": "Alone"}))[0]
    await delete(client, bob, f"/api/cards/{trashed_alone['id']}")

    def views() -> list[str]:
        return [
            f"/api/boards/{board['id']}/cards",
            f"/api/boards/{board['id']}/cards?archived=true",
            f"/api/boards/{board['id']}/users",
        ]

    before_board = (await client.get(f"/api/boards/{board['id']}", headers=alice.headers)).json()
    before = [(await client.get(path, headers=bob.headers)).json() for path in views()]
    before_card = await card_view(client, bob, card["id"])
    await delete(client, alice, f"/api/boards/{board['id']}")

    # A card of a board in the trash cannot come back alone; an editor cannot restore a board.
    response = await restore(client, bob, "cards", trashed_alone["id"])
    assert response.status_code == 409
    assert "restore the board first" in detail(response)
    assert (await restore(client, bob, "boards", board["id"])).status_code == 403

    response = await restore(client, alice, "boards", board["id"])
    assert response.status_code == 200, response.text
    restored = response.json()
    assert {**restored, "version": 0, "updatedAt": 0} == {
        **before_board,
        "version": 0,
        "updatedAt": 0,
    }
    assert response.headers["ETag"] == f'"{restored["version"]}-owner"'
    assert [(await client.get(path, headers=bob.headers)).json() for path in views()] == before
    assert await card_view(client, bob, card["id"]) == before_card
    assert [board["id"] for board in (await client.get("/api/boards", headers=bob.headers)).json()]
    # The card trashed on its own stays there, restorable now.
    assert [item["id"] for item in await trash(client, bob)] == [trashed_alone["id"]]
    assert (await restore(client, bob, "cards", trashed_alone["id"])).status_code == 200
    types = [event["type"] for event in await board_events(client, alice, board["id"])]
    assert types[-3:] == ["board.deleted", "board.restored", "card.restored"]


async def test_the_trash_lists_what_the_caller_may_restore_newest_first(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, viewer, outsider = [await accounts.create() for _ in range(3)]
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], viewer, "viewer")
    cards = await create_cards(client, alice, board["id"], {"title": "A"}, {"title": "B"})
    other = await create_board(client, alice, "Other")
    for card in cards:
        await delete(client, alice, f"/api/cards/{card['id']}")
    await delete(client, alice, f"/api/boards/{other['id']}")

    listed = await trash(client, alice)
    assert [(item["type"], item["id"]) for item in listed] == [
        ("board", other["id"]),
        ("card", cards[1]["id"]),
        ("card", cards[0]["id"]),
    ]
    assert await trash(client, viewer) == []
    assert await trash(client, outsider) == []
    # Viewers and outsiders cannot restore; outsiders are not told the card exists.
    assert (await restore(client, viewer, "cards", cards[0]["id"])).status_code == 403
    assert (await restore(client, outsider, "cards", cards[0]["id"])).status_code == 404
    assert (await restore(client, outsider, "boards", other["id"])).status_code == 404
    # Live boards and cards are not in the trash.
    assert (await restore(client, alice, "boards", board["id"])).status_code == 404
    assert (await client.get("/api/trash")).status_code == 401


async def test_the_trash_pages_with_a_link_to_the_next_page(
    app: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    cards = await create_cards(client, alice, board["id"], *({"title": t} for t in "ABCDE"))
    boards = [await create_board(client, alice, title) for title in ("Old", "Older")]
    for card in cards:
        await delete(client, alice, f"/api/cards/{card['id']}")
    for trashed in boards:
        await delete(client, alice, f"/api/boards/{trashed['id']}")
    # Deleted at the same instant (a bulk clean-up): a page may end inside the tie.
    same_time = utcnow() - timedelta(minutes=5)
    async with state_of(app).database.sessionmaker() as session, session.begin():
        await session.execute(
            update(Card)
            .where(Card.id.in_([c["id"] for c in cards[1:4]]))
            .values(deleted_at=same_time)
        )
        await session.execute(
            update(Board).where(Board.id == boards[0]["id"]).values(deleted_at=same_time)
        )
    everything = await trash(client, alice)
    assert len(everything) == 7

    pages, url = [], "/api/trash?limit=2"
    while url:
        response = await client.get(url, headers=alice.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        link = response.headers.get("Link")
        url = link.split(">")[0].removeprefix("<") if link else ""
        assert not link or link.endswith('>; rel="next"')
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [item for page in pages for item in page] == everything
    exact = await client.get("/api/trash?limit=7", headers=alice.headers)
    assert exact.json() == everything
    assert "Link" not in exact.headers


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("limit=0", ["query", "limit"]),
        ("limit=501", ["query", "limit"]),
        ("limit=2&cursor=not-a-cursor", ["query", "cursor"]),
        # Well-formed JSON that is not a trash position: a card list's cursor, say.
        ("limit=2&cursor=WyJET0lORyIsNCwxXQ", ["query", "cursor"]),
        ("limit=2&cursor=WyIyMDI2LTEyLTA3IiwiY2FyZCIsMV0", ["query", "cursor"]),
        # Forged: ids the database cannot hold, a time that leaves the calendar in UTC, an
        # id as text.
        *(
            (f"limit=2&cursor={encode_cursor(values)}", ["query", "cursor"])
            for values in (
                ["2026-12-07T19:00:00+00:00", "card", 2**31],
                ["2026-12-07T19:00:00+00:00", "card", 2**63],
                ["2026-12-07T19:00:00+00:00", "board", -1],
                ["2026-12-07T19:00:00+00:00", "card", "1"],
                ["9999-12-31T23:59:59.999999-01:00", "card", 1],
                [1_800_000_000, "card", 1],
            )
        ),
        ("limit=2&after=1", ["query", "after"]),
    ],
)
async def test_a_bad_trash_page_request_is_a_422(
    client: AsyncClient, accounts: Accounts, query: str, loc: list[str]
) -> None:
    alice = await accounts.create()
    response = await client.get(f"/api/trash?{query}", headers=alice.headers)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in detail(response)] == [loc]


async def test_a_trashed_board_introduces_nobody(
    client: AsyncClient, accounts: Accounts, boards: Boards
) -> None:
    """Co-members of a board in the trash are strangers again: sharing by id only invites
    them, without their email, until the board is restored."""
    alice, bob = await accounts.create(), await accounts.create()
    # Bob found Alice by email and shared his board; Alice knows Bob from that board only.
    shared = await boards.create(bob, {"editor": alice})
    mine = await create_board(client, alice)
    path = f"/api/boards/{mine['id']}/users/{bob.id}"
    await delete(client, bob, f"/api/boards/{shared.id}")
    invited = await client.put(path, headers=alice.headers)
    assert (invited.status_code, invited.json()) == (
        202,
        {"id": bob.id, "role": "editor", "status": "invited"},
    )
    assert (await restore(client, bob, "boards", shared.id)).status_code == 200
    joined = await client.put(path, headers=alice.headers)
    assert (joined.status_code, joined.json()["email"]) == (200, bob.email)


async def test_the_pruner_purges_what_stayed_in_the_trash_past_the_retention(
    app: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    live, old = await create_board(client, alice, "Live"), await create_board(client, alice, "Old")
    recent = await create_board(client, alice, "Recent")
    old_card, kept_card = await create_cards(
        client, alice, live["id"], {"title": "Old"}, {"title": "Kept"}
    )
    await full_card(client, alice, old["id"])
    for path in (
        f"/api/cards/{old_card['id']}",
        f"/api/cards/{kept_card['id']}",
        f"/api/boards/{old['id']}",
        f"/api/boards/{recent['id']}",
    ):
        await delete(client, alice, path)
    database = state_of(app).database
    long_ago = utcnow() - timedelta(days=31)
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            update(Board).where(Board.id == old["id"]).values(deleted_at=long_ago)
        )
        await session.execute(
            update(Card).where(Card.id == old_card["id"]).values(deleted_at=long_ago)
        )
    async with database.sessionmaker() as session, session.begin():
        pruned = await retention.prune(session, retention_days=30, trash_retention_days=30)
    assert pruned.trash == 2

    listed = await trash(client, alice)
    assert {(item["type"], item["id"]) for item in listed} == {
        ("board", recent["id"]),
        ("card", kept_card["id"]),
    }
    assert (await restore(client, alice, "boards", old["id"])).status_code == 404
    assert (await restore(client, alice, "boards", recent["id"])).status_code == 200
    assert (await restore(client, alice, "cards", old_card["id"])).status_code == 404
    assert (await restore(client, alice, "cards", kept_card["id"])).status_code == 200
