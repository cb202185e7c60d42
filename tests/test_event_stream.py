"""The live stream, served over real HTTP: replay, live delivery, heartbeats and its end."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from kanban_api.config import Settings
from tests.conftest import TEST_SECRET
from tests.helpers import (
    Account,
    Accounts,
    board_events,
    create_board,
    create_cards,
    open_stream,
    serve_in_process,
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
    async with serve_in_process(app) as url, AsyncClient(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture
def people(live: AsyncClient) -> Accounts:
    return Accounts(live)


async def _board_with_member(live: AsyncClient, owner: Account, member: Account) -> int:
    board = await create_board(live, owner)
    share = await live.put(f"/api/boards/{board['id']}/users/{member.id}", headers=owner.headers)
    assert share.status_code == 200
    board_id: int = board["id"]
    return board_id


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
            assert message is not None
            assert (message.event, message.id) == ("card.created", str(logged["seq"]))
            assert message.json() == logged
            assert message.json()["data"] == card
