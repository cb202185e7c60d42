"""The limits migration keeps every row, on SQLite too, where adding a CHECK rebuilds the table."""

import asyncio

import pytest
from alembic import command
from sqlalchemy.exc import IntegrityError

from kanban_api.migrations.runner import alembic_config, upgrade
from tests.migrations.test_migration_roles import _run

BEFORE_LIMITS = "f9e3d1fde61c"
# One row in every table, each referencing the one before it, so a rebuild that cascaded
# (or dropped a child table's rows) would show as a missing row.
SEED_ROWS = {
    "user": 'INSERT INTO "user" (id, email, hashed_password, credentials_version, created_at,'
    " updated_at) VALUES (1, 'A@example.com', 'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "board": "INSERT INTO board (id, title, description, version, created_at, updated_at)"
    " VALUES (1, 'B', '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "user_board": "INSERT INTO user_board (user_id, board_id, role, created_at, updated_at)"
    " VALUES (1, 1, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "label": "INSERT INTO label (id, board_id, color, name, created_at, updated_at)"
    " VALUES (1, 1, 0, 'Urgent', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "card": 'INSERT INTO card (id, board_id, title, description, "column", position, version,'
    " archived, created_at, updated_at)"
    " VALUES (1, 1, 'Card', '', 0, 1, 1, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "card_label": "INSERT INTO card_label (card_id, label_id, created_at, updated_at)"
    " VALUES (1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "card_assignee": "INSERT INTO card_assignee (card_id, user_id, board_id, created_at,"
    " updated_at) VALUES (1, 1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "comment": "INSERT INTO comment (id, card_id, author_id, body, created_at, updated_at)"
    " VALUES (1, 1, 1, 'Hi', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
}


def test_limits_migration_keeps_every_row_both_ways(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url, BEFORE_LIMITS)
    asyncio.run(_run(url, *SEED_ROWS.values()))

    upgrade(url)
    command.downgrade(alembic_config(url), BEFORE_LIMITS)
    upgrade(url)

    counts = asyncio.run(
        _run(url, *(f'SELECT count(*) FROM "{table}"' for table in SEED_ROWS))  # noqa: S608
    )
    assert dict(zip(SEED_ROWS, counts, strict=True)) == {table: [(1,)] for table in SEED_ROWS}
    [authors] = asyncio.run(_run(url, "SELECT author_id FROM comment"))
    assert authors == [(1,)]
    # The case-insensitive email index survived the user table's rebuilds.
    with pytest.raises(IntegrityError):
        asyncio.run(_run(url, SEED_ROWS["user"].replace("(1, 'A@", "(2, 'a@")))
