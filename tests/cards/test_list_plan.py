"""The card list's plan on PostgreSQL is linear in the board's cards even before ANALYZE.

Right after a board's cards are created, PostgreSQL's statistics do not know them yet:
it estimates one card. A list that aggregated the board's labels once and joined the
aggregate on was then planned as a nested loop re-running the aggregate for every card
(124,750 rows compared for 500 cards). These tests run the list's own statement, as the
app sent it, under EXPLAIN ANALYZE, without any ANALYZE before: a structural check (the
plan's shape and the rows its nodes handled), no timing.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import Accounts, add_member, create_board, create_cards

CARDS = 500
COLUMNS = ("BACKLOG", "TODO", "DOING", "DONE")
LABELS = ("red", "orange", "yellow", "green", "blue", "purple", "gray")
# Rows a linear plan may handle per card, over all its nodes: the card, its two labels
# (each found, joined and aggregated), its assignee, the sort. Generous; the quadratic
# plan handled about 500 per card.
ROWS_PER_CARD = 30


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _rows_handled(node: dict[str, Any]) -> float:
    """Rows the node produced and discarded, over all its executions."""
    keys = ("Actual Rows", "Rows Removed by Filter", "Rows Removed by Join Filter")
    per_loop = sum(float(node.get(key, 0)) for key in keys)
    return per_loop * max(1, int(node.get("Actual Loops", 1)))


async def _explained_list(
    client: AsyncClient, engine: AsyncEngine, headers: dict[str, str], board_id: int
) -> dict[str, Any]:
    """The plan of the card list's statement, as GET sent it, run again under EXPLAIN."""
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _m: bool) -> None:
        if statement.lstrip().startswith("SELECT card.id"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        response = await client.get(f"/api/boards/{board_id}/cards", headers=headers)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    assert len(response.json()) == CARDS
    [(statement, parameters)] = sent
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
        )
        explained = result.scalar_one()
    plan: dict[str, Any] = explained[0]["Plan"]
    return plan


async def test_a_fresh_board_lists_without_a_nested_loop_over_an_aggregate(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's planner has no statistics-driven join choice to check")
    owner = await accounts.create()
    editor = await accounts.create()
    board = await create_board(client, owner)
    await add_member(client, owner, board["id"], editor, "editor")
    await create_cards(
        client,
        owner,
        board["id"],
        *(
            {
                "title": f"Card {n}",
                "column": COLUMNS[n % len(COLUMNS)],
                "labels": [LABELS[n % len(LABELS)], LABELS[(n + 3) % len(LABELS)]],
                "assigneeIds": [editor.id] if n % 3 == 0 else [],
            }
            for n in range(CARDS)
        ),
    )

    plan = await _explained_list(client, engine, owner.headers, board["id"])

    nodes = list(_nodes(plan))
    for node in nodes:
        if node["Node Type"] == "Nested Loop":
            _outer, inner = node["Plans"]
            rerun = [n["Node Type"] for n in _nodes(inner) if n["Node Type"] == "Aggregate"]
            assert not rerun, f"a nested loop re-runs an aggregate per card: {plan}"
    handled = sum(_rows_handled(node) for node in nodes)
    assert handled <= ROWS_PER_CARD * CARDS, f"{handled:.0f} rows handled: {plan}"
