"""What a new user meets first: the docs without internet, the root and health pages, the
login's answer and mistakes, and 422s that name the request's own fields."""

import re
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import TypeAdapter

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.state import state_of
from tests.conftest import TEST_SECRET
from tests.helpers import (
    DEFAULT_PASSWORD,
    Accounts,
    create_board,
    create_cards,
    detail,
    running,
)


async def test_docs_and_redoc_load_every_asset_from_the_server_itself(client: AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        scripts = [asset for asset in assets if asset.endswith((".js", ".css"))]
        assert scripts, page
        assert not [asset for asset in assets if "//" in asset], f"{page} loads from elsewhere"
        for asset in scripts:
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 10_000, asset


async def test_root_and_health_answer_instead_of_404(client: AsyncClient) -> None:
    root = await client.get("/")
    health = await client.get("/health")

    assert root.status_code == 200
    assert root.json()["docs"] == "/docs"
    assert (await client.get(root.json()["health"])).status_code == 200
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


async def test_a_json_login_is_told_to_send_form_fields(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()

    response = await client.post(
        "/api/auth/tokens", json={"username": account.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in detail(response)
    assert "username=" in detail(response)
    assert "(this request sent JSON)" in detail(response)


@pytest.mark.parametrize(
    ("headers", "sent"),
    [
        ({}, "no Content-Type"),
        ({"Content-Type": "text/plain; charset=utf-8"}, "text/plain"),
        ({"Content-Type": "not a media type"}, "that Content-Type"),
    ],
)
async def test_a_login_that_is_not_a_form_is_told_what_it_sent(
    client: AsyncClient, headers: dict[str, str], sent: str
) -> None:
    response = await client.post("/api/auth/tokens", content=b"", headers=headers)

    assert response.status_code == 415
    assert f"(this request sent {sent}): send Content-Type: application/x-www-form" in detail(
        response
    )


async def test_the_login_answer_says_when_the_token_expires(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()

    response = await client.post(
        "/api/auth/tokens", data={"username": account.email, "password": DEFAULT_PASSWORD}
    )

    body = response.json()
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert body["expires_in"] == 60 * 60
    assert claims["exp"] - claims["iat"] == body["expires_in"]


async def test_an_unknown_query_parameter_is_a_422_that_lists_the_known_ones(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()
    board = await create_board(client, account)
    await create_cards(client, account, board["id"], {"title": "a", "column": "TODO"})

    typo = await client.get(
        f"/api/boards/{board['id']}/cards", params={"colum": "TODO"}, headers=account.headers
    )
    created = await client.post(
        "/api/boards", params={"titel": "x"}, json={"title": "y"}, headers=account.headers
    )

    [error] = detail(typo)
    assert typo.status_code == 422
    assert error["loc"] == ["query", "colum"]
    assert "column" in error["msg"]
    assert created.status_code == 422
    assert detail(created)[0]["loc"] == ["query", "titel"]
    boards = (await client.get("/api/boards", headers=account.headers)).json()
    assert [board["title"] for board in boards] == ["Board"]


async def test_every_route_refuses_an_unknown_query_parameter(
    app: FastAPI, client: AsyncClient
) -> None:
    """Before anything else: no credentials, ids that need not exist, no body."""
    operations = [
        (method.upper(), re.sub(r"{[^}]+}", "1", path))
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    ]
    assert len(operations) > 40
    for method, path in operations:
        response = await client.request(method, path, params={"nonsense": "1"})
        assert response.status_code == 422, (method, path, response.status_code)
        assert detail(response)[0]["loc"] == ["query", "nonsense"], (method, path)


async def test_known_query_parameters_still_work_by_either_name(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()
    board = await create_board(client, account)
    await create_cards(client, account, board["id"], {"title": "a", "column": "TODO"})
    url = f"/api/boards/{board['id']}"

    for due in ("dueBefore", "due_before"):
        params = {"column": "TODO", due: "2999-01-01T00:00:00Z", "limit": "10"}
        response = await client.get(f"{url}/cards", params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        assert [card["title"] for card in response.json()] == [], due
    events = await client.get(
        f"{url}/events", params={"after": 0, "limit": 5}, headers=account.headers
    )
    assert events.status_code == 200, events.text


async def test_validation_errors_name_the_field_in_plain_words(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()
    board = await create_board(client, account)
    url = f"/api/boards/{board['id']}"

    cases = (("x" * 300, "at most 200 characters"), ("a\x00b", "NUL"), (123, "valid string"))
    for title, words in cases:
        response = await client.patch(url, json={"title": title}, headers=account.headers)
        [error] = detail(response)
        assert response.status_code == 422
        assert error["loc"] == ["body", "title"]
        assert words in error["msg"]
        assert "error," not in error["msg"]
        assert "input" not in error


async def test_a_started_worker_has_built_its_routes_before_the_first_request(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI builds an included router's routes (a validator and serializer per field)
    when a request first reaches it; the app's start-up has it done already, so a new
    worker's first requests create no validator at all."""
    app = create_app(settings)
    created: list[object] = []
    build = TypeAdapter.__init__

    def counted(self: TypeAdapter[Any], *args: Any, **kwargs: Any) -> None:
        created.append(args[0] if args else kwargs)
        build(self, *args, **kwargs)

    async with running(app):
        monkeypatch.setattr(TypeAdapter, "__init__", counted)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
            answers = [await client.get(path) for path in ("/health", "/api/boards", "/")]
    await state_of(app).database.dispose()

    assert [answer.status_code for answer in answers] == [200, 401, 200]
    assert created == []
