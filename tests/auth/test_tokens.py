"""Token hygiene: only fresh HS256 tokens signed with our key, for current credentials, pass."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.config import Settings
from kanban_api.models import User
from tests.conftest import TEST_SECRET, ClientFactory
from tests.helpers import Account, Accounts


def claims_for(account: Account, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {"sub": str(account.id), "email": account.email, "ver": 0, "iat": now}
    claims["exp"] = now + timedelta(minutes=5)
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    payload = json.dumps(claims, default=lambda moment: int(moment.timestamp())).encode()
    return f"{b64(json.dumps(header).encode())}.{b64(payload)}.{b64(signature)}"


async def assert_rejected(client: AsyncClient, token: str) -> None:
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Could not validate credentials"}


async def test_a_well_formed_token_is_accepted(client: AsyncClient, accounts: Accounts) -> None:
    """The control case: the forged tokens below differ from this one in one thing only."""
    account = await accounts.create()
    token = jwt.encode(claims_for(account), TEST_SECRET, algorithm="HS256")
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"password": "a new password"}, {"password": "a new password", "email": "new@example.com"}],
)
async def test_tokens_issued_before_a_password_change_stop_working(
    client: AsyncClient, accounts: Accounts, change: dict[str, str]
) -> None:
    account = await accounts.create()
    second_token = await accounts.login(account.email, account.password)
    response = await client.patch("/api/users/me", json=change, headers=account.headers)
    assert response.status_code == 200
    for old in (account.token, second_token):
        await assert_rejected(client, old)
    new_token = await accounts.login(
        change.get("email", account.email), change.get("password", account.password)
    )
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {new_token}"})
    assert response.status_code == 200


async def test_an_email_change_keeps_the_session(client: AsyncClient, accounts: Accounts) -> None:
    """As the seed's own tests do: change the email, then go on with the same token."""
    account = await accounts.create()
    other_session = await accounts.login(account.email, account.password)
    response = await client.patch(
        "/api/users/me", json={"email": "moved@example.com"}, headers=account.headers
    )
    assert response.status_code == 200
    for token in (account.token, other_session):
        me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["email"] == "moved@example.com"
    board = await client.post("/api/boards", json={"title": "Still me"}, headers=account.headers)
    assert board.status_code == 201
    assert (
        await client.post(
            "/api/auth/tokens", data={"username": account.email, "password": account.password}
        )
    ).status_code == 401


async def test_changing_nothing_keeps_tokens_valid(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.create()
    response = await client.patch("/api/users/me", json={}, headers=account.headers)
    assert response.status_code == 200
    assert (await client.get("/api/users/me", headers=account.headers)).status_code == 200


async def test_alg_none_is_rejected(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.create()
    for alg in ("none", "None", "NONE"):
        await assert_rejected(client, unsigned({"alg": alg, "typ": "JWT"}, claims_for(account)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_hmac_algorithms_are_rejected_even_with_our_key(
    client: AsyncClient, accounts: Accounts, algorithm: str
) -> None:
    account = await accounts.create()
    await assert_rejected(client, jwt.encode(claims_for(account), TEST_SECRET, algorithm=algorithm))


async def test_asymmetric_algorithms_are_rejected(client: AsyncClient, accounts: Accounts) -> None:
    """Also the classic confusion: an RS256 header "verified" with our secret as public key."""
    account = await accounts.create()
    for alg in ("RS256", "ES256", "PS256", "EdDSA"):
        token = unsigned({"alg": alg, "typ": "JWT"}, claims_for(account), b"\x01" * 64)
        await assert_rejected(client, token)


async def test_tokens_signed_with_another_key_are_rejected(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()
    token = jwt.encode(claims_for(account), "another-key-" + "x" * 40, algorithm="HS256")
    await assert_rejected(client, token)


@pytest.mark.parametrize("missing", ["exp", "sub", "iat"])
async def test_required_claims_must_be_present(
    client: AsyncClient, accounts: Accounts, missing: str
) -> None:
    account = await accounts.create()
    claims = claims_for(account, **{missing: None})
    await assert_rejected(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_expired_tokens_are_rejected(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.create()
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = claims_for(account, iat=past, exp=past + timedelta(hours=1))
    await assert_rejected(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


LEEWAY = Settings.model_fields["token_leeway_seconds"].default


@pytest.mark.parametrize("claim", ["iat", "nbf"])
async def test_a_token_from_a_machine_whose_clock_runs_ahead_is_accepted(
    client: AsyncClient, client_with: ClientFactory, accounts: Accounts, claim: str
) -> None:
    account = await accounts.create()
    # Well inside the leeway, and ahead by more than the test can take to run.
    ahead = datetime.now(UTC) + timedelta(seconds=LEEWAY // 3)
    token = jwt.encode(claims_for(account, **{claim: ahead}), TEST_SECRET, algorithm="HS256")
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200

    strict = await client_with(token_leeway_seconds=0)
    await assert_rejected(strict, token)
    far_ahead = ahead + timedelta(seconds=LEEWAY)
    token = jwt.encode(claims_for(account, **{claim: far_ahead}), TEST_SECRET, algorithm="HS256")
    await assert_rejected(client, token)


async def test_a_token_that_expired_within_the_leeway_is_accepted(
    client: AsyncClient, client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.create()
    now = datetime.now(UTC)
    claims = claims_for(account, iat=now - timedelta(hours=1), exp=now - timedelta(seconds=2))
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    await assert_rejected(await client_with(token_leeway_seconds=0), token)


async def test_a_token_that_passed_before_is_still_refused_once_it_expires(
    client: AsyncClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tokens that passed are remembered (checking a signature per request is costly);
    expiry must still end them."""
    account = await accounts.create()
    expires = datetime.now(UTC) + timedelta(minutes=1)
    token = jwt.encode(claims_for(account, exp=expires), TEST_SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    assert (await client.get("/api/boards", headers=headers)).status_code == 200

    monkeypatch.setattr(time, "time", lambda: expires.timestamp() + LEEWAY - 1)
    assert (await client.get("/api/boards", headers=headers)).status_code == 200
    monkeypatch.setattr(time, "time", lambda: expires.timestamp() + LEEWAY)
    await assert_rejected(client, token)
    assert (await client.get("/api/boards", headers=headers)).status_code == 401


@pytest.mark.parametrize("subject", ["0", "-1", "99999999999999999999", "abc", "1.5", ""])
async def test_impossible_subjects_are_rejected(
    client: AsyncClient, accounts: Accounts, subject: str
) -> None:
    account = await accounts.create()
    claims = claims_for(account, sub=subject)
    await assert_rejected(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_tokens_of_deleted_users_are_rejected(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    account = await accounts.create()
    async with engine.begin() as connection:
        await connection.execute(delete(User).where(User.id == account.id))
    await assert_rejected(client, account.token)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer ...."],
)
async def test_malformed_authorization_is_rejected(client: AsyncClient, authorization: str) -> None:
    response = await client.get("/api/users/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
