"""Migrations carry existing data over (sync tests: Alembic runs its own event loop)."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kanban_api.config import to_async_url
from kanban_api.database import create_engine
from kanban_api.migrations.runner import alembic_config, upgrade

INITIAL = "7637f58c86e6"
POSITIONS = "e2ef5b553a5f"

# (id, board_id, column index); ids interleave columns and boards on purpose.
CARDS = [(1, 1, 1), (2, 1, 0), (3, 1, 1), (4, 2, 1), (5, 1, 1), (6, 1, 0)]


def _run(url: str, *statements: str | tuple[str, Any]) -> list[list[Any]]:
    """Execute statements, each alone or with its parameters, in one transaction.

    Returns the rows each one returned.
    """

    async def run() -> list[list[Any]]:
        engine = create_engine(to_async_url(url))
        try:
            async with engine.begin() as connection:
                results = []
                for statement in statements:
                    sql, params = statement if isinstance(statement, tuple) else (statement, None)
                    result = await connection.execute(text(sql), params)
                    results.append(list(result) if result.returns_rows else [])
                return results
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_existing_cards_get_positions_in_id_order_and_keep_their_labels(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, INITIAL)
    now = {"now": datetime.now(UTC)}
    _run(
        url,
        (
            "INSERT INTO board VALUES (:id, 'b', '', :now, :now)",
            [{"id": 1, **now}, {"id": 2, **now}],
        ),
        (
            "INSERT INTO card VALUES (:id, :board, 'c', '', :column, :now, :now)",
            [{"id": id_, "board": b, "column": c, **now} for id_, b, c in CARDS],
        ),
        ("INSERT INTO label VALUES (1, 1, 0, 'urgent', :now, :now)", now),
        ("INSERT INTO card_label VALUES (3, 1, :now, :now)", now),
    )

    upgrade(url, POSITIONS)
    cards, boards, links = _run(
        url,
        'SELECT board_id, "column", id, position, version FROM card ORDER BY id',
        "SELECT version FROM board",
        "SELECT card_id, label_id FROM card_label",
    )
    assert {card[4] for card in cards} == {1}
    assert {board[0] for board in boards} == {1}
    assert links == [(3, 1)]
    by_position = sorted(cards, key=lambda card: (card[0], card[1], card[3]))
    by_id = sorted(cards, key=lambda card: (card[0], card[1], card[2]))
    assert by_position == by_id
    assert len({(card[0], card[1], card[3]) for card in cards}) == len(cards)

    # Two cards can no longer share a place.
    taken = cards[0][3]
    with pytest.raises(IntegrityError):
        _run(url, ("UPDATE card SET position = :taken WHERE id = 3", {"taken": taken}))

    command.downgrade(alembic_config(url), INITIAL)
    assert _run(url, "SELECT card_id, label_id FROM card_label")[0] == [(3, 1)]
