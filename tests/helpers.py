"""Test helpers that act through the HTTP API, as a client would."""

import itertools
from dataclasses import dataclass, field
from typing import Any

from httpx import AsyncClient, Response

DEFAULT_PASSWORD = "correct horse battery"
_sequence = itertools.count(1)
COLUMNS = ["BACKLOG", "TODO", "DOING", "DONE"]


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
        response = await login(self.client, email, password)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


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


def column_ids(cards: list[dict[str, Any]], column: str) -> list[int]:
    """Ids of the cards of one column, in the order listed."""
    return [card["id"] for card in cards if card["column"] == column]


def assert_board_order(cards: list[dict[str, Any]]) -> None:
    """Listed by column, then by strictly growing position: no two cards share a place."""
    keys = [(COLUMNS.index(card["column"]), card["position"]) for card in cards]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


async def share(
    client: AsyncClient, owner: Account, board_id: int, user_id: int, role: str | None = None
) -> Response:
    """PUT the membership: without a role exactly as the seed's clients do (no body)."""
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
