"""Logging in, and which tokens are accepted."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import TEST_SECRET
from tests.helpers import Account, Accounts


async def test_login_returns_a_bearer_token(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up()
    response = await client.post(
        "/api/auth/tokens", data={"username": account.email, "password": account.password}
    )
    assert response.status_code == 200
    body = response.json()
    # The contract's two fields, then the lifetime (RFC 6749 section 5.1) added to it.
    assert list(body) == ["access_token", "token_type", "expires_in"]
    assert body["token_type"] == "bearer"


async def test_token_claims(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up()
    claims = jwt.decode(account.token, TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(account.id)
    assert claims["email"] == account.email
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(account.token)["alg"] == "HS256"


async def test_login_is_case_insensitive_on_email(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up("Mixed.Case@Example.com")
    response = await client.post(
        "/api/auth/tokens",
        data={"username": "mixed.case@example.COM", "password": account.password},
    )
    assert response.status_code == 200


async def test_unknown_email_and_wrong_password_look_the_same(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.sign_up()
    wrong_password = await client.post(
        "/api/auth/tokens", data={"username": account.email, "password": "not the password"}
    )
    unknown_email = await client.post(
        "/api/auth/tokens", data={"username": "nobody@example.com", "password": "whatever1"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.headers["www-authenticate"] == "Bearer"


async def test_login_form_fields_are_required(client: AsyncClient) -> None:
    response = await client.post("/api/auth/tokens", data={"username": "a@example.com"})
    assert response.status_code == 422


def _forge(claims: dict[str, Any], *, key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _claims(account: Account, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(account.id),
        "email": account.email,
        "ver": 0,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _unsigned(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key="", algorithm="none")


BAD_TOKENS: dict[str, Callable[[Account], str]] = {
    "expired": lambda a: _forge(
        _claims(
            a,
            iat=datetime.now(UTC) - timedelta(hours=2),
            exp=datetime.now(UTC) - timedelta(hours=1),
        )
    ),
    "wrong key": lambda a: _forge(_claims(a), key="another-secret-key-of-sufficient-length"),
    "alg none": lambda a: _unsigned(_claims(a)),
    "HS512": lambda a: _forge(_claims(a), algorithm="HS512"),
    "no exp": lambda a: _forge({k: v for k, v in _claims(a).items() if k != "exp"}),
    "sub not a number": lambda a: _forge(_claims(a, sub="admin")),
    "sub out of range": lambda a: _forge(_claims(a, sub="99999999999999999999")),
    "garbage": lambda a: "not.a.jwt",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_bad_tokens_are_rejected(client: AsyncClient, accounts: Accounts, kind: str) -> None:
    account = await accounts.sign_up()
    token = BAD_TOKENS[kind](account)
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "detail" in response.json()


async def test_a_well_formed_forged_token_is_accepted_only_with_our_key(
    client: AsyncClient, accounts: Accounts
) -> None:
    """Guards the negative tests above: the same claims signed with our key do work."""
    account = await accounts.sign_up()
    token = _forge(_claims(account))
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_missing_token(client: AsyncClient) -> None:
    response = await client.get("/api/boards")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_token_of_a_deleted_user_is_rejected(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    account = await accounts.sign_up()
    async with engine.begin() as connection:
        await connection.execute(text('DELETE FROM "user" WHERE id = :id'), {"id": account.id})
    response = await client.get("/api/users/me", headers=account.headers)
    assert response.status_code == 401


async def test_bcrypt_hash_from_the_seed_still_logs_in_and_is_upgraded(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    import bcrypt

    account = await accounts.sign_up()
    seed_hash = bcrypt.hashpw(b"seed password", bcrypt.gensalt(rounds=4)).decode()
    async with engine.begin() as connection:
        await connection.execute(
            text('UPDATE "user" SET hashed_password = :hash WHERE id = :id'),
            {"hash": seed_hash, "id": account.id},
        )
    token = await accounts.login(account.email, "seed password")
    assert token
    async with engine.connect() as connection:
        stored = await connection.scalar(
            text('SELECT hashed_password FROM "user" WHERE id = :id'), {"id": account.id}
        )
    assert stored.startswith("$argon2id$")
    # The upgraded hash still verifies.
    assert await accounts.login(account.email, "seed password")


async def test_overlong_password_is_refused_without_hashing(
    client: AsyncClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await accounts.sign_up()
    calls: list[str] = []
    from kanban_api.utils import password as password_module

    original = password_module._hasher.verify_and_update

    def counting(password: str, hashed: str) -> tuple[bool, str | None]:
        calls.append(password)
        return original(password, hashed)

    monkeypatch.setattr(password_module._hasher, "verify_and_update", counting)
    response = await client.post(
        "/api/auth/tokens", data={"username": account.email, "password": "x" * 100_000}
    )
    # The login form's bound refuses it (docs/security.md), before any hashing.
    assert response.status_code == 422
    assert calls == []
