"""The migrated schema is exactly what the models describe, on each backend."""

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.models import Base


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_database_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_database_itself_refuses_two_accounts_with_one_email_key(
    engine: AsyncEngine,
) -> None:
    insert = text(
        'INSERT INTO "user" (email, email_key, hashed_password, credentials_version,'
        " created_at, updated_at) VALUES (:email, 'case@example.com', 'x', 0, :now, :now)"
    )
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(insert, {"email": "Case@Example.com", "now": now})
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert, {"email": "case@example.COM", "now": now})


async def test_every_foreign_key_is_indexed(engine: AsyncEngine) -> None:
    """Each foreign key leads some index (or the primary key), so joins and cascades are fast."""

    def unindexed(connection: Connection) -> list[str]:
        inspector = inspect(connection)
        missing = []
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            leading = {tuple(index["column_names"][:1]) for index in inspector.get_indexes(table)}
            leading |= {
                tuple(constraint["column_names"][:1])
                for constraint in inspector.get_unique_constraints(table)
            }
            leading.add(tuple(inspector.get_pk_constraint(table)["constrained_columns"][:1]))
            for foreign_key in inspector.get_foreign_keys(table):
                if tuple(foreign_key["constrained_columns"][:1]) not in leading:
                    missing.append(f"{table}.{foreign_key['constrained_columns'][0]}")
        return missing

    async with engine.connect() as connection:
        assert await connection.run_sync(unindexed) == []
