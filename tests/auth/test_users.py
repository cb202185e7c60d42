"""Signing up, reading and changing one's account, and finding other users."""

import pytest
from httpx import AsyncClient

from tests.helpers import DEFAULT_PASSWORD, Accounts, detail


async def test_sign_up(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users", json={"email": "new@example.com", "password": "testpass123"}
    )
    assert response.status_code == 201
    user = response.json()
    assert list(user) == ["id", "email", "createdAt", "updatedAt"]
    assert user["email"] == "new@example.com"


async def test_email_is_unique_regardless_of_case(client: AsyncClient, accounts: Accounts) -> None:
    await accounts.sign_up("Taken@Example.com")
    response = await client.post(
        "/api/users", json={"email": "taken@example.COM", "password": "testpass123"}
    )
    assert response.status_code == 409
    assert "already exists" in detail(response)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "testpass123"},
        {"email": "short@example.com", "password": "1234567"},
        {"email": "long@example.com", "password": "x" * 257},
        {"email": "a" * 250 + "@example.com", "password": "testpass123"},
        {"email": "nul@example.com", "password": "testpass\x00123"},
        {"email": "missing-password@example.com"},
        {"email": "extra@example.com", "password": "testpass123", "isAdmin": True},
    ],
    ids=["bad email", "short", "long", "long email", "nul", "missing", "unknown field"],
)
async def test_sign_up_rejects_invalid_input(client: AsyncClient, body: dict[str, object]) -> None:
    response = await client.post("/api/users", json=body)
    assert response.status_code == 422


async def test_password_limits_are_inclusive(client: AsyncClient) -> None:
    for index, password in enumerate(["x" * 8, "y" * 256]):
        response = await client.post(
            "/api/users", json={"email": f"edge{index}@example.com", "password": password}
        )
        assert response.status_code == 201, response.text


async def test_read_me(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up()
    response = await client.get("/api/users/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["id"] == account.id
    assert response.json()["email"] == account.email


async def test_change_email(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up()
    response = await client.patch(
        "/api/users/me", json={"email": "renamed@example.com"}, headers=account.headers
    )
    assert response.status_code == 200
    assert response.json()["email"] == "renamed@example.com"
    assert response.json()["updatedAt"] > response.json()["createdAt"]
    assert await accounts.login("renamed@example.com", account.password)


async def test_change_password(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up()
    response = await client.patch(
        "/api/users/me", json={"password": "brand new password"}, headers=account.headers
    )
    assert response.status_code == 200
    assert await accounts.login(account.email, "brand new password")
    old = await client.post(
        "/api/auth/tokens", data={"username": account.email, "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401


async def test_change_retires_older_tokens(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up()
    await client.patch("/api/users/me", json={"password": "another one"}, headers=account.headers)
    response = await client.get("/api/users/me", headers=account.headers)
    assert response.status_code == 401


async def test_cannot_take_someone_elses_email(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.sign_up(), await accounts.sign_up()
    response = await client.patch(
        "/api/users/me", json={"email": alice.email.upper()}, headers=bob.headers
    )
    assert response.status_code == 409
    me = await client.get("/api/users/me", headers=bob.headers)
    assert me.json()["email"] == bob.email


async def test_changing_case_of_own_email_is_allowed(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.sign_up("lower@example.com")
    response = await client.patch(
        "/api/users/me", json={"email": "Lower@example.com"}, headers=account.headers
    )
    assert response.status_code == 200
    assert response.json()["email"] == "Lower@example.com"


@pytest.mark.parametrize(
    "body", [{"email": None}, {"password": "short"}, {"email": "nope"}, {"name": "x"}]
)
async def test_update_me_rejects_invalid_input(
    client: AsyncClient, accounts: Accounts, body: dict[str, object]
) -> None:
    account = await accounts.sign_up()
    response = await client.patch("/api/users/me", json=body, headers=account.headers)
    assert response.status_code == 422
    assert (await client.get("/api/users/me", headers=account.headers)).status_code == 200


async def test_search_user_by_email(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.sign_up(), await accounts.sign_up()
    response = await client.post(
        "/api/users/search", json={"email": bob.email.upper()}, headers=alice.headers
    )
    assert response.status_code == 200
    assert response.json() == {"id": bob.id, "email": bob.email}


async def test_search_unknown_email(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.sign_up()
    response = await client.post(
        "/api/users/search", json={"email": "ghost@example.com"}, headers=alice.headers
    )
    assert response.status_code == 404
    invalid = await client.post(
        "/api/users/search", json={"email": "not an email"}, headers=alice.headers
    )
    assert invalid.status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/users/me"), ("PATCH", "/api/users/me"), ("POST", "/api/users/search")],
)
async def test_user_routes_need_a_token(client: AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={})
    assert response.status_code == 401
