"""The trash: boards and cards are marked deleted, restorable until purged

Revision ID: e1a20c0de020
Revises: e1a19c0de019
Create Date: 2026-11-29 21:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e1a20c0de020"
down_revision: str | Sequence[str] | None = "e1a19c0de019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRASHED = sa.text("deleted_at IS NOT NULL")
_DELETER = sa.text("deleted_by IS NOT NULL")
_IN_PLAY = sa.text("deleted_at IS NULL")


def _partial(where: sa.TextClause) -> dict[str, sa.TextClause]:
    return {"postgresql_where": where, "sqlite_where": where}


def upgrade() -> None:
    for table in ("board", "card"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column("deleted_by", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_deleted_by_user"),
                "user",
                ["deleted_by"],
                ["id"],
                ondelete="SET NULL",
            )
            batch_op.create_index(f"ix_{table}_deleted_by", ["deleted_by"], **_partial(_DELETER))
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.create_index("ix_board_deleted_at", ["deleted_at"], **_partial(_TRASHED))
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index(
            "ix_card_board_id_deleted_at", ["board_id", "deleted_at"], **_partial(_TRASHED)
        )
        # A trashed card holds no place: the position index covers the cards in play only.
        batch_op.drop_index("uq_card_board_id_column_position")
        batch_op.create_index(
            "uq_card_board_id_column_position",
            ["board_id", "column", "position"],
            unique=True,
            **_partial(_IN_PLAY),
        )


def downgrade() -> None:
    # Trashed rows cannot be represented before this revision: they are deleted for good.
    op.execute(sa.text("DELETE FROM card WHERE deleted_at IS NOT NULL"))
    op.execute(sa.text("DELETE FROM board WHERE deleted_at IS NOT NULL"))
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index("uq_card_board_id_column_position")
        batch_op.create_index(
            "uq_card_board_id_column_position", ["board_id", "column", "position"], unique=True
        )
        batch_op.drop_index("ix_card_board_id_deleted_at")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_index("ix_board_deleted_at")
    for table in ("card", "board"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_deleted_by")
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_deleted_by_user"), type_="foreignkey")
            batch_op.drop_column("deleted_by")
            batch_op.drop_column("deleted_at")
