"""Migrations keep existing data, on SQLite too, where altering a table means rebuilding it."""

import sqlite3
from pathlib import Path

from kanban_api.migrations.runner import downgrade, upgrade

INITIAL = "7637f58c86e6"
NOW = "2026-01-01 00:00:00"


TABLES = ("user", "board", "user_board", "label", "card", "card_label")
SEED = """
INSERT INTO user VALUES (1, 'a@example.com', 'x', 0, :now, :now);
INSERT INTO board VALUES (1, 'Board', '', :now, :now);
INSERT INTO user_board VALUES (1, 1, :now, :now);
INSERT INTO label VALUES (1, 1, 0, '', :now, :now);
INSERT INTO card VALUES (1, 1, 'Card', '', 0, :now, :now);
INSERT INTO card_label VALUES (1, 1, :now, :now);
"""


def test_rebuilding_tables_keeps_the_rows_that_reference_them(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    url = f"sqlite:///{path}"
    upgrade(url, INITIAL)
    with sqlite3.connect(path) as connection:
        for statement in filter(str.strip, SEED.split(";")):
            connection.execute(statement, {"now": NOW})
    upgrade(url)
    downgrade(url, INITIAL)
    upgrade(url)
    with sqlite3.connect(path) as connection:
        for table in TABLES:
            query = "SELECT count(*) FROM " + table  # noqa: S608 (a constant)
            assert connection.execute(query).fetchone() == (1,), table
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "uq_user_email_lower" in indexes
