"""User contacts: whom a user found by exact email, so sharing by id cannot harvest accounts

Revision ID: e1a12c0de012
Revises: e1a11c0de011
Create Date: 2026-11-29 18:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e1a12c0de012"
down_revision: str | Sequence[str] | None = "e1a11c0de011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_contact",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["user.id"],
            name=op.f("fk_user_contact_contact_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_contact_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "contact_id", name=op.f("pk_user_contact")),
    )
    with op.batch_alter_table("user_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_contact_contact_id"), ["contact_id"])


def downgrade() -> None:
    with op.batch_alter_table("user_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_contact_contact_id"))
    op.drop_table("user_contact")
