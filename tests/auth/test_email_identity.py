"""One email identity: every place that compares emails finds the same account for
every spelling of it (`kanban_api/utils/emails.py`), on both databases alike."""

import pytest
from httpx import AsyncClient

from tests.conftest import ClientFactory
from tests.helpers import Accounts, login

# (the spelling signed up with, another spelling of the same address)
SPELLINGS = [
    pytest.param("Émile@example.com", "émile@example.com", id="non-ASCII case"),
    pytest.param("straße@example.com", "STRASSE@example.com", id="full case folding"),
    pytest.param("\u212aate@example.com", "kate@example.com", id="Kelvin sign"),
    pytest.param(
        "\uff43\uff41\uff52\uff4f\uff4c@example.com", "carol@example.com", id="full-width"
    ),
    pytest.param("E\u0301lise@example.com", "\u00c9lise@example.com", id="composed accent"),
    pytest.param("dora@example.com", "  dora@example.com ", id="surrounding spaces"),
]


@pytest.mark.parametrize(("email", "spelling"), SPELLINGS)
async def test_every_spelling_names_one_account(
    client: AsyncClient, accounts: Accounts, email: str, spelling: str
) -> None:
    account = await accounts.sign_up(email)

    second = await client.post("/api/users", json={"email": spelling, "password": "other pass 1"})
    assert second.status_code == 409

    token = (await login(client, spelling, account.password)).json()["access_token"]
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == account.id

    found = await client.post(
        "/api/users/search", json={"email": spelling.strip()}, headers=account.headers
    )
    assert (found.status_code, found.json()["id"]) == (200, account.id)


async def test_the_email_is_shown_as_typed(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.sign_up(" Émile.Zola@example.com ")
    me = await client.get("/api/users/me", headers=account.headers)
    assert me.json()["email"] == "Émile.Zola@example.com"


async def test_login_with_padded_email_works_and_counts_for_the_account(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.sign_up("padded@example.com")
    client = await client_with(login_max_failures_per_account=2)
    assert (await login(client, " padded@example.com ", account.password)).status_code == 200
    for _ in range(2):
        assert (await login(client, "padded@example.com  ", "wrong password")).status_code == 401
    assert (await login(client, "padded@example.com", account.password)).status_code == 429


async def test_account_limit_counts_every_spelling_as_one(
    client_with: ClientFactory, accounts: Accounts
) -> None:
    account = await accounts.sign_up("Émilie@example.com")
    client = await client_with(login_max_failures_per_account=3)
    for spelling in ("ÉMILIE@example.com", "E\u0301milie@example.com", "émilie@EXAMPLE.com "):
        assert (await login(client, spelling, "wrong password")).status_code == 401
    assert (await login(client, account.email, account.password)).status_code == 429


async def test_an_email_change_cannot_take_another_spelling_of_someone_elses(
    client: AsyncClient, accounts: Accounts
) -> None:
    await accounts.sign_up("straße.x@example.com")
    bob = await accounts.sign_up()
    response = await client.patch(
        "/api/users/me", json={"email": "STRASSE.X@example.com"}, headers=bob.headers
    )
    assert response.status_code == 409
    me = await client.get("/api/users/me", headers=bob.headers)
    assert me.json()["email"] == bob.email


async def test_an_email_that_outgrows_its_key_limit_is_refused(client: AsyncClient) -> None:
    """NFKC spells U+FDFA in 18 letters: a valid address can normalize past 254 characters."""
    email = "\ufdfa" * 21 + "@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 30 + ".com"
    response = await client.post("/api/users", json={"email": email, "password": "long enough"})
    assert response.status_code == 422
