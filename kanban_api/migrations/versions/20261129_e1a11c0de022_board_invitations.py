"""Board invitations: a membership shared with a stranger waits for its user to accept it

Revision ID: e1a11c0de022
Revises: e1a20c0de020
Create Date: 2026-11-29 20:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e1a11c0de022"
down_revision: str | Sequence[str] | None = "e1a20c0de020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_board", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
    # Every existing membership was made by a direct share: its user joined when it was made.
    op.execute("UPDATE user_board SET accepted_at = created_at")


def downgrade() -> None:
    # Pending invitations have no place in the older schema, where every row is a member.
    op.execute("DELETE FROM user_board WHERE accepted_at IS NULL")
    with op.batch_alter_table("user_board", schema=None) as batch_op:
        batch_op.drop_column("accepted_at")
