"""The normalized email key migration on databases that already hold accounts."""

import asyncio

import pytest
from alembic import command

from kanban_api.migrations.runner import alembic_config, upgrade
from tests.migrations.test_migration_roles import _run

BEFORE_KEYS = "c2054fe2d7c4"


INSERT_USERS = (
    'INSERT INTO "user" (id, email, hashed_password, credentials_version, created_at,'
    " updated_at) VALUES"
)
AT = "'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
DISTINCT = INSERT_USERS + f" (1, 'Émile@Example.com', {AT}), (2, 'Straße@example.com', {AT})"
# ß folds to ss, which neither database's lower() does: accounts 1 and 3 become one.
COLLIDING = (
    INSERT_USERS + f" (1, 'strasse@example.com', {AT}), (2, 'other@example.com', {AT}),"
    f" (3, ' STRAßE@example.com', {AT})"
)


def test_existing_accounts_get_their_normalized_key(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, BEFORE_KEYS)
    asyncio.run(_run(url, DISTINCT))

    upgrade(url)
    [rows] = asyncio.run(_run(url, 'SELECT id, email, email_key FROM "user" ORDER BY id'))
    assert rows == [
        (1, "Émile@Example.com", "émile@example.com"),
        (2, "Straße@example.com", "strasse@example.com"),
    ]

    command.downgrade(alembic_config(url), BEFORE_KEYS)
    [emails] = asyncio.run(_run(url, 'SELECT email FROM "user" ORDER BY id'))
    assert emails == [("Émile@Example.com",), ("Straße@example.com",)]


def test_accounts_colliding_under_the_new_rule_stop_the_migration(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, BEFORE_KEYS)
    asyncio.run(_run(url, COLLIDING))

    with pytest.raises(RuntimeError, match=r"accounts \[1, 3\] have the same email") as raised:
        upgrade(url)
    assert "Nothing was merged" in str(raised.value)
    assert "strasse" not in str(raised.value).lower()  # ids name them, not the addresses

    [version, users] = asyncio.run(
        _run(url, "SELECT version_num FROM alembic_version", 'SELECT id FROM "user" ORDER BY id')
    )
    assert version == [(BEFORE_KEYS,)]
    assert users == [(1,), (2,), (3,)]

    asyncio.run(_run(url, "UPDATE \"user\" SET email = 'strasse.2@example.com' WHERE id = 3"))
    upgrade(url)
    [keys] = asyncio.run(_run(url, 'SELECT email_key FROM "user" ORDER BY id'))
    assert keys == [("strasse@example.com",), ("other@example.com",), ("strasse.2@example.com",)]
