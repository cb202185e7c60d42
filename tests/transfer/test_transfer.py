"""Board export and import (issue 19): the kanban-api/1 round trip, who an import may name,
a Trello export (tests/transfer/trello_board.json, made by hand in Trello's export shape),
and the 4xx answers of a bad document."""

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from kanban_api.models import Role
from kanban_api.state import state_of
from tests import factories
from tests.conftest import ClientFactory
from tests.helpers import (
    Account,
    Accounts,
    add_member,
    board_events,
    create_board,
    create_cards,
    create_comment,
    detail,
    list_cards,
)

TRELLO = json.loads((Path(__file__).parent / "trello_board.json").read_text())


async def export(client: AsyncClient, account: Account, board_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/boards/{board_id}/export", headers=account.headers)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def import_(client: AsyncClient, account: Account, body: Any) -> Any:
    return await client.post("/api/boards/import", json=body, headers=account.headers)


async def populated_board(client: AsyncClient, alice: Account, bob: Account) -> int:
    board = await create_board(client, alice, "Launch", description="Everything for the launch")
    await add_member(client, alice, board["id"], bob, "editor")
    response = await client.patch(
        f"/api/boards/{board['id']}",
        json={
            "labels": [{"color": "red", "name": "Urgent"}, {"color": "gray", "name": "Later"}],
            "columns": [{"key": "DOING", "name": "In progress", "wipLimit": 2}],
        },
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    cards = await create_cards(
        client,
        alice,
        board["id"],
        {"title": "Plan", "column": "DONE", "labels": ["red"], "assigneeIds": [alice.id, bob.id]},
        {"title": "Build", "column": "DOING", "dueAt": "2030-01-31T17:00:00Z"},
        {"title": "Ship", "column": "DOING", "description": "Carefully", "labels": ["gray"]},
        {"title": "Old idea", "archived": True},
    )
    await create_comment(client, alice, cards[0]["id"], "Looks good")
    await create_comment(client, bob, cards[0]["id"], "Agreed")
    for text in ("Write it", "Review it"):
        response = await client.post(
            f"/api/cards/{cards[1]['id']}/checklist", json={"text": text}, headers=bob.headers
        )
        assert response.status_code == 201, response.text
    item = response.json()
    await client.patch(
        f"/api/checklist-items/{item['id']}", json={"done": True}, headers=bob.headers
    )
    # Cards in the trash are not part of the board.
    (trashed,) = await create_cards(client, alice, board["id"], {"title": "Trashed"})
    await client.delete(f"/api/cards/{trashed['id']}", headers=alice.headers)
    board_id: int = board["id"]
    return board_id


async def test_an_export_imports_to_the_same_board(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board_id = await populated_board(client, alice, bob)
    document = await export(client, bob, board_id)
    assert document["format"] == "kanban-api/1"
    assert [card["title"] for card in document["cards"]] == ["Old idea", "Build", "Ship", "Plan"]
    plan = document["cards"][-1]
    assert plan["assignees"] == [alice.email, bob.email]
    assert [(c["author"], c["body"]) for c in plan["comments"]] == [
        (alice.email, "Looks good"),
        (bob.email, "Agreed"),
    ]
    assert document["cards"][1]["checklist"] == [
        {"text": "Write it", "done": False},
        {"text": "Review it", "done": True},
    ]

    response = await import_(client, alice, document)
    assert response.status_code == 201, response.text
    imported = response.json()
    assert (imported["title"], imported["role"]) == ("Launch", "owner")
    assert response.headers["ETag"] == f'"{imported["version"]}-owner"'
    # Apart from ids and timestamps (here none differ: comments keep theirs), the same.
    assert await export(client, alice, imported["id"]) == document
    # Bob, Alice's co-member, joined in his role and can see it; one event says it all.
    assert (await client.get(f"/api/boards/{imported['id']}", headers=bob.headers)).json()[
        "role"
    ] == "editor"
    events = await board_events(client, alice, imported["id"])
    assert [event["type"] for event in events] == ["board.imported"]
    assert events[0]["data"]["title"] == "Launch"


async def test_an_import_names_only_the_callers_co_members(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob, carol = [await accounts.create() for _ in range(3)]
    document = await export(client, alice, await populated_board(client, alice, bob))
    response = await import_(client, carol, document)
    assert response.status_code == 201, response.text
    board_id = response.json()["id"]
    members = (await client.get(f"/api/boards/{board_id}/users", headers=carol.headers)).json()
    assert [member["id"] for member in members] == [carol.id]
    cards = await list_cards(client, carol, board_id)
    assert all(card["assigneeIds"] == [] for card in cards)
    plan = next(card for card in cards if card["title"] == "Plan")
    comments = (await client.get(f"/api/cards/{plan['id']}/comments", headers=carol.headers)).json()
    assert [(c["authorId"], c["body"]) for c in comments] == [
        (None, f"{alice.email}: Looks good"),
        (None, f"{bob.email}: Agreed"),
    ]
    assert (await client.get(f"/api/boards/{board_id}", headers=bob.headers)).status_code == 404


async def test_a_trello_export_imports_with_the_default_list_mapping(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    response = await import_(client, alice, TRELLO)
    assert response.status_code == 201, response.text
    board = response.json()
    assert (board["title"], board["description"]) == (
        "Product roadmap",
        "What we build next, and why.",
    )
    assert [(column["key"], column["name"]) for column in board["columns"]] == [
        ("BACKLOG", "Ideas"),
        ("TODO", "To Do"),
        ("DOING", "Doing"),
        ("DONE", "Review"),
    ]
    # Ten Trello colours and a colourless label onto our seven, names kept.
    assert {label["color"]: label["name"] for label in board["labels"]} == {
        "red": "Urgent",
        "orange": "Bug",
        "yellow": "Waiting",
        "green": "Quick win / Docs",
        "blue": "Backend / Frontend / Infra",
        "purple": "Design / Marketing",
        "gray": "Security / Someday",
    }
    document = await export(client, alice, board["id"])
    cards = {card["title"]: card for card in document["cards"]}
    assert [(card["title"], card["column"], card["archived"]) for card in document["cards"]] == [
        ("Dark mode", "BACKLOG", False),
        ("Rewrite onboarding emails", "BACKLOG", False),
        ("Old landing page", "BACKLOG", True),
        ("Fix login redirect loop", "TODO", False),
        ("Rate-limit the public API", "TODO", False),
        ("Migrate to PostgreSQL 16", "DOING", False),
        ("Write the API guide", "DONE", False),
        ("Release 2.2", "DONE", True),
        ("Release 2.3", "DONE", False),
        ("Spike: GraphQL", "DONE", True),
    ]
    assert cards["Dark mode"]["labels"] == ["blue", "purple"]
    assert cards["Dark mode"]["description"] == "Users keep asking for it."
    assert cards["Rate-limit the public API"]["labels"] == ["blue", "gray"]
    assert cards["Spike: GraphQL"]["labels"] == ["gray"]
    bug = cards["Fix login redirect loop"]
    assert bug["dueAt"] == "2024-04-01T09:00:00Z"
    assert bug["checklist"] == [
        {"text": "Read the bug report", "done": True},
        {"text": "Reproduce on staging", "done": True},
        {"text": "Write a failing test", "done": False},
    ]
    assert [(c["author"], c["body"], c["createdAt"]) for c in bug["comments"]] == [
        (None, "Ada Lovelace: I can reproduce it with Safari only.", "2024-03-02T10:15:00Z"),
        (None, "Grace Hopper: Fixed on staging, deploying tomorrow.", "2024-03-04T16:30:00Z"),
    ]
    assert [item["text"] for item in cards["Migrate to PostgreSQL 16"]["checklist"]] == [
        "Back up the database",
        "Run the smoke tests",
        "Announce the upgrade",
    ]
    assert all(card["assignees"] == [] for card in document["cards"])
    listed = await list_cards(client, alice, board["id"])
    assert next(c for c in listed if c["title"] == "Fix login redirect loop")["checklist"] == {
        "done": 2,
        "total": 3,
    }


async def test_a_trello_list_mapping_places_lists(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    lists = {entry["name"]: entry["id"] for entry in TRELLO["lists"]}
    mapping = {lists["Ideas"]: "BACKLOG", lists["Review"]: "DOING", lists["Done"]: "DONE"}
    response = await import_(client, alice, {"trello": TRELLO, "listMapping": mapping})
    assert response.status_code == 201, response.text
    document = await export(client, alice, response.json()["id"])
    columns = {card["title"]: card["column"] for card in document["cards"]}
    assert columns["Write the API guide"] == "DOING"
    assert columns["Release 2.3"] == "DONE"
    assert columns["Fix login redirect loop"] == "TODO"  # not mapped: as by default

    response = await import_(client, alice, {"trello": TRELLO, "listMapping": {"nope": "DONE"}})
    assert response.status_code == 422
    assert detail(response)[0]["loc"] == ["body", "mapped", "listMapping"]


async def test_a_malformed_document_is_a_422_saying_where_and_changes_nothing(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    untitled = {"format": "kanban-api/1", "board": {"description": "x"}}
    bad_card = {
        "format": "kanban-api/1",
        "board": {"title": "T"},
        "cards": [{"title": "ok"}, {"title": "ok", "column": "LATER"}],
    }
    long_name = {
        **TRELLO,
        "cards": [*TRELLO["cards"][:2], {**TRELLO["cards"][2], "name": "x" * 201}],
    }
    stray_card = {**TRELLO, "cards": [{**TRELLO["cards"][0], "idList": "gone"}]}
    # A NUL in a person's email: SQLite would count a quoted author up to it, PostgreSQL
    # cannot store it.
    nul = "a\x00@example.com"
    nul_people = {
        "format": "kanban-api/1",
        "board": {"title": "T"},
        "members": [{"email": nul, "role": "editor"}],
        "cards": [{"title": "c", "assignees": [nul], "comments": [{"author": nul, "body": "hi"}]}],
    }
    # Two names for one column or colour: which should win would be a guess.
    twice = {
        "format": "kanban-api/1",
        "board": {"title": "T"},
        "columns": [{"key": "TODO", "name": "Next"}, {"key": "TODO", "name": "Soon"}],
        "labels": [{"color": "red", "name": "Bug"}, {"color": "red", "name": "Urgent"}],
    }
    cases = [
        (twice, ["body", "kanban", "columns"]),
        (twice, ["body", "kanban", "labels"]),
        (nul_people, ["body", "kanban", "members", 0, "email"]),
        (nul_people, ["body", "kanban", "cards", 0, "assignees", 0]),
        (nul_people, ["body", "kanban", "cards", 0, "comments", 0, "author"]),
        (untitled, ["body", "kanban", "board", "title"]),
        (bad_card, ["body", "kanban", "cards", 1, "column"]),
        ({"format": "kanban-api/2", "board": {"title": "T"}}, ["body", "kanban", "format"]),
        (long_name, ["body", "trello", "cards", 2, "name"]),
        (stray_card, ["body", "trello", "cards", 0, "idList"]),
        ({"trello": {"name": "T"}}, ["body", "mapped", "trello", "lists"]),
        ([], ["body"]),
    ]
    for body, loc in cases:
        response = await import_(client, alice, body)
        assert response.status_code == 422, response.text
        assert loc in [error["loc"] for error in detail(response)], detail(response)
    # Neither a document nor an export: one error saying what is expected.
    for body in ({}, {"title": "T", "columns": []}):
        response = await import_(client, alice, body)
        assert response.status_code == 422, response.text
        [error] = detail(response)
        assert error["loc"] == ["body"]
        assert error["msg"] == "Expected a kanban-api/1 document or a Trello board export"
    assert (await client.get("/api/boards", headers=alice.headers)).json() == []


async def test_an_import_respects_the_card_cap(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    client = await client_with(max_cards_per_board=2)
    alice = await accounts.create()
    document = {
        "format": "kanban-api/1",
        "board": {"title": "Big"},
        "cards": [{"title": str(index)} for index in range(3)],
    }
    response = await import_(client, alice, document)
    assert response.status_code == 409
    assert "at most 2 active cards" in detail(response)
    assert (await client.get("/api/boards", headers=alice.headers)).json() == []


async def test_an_export_shows_no_invited_users_email_and_an_import_joins_co_members(
    app: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob, invitee = [await accounts.create() for _ in range(3)]
    board_id = await populated_board(client, alice, bob)
    # Invited, not accepted: the invitee may comment, yet the board never saw their email.
    await factories.invite(
        state_of(app).database, board_id=board_id, user_id=invitee.id, role=Role.EDITOR
    )
    (card,) = await create_cards(client, alice, board_id, {"title": "Asked"})
    await create_comment(client, invitee, card["id"], "Hello from outside")
    document = await export(client, alice, board_id)
    assert invitee.email not in json.dumps(document)
    asked = next(card for card in document["cards"] if card["title"] == "Asked")
    assert asked["comments"][0]["author"] is None

    response = await import_(client, alice, document)
    assert response.status_code == 201, response.text
    imported = response.json()["id"]
    # Bob shares a board with Alice: he joins the copy at once, in his exported role.
    members = (await client.get(f"/api/boards/{imported}/users", headers=bob.headers)).json()
    assert {(member["id"], member["role"]) for member in members} == {
        (alice.id, "owner"),
        (bob.id, "editor"),
    }
    boards = (await client.get("/api/boards", headers=bob.headers)).json()
    assert imported in [board["id"] for board in boards]


async def test_an_export_does_not_name_an_invitee_who_commented_then_declined(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, invitee = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    shared = await client.put(
        f"/api/boards/{board['id']}/users/{invitee.id}", headers=alice.headers
    )
    assert shared.status_code == 202, shared.text
    (card,) = await create_cards(client, alice, board["id"], {"title": "Asked"})
    await create_comment(client, invitee, card["id"], "Who are you?")
    declined = await client.delete(f"/api/invitations/{board['id']}", headers=invitee.headers)
    assert declined.status_code == 204, declined.text

    document = await export(client, alice, board["id"])
    assert invitee.email not in json.dumps(document)
    assert document["cards"][0]["comments"][0]["author"] is None
