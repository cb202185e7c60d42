"""Card renumberings: where a renumbering of a column found each card it moved, so a card
list walk begun before it continues exactly

Revision ID: e1a11c0de023
Revises: e1a11c0de022
Create Date: 2026-12-07 03:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e1a11c0de023"
down_revision: str | Sequence[str] | None = "e1a11c0de022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("renumber_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "card_renumbering",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("renumbering", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["card.id"],
            name=op.f("fk_card_renumbering_card_id_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", "renumbering", name=op.f("pk_card_renumbering")),
    )
    with op.batch_alter_table("card_renumbering", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_renumbering_created_at"), ["created_at"])


def downgrade() -> None:
    op.drop_table("card_renumbering")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("renumber_count")
