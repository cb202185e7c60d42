"""Login hardening: equal work for unknown emails, and failed logins limited in the database."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import bcrypt
import pytest
from httpx import AsyncClient
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.models import LoginThrottle
from kanban_api.utils import password as password_module
from tests.conftest import ClientFactory
from tests.helpers import Accounts, detail, login


@pytest.fixture
def verified_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes each password check ran against, in order."""
    seen: list[str] = []
    verify = password_module._hasher.verify_and_update

    def counting_verify(password: str, hashed: str) -> Any:
        seen.append(hashed)
        return verify(password, hashed)

    monkeypatch.setattr(password_module._hasher, "verify_and_update", counting_verify)
    return seen


def argon2_parameters(hashed: str) -> str:
    """`$argon2id$v=19$m=...,t=...,p=...`: what decides how long a check takes."""
    return "$".join(hashed.split("$")[:4])


async def test_unknown_email_costs_the_same_hashing_as_a_wrong_password(
    client: AsyncClient, accounts: Accounts, verified_hashes: list[str]
) -> None:
    account = await accounts.sign_up()
    verified_hashes.clear()
    unknown = await login(client, "nobody@example.com", account.password)
    wrong = await login(client, account.email, "wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "Incorrect email or password"}
    dummy, real = verified_hashes
    assert argon2_parameters(dummy) == argon2_parameters(real)
    assert dummy != real


async def test_failed_logins_per_account_are_limited(
    client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.sign_up()
    other = await accounts.sign_up()
    for _ in range(10):  # the default limit
        assert (await login(client, account.email, "wrong password")).status_code == 401
    for password in ("wrong password", account.password):  # even the right one, now
        response = await login(client, account.email, password)
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 15 * 60
        assert "Too many failed logins" in detail(response)
    # Another account from the same address is not affected.
    assert (await login(client, other.email, other.password)).status_code == 200


async def test_account_counter_ignores_case_and_spaces(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.sign_up(email="Carol@Example.com")
    client = await client_with(login_max_failures_per_account=3)
    for email in ("carol@example.com", "CAROL@EXAMPLE.COM", " Carol@Example.com "):
        assert (await login(client, email, "wrong password")).status_code == 401
    assert (await login(client, account.email, account.password)).status_code == 429


async def test_a_successful_login_clears_the_account_counter(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.sign_up()
    client = await client_with(login_max_failures_per_account=3)
    for _ in range(3):
        assert (await login(client, account.email, "wrong password")).status_code == 401
        assert (await login(client, account.email, "wrong password")).status_code == 401
        assert (await login(client, account.email, account.password)).status_code == 200


async def test_failed_logins_per_address_are_limited(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.sign_up()
    client = await client_with(login_max_failures_per_address=3)
    for number in range(3):
        response = await login(client, f"guess{number}@example.com", "wrong password")
        assert response.status_code == 401
    assert (await login(client, account.email, account.password)).status_code == 429
    elsewhere = await client_with(address="203.0.113.9", login_max_failures_per_address=3)
    assert (await login(elsewhere, account.email, account.password)).status_code == 200


async def test_workers_share_the_counters(client_with: ClientFactory, accounts: Accounts) -> None:
    account = await accounts.sign_up()
    workers = [await client_with(login_max_failures_per_account=4) for _ in range(2)]
    for number in range(4):
        response = await login(workers[number % 2], account.email, "wrong password")
        assert response.status_code == 401
    for worker in workers:
        assert (await login(worker, account.email, account.password)).status_code == 429


async def test_successful_logins_do_not_use_up_the_address_budget(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.sign_up()
    client = await client_with(login_max_failures_per_address=2)
    for _ in range(3):
        assert (await login(client, account.email, account.password)).status_code == 200
    # Logging in to one's own account between guesses does not refill the budget.
    assert (await login(client, "victim@example.com", "guess 1")).status_code == 401
    assert (await login(client, account.email, account.password)).status_code == 200
    assert (await login(client, "victim@example.com", "guess 2")).status_code == 401
    assert (await login(client, "victim@example.com", "guess 3")).status_code == 429


async def test_the_limit_lifts_when_the_window_has_passed(
    client_with: ClientFactory, accounts: Accounts, engine: AsyncEngine
) -> None:
    account = await accounts.sign_up()
    client = await client_with(login_max_failures_per_account=2)
    for _ in range(2):
        await login(client, account.email, "wrong password")
    assert (await login(client, account.email, account.password)).status_code == 429
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(LoginThrottle).values(key="stale", failures=99, window_start=long_ago)
        )
        await connection.execute(update(LoginThrottle).values(window_start=long_ago))
    assert (await login(client, account.email, "wrong password")).status_code == 401
    async with engine.connect() as connection:
        keys = (await connection.execute(select(LoginThrottle.key))).scalars().all()
    assert "stale" not in keys  # expired counters are cleared as new windows open
    assert (await login(client, account.email, account.password)).status_code == 200


async def test_concurrent_guesses_exceed_the_limit_by_at_most_the_requests_in_flight(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.sign_up()
    client = await client_with(login_max_failures_per_account=5, max_requests_in_flight=3)
    responses = await asyncio.gather(
        *(login(client, account.email, f"guess {n}") for n in range(20))
    )
    statuses = [response.status_code for response in responses]
    assert set(statuses) == {401, 429}
    assert 5 <= statuses.count(401) <= 5 + 3
    assert (await login(client, account.email, account.password)).status_code == 429


async def test_simultaneous_correct_logins_all_succeed(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.create()
    client = await client_with(login_max_failures_per_account=10)
    for _ in range(9):  # one failure short of the limit
        assert (await login(client, account.email, "wrong password")).status_code == 401
    responses = await asyncio.gather(
        *(login(client, account.email, account.password) for _ in range(10))
    )
    assert [response.status_code for response in responses] == [200] * 10


async def test_seed_bcrypt_accounts_log_in_with_long_passwords(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    """The seed hashed with bcrypt via passlib, which used the first 72 bytes of a password."""
    account = await accounts.sign_up()
    long_password = "p" * 100
    seed_hash = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    async with engine.begin() as connection:
        await connection.execute(
            text('UPDATE "user" SET hashed_password = :hash WHERE id = :id'),
            {"hash": seed_hash, "id": account.id},
        )
    assert (await login(client, account.email, "q" * 100)).status_code == 401
    assert (await login(client, account.email, long_password)).status_code == 200
    async with engine.connect() as connection:
        rows = await connection.execute(text('SELECT hashed_password FROM "user"'))
        assert rows.scalar_one().startswith("$argon2id$")  # upgraded on login


@pytest.mark.parametrize(
    "form",
    [
        {"username": "a\x00@example.com", "password": "whatever1"},
        {"username": "a@example.com", "password": "nul\x00byte"},
        {"username": "a" * 255, "password": "whatever1"},
        {"username": "a@example.com"},
        {"username": "", "password": "whatever1"},
    ],
)
async def test_unusable_login_forms_get_422(client: AsyncClient, form: dict[str, str]) -> None:
    response = await client.post("/api/auth/tokens", data=form)
    assert response.status_code == 422


async def test_login_accepts_the_full_oauth2_password_form(
    client: AsyncClient, accounts: Accounts
) -> None:
    """Swagger UI's Authorize button sends the OAuth2 fields beside the credentials."""
    account = await accounts.sign_up()
    response = await client.post(
        "/api/auth/tokens",
        data={
            "grant_type": "password",
            "username": account.email,
            "password": account.password,
            "scope": "",
            "client_id": "",
        },
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS")
def test_a_worker_pinned_to_one_core_hashes_one_password_at_a_time() -> None:
    """Each hash holds 19 MiB while it runs; hashes past the cores a worker may use only
    queue in the OS, so a pinned worker (taskset, a container's cpuset) runs one."""
    probe = "from kanban_api.utils import password; print(password._hashing_slots.total_tokens)"
    one_core = min(os.sched_getaffinity(0))
    done = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {one_core}),
    )
    assert done.stdout.strip() == "1"
