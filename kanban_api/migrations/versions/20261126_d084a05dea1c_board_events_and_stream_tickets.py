"""Board events (the change feed) and single-use stream tickets

Revision ID: d084a05dea1c
Revises: f9e3d1fde61c
Create Date: 2026-11-26 15:36:34.291852

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d084a05dea1c"
down_revision: str | Sequence[str] | None = "f9e3d1fde61c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("event_seq", sa.Integer(), server_default="0", nullable=False)
        )

    op.create_table(
        "board_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
            name=op.f("fk_board_event_actor_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
            name=op.f("fk_board_event_board_id_board"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_event")),
        sa.UniqueConstraint("board_id", "seq", name=op.f("uq_board_event_board_id_seq")),
    )
    with op.batch_alter_table("board_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_board_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_board_event_at"), ["at"], unique=False)

    op.create_table(
        "event_ticket",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("credentials_version", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
            name=op.f("fk_event_ticket_board_id_board"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_event_ticket_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_event_ticket")),
    )
    with op.batch_alter_table("event_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_ticket_board_id"), ["board_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_ticket_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_ticket_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("event_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_ticket_user_id"))
        batch_op.drop_index(batch_op.f("ix_event_ticket_expires_at"))
        batch_op.drop_index(batch_op.f("ix_event_ticket_board_id"))

    op.drop_table("event_ticket")
    with op.batch_alter_table("board_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_board_event_at"))
        batch_op.drop_index(batch_op.f("ix_board_event_actor_id"))

    op.drop_table("board_event")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("event_seq")
