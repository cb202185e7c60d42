"""Setting webhooks up over the API: owners only, secrets shown once, unsafe targets refused."""

import base64
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.limits import WEBHOOKS_PER_BOARD_MAX
from kanban_api.services.card_caps import CardCaps
from kanban_api.state import state_of
from tests import factories
from tests.conftest import ClientFactory
from tests.helpers import Account, Accounts, create_board
from tests.webhooks.conftest import FAST_SENDING, Receiver, add_cards, eventually

PUBLIC = "https://93.184.215.14/hook"
UNSAFE = [
    "http://127.0.0.1:8000/hook",
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook",
    # Plain HTTP, even to a public address, without private targets allowed.
    "http://93.184.215.14/hook",
    "ftp://93.184.215.14/hook",
    "https://user:pass@93.184.215.14/hook",
    "https://host.invalid/hook",
]


def path(board_id: int, *rest: object) -> str:
    return "/".join([f"/api/boards/{board_id}/webhooks", *map(str, rest)])


async def webhooks(client: AsyncClient, owner: Account, board_id: int) -> list[dict[str, Any]]:
    response = await client.get(path(board_id), headers=owner.headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_an_owner_sets_up_changes_and_removes_a_webhook(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board_id = (await create_board(client, owner))["id"]
    response = await client.post(
        path(board_id),
        json={"url": PUBLIC, "events": ["card.created", "card.moved"], "description": "CI"},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created.pop("secret")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24
    assert created | {"id": 0, "createdAt": ""} == {
        "id": 0,
        "url": PUBLIC,
        "events": ["card.created", "card.moved"],
        "description": "CI",
        "active": True,
        "createdAt": "",
        "disabledReason": None,
        "lastDeliveredSeq": created["lastDeliveredSeq"],
    }
    # The secret is shown once: no other answer carries it.
    assert await webhooks(client, owner, board_id) == [created]
    response = await client.get(path(board_id, created["id"]), headers=owner.headers)
    assert response.json() == created
    response = await client.patch(
        path(board_id, created["id"]),
        json={"events": None, "active": False, "description": ""},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json() == created | {"events": None, "active": False, "description": ""}
    response = await client.delete(path(board_id, created["id"]), headers=owner.headers)
    assert response.status_code == 204
    assert await webhooks(client, owner, board_id) == []
    response = await client.get(path(board_id, created["id"]), headers=owner.headers)
    assert response.status_code == 404


@pytest.mark.parametrize("url", UNSAFE)
async def test_a_url_that_is_not_public_is_refused(
    client: AsyncClient, accounts: Accounts, url: str
) -> None:
    owner = await accounts.create()
    board_id = (await create_board(client, owner))["id"]
    response = await client.post(path(board_id), json={"url": url}, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "url"]
    assert await webhooks(client, owner, board_id) == []
    created = (
        await client.post(path(board_id), json={"url": PUBLIC}, headers=owner.headers)
    ).json()
    response = await client.patch(
        path(board_id, created["id"]), json={"url": url}, headers=owner.headers
    )
    assert response.status_code == 422, response.text
    assert (await webhooks(client, owner, board_id))[0]["url"] == PUBLIC


async def test_private_targets_may_be_allowed(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    allowing = await client_with(webhook_allow_private=True)
    owner = await accounts.create()
    board_id = (await create_board(allowing, owner))["id"]
    for url in ("http://127.0.0.1:8000/hook", "https://localhost/hook"):
        response = await allowing.post(path(board_id), json={"url": url}, headers=owner.headers)
        assert response.status_code == 201, response.text
    # Allowed targets still need a port a connection can be made to.
    for port in ("99999", "0", "", "+8000", "8_000", "\uff18\uff10", "0000008000"):
        url = f"http://127.0.0.1:{port}/hook"
        response = await allowing.post(path(board_id), json={"url": url}, headers=owner.headers)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "url"]
        assert f"has port {port!r}; a port is 1 to 65535, in digits" in error["msg"]
    # The port is read after an IPv6 address's brackets.
    url = "http://[::1]:8000/hook"
    response = await allowing.post(path(board_id), json={"url": url}, headers=owner.headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": PUBLIC, "events": []},
        {"url": PUBLIC, "events": ["card.created", "card.created"]},
        {"url": PUBLIC, "events": ["card.exploded"]},
        {"url": PUBLIC, "secret": "whsec_mine"},
        {"url": PUBLIC, "description": "x" * 501},
        {"url": "not a url"},
    ],
)
async def test_bad_input_is_422_and_creates_nothing(
    client: AsyncClient, accounts: Accounts, body: dict[str, Any]
) -> None:
    owner = await accounts.create()
    board_id = (await create_board(client, owner))["id"]
    response = await client.post(path(board_id), json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert await webhooks(client, owner, board_id) == []


async def test_a_board_has_a_bounded_number_of_webhooks(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board_id = (await create_board(client, owner))["id"]
    for _ in range(WEBHOOKS_PER_BOARD_MAX):
        response = await client.post(path(board_id), json={"url": PUBLIC}, headers=owner.headers)
        assert response.status_code == 201
    response = await client.post(path(board_id), json={"url": PUBLIC}, headers=owner.headers)
    assert response.status_code == 409


async def test_a_webhook_of_another_board_is_not_found(
    client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    first, second = [(await create_board(client, owner))["id"] for _ in range(2)]
    created = (await client.post(path(first), json={"url": PUBLIC}, headers=owner.headers)).json()
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method,
            path(second, created["id"]),
            json={} if method == "PATCH" else None,
            headers=owner.headers,
        )
        assert response.status_code == 404, (method, response.text)


async def test_the_sender_checks_the_address_again_before_sending(
    app: FastAPI, settings: Settings, receiver: Receiver
) -> None:
    """A URL that passed when it was set (say, its name pointed elsewhere then) is refused
    when it leads to a private address at send time."""
    worker = create_app(
        Settings(
            _env_file=None,
            **(settings.model_dump() | FAST_SENDING | {"webhook_allow_private": False}),
        )
    )
    state = state_of(worker)
    caps = CardCaps.from_settings(state.settings)
    state.start()
    try:
        async with AsyncClient(transport=ASGITransport(app=worker), base_url="http://t") as client:
            owner = await Accounts(
                client, database=state.database, secret_key=state.secret_key
            ).create()
            board_id, _ = await factories.create_board(state.database, owner_id=owner.id, caps=caps)
            webhook_id = await factories.create_webhook(
                state.database,
                board_id=board_id,
                owner_id=owner.id,
                url=receiver.url.replace("http://127.0.0.1", "https://localhost"),
            )
            deliveries = path(board_id, webhook_id, "deliveries")
            await add_cards(client, owner, board_id, 1)

            async def refused() -> bool:
                response = await client.get(deliveries, headers=owner.headers)
                return any(entry["status"] == "failed" for entry in response.json())

            await eventually(refused)
            log = (await client.get(deliveries, headers=owner.headers)).json()
    finally:
        await state.stop()
    assert log[-1]["error"].startswith("Refused: the URL host localhost resolves to ")
    assert log[-1]["error"].endswith("which is not a public address")
    assert log[-1]["responseStatus"] is None
    assert receiver.received == []
