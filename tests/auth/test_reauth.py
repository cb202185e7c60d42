"""Changing email or password takes the current password, or a token from a fresh login."""

import time

import jwt
import pytest
from httpx import AsyncClient

from tests.conftest import TEST_SECRET
from tests.helpers import Account, Accounts, detail, login


def aged(token: str, minutes: int) -> dict[str, str]:
    """The token's claims re-signed as if its login was `minutes` ago (still unexpired)."""
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    claims["iat"] = int(time.time()) - minutes * 60
    return {"Authorization": "Bearer " + jwt.encode(claims, TEST_SECRET, algorithm="HS256")}


@pytest.fixture
async def owner(accounts: Accounts) -> Account:
    return await accounts.create()


@pytest.mark.parametrize(
    "change", [{"password": "attacker chose this"}, {"email": "taken-over@example.com"}]
)
async def test_an_old_token_alone_cannot_change_credentials(
    client: AsyncClient, owner: Account, change: dict[str, str]
) -> None:
    old = aged(owner.token, 11)  # the default window is 10 minutes
    assert (await client.get("/api/users/me", headers=old)).status_code == 200
    refused = await client.patch("/api/users/me", json=change, headers=old)
    assert refused.status_code == 403
    assert "currentPassword" in detail(refused)
    wrong = await client.patch(
        "/api/users/me", json={**change, "currentPassword": "a wrong guess"}, headers=old
    )
    assert wrong.status_code == 403
    assert "currentPassword" in detail(wrong)
    me = await client.get("/api/users/me", headers=owner.headers)
    assert me.json()["email"] == owner.email
    assert (await login(client, owner.email, owner.password)).status_code == 200


async def test_the_current_password_or_a_fresh_login_allows_the_change(
    client: AsyncClient, owner: Account, accounts: Accounts
) -> None:
    old = aged(owner.token, 30)
    changed = await client.patch(
        "/api/users/me",
        json={"password": "owner chose this", "currentPassword": owner.password},
        headers=old,
    )
    assert changed.status_code == 200
    fresh = await accounts.login(owner.email, "owner chose this")
    moved = await client.patch(
        "/api/users/me",
        json={"email": "moved@example.com"},
        headers={"Authorization": f"Bearer {fresh}"},
    )
    assert moved.status_code == 200
    assert moved.json()["email"] == "moved@example.com"


async def test_wrong_current_passwords_count_as_failed_logins(
    client: AsyncClient, owner: Account
) -> None:
    old = aged(owner.token, 30)
    for number in range(10):  # the default limit per account
        response = await client.patch(
            "/api/users/me",
            json={"password": "attacker chose this", "currentPassword": f"guess {number}"},
            headers=old,
        )
        assert response.status_code == 403
    response = await client.patch(
        "/api/users/me",
        json={"password": "attacker chose this", "currentPassword": owner.password},
        headers=old,
    )
    assert response.status_code == 429
    assert (await login(client, owner.email, owner.password)).status_code == 429
