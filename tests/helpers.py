"""Test helpers that act through the HTTP API, as a client would."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


@dataclass
class Account:
    id: int
    email: str
    password: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)


class Accounts:
    """Signs users up and logs them in; each account carries its own auth headers."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def create(self, email: str | None = None, password: str = DEFAULT_PASSWORD) -> Account:
        email = email or f"user{next(_sequence)}@example.com"
        response = await self.client.post("/api/users", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        token = await self.login(email, password)
        return Account(
            id=response.json()["id"],
            email=email,
            password=password,
            token=token,
            headers={"Authorization": f"Bearer {token}"},
        )

    async def login(self, email: str, password: str) -> str:
        response = await self.client.post(
            "/api/auth/tokens", data={"username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


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
def recorded_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements sent through the engine meanwhile, transaction control left out.

    (SQLite's BEGIN goes through a cursor while asyncpg's does not; leaving it out
    makes the counts the same on both databases.)
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
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
