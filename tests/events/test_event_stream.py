"""The live stream, served over real HTTP: replay, live delivery, heartbeats and its end."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.state import state_of
from tests.conftest import TEST_SECRET
from tests.helpers import (
    Account,
    Accounts,
    Message,
    add_member,
    board_events,
    create_board,
    create_cards,
    detail,
    eventually,
    open_stream,
    serve_in_process,
    share,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Frequent heartbeats, so the tests that wait for one (or for its access check) are quick.
    return Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=TEST_SECRET,
        stream_heartbeat_seconds=0.2,
    )


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client of the app served on a real port."""
    async with serve_in_process(app) as served, served.client() as client:
        yield client


@pytest.fixture
def people(live: AsyncClient) -> Accounts:
    return Accounts(live)


async def _board_with_member(live: AsyncClient, owner: Account, member: Account) -> int:
    board = await create_board(live, owner)
    assert (await share(live, owner, board["id"], member.id)).status_code == 200
    board_id: int = board["id"]
    return board_id


async def _board_with_events(
    live: AsyncClient, owner: Account, cards: int
) -> tuple[int, list[dict[str, Any]]]:
    """A new board of `cards` cards, and its change feed (one event per card)."""
    board_id: int = (await create_board(live, owner))["id"]
    await create_cards(live, owner, board_id, *({"title": str(n)} for n in range(1, cards + 1)))
    return board_id, await board_events(live, owner, board_id)


async def test_a_change_reaches_every_open_stream(live: AsyncClient, people: Accounts) -> None:
    alice, bob = await people.create(), await people.create()
    board_id = await _board_with_member(live, alice, bob)
    async with (
        open_stream(live, board_id, alice) as alice_stream,
        open_stream(live, board_id, bob) as bob_stream,
    ):
        assert await alice_stream.events_until_ready() == []
        assert await bob_stream.events_until_ready() == []
        (card,) = await create_cards(live, alice, board_id, {"title": "Live"})
        logged = (await board_events(live, alice, board_id))[-1]
        for stream in (alice_stream, bob_stream):
            message = await stream.next_event()
            assert (message.event, message.id) == ("card.created", str(logged["seq"]))
            assert message.json() == logged
            assert message.json()["data"] == card


async def test_missed_events_are_replayed_before_live_ones(
    live: AsyncClient, people: Accounts
) -> None:
    alice = await people.create()
    board_id, logged = await _board_with_events(live, alice, cards=3)
    seen = logged[0]["seq"]
    async with open_stream(live, board_id, alice, headers={"Last-Event-ID": str(seen)}) as stream:
        replayed = await stream.events_until_ready()
        assert [message.json() for message in replayed] == logged[1:]
        assert [message.id for message in replayed] == [str(event["seq"]) for event in logged[1:]]
        await create_cards(live, alice, board_id, {"title": "4"})
        message = await stream.next_event()
        assert message.json()["seq"] == logged[-1]["seq"] + 1


async def test_after_is_honoured_and_last_event_id_wins(
    live: AsyncClient, people: Accounts
) -> None:
    alice = await people.create()
    board_id, logged = await _board_with_events(live, alice, cards=3)
    async with open_stream(live, board_id, alice, after=1) as stream:
        assert [message.json() for message in await stream.events_until_ready()] == logged[1:]
    # EventSource keeps the URL it was opened with and adds Last-Event-ID on reconnect.
    async with open_stream(
        live, board_id, alice, headers={"Last-Event-ID": "2"}, after=0
    ) as stream:
        assert [message.json() for message in await stream.events_until_ready()] == logged[2:]
    # An empty Last-Event-ID (EventSource sends one after an `id` field reset it) means none.
    async with open_stream(live, board_id, alice, headers={"Last-Event-ID": ""}, after=1) as stream:
        assert [message.json() for message in await stream.events_until_ready()] == logged[1:]


async def test_without_a_resume_point_the_stream_starts_at_the_latest_event(
    live: AsyncClient, people: Accounts
) -> None:
    alice = await people.create()
    board_id = (await create_board(live, alice))["id"]
    await create_cards(live, alice, board_id, {"title": "1"}, {"title": "2"})
    async with open_stream(live, board_id, alice) as stream:
        message = await stream.next_event()
        # `ready` sets the client's Last-Event-ID even when nothing is replayed.
        assert (message.event, message.id, message.json()) == ("ready", "2", {"seq": 2})


async def test_an_idle_stream_sends_heartbeats(live: AsyncClient, people: Accounts) -> None:
    alice = await people.create()
    board_id = (await create_board(live, alice))["id"]
    async with open_stream(live, board_id, alice) as stream:
        await stream.events_until_ready()
        message = await stream.next()
        assert message == Message(comment="ping")


async def test_the_stream_of_a_removed_member_ends(live: AsyncClient, people: Accounts) -> None:
    alice, bob = await people.create(), await people.create()
    board_id = await _board_with_member(live, alice, bob)
    async with (
        open_stream(live, board_id, alice) as alice_stream,
        open_stream(live, board_id, bob) as bob_stream,
    ):
        await alice_stream.events_until_ready()
        await bob_stream.events_until_ready()
        removed = await live.delete(f"/api/boards/{board_id}/users/{bob.id}", headers=alice.headers)
        assert removed.status_code == 204
        (last,) = await bob_stream.remaining_events()
        assert (last.event, last.json()["data"]) == ("member.removed", {"id": bob.id})
        # The others' streams go on.
        assert (await alice_stream.next_event()).event == "member.removed"
        await create_cards(live, alice, board_id, {"title": "After"})
        assert (await alice_stream.next_event()).event == "card.created"


async def test_a_viewer_follows_the_board_and_keeps_following_after_a_role_change(
    live: AsyncClient, people: Accounts
) -> None:
    alice, vera = await people.create(), await people.create()
    board_id = (await create_board(live, alice))["id"]
    await add_member(live, alice, board_id, vera, "viewer")
    issued = await live.post(f"/api/boards/{board_id}/events/tickets", headers=vera.headers)
    assert issued.status_code == 201
    async with open_stream(live, board_id, ticket=issued.json()["ticket"]) as stream:
        await stream.events_until_ready()
        await add_member(live, alice, board_id, vera, "editor")
        message = await stream.next_event()
        assert (message.event, message.json()["data"]["role"]) == ("member.updated", "editor")
        await add_member(live, alice, board_id, vera, "viewer")
        assert (await stream.next_event()).event == "member.updated"
        # The access check at the heartbeat interval lets a viewer go on.
        while (await stream.next()).comment != "ping":
            pass
        (card,) = await create_cards(live, alice, board_id, {"title": "Still seen"})
        message = await stream.next_event()
        assert (message.event, message.json()["data"]) == ("card.created", card)


async def test_deleting_the_board_ends_its_streams(live: AsyncClient, people: Accounts) -> None:
    alice, bob = await people.create(), await people.create()
    board_id = await _board_with_member(live, alice, bob)
    async with open_stream(live, board_id, bob) as stream:
        ready_seq = (await stream.next_event()).json()["seq"]
        deleted = await live.delete(f"/api/boards/{board_id}", headers=alice.headers)
        assert deleted.status_code == 204
        (last,) = await stream.remaining_events()
        assert last.event == "board.deleted"
        assert last.json()["data"] == {"id": board_id}
        assert last.json()["seq"] == ready_seq + 1
        assert last.json()["actorId"] == alice.id
    gone = await live.get(f"/api/boards/{board_id}/events", headers=alice.headers)
    assert gone.status_code == 404


async def test_changing_the_password_ends_the_stream(live: AsyncClient, people: Accounts) -> None:
    alice = await people.create()
    board_id = (await create_board(live, alice))["id"]
    async with open_stream(live, board_id, alice) as stream:
        await stream.events_until_ready()
        changed = await live.patch(
            "/api/users/me", json={"password": "a brand new password"}, headers=alice.headers
        )
        assert changed.status_code == 200
        assert await stream.remaining_events() == []


async def test_a_ticket_opens_the_stream_once(live: AsyncClient, people: Accounts) -> None:
    alice = await people.create()
    board_id = (await create_board(live, alice))["id"]
    issued = await live.post(f"/api/boards/{board_id}/events/tickets", headers=alice.headers)
    assert issued.status_code == 201
    assert set(issued.json()) == {"ticket", "expiresIn"}
    assert issued.json()["expiresIn"] == 60
    ticket = issued.json()["ticket"]
    async with open_stream(live, board_id, ticket=ticket) as stream:
        await stream.events_until_ready()
        await create_cards(live, alice, board_id, {"title": "Seen"})
        assert (await stream.next_event()).json()["actorId"] == alice.id
    again = await live.get(f"/api/boards/{board_id}/events/stream", params={"ticket": ticket})
    assert again.status_code == 401


async def test_stream_refusals(live: AsyncClient, people: Accounts) -> None:
    alice, mallory = await people.create(), await people.create()
    board_id = (await create_board(live, alice))["id"]
    url = f"/api/boards/{board_id}/events/stream"
    assert (await live.get(url)).status_code == 401
    assert (await live.get(url, params={"ticket": "forged"})).status_code == 401
    assert (await live.get(url, headers=mallory.headers)).status_code == 404
    ahead = await live.get(url, headers={**alice.headers, "Last-Event-ID": "5"})
    assert ahead.status_code == 410
    assert "reload" in detail(ahead)
    for bad in ("x", "-1", "2147483648", "99999999999", "1.5"):
        response = await live.get(url, headers={**alice.headers, "Last-Event-ID": bad})
        assert response.status_code == 422, bad
    assert (await live.get(url, headers=alice.headers, params={"after": -1})).status_code == 422


async def test_streams_leave_nothing_behind(
    app: FastAPI, live: AsyncClient, people: Accounts
) -> None:
    alice = await people.create()
    board_id = (await create_board(live, alice))["id"]
    hub = state_of(app).events
    async with (
        open_stream(live, board_id, alice) as first,
        open_stream(live, board_id, alice) as second,
    ):
        await first.events_until_ready()
        await second.events_until_ready()
        assert hub.subscriber_count == 2
    await eventually(lambda: hub.subscriber_count == 0)


async def test_a_stream_that_falls_behind_is_closed_and_catches_up_on_reconnect(
    settings: Settings, people: Accounts
) -> None:
    # Too small a queue for one batch: the fan-out drops the stream instead of waiting for it.
    app = create_app(settings.model_copy(update={"stream_queue_size": 2}))
    async with serve_in_process(app) as served, served.client() as client:
        alice = await Accounts(client).create()
        board_id = (await create_board(client, alice))["id"]
        async with open_stream(client, board_id, alice) as stream:
            ready = await stream.next_event()
            assert ready.event == "ready"
            cards = await create_cards(
                client, alice, board_id, *({"title": str(n)} for n in range(5))
            )
            assert await stream.remaining_events() == []
        assert state_of(app).events.subscriber_count == 0
        resumed = {"Last-Event-ID": str(ready.id)}
        async with open_stream(client, board_id, alice, headers=resumed) as stream:
            replayed = await stream.events_until_ready()
            assert [message.json()["data"] for message in replayed] == cards


async def test_stopping_the_server_ends_streams_cleanly(app: FastAPI) -> None:
    async with serve_in_process(app) as served, served.client() as client:
        alice = await Accounts(client).create()
        board_id = (await create_board(client, alice))["id"]
        async with open_stream(client, board_id, alice) as stream:
            await stream.events_until_ready()
            served.server.should_exit = True
            # A complete response, not a cut connection: the client reconnects elsewhere.
            assert await stream.remaining_events() == []
