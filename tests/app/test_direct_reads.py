"""Hot statements run on the asyncpg connection itself on PostgreSQL (direct.py): the same
values as SQLAlchemy's, and never outside the transaction they belong to. (The suite's
PostgreSQL runs send the hot reads and a drag's writes this way; tests/app/
test_database_states.py has their faults, tests/cards/test_read_paths.py their counts.)"""

import asyncio
import gc
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy import event, func, literal, select, text
from sqlalchemy.exc import MultipleResultsFound
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.direct import fetch_all, fetch_one
from kanban_api.models import Card, CardColumn
from tests.helpers import Accounts, create_board, create_cards, until_a_request_waits_for_a_lock


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

    assert first is not None
    assert third is not None
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


async def test_a_statement_rendered_per_execution_still_runs(postgresql: AsyncEngine) -> None:
    """An expanding `IN` is written out by SQLAlchemy at each execution: such a statement
    runs through SQLAlchemy, with its values."""
    numbers = select(func.generate_series(1, 5).label("n")).subquery()
    chosen = select(numbers.c.n).where(numbers.c.n.in_([2, 4])).order_by(numbers.c.n)
    async with postgresql.execution_options(isolation_level="AUTOCOMMIT").connect() as reading:
        rows = await fetch_all(reading, chosen, {})

    assert [tuple(row) for row in rows] == [(2,), (4,)]


async def test_a_write_whose_connection_the_server_ends_mid_statement_is_a_clean_503(
    client: AsyncClient,
    accounts: Accounts,
    postgresql: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A drag waiting on a row when its backend is terminated (a restart, an operator):
    503, and the connection is dropped as SQLAlchemy would drop it, so closing the
    request's session raises nothing more (no "Task exception was never retrieved")."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "Held"})
    async with postgresql.connect() as holder, holder.begin():
        await holder.execute(
            text("SELECT 1 FROM card WHERE id = :id FOR UPDATE"), {"id": card["id"]}
        )
        drag = asyncio.create_task(
            client.patch(f"/api/cards/{card['id']}", json={"column": "DONE"}, headers=owner.headers)
        )
        waiting = await until_a_request_waits_for_a_lock(postgresql)
        await holder.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting})
        response = await drag
    gc.collect()

    assert response.status_code == 503, response.text
    assert "never retrieved" not in caplog.text
    assert (await client.get(f"/api/cards/{card['id']}", headers=owner.headers)).json() == card


async def test_a_driver_error_of_the_client_side_is_a_503_and_costs_only_its_connection(
    client: AsyncClient, accounts: Accounts, postgresql: AsyncEngine
) -> None:
    """What asyncpg raises when a connection's protocol is left mid-operation (seen when
    backends are terminated under load): the connection cannot be trusted, so it is
    dropped and the read answered 503 (db_faults.py), and the next read is served."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    [card] = await create_cards(client, owner, board["id"], {"title": "Read me"})
    failures = [asyncpg.InternalClientError("another operation is in progress")]

    def fail(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if failures and "FROM card" in statement:
            raise failures.pop()

    event.listen(postgresql.sync_engine, "before_cursor_execute", fail)
    try:
        during = await client.get(f"/api/cards/{card['id']}", headers=owner.headers)
    finally:
        event.remove(postgresql.sync_engine, "before_cursor_execute", fail)
    after = await client.get(f"/api/cards/{card['id']}", headers=owner.headers)

    assert during.status_code == 503, during.text
    assert "Retry-After" in during.headers
    assert after.json() == card
