"""Every board change writes an event, read back in order with `after` (the change log)."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import BindParameter, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.cli import main
from kanban_api.config import Settings
from kanban_api.events import feed as event_service
from kanban_api.models import Board
from kanban_api.models.base import UTCDateTime
from kanban_api.state import state_of
from tests.conftest import TEST_SECRET
from tests.helpers import (
    Accounts,
    add_member,
    board_events,
    create_board,
    create_cards,
    create_comment,
    detail,
    move_card,
    share,
)


def _at(name: str) -> BindParameter[datetime]:
    """A timestamp parameter stored the way the app stores them, on either database."""
    return bindparam(name, type_=UTCDateTime())


async def test_created_cards_are_events_in_request_order(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    cards = await create_cards(client, alice, board["id"], {"title": "A"}, {"title": "B"})
    events = await board_events(client, alice, board["id"])
    assert [(event["seq"], event["type"], event["data"]) for event in events] == [
        (1, "card.created", cards[0]),
        (2, "card.created", cards[1]),
    ]
    first = events[0]
    assert list(first) == ["seq", "type", "data", "actorId", "at"]
    assert first["actorId"] == alice.id
    at = datetime.fromisoformat(first["at"])
    assert at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=5)


async def test_card_updates_and_deletions(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    (card,) = await create_cards(client, alice, board["id"], {"title": "A"})
    patched = await client.patch(
        f"/api/cards/{card['id']}",
        json={"column": "DOING", "labels": ["red"]},
        headers=alice.headers,
    )
    assert patched.status_code == 200
    # Changing nothing records nothing.
    unchanged = await client.patch(
        f"/api/cards/{card['id']}", json={"title": "A", "labels": ["red"]}, headers=alice.headers
    )
    assert unchanged.status_code == 200
    deleted = await client.delete(f"/api/cards/{card['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    events = await board_events(client, alice, board["id"], after=1)
    assert [(event["type"], event["data"]) for event in events] == [
        ("card.updated", patched.json()),
        ("card.deleted", {"id": card["id"]}),
    ]


async def test_board_and_label_changes(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    url = f"/api/boards/{board['id']}"
    labels_only = await client.patch(
        url,
        json={"labels": [{"color": "gray", "name": "Later"}, {"color": "red", "name": "Urgent"}]},
        headers=alice.headers,
    )
    assert labels_only.status_code == 200
    both = await client.patch(
        url,
        json={"title": "Renamed", "labels": [{"color": "red", "name": "Urgent"}]},
        headers=alice.headers,
    )
    assert both.status_code == 200
    nothing = await client.patch(url, json={"title": "Renamed"}, headers=alice.headers)
    assert nothing.status_code == 200
    events = await board_events(client, alice, board["id"])
    # One label.renamed per label whose name changed, in colour order; board.updated only
    # when the title or description changed. Every member gets the event, so the board in
    # it carries no one's role (nor whether they are only invited).
    board_data = {
        field: value for field, value in both.json().items() if field not in ("role", "invited")
    }
    assert [(event["type"], event["data"]) for event in events] == [
        ("label.renamed", {"color": "red", "name": "Urgent"}),
        ("label.renamed", {"color": "gray", "name": "Later"}),
        ("board.updated", board_data),
    ]


async def test_members_added_changed_and_removed(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    for _ in range(2):  # sharing again changes nothing, so records nothing
        assert (await share(client, alice, board["id"], bob.id)).status_code == 200
    for _ in range(2):  # nor does setting the role a member already has
        assert (await share(client, alice, board["id"], bob.id, "viewer")).status_code == 200
    url = f"/api/boards/{board['id']}/users/{bob.id}"
    assert (await client.delete(url, headers=alice.headers)).status_code == 204
    events = await board_events(client, alice, board["id"])
    assert [(event["type"], event["data"]) for event in events] == [
        ("member.added", {"id": bob.id, "email": bob.email, "role": "editor"}),
        ("member.updated", {"id": bob.id, "email": bob.email, "role": "viewer"}),
        ("member.removed", {"id": bob.id}),
    ]


async def test_each_board_counts_its_own_events(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    first, second = await create_board(client, alice), await create_board(client, alice)
    await create_cards(client, alice, first["id"], {"title": "A"}, {"title": "B"})
    await create_cards(client, alice, second["id"], {"title": "C"})
    assert [e["seq"] for e in await board_events(client, alice, first["id"])] == [1, 2]
    assert [e["seq"] for e in await board_events(client, alice, second["id"])] == [1]


async def test_failed_changes_record_nothing(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    invalid = await client.post(
        f"/api/boards/{board['id']}/cards",
        json=[{"title": "fine"}, {"title": ""}],
        headers=alice.headers,
    )
    assert invalid.status_code == 422
    not_a_member = await client.delete(
        f"/api/boards/{board['id']}/users/999999", headers=alice.headers
    )
    assert not_a_member.status_code == 404
    assert await board_events(client, alice, board["id"]) == []
    await create_cards(client, alice, board["id"], {"title": "A"})
    assert [e["seq"] for e in await board_events(client, alice, board["id"])] == [1]


async def test_paging_with_after_and_limit(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    await create_cards(client, alice, board["id"], *({"title": str(n)} for n in range(5)))
    page = await board_events(client, alice, board["id"], after=1, limit=2)
    assert [event["seq"] for event in page] == [2, 3]
    rest = await board_events(client, alice, board["id"], after=3)
    assert [event["seq"] for event in rest] == [4, 5]
    assert await board_events(client, alice, board["id"], after=5) == []


@pytest.mark.parametrize(
    "params",
    [{"after": -1}, {"after": "x"}, {"after": 2**31}, {"limit": 0}, {"limit": 1001}],
)
async def test_invalid_paging_is_rejected(
    client: AsyncClient, accounts: Accounts, params: dict[str, Any]
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    response = await client.get(
        f"/api/boards/{board['id']}/events", params=params, headers=alice.headers
    )
    assert response.status_code == 422


async def test_a_position_past_the_latest_event_is_gone(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    response = await client.get(
        f"/api/boards/{board['id']}/events", params={"after": 3}, headers=alice.headers
    )
    assert response.status_code == 410
    assert "reload" in detail(response)


async def test_outsiders_and_strangers(client: AsyncClient, accounts: Accounts) -> None:
    alice, mallory = await accounts.create(), await accounts.create()
    board = await create_board(client, alice)
    for method, path in [
        ("GET", f"/api/boards/{board['id']}/events"),
        ("POST", f"/api/boards/{board['id']}/events/tickets"),
    ]:
        outsider = await client.request(method, path, headers=mallory.headers)
        anonymous = await client.request(method, path)
        assert (outsider.status_code, anonymous.status_code) == (404, 401), path


async def test_tickets_are_stored_only_as_hashes(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    issued = await client.post(f"/api/boards/{board['id']}/events/tickets", headers=alice.headers)
    assert issued.status_code == 201
    ticket = issued.json()["ticket"]
    assert len(ticket) >= 32
    async with engine.connect() as connection:
        stored = (await connection.execute(text("SELECT ticket_hash FROM event_ticket"))).scalars()
        assert ticket not in list(stored)


async def test_tickets_are_bound_to_their_board_and_expire(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice = await accounts.create()
    first, second = await create_board(client, alice), await create_board(client, alice)

    async def ticket_for(board_id: int) -> str:
        response = await client.post(
            f"/api/boards/{board_id}/events/tickets", headers=alice.headers
        )
        ticket: str = response.json()["ticket"]
        return ticket

    wrong_board = await client.get(
        f"/api/boards/{second['id']}/events/stream",
        params={"ticket": await ticket_for(first["id"])},
    )
    assert wrong_board.status_code == 401
    expired = await ticket_for(first["id"])
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE event_ticket SET expires_at = :past").bindparams(_at("past")),
            {"past": datetime.now(UTC) - timedelta(seconds=1)},
        )
    late = await client.get(f"/api/boards/{first['id']}/events/stream", params={"ticket": expired})
    assert late.status_code == 401


async def test_a_password_change_voids_outstanding_tickets(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    issued = await client.post(f"/api/boards/{board['id']}/events/tickets", headers=alice.headers)
    changed = await client.patch(
        "/api/users/me", json={"password": "another password"}, headers=alice.headers
    )
    assert changed.status_code == 200
    response = await client.get(
        f"/api/boards/{board['id']}/events/stream", params={"ticket": issued.json()["ticket"]}
    )
    assert response.status_code == 401


async def test_pruned_events_make_older_positions_gone(
    client: AsyncClient,
    accounts: Accounts,
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    await create_cards(client, alice, board["id"], *({"title": str(n)} for n in range(3)))
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE board_event SET at = :old WHERE seq <= 2").bindparams(_at("old")),
            {"old": datetime.now(UTC) - timedelta(days=31)},
        )
    monkeypatch.setenv("KANBAN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KANBAN_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("KANBAN_EVENT_RETENTION_DAYS", "30")
    result = await asyncio.to_thread(CliRunner().invoke, main, ["prune-events"])
    assert result.exit_code == 0, result.output
    assert "2 events" in result.output
    url = f"/api/boards/{board['id']}/events"
    gone = await client.get(url, params={"after": 0}, headers=alice.headers)
    assert gone.status_code == 410
    assert "no longer kept" in detail(gone)
    kept = await board_events(client, alice, board["id"], after=2)
    assert [event["seq"] for event in kept] == [3]


async def test_pruning_skips_a_board_in_use_instead_of_waiting_for_it(
    client: AsyncClient, accounts: Accounts, app: FastAPI, engine: AsyncEngine
) -> None:
    """The pruner holds each board while deleting its rows, as every writer does, so it
    never deadlocks with a board's deletion; a board someone holds is left for next time."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: nothing to skip")
    alice = await accounts.create()
    busy, idle = await create_board(client, alice), await create_board(client, alice)
    for board in (busy, idle):
        await create_cards(client, alice, board["id"], {"title": "card"})
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE board_event SET at = :old").bindparams(_at("old")),
            {"old": datetime.now(UTC) - timedelta(days=31)},
        )

    async def prune() -> int:
        async with state_of(app).database.sessionmaker() as session:
            # A guard, not a measurement: a pruner that waited for the board would hang.
            deleted = await asyncio.wait_for(event_service.prune(session, retention_days=30), 30)
            await session.commit()
            return deleted

    async with engine.connect() as writer:
        await writer.execute(
            select(Board.id).where(Board.id == busy["id"]).with_for_update(key_share=True)
        )
        assert await prune() == 1
        assert await board_events(client, alice, busy["id"], after=0)
        gone = await client.get(
            f"/api/boards/{idle['id']}/events", params={"after": 0}, headers=alice.headers
        )
        assert gone.status_code == 410
    assert await prune() == 1


async def test_concurrent_writers_get_consecutive_seqs(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/boards/{board['id']}/cards", json=[{"title": str(n)}], headers=alice.headers
            )
            for n in range(10)
        )
    )
    assert [response.status_code for response in responses] == [201] * 10
    events = await board_events(client, alice, board["id"])
    assert [event["seq"] for event in events] == list(range(1, 11))
    created = {response.json()[0]["id"] for response in responses}
    assert {event["data"]["id"] for event in events} == created


async def test_writes_racing_a_board_deletion_never_fail(
    client: AsyncClient, accounts: Accounts
) -> None:
    """Every change takes the board's lock first, so no order of these can deadlock."""
    alice, bob, carol, dave, erin = [await accounts.create() for _ in range(5)]
    for _ in range(5):
        board = await create_board(client, alice)
        board_url = f"/api/boards/{board['id']}"
        for member in (bob, carol, dave):
            await add_member(client, alice, board["id"], member, "editor")
        cards = await create_cards(
            client,
            alice,
            board["id"],
            {"title": "A", "assigneeIds": [carol.id]},
            {"title": "B", "assigneeIds": [bob.id]},
        )
        first, second = [await create_comment(client, bob, cards[0]["id"]) for _ in range(2)]
        responses = await asyncio.gather(
            *(
                client.patch(
                    f"/api/cards/{card['id']}",
                    json={"title": "Changed", "labels": ["red"]},
                    headers=alice.headers,
                )
                for card in cards
            ),
            client.delete(board_url, headers=alice.headers),
            client.put(f"{board_url}/users/{erin.id}", headers=alice.headers),
            share(client, alice, board["id"], dave.id, "viewer"),
            client.delete(f"{board_url}/users/{carol.id}", headers=alice.headers),
            client.post(f"{board_url}/cards", json=[{"title": "C"}], headers=alice.headers),
            move_card(client, alice, cards[1]["id"], "DONE", None),
            client.post(
                f"/api/cards/{cards[0]['id']}/comments", json={"body": "Hi"}, headers=bob.headers
            ),
            client.patch(
                f"/api/comments/{first['id']}", json={"body": "Reworded"}, headers=bob.headers
            ),
            client.delete(f"/api/comments/{second['id']}", headers=bob.headers),
            client.post(f"{board_url}/events/tickets", headers=bob.headers),
        )
        assert all(response.status_code < 500 for response in responses), [
            (response.request.method, response.request.url.path, response.status_code)
            for response in responses
        ]
