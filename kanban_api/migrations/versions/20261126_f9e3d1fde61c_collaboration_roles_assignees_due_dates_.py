"""Collaboration: member roles, card assignees, due dates, archive and comments

Revision ID: f9e3d1fde61c
Revises: e2ef5b553a5f
Create Date: 2026-11-26 15:28:54.044483

On SQLite, batch mode rebuilds a table by copying it and dropping the original;
with foreign keys on, dropping `card` would cascade-delete its `card_label` rows.
So `card` only gets columns SQLite can add in place, and `user_board` is rebuilt
before `card_assignee` (the first table to reference it) exists.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f9e3d1fde61c"
down_revision: str | Sequence[str] | None = "e2ef5b553a5f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER = "0"  # Role.OWNER's position in the enum, as OrdinalEnum stores it


def upgrade() -> None:
    """Upgrade schema."""
    # Everyone was an owner before roles existed; the default backfills that, then goes.
    with op.batch_alter_table("user_board", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.SmallInteger(), nullable=False, server_default=OWNER)
        )
    with op.batch_alter_table("user_board", schema=None) as batch_op:
        batch_op.alter_column("role", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_user_board_role_known"), sa.text("role BETWEEN 0 AND 2")
        )

    op.add_column("card", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "card", sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index("ix_card_board_id_due_at", "card", ["board_id", "due_at"], unique=False)

    op.create_table(
        "card_assignee",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card.id"], name=op.f("fk_card_assignee_card_id_card"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "board_id"],
            ["user_board.user_id", "user_board.board_id"],
            name=op.f("fk_card_assignee_user_id_user_board"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", "user_id", name=op.f("pk_card_assignee")),
    )
    op.create_index(
        "ix_card_assignee_user_id_board_id", "card_assignee", ["user_id", "board_id"], unique=False
    )

    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_comment_author_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card.id"], name=op.f("fk_comment_card_id_card"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    op.create_index(op.f("ix_comment_author_id"), "comment", ["author_id"], unique=False)
    op.create_index("ix_comment_card_id_id", "comment", ["card_id", "id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_comment_card_id_id", table_name="comment")
    op.drop_index(op.f("ix_comment_author_id"), table_name="comment")
    op.drop_table("comment")

    op.drop_index("ix_card_assignee_user_id_board_id", table_name="card_assignee")
    op.drop_table("card_assignee")

    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch rebuild: see the module doc.
    op.drop_index("ix_card_board_id_due_at", table_name="card")
    op.drop_column("card", "archived")
    op.drop_column("card", "due_at")

    with op.batch_alter_table("user_board", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_board_role_known"), type_="check")
        batch_op.drop_column("role")
