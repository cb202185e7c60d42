"""Senders in separate server processes: never two at once, and nothing lost to a kill."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import TEST_SECRET
from tests.helpers import Accounts, create_board, free_port, wait_for_server
from tests.webhooks.conftest import Receiver, add_cards, create_webhook, eventually

# Small timings (see FAST_SENDING); a lease lasts three timeouts, so a killed sender's
# delivery is taken over within seconds.
SENDER_ENV = {
    "KANBAN_WEBHOOK_ALLOW_PRIVATE": "true",
    "KANBAN_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
    "KANBAN_WEBHOOK_POLL_SECONDS": "0.02",
    "KANBAN_WEBHOOK_TIMEOUT_SECONDS": "1",
}

StartServer = Callable[[], tuple[str, "subprocess.Popen[bytes]"]]


@pytest.fixture
def start_server(database_url: str, engine: AsyncEngine, tmp_path: Path) -> Iterator[StartServer]:
    """Starts `kanban-api serve` processes on the test's (migrated) database; stops them
    afterwards. Depends on `engine` so that the app fixture empties the tables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KANBAN_")}
    env |= SENDER_ENV | {
        "KANBAN_ENV": "production",
        "KANBAN_DATABASE_URL": database_url,
        "KANBAN_SECRET_KEY": TEST_SECRET,
    }
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "kanban_api", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for_server(f"{url}/health/live", process)
        return url, process

    try:
        yield start
    finally:
        for process in processes:
            process.kill()
        for process in processes:
            process.wait(timeout=30)


async def test_two_server_processes_never_send_at_once(
    database_url: str, start_server: StartServer, receiver: Receiver, accounts: Accounts
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serves one process")
    (first, _), _ = start_server(), start_server()
    # Each request stays open a while: a second sender would be caught in that window.
    receiver.linger_seconds = 0.05
    owner = await accounts.create()
    async with AsyncClient(base_url=first, timeout=30) as client:
        board_id = (await create_board(client, owner))["id"]
        webhook = await create_webhook(client, owner, board_id, receiver.url)
        await add_cards(client, owner, board_id, 10)
    seqs = list(range(webhook["lastDeliveredSeq"] + 1, webhook["lastDeliveredSeq"] + 11))
    await eventually(lambda: len(receiver.acknowledged) == 10)
    assert receiver.most_in_flight == 1
    assert receiver.seqs() == seqs


async def test_killing_the_sending_process_mid_delivery_loses_nothing(
    start_server: StartServer, receiver: Receiver, accounts: Accounts
) -> None:
    url, sender = start_server()
    owner = await accounts.create()
    async with AsyncClient(base_url=url, timeout=30) as client:
        board_id = (await create_board(client, owner))["id"]
        webhook = await create_webhook(client, owner, board_id, receiver.url)
        seqs = list(range(webhook["lastDeliveredSeq"] + 1, webhook["lastDeliveredSeq"] + 6))
        receiver.hold = seqs[2]
        await add_cards(client, owner, board_id, 5)
    await eventually(receiver.held.is_set)
    sender.kill()
    sender.wait(timeout=30)
    receiver.hold = None
    receiver.release.set()
    start_server()
    await eventually(lambda: receiver.acknowledged[-1:] == seqs[-1:])
    # The third was being sent when the process died: sent again, and then the rest.
    assert receiver.seqs() == [*seqs[:3], *seqs[2:]]
