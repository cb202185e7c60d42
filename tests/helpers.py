"""Test helpers that act through the HTTP API, as a client would."""

import asyncio
import json
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import uvicorn
from fastapi import FastAPI
from httpx import AsyncClient, Response
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.database import Database
from kanban_api.models import Role
from kanban_api.services.card_caps import CardCaps
from tests import factories

DEFAULT_PASSWORD = "correct horse battery"
COLUMNS = ["BACKLOG", "TODO", "DOING", "DONE"]
# CardOut's fields in wire order: the seed's eight, then the ones added since.
CARD_FIELDS = [
    "id",
    "title",
    "description",
    "boardId",
    "column",
    "labels",
    "createdAt",
    "updatedAt",
    "position",
    "version",
    "dueAt",
    "assigneeIds",
    "archived",
    "checklist",
]


# Every account's email by id, for `share`, which gets only an id. Ids restart with each
# test's emptied tables, so an entry is overwritten by the next test's account of that id.
_emails: dict[int, str] = {}


@dataclass
class Account:
    id: int
    email: str
    password: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)
    # For an access token's Account (`create_api_token`): the token as created.
    token_info: dict[str, Any] = field(default_factory=dict)


class Accounts:
    """Makes users, each account carrying its own auth headers.

    Given the app's database, `create` makes the user there and mints its token
    (tests/factories.py); otherwise, and always with `sign_up`, it signs up and
    logs in over HTTP, as a client would.
    """

    def __init__(
        self,
        client: AsyncClient,
        *,
        database: Database | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.client = client
        self.database = database
        self.secret_key = secret_key

    async def create(self, email: str | None = None, password: str = DEFAULT_PASSWORD) -> Account:
        if self.database is None or self.secret_key is None:
            return await self.sign_up(email, password)
        email = email or factories.next_email()
        async with self.database.sessionmaker() as session, session.begin():
            user = await factories.create_user(session, email=email, password=password)
        token = factories.mint_token(user, secret_key=self.secret_key)
        _emails[user.id] = email
        return Account(user.id, email, password, token, {"Authorization": f"Bearer {token}"})

    async def sign_up(self, email: str | None = None, password: str = DEFAULT_PASSWORD) -> Account:
        """Through the real path: POST /api/users, then POST /api/auth/tokens."""
        email = email or factories.next_email()
        response = await self.client.post("/api/users", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        token = await self.login(email, password)
        _emails[response.json()["id"]] = email
        return Account(
            id=response.json()["id"],
            email=email,
            password=password,
            token=token,
            headers={"Authorization": f"Bearer {token}"},
        )

    async def login(self, email: str, password: str) -> str:
        response = await login(self.client, email, password)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@dataclass
class Board:
    id: int
    # The ids of the cards it was made with, in order.
    card_ids: list[int]


class Boards:
    """Makes boards in the database, shared with members in given roles, holding cards:
    for tests that are about something else than creating and sharing them."""

    def __init__(self, database: Database, caps: CardCaps) -> None:
        self.database = database
        self.caps = caps

    async def create(
        self,
        owner: Account,
        members: dict[str, Account] | None = None,
        cards: Sequence[dict[str, Any]] = (),
    ) -> Board:
        """`members` maps each role (`"editor"`, …) to the account that has it."""
        board_id, card_ids = await factories.create_board(
            self.database,
            owner_id=owner.id,
            caps=self.caps,
            members={account.id: Role(role) for role, account in (members or {}).items()},
            cards=cards,
        )
        return Board(board_id, card_ids)


async def login(client: AsyncClient, email: str, password: str) -> Response:
    return await client.post("/api/auth/tokens", data={"username": email, "password": password})


async def create_board(
    client: AsyncClient, account: Account, title: str = "Board", **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/boards", json={"title": title, **fields}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    board: dict[str, Any] = response.json()
    return board


async def create_cards(
    client: AsyncClient, account: Account, board_id: int, *cards: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await client.post(
        f"/api/boards/{board_id}/cards", json=list(cards), headers=account.headers
    )
    assert response.status_code == 201, response.text
    created: list[dict[str, Any]] = response.json()
    return created


def detail(response: Response) -> Any:
    return response.json()["detail"]


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def recorded_statements(engine: AsyncEngine, *, rate_limit: bool = False) -> Iterator[list[str]]:
    """The SQL statements sent through the engine meanwhile, transaction control left out.

    (SQLite's BEGIN goes through a cursor while asyncpg's does not; leaving it out
    makes the counts the same on both databases.) The rate limit's counter, one
    statement per request whatever the route (tests/app/test_rate_limits.py), is
    left out too unless `rate_limit`, so that counts are the route's own.
    """
    statements: list[str] = []

    def record(
        _connection: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            return
        if rate_limit or "rate_limit_window" not in statement:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def list_cards(client: AsyncClient, account: Account, board_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/boards/{board_id}/cards", headers=account.headers)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()
    return cards


async def move_card(
    client: AsyncClient,
    account: Account,
    card_id: int,
    column: str,
    after_id: int | None,
    if_match: str | None = None,
) -> Response:
    headers = account.headers if if_match is None else {**account.headers, "If-Match": if_match}
    return await client.post(
        f"/api/cards/{card_id}/move", json={"column": column, "afterId": after_id}, headers=headers
    )


async def set_card_position(engine: AsyncEngine, card_id: int, position: int) -> None:
    """Put a card where the API would only put it after many moves (the edge of the range)."""
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE card SET position = :position WHERE id = :id"),
            {"position": position, "id": card_id},
        )


def column_ids(cards: list[dict[str, Any]], column: str) -> list[int]:
    """Ids of the cards of one column, in the order listed."""
    return [card["id"] for card in cards if card["column"] == column]


def assert_board_order(cards: list[dict[str, Any]]) -> None:
    """Listed by column, then by strictly growing position: no two cards share a place."""
    keys = [(COLUMNS.index(card["column"]), card["position"]) for card in cards]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


async def introduce(client: AsyncClient, who: Account, whom: Account | int) -> None:
    """Let `who` find `whom` by exact email, as the seed's clients do before sharing:
    sharing by id works only with users found so (or already sharing a board)."""
    email = _emails[whom] if isinstance(whom, int) else whom.email
    response = await client.post("/api/users/search", json={"email": email}, headers=who.headers)
    assert response.status_code == 200, response.text


async def share(
    client: AsyncClient, owner: Account, board_id: int, user_id: int, role: str | None = None
) -> Response:
    """Find the user by email, then PUT the membership: without a role exactly as the
    seed's clients do (no body)."""
    if user_id in _emails:
        await introduce(client, owner, user_id)
    return await client.put(
        f"/api/boards/{board_id}/users/{user_id}",
        headers=owner.headers,
        json=None if role is None else {"role": role},
    )


async def add_member(
    client: AsyncClient, owner: Account, board_id: int, member: Account, role: str
) -> None:
    response = await share(client, owner, board_id, member.id, role)
    assert response.status_code == 200, response.text


async def create_comment(
    client: AsyncClient, account: Account, card_id: int, body: str = "A comment"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/cards/{card_id}/comments", json={"body": body}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    comment: dict[str, Any] = response.json()
    return comment


STARTUP_DEADLINE_SECONDS = 60
# How long a test waits for one stream message before it fails; never a pause.
STREAM_TIMEOUT_SECONDS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_server(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    """The first answer of a server process starting up; fails if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode() if server.stdout else ""
            raise AssertionError(f"server exited with {server.returncode}:\n{output}")
        try:
            return httpx.get(url)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"server did not answer {url} within {STARTUP_DEADLINE_SECONDS}s")


@dataclass
class InProcessServer:
    url: str
    server: uvicorn.Server

    def client(self) -> AsyncClient:
        return AsyncClient(base_url=self.url, timeout=STREAM_TIMEOUT_SECONDS)


@asynccontextmanager
async def serve_in_process(app: FastAPI) -> AsyncIterator[InProcessServer]:
    """The app on a real port, on this event loop, lifespan included.

    Streams need a real server: httpx's ASGI transport buffers whole responses.
    """
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(STARTUP_DEADLINE_SECONDS):
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("server stopped before it started")
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield InProcessServer(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        await task


@dataclass
class Message:
    """One server-sent event, or a comment (a heartbeat)."""

    event: str | None = None
    id: str | None = None
    data: str | None = None
    comment: str | None = None

    def json(self) -> Any:
        assert self.data is not None, self
        return json.loads(self.data)


class EventStream:
    """Reads a text/event-stream response message by message, each read with a timeout."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def _read(self) -> Message | None:
        message = Message()
        async with asyncio.timeout(STREAM_TIMEOUT_SECONDS):
            async for line in self._lines:
                if line == "":
                    if message != Message():
                        return message
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    message.comment = value
                elif name == "data":
                    message.data = value if message.data is None else f"{message.data}\n{value}"
                elif name in ("event", "id"):
                    setattr(message, name, value)
        return None

    async def _read_event(self) -> Message | None:
        while (message := await self._read()) is not None:
            if message.comment is None:
                return message
        return None

    async def next(self) -> Message:
        """The next message, heartbeats included."""
        message = await self._read()
        assert message is not None, "the stream ended"
        return message

    async def next_event(self) -> Message:
        """The next event, skipping heartbeats."""
        message = await self._read_event()
        assert message is not None, "the stream ended"
        return message

    async def events_until_ready(self) -> list[Message]:
        """The replayed events, up to the `ready` event that says the stream is live."""
        replayed = []
        while (message := await self.next_event()).event != "ready":
            replayed.append(message)
        return replayed

    async def remaining_events(self) -> list[Message]:
        """Every event until the server ends the stream."""
        events = []
        while (message := await self._read_event()) is not None:
            events.append(message)
        return events


@asynccontextmanager
async def open_stream(
    client: AsyncClient,
    board_id: int,
    account: Account | None = None,
    *,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> AsyncIterator[EventStream]:
    """A board's event stream, read as it arrives; asserts it opened."""
    all_headers = {**(account.headers if account else {}), **(headers or {})}
    async with client.stream(
        "GET", f"/api/boards/{board_id}/events/stream", headers=all_headers, params=params
    ) as response:
        if response.status_code != 200:
            await response.aread()
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)


async def board_events(
    client: AsyncClient, account: Account, board_id: int, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/boards/{board_id}/events", headers=account.headers, params=params
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait, within the stream timeout, for what a server does in the background."""
    async with asyncio.timeout(STREAM_TIMEOUT_SECONDS):
        while not condition():  # noqa: ASYNC110 (the condition is the server's, not an event)
            await asyncio.sleep(0.01)


async def create_api_token(
    client: AsyncClient, account: Account, *, scopes: Sequence[str] = ("read", "write"), **body: Any
) -> Account:
    """A personal access token of `account` (POST /api/users/me/tokens), as an Account whose
    headers send it; its id and answer in `token_info`."""
    response = await client.post(
        "/api/users/me/tokens",
        json={"name": "script", "scopes": list(scopes), **body},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    return Account(
        account.id,
        account.email,
        account.password,
        created["token"],
        {"Authorization": f"Bearer {created['token']}"},
        created,
    )


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan entered, as a server runs it (/mcp needs the SDK's tasks).

    The lifespan runs in a task of its own, which enters and leaves it: the SDK's task
    group must be left by the task that entered it, and a fixture's teardown is not.
    """
    started, stopping = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.router.lifespan_context(app):
            started.set()
            await stopping.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait(
        [task, waiter], timeout=STARTUP_DEADLINE_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    waiter.cancel()
    if task.done():
        task.result()
    assert started.is_set(), "the lifespan did not start"
    try:
        yield app
    finally:
        stopping.set()
        await task


@asynccontextmanager
async def mcp_session(
    app: FastAPI, headers: dict[str, str], *, transport: httpx2.AsyncBaseTransport | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session on the app's /mcp, sending `headers` (the
    credential), over the SDK's own Streamable HTTP client; the app must be `running`."""
    async with (
        httpx2.AsyncClient(
            transport=transport or httpx2.ASGITransport(app=app),
            base_url="http://test",
            headers=headers,
        ) as http,
        streamable_http_client("http://test/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call_tool(session: ClientSession, name: str, **arguments: Any) -> dict[str, Any]:
    """The tool's structured result; fails if the call was a tool error."""
    result = await session.call_tool(name, arguments)
    assert not result.is_error, result.content
    content: dict[str, Any] = result.structured_content
    return content


async def tool_error(session: ClientSession, name: str, **arguments: Any) -> dict[str, Any]:
    """The tool error the call answered (`status`, `detail`, `text`); fails if it succeeded."""
    result = await session.call_tool(name, arguments)
    assert result.is_error, result.structured_content
    (text,) = [block.text for block in result.content if isinstance(block, TextContent)]
    error: dict[str, Any] = {**result.structured_content, "text": text}
    return error


async def until_a_request_waits_for_a_lock(engine: AsyncEngine) -> int:
    """The PostgreSQL backend of a request waiting for a lock, once one does (its pid)."""
    # Autocommit: within a transaction, pg_stat_activity would keep showing its first answer.
    async with engine.connect() as observer:
        await observer.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(500):
            waiting = await observer.scalar(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            if waiting is not None:
                return int(waiting)
            await asyncio.sleep(0.01)
    raise AssertionError("no request queued for a lock")
