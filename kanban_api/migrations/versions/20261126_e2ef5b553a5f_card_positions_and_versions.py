"""Card positions within their column, and versions of cards and boards

Revision ID: e2ef5b553a5f
Revises: 7637f58c86e6
Create Date: 2026-11-26 15:28:26.000000

Existing cards keep the order they were listed in (by id within their column) and
every row starts at version 1.

Written to never rebuild a table on SQLite: batch mode would copy `card` and drop
the original, and with foreign keys enforced that drop cascades to `card_label`,
silently removing every card's labels. So this uses only what SQLite can ALTER in
place (add a column, create or drop an index). SQLite cannot add a NOT NULL column
without a default, so `card.position` keeps a database default of 0 there; the
application always sets a position. PostgreSQL drops that default again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e2ef5b553a5f"
down_revision: str | Sequence[str] | None = "7637f58c86e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in kanban_api/services/ordering.py (migrations never import application code).
FIRST_POSITION = 2**52
GAP = 2**20


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("board", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column("card", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "card", sa.Column("position", sa.BigInteger(), server_default="0", nullable=False)
    )

    card = sa.table(
        "card", sa.column("id"), sa.column("board_id"), sa.column("column"), sa.column("position")
    )
    earlier = card.alias("earlier")
    rank = (
        sa.select(sa.func.count())
        .where(
            earlier.c.board_id == card.c.board_id,
            earlier.c.column == card.c.column,
            earlier.c.id < card.c.id,
        )
        .scalar_subquery()
    )
    op.execute(
        card.update().values(
            position=sa.literal(FIRST_POSITION, sa.BigInteger())
            + sa.literal(GAP, sa.BigInteger()) * rank
        )
    )
    if op.get_context().dialect.name != "sqlite":
        op.alter_column("card", "position", server_default=None)

    op.drop_index("ix_card_board_id_column", table_name="card")
    op.create_index(
        "uq_card_board_id_column_position",
        "card",
        ["board_id", "column", "position"],
        unique=True,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("uq_card_board_id_column_position", table_name="card")
    op.create_index("ix_card_board_id_column", "card", ["board_id", "column"], unique=False)
    op.drop_column("card", "position")
    op.drop_column("card", "version")
    op.drop_column("board", "version")
