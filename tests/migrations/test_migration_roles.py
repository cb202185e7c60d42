"""The collaboration migration on a database that already holds the seed's data."""

import asyncio
from typing import Any

from alembic import command
from sqlalchemy import text

from kanban_api.config import to_async_url
from kanban_api.database import create_engine
from kanban_api.migrations.runner import alembic_config, upgrade

BEFORE_ROLES = "7637f58c86e6"
SEED_ROWS = [
    'INSERT INTO "user" (id, email, hashed_password, credentials_version, created_at, updated_at)'
    " VALUES (1, 'a@example.com', 'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
    " (2, 'b@example.com', 'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO board (id, title, description, created_at, updated_at)"
    " VALUES (1, 'B', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO user_board (user_id, board_id, created_at, updated_at)"
    " VALUES (1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
    " (2, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO label (id, board_id, color, name, created_at, updated_at)"
    " VALUES (1, 1, 0, 'Urgent', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    'INSERT INTO card (id, board_id, title, description, "column", created_at, updated_at)'
    " VALUES (1, 1, 'Card', '', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO card_label (card_id, label_id, created_at, updated_at)"
    " VALUES (1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
]


async def _run(url: str, *statements: str) -> list[list[tuple[Any, ...]]]:
    """Runs the statements in one transaction; the rows each one returned."""
    engine = create_engine(to_async_url(url))
    try:
        async with engine.begin() as connection:
            results = [await connection.execute(text(statement)) for statement in statements]
            return [
                [tuple(row) for row in result.all()] if result.returns_rows else []
                for result in results
            ]
    finally:
        await engine.dispose()


def test_existing_members_become_owners_and_nothing_is_lost(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url, BEFORE_ROLES)
    asyncio.run(_run(url, *SEED_ROWS))

    upgrade(url)
    roles, labels, cards = asyncio.run(
        _run(
            url,
            "SELECT user_id, role FROM user_board ORDER BY user_id",
            "SELECT card_id, label_id FROM card_label",
            "SELECT id, due_at, archived FROM card",
        )
    )
    assert roles == [(1, 0), (2, 0)]  # 0: Role.OWNER's position
    assert labels == [(1, 1)]
    assert cards == [(1, None, False)]

    command.downgrade(alembic_config(url), BEFORE_ROLES)
    memberships, labels = asyncio.run(
        _run(
            url, "SELECT user_id FROM user_board ORDER BY user_id", "SELECT card_id FROM card_label"
        )
    )
    assert memberships == [(1,), (2,)]
    assert labels == [(1,)]


def test_migrations_build_exactly_the_models_schema(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    # Raises when autogenerate would find a difference between the models and the database.
    command.check(alembic_config(empty_database_url))
