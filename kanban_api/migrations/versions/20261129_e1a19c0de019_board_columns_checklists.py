"""Everyday board features: named columns with WIP limits, checklists

Revision ID: e1a19c0de019
Revises: e1a17c0de017
Create Date: 2026-11-29 19:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e1a19c0de019"
down_revision: str | Sequence[str] | None = "e1a17c0de017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(sa.Column("column_settings", sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checklist_done", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("checklist_total", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(text) BETWEEN 1 AND 500", name=op.f("ck_checklist_item_text_length")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["card.id"],
            name=op.f("fk_checklist_item_card_id_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_item")),
    )
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.create_index("ix_checklist_item_card_id_position", ["card_id", "position"])


def downgrade() -> None:
    op.drop_table("checklist_item")
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_column("checklist_total")
        batch_op.drop_column("checklist_done")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("column_settings")
