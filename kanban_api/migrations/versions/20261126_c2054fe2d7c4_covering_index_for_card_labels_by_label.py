"""Covering index for card labels by label: (label_id, card_id) replaces (label_id)

The card list aggregates label colours per card from a board's labels; with
card_id in the index, PostgreSQL answers that from the index alone.

Revision ID: c2054fe2d7c4
Revises: c5f0694bf70b
Create Date: 2026-11-26 16:02:48.523394

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c2054fe2d7c4"
down_revision: str | Sequence[str] | None = "c5f0694bf70b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("card_label", schema=None) as batch_op:
        batch_op.create_index("ix_card_label_label_id_card_id", ["label_id", "card_id"])
        batch_op.drop_index(batch_op.f("ix_card_label_label_id"))


def downgrade() -> None:
    with op.batch_alter_table("card_label", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_label_label_id"), ["label_id"])
        batch_op.drop_index("ix_card_label_label_id_card_id")
