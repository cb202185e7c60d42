"""The invitations migration: every membership that existed is one its user joined."""

import asyncio

from alembic import command

from kanban_api.migrations.runner import alembic_config, upgrade
from tests.migrations.test_migration_roles import _run

BEFORE_INVITATIONS = "e1a20c0de020"
ROWS = [
    'INSERT INTO "user" (id, email, email_key, hashed_password, credentials_version,'
    " created_at, updated_at) VALUES"
    " (1, 'a@example.com', 'a@example.com', 'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
    " (2, 'b@example.com', 'b@example.com', 'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO board (id, title, description, created_at, updated_at)"
    " VALUES (1, 'B', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO user_board (user_id, board_id, role, created_at, updated_at)"
    " VALUES (1, 1, 0, '2026-01-02 03:04:05', CURRENT_TIMESTAMP),"
    " (2, 1, 2, '2026-02-03 04:05:06', CURRENT_TIMESTAMP)",
]


def test_existing_memberships_are_accepted_and_invitations_go_on_downgrade(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, BEFORE_INVITATIONS)
    asyncio.run(_run(url, *ROWS))

    upgrade(url)
    (joined,) = asyncio.run(
        _run(url, "SELECT user_id FROM user_board WHERE accepted_at = created_at ORDER BY user_id")
    )
    assert joined == [(1,), (2,)]

    asyncio.run(_run(url, "UPDATE user_board SET accepted_at = NULL WHERE user_id = 2"))
    command.downgrade(alembic_config(url), BEFORE_INVITATIONS)
    (kept,) = asyncio.run(_run(url, "SELECT user_id, role FROM user_board"))
    assert kept == [(1, 0)]
