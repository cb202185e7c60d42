"""Initial schema: the seed's users, boards, labels, cards and their links

Revision ID: 7637f58c86e6
Revises:
Create Date: 2026-11-26 15:18:29.680250

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7637f58c86e6"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "board",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("hashed_password", sa.String(length=255), nullable=False),
        sa.Column("credentials_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
    )
    # Autogenerate cannot compare expression indexes; this one is kept by hand.
    op.create_index("uq_user_email_lower", "user", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("column", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('"column" BETWEEN 0 AND 3', name=op.f("ck_card_column_known")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_card_board_id_board"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card")),
    )
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index("ix_card_board_id_column", ["board_id", "column"], unique=False)

    op.create_table(
        "label",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("color", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("color BETWEEN 0 AND 6", name=op.f("ck_label_color_known")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_label_board_id_board"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label")),
        sa.UniqueConstraint("board_id", "color", name=op.f("uq_label_board_id_color")),
    )
    op.create_table(
        "user_board",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
            name=op.f("fk_user_board_board_id_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_board_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "board_id", name=op.f("pk_user_board")),
    )
    with op.batch_alter_table("user_board", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_board_board_id"), ["board_id"], unique=False)

    op.create_table(
        "card_label",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card.id"], name=op.f("fk_card_label_card_id_card"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["label.id"],
            name=op.f("fk_card_label_label_id_label"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", "label_id", name=op.f("pk_card_label")),
    )
    with op.batch_alter_table("card_label", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_label_label_id"), ["label_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("card_label", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_label_label_id"))

    op.drop_table("card_label")
    with op.batch_alter_table("user_board", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_board_board_id"))

    op.drop_table("user_board")
    op.drop_table("label")
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index("ix_card_board_id_column")

    op.drop_table("card")
    op.drop_index("uq_user_email_lower", table_name="user")
    op.drop_table("user")
    op.drop_table("board")
