"""A real HTTP receiver for webhooks, and an app whose sender runs, with test-sized timings."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from httpx import ASGITransport, AsyncClient

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.state import state_of
from tests.helpers import Account, Accounts, serve_in_process

# Small enough to keep retries and polling quick; a test never waits on them, only on
# what the receiver got (bounded by WAIT_SECONDS).
FAST_SENDING: dict[str, Any] = {
    "webhook_allow_private": True,
    "webhook_retry_base_seconds": 0.05,
    "webhook_poll_seconds": 0.02,
    "webhook_timeout_seconds": 2,
}
WAIT_SECONDS = 30


@dataclass
class Received:
    seq: int
    # The URL's query string, telling webhooks on one receiver apart.
    query: str
    headers: dict[str, str]
    body: bytes
    # The seqs the receiver had acknowledged when this request arrived.
    acknowledged_before: list[int]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; answers 500 to the seqs in `failures` (as often as counted
    there), else 204. `hold` keeps the request of that seq open until `release` is set."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0
    # Time each request is kept open, to widen the window in which a second sender would show.
    linger_seconds: float = 0
    hold: int | None = None
    # Answer every request with a redirect there instead.
    redirect_to: str | None = None
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def seqs(self) -> list[int]:
        return [request.seq for request in self.received]

    async def handle(self, request: Request) -> Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            body = await request.body()
            seq = int(request.headers["webhook-id"].rsplit("-", 1)[1])
            self.received.append(
                Received(
                    seq, request.url.query, dict(request.headers), body, list(self.acknowledged)
                )
            )
            await asyncio.sleep(self.linger_seconds)
            if self.redirect_to is not None:
                return Response(status_code=307, headers={"Location": self.redirect_to})
            if seq == self.hold:
                self.held.set()
                await self.release.wait()
            if self.failures.get(seq, 0) > 0:
                self.failures[seq] -= 1
                return Response(status_code=500, content="try again")
            self.acknowledged.append(seq)
            return Response(status_code=204)
        finally:
            self.in_flight -= 1


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = FastAPI()
    app.add_api_route("/hook", receiver.handle, methods=["POST"])
    async with serve_in_process(app) as served:
        receiver.url = f"{served.url}/hook"
        yield receiver
        receiver.release.set()


@dataclass
class Sending:
    """An app (a worker) whose webhook sender runs, a client of it and its accounts."""

    app: FastAPI
    client: AsyncClient
    accounts: Accounts


@pytest.fixture
async def sending(app: FastAPI, settings: Settings) -> AsyncIterator[Sending]:
    """Depends on `app`, whose teardown empties the tables."""
    worker = create_app(Settings(_env_file=None, **(settings.model_dump() | FAST_SENDING)))
    state = state_of(worker)
    state.start()
    try:
        async with AsyncClient(
            transport=ASGITransport(app=worker), base_url="http://test"
        ) as client:
            accounts = Accounts(client, database=state.database, secret_key=state.secret_key)
            yield Sending(worker, client, accounts)
    finally:
        await state.stop()


async def eventually(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Wait until `condition` holds, checking often, failing after WAIT_SECONDS."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.01)


async def create_webhook(
    client: AsyncClient, owner: Account, board_id: int, url: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/boards/{board_id}/webhooks", json={"url": url, **fields}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


async def add_cards(client: AsyncClient, owner: Account, board_id: int, count: int) -> None:
    """`count` events, one request each (a batch would number them in one transaction)."""
    for number in range(count):
        response = await client.post(
            f"/api/boards/{board_id}/cards",
            json=[{"title": f"Card {number}"}],
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
