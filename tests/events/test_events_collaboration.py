"""Events of card moves and renumbering, card details, comments and member roles."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import (
    Accounts,
    add_member,
    board_events,
    create_board,
    create_cards,
    create_comment,
    list_cards,
    move_card,
    set_card_position,
)

Card = dict[str, Any]


def _types_and_data(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(event["type"], event["data"]) for event in events]


def _apply(cards: list[Card], events: list[dict[str, Any]]) -> list[Card]:
    """What a client holding `cards` makes of the events: the cards in board order."""
    by_id = {card["id"]: card for card in cards}
    for event in events:
        if event["type"] in ("card.created", "card.updated", "card.moved"):
            by_id[event["data"]["id"]] = event["data"]
        elif event["type"] == "card.deleted":
            del by_id[event["data"]["id"]]
    columns = ["BACKLOG", "TODO", "DOING", "DONE"]
    return sorted(
        by_id.values(), key=lambda card: (columns.index(card["column"]), card["position"])
    )


async def test_a_move_records_card_moved(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    a, _, c = await create_cards(
        client, alice, board["id"], *({"title": title, "column": "TODO"} for title in "abc")
    )
    moved = await move_card(client, alice, c["id"], "TODO", None)
    assert moved.status_code == 200
    # Moving a card to where it already is changes nothing, so records nothing.
    again = await move_card(client, alice, c["id"], "TODO", None)
    assert again.status_code == 200
    across = await move_card(client, alice, a["id"], "DONE", None)
    assert across.status_code == 200
    events = await board_events(client, alice, board["id"], after=3)
    assert _types_and_data(events) == [
        ("card.moved", moved.json()),
        ("card.moved", across.json()),
    ]
    assert events[0]["actorId"] == alice.id


async def test_a_move_that_renumbers_the_column_records_every_card_it_moved(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    a, b, c = await create_cards(
        client, alice, board["id"], *({"title": title, "column": "TODO"} for title in "abc")
    )
    # No room is left above a: moving c to the top renumbers the column.
    await set_card_position(engine, a["id"], 1)
    before = await list_cards(client, alice, board["id"])
    seen = len(await board_events(client, alice, board["id"]))

    moved = await move_card(client, alice, c["id"], "TODO", None)
    assert moved.status_code == 200

    after = await list_cards(client, alice, board["id"])
    by_id = {card["id"]: card for card in after}
    events = await board_events(client, alice, board["id"], after=seen)
    # The other cards the renumbering moved, in board order, then the moved card.
    assert _types_and_data(events) == [
        ("card.updated", by_id[a["id"]]),
        ("card.updated", by_id[b["id"]]),
        ("card.moved", moved.json()),
    ]
    assert _apply(before, events) == after


async def test_new_cards_that_renumber_their_column_record_the_cards_it_moved(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    a, b = await create_cards(
        client, alice, board["id"], *({"title": title, "column": "DOING"} for title in "ab")
    )
    # No room is left below b: new cards at the bottom renumber the column.
    await set_card_position(engine, b["id"], 2**53 - 1)
    before = await list_cards(client, alice, board["id"])

    created = await create_cards(client, alice, board["id"], {"title": "c", "column": "DOING"})

    after = await list_cards(client, alice, board["id"])
    by_id = {card["id"]: card for card in after}
    events = await board_events(client, alice, board["id"], after=2)
    # a kept its place (the renumbered column starts where it was); b did not.
    assert by_id[a["id"]] == a
    assert _types_and_data(events) == [
        ("card.updated", by_id[b["id"]]),
        ("card.created", created[0]),
    ]
    assert _apply(before, events) == after


async def test_card_details_changes_are_card_updated(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "editor")
    (card,) = await create_cards(client, alice, board["id"], {"title": "A"})
    url = f"/api/cards/{card['id']}"
    answers = []
    for change in (
        {"archived": True},
        {"archived": False},
        {"assigneeIds": [bob.id, alice.id]},
        {"dueAt": "2030-01-02T03:04:05Z"},
        {"dueAt": None},
        {"column": "DONE"},
    ):
        response = await client.patch(url, json=change, headers=alice.headers)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    # The same values again change nothing and record nothing.
    unchanged = await client.patch(
        url, json={"archived": False, "assigneeIds": [alice.id, bob.id]}, headers=alice.headers
    )
    assert unchanged.status_code == 200
    events = await board_events(client, alice, board["id"], after=2)
    assert _types_and_data(events) == [("card.updated", answer) for answer in answers]


async def test_removing_a_member_updates_the_cards_they_were_assigned_to(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "editor")
    theirs, shared, other = await create_cards(
        client,
        alice,
        board["id"],
        {"title": "Bob's", "assigneeIds": [bob.id]},
        {"title": "Both", "assigneeIds": [alice.id, bob.id]},
        {"title": "Alice's", "assigneeIds": [alice.id]},
    )
    seen = len(await board_events(client, alice, board["id"]))

    left = await client.delete(f"/api/boards/{board['id']}/users/{bob.id}", headers=bob.headers)
    assert left.status_code == 204

    after = {card["id"]: card for card in await list_cards(client, alice, board["id"])}
    events = await board_events(client, alice, board["id"], after=seen)
    assert _types_and_data(events) == [
        ("member.removed", {"id": bob.id}),
        ("card.updated", after[theirs["id"]]),
        ("card.updated", after[shared["id"]]),
    ]
    assert events[0]["actorId"] == bob.id
    assert after[theirs["id"]]["assigneeIds"] == []
    assert after[shared["id"]]["assigneeIds"] == [alice.id]
    # Their version grows, so an ETag taken before the unassignment no longer matches.
    assert after[theirs["id"]]["version"] > theirs["version"]
    assert after[shared["id"]]["version"] > shared["version"]
    assert after[other["id"]] == other


async def test_comment_events(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], bob, "editor")
    (card,) = await create_cards(client, alice, board["id"], {"title": "A"})
    seen = len(await board_events(client, alice, board["id"]))

    comment = await create_comment(client, bob, card["id"], "First")
    url = f"/api/comments/{comment['id']}"
    same = await client.patch(url, json={"body": "First"}, headers=bob.headers)
    assert same.status_code == 200
    reworded = await client.patch(url, json={"body": "Second"}, headers=bob.headers)
    assert reworded.status_code == 200
    # An owner deletes someone else's comment.
    deleted = await client.delete(url, headers=alice.headers)
    assert deleted.status_code == 204

    events = await board_events(client, alice, board["id"], after=seen)
    assert _types_and_data(events) == [
        ("comment.created", comment),
        ("comment.updated", reworded.json()),
        ("comment.deleted", {"id": comment["id"]}),
    ]
    assert [event["actorId"] for event in events] == [bob.id, bob.id, alice.id]


async def test_viewers_follow_the_board(client: AsyncClient, accounts: Accounts) -> None:
    alice, vera = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    await add_member(client, alice, board["id"], vera, "viewer")
    (card,) = await create_cards(client, alice, board["id"], {"title": "A"})
    events = await board_events(client, vera, board["id"])
    assert _types_and_data(events) == [
        ("member.added", {"id": vera.id, "email": vera.email, "role": "viewer"}),
        ("card.created", card),
    ]
    ticket = await client.post(f"/api/boards/{board['id']}/events/tickets", headers=vera.headers)
    assert ticket.status_code == 201
