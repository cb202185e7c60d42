"""Hot statements run on the asyncpg connection itself on PostgreSQL (direct.py): the same
values as SQLAlchemy's, and never outside the transaction they belong to. (The suite's
PostgreSQL runs send the hot reads and a drag's writes this way; tests/app/
test_database_states.py has their faults, tests/cards/test_read_paths.py their counts.)"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, literal, select
from sqlalchemy.exc import MultipleResultsFound
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.direct import fetch_all, fetch_one
from kanban_api.models import Card, CardColumn


@pytest.fixture
def postgresql(engine: AsyncEngine) -> AsyncEngine:
    if engine.dialect.name != "postgresql":
        pytest.skip("direct execution is for PostgreSQL; SQLite runs every statement as usual")
    return engine


async def test_a_statement_in_a_transaction_runs_in_that_transaction(
    postgresql: AsyncEngine,
) -> None:
    """SQLAlchemy's asyncpg adapter sends BEGIN with a transaction's first statement, so
    that statement must go its way: sent directly, it would run on its own."""
    transaction_id = select(func.txid_current())
    async with postgresql.connect() as connection, connection.begin():
        first = await fetch_one(connection, transaction_id, {})
        second = (await connection.execute(transaction_id)).scalar_one()
        third = await fetch_one(connection, transaction_id, {})

    assert first is not None and third is not None
    assert first[0] == second == third[0]


async def test_a_direct_read_binds_and_converts_values_by_their_types(
    postgresql: AsyncEngine,
) -> None:
    """The app's own column types convert both ways (a column key is stored as its
    position, a time as UTC), and one row too many is the error SQLAlchemy raises."""
    statement = select(
        literal(CardColumn.DOING, Card.column.type),
        literal(datetime(2026, 1, 2, 3, 4, tzinfo=UTC), Card.created_at.type),
    )
    async with postgresql.execution_options(isolation_level="AUTOCOMMIT").connect() as reading:
        [row] = await fetch_all(reading, statement, {})
        with pytest.raises(MultipleResultsFound):
            await fetch_one(reading, select(func.generate_series(1, 2)), {})

    assert tuple(row) == (CardColumn.DOING, datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
