"""Across processes (PostgreSQL): a change made through one server reaches streams on another,
and a worker's listener survives losing its connection."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.events.postgres import APPLICATION_NAME
from tests.conftest import TEST_SECRET
from tests.helpers import (
    Accounts,
    create_board,
    create_cards,
    free_port,
    open_stream,
    serve_in_process,
    share,
    wait_for_server,
)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serves one process; its fan-out is tested in-process")
    return database_url


@pytest.fixture
def servers(postgres_url: str, engine: AsyncEngine, tmp_path: Path) -> Iterator[list[str]]:
    """Two `kanban-api serve` processes on the test's (already migrated) database.

    Depends on `engine` so that the app fixture empties the tables afterwards.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("KANBAN_")}
    env |= {
        "KANBAN_ENV": "production",
        "KANBAN_DATABASE_URL": postgres_url,
        "KANBAN_SECRET_KEY": TEST_SECRET,
    }
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "kanban_api", "serve", "--port", str(port)],
                    cwd=tmp_path,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            wait_for_server(f"{url}/docs", process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@pytest.fixture
async def clients(servers: list[str]) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    async with (
        AsyncClient(base_url=servers[0], timeout=30) as first,
        AsyncClient(base_url=servers[1], timeout=30) as second,
    ):
        yield first, second


async def test_changes_reach_streams_on_another_server(
    clients: tuple[AsyncClient, AsyncClient],
) -> None:
    first, second = clients
    alice, bob = await Accounts(first).create(), await Accounts(second).create()
    board_id = (await create_board(first, alice))["id"]
    # An owner, so that bob may delete the board below.
    shared = await share(first, alice, board_id, bob.id, "owner")
    assert shared.status_code == 200
    # A ticket issued by one server is redeemed by the other: tickets live in the database.
    ticket = (
        await first.post(f"/api/boards/{board_id}/events/tickets", headers=bob.headers)
    ).json()
    async with (
        open_stream(second, board_id, ticket=ticket["ticket"]) as on_second,
        open_stream(first, board_id, alice) as on_first,
    ):
        await on_second.events_until_ready()
        await on_first.events_until_ready()
        # Too big for a NOTIFY payload (sent by reference), then a small one (sent inline).
        cards = await create_cards(
            first,
            alice,
            board_id,
            {"title": "Big", "description": "x" * 10_000},
            {"title": "Small"},
        )
        for stream in (on_second, on_first):
            created = [await stream.next_event() for _ in cards]
            assert [message.event for message in created] == ["card.created"] * 2
            assert [message.json()["data"] for message in created] == cards
        deleted = await second.delete(f"/api/boards/{board_id}", headers=bob.headers)
        assert deleted.status_code == 204
        for stream in (on_second, on_first):
            (last,) = await stream.remaining_events()
            assert (last.event, last.json()["actorId"]) == ("board.deleted", bob.id)


async def test_the_listener_reconnects_and_nothing_is_lost(
    postgres_url: str, app: FastAPI, engine: AsyncEngine
) -> None:
    async with serve_in_process(app) as served, served.client() as client:
        alice = await Accounts(client).create()
        board_id = (await create_board(client, alice))["id"]
        async with open_stream(client, board_id, alice) as stream:
            await stream.events_until_ready()
            async with engine.connect() as connection:
                cut = await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                )
                assert cut.scalars().all() == [True]
            # Most likely made while the listener is away: its NOTIFY reaches no one, and the
            # stream reads the event from the database once the listener is back.
            (card,) = await create_cards(client, alice, board_id, {"title": "Meanwhile"})
            message = await stream.next_event()
            assert (message.event, message.json()["data"]) == ("card.created", card)
