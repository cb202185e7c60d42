"""Failed-login counters, and the schemas' length limits as CHECK constraints

Revision ID: c5f0694bf70b
Revises: d084a05dea1c
Create Date: 2026-11-26 15:31:27.520489

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c5f0694bf70b"
down_revision: str | Sequence[str] | None = "d084a05dea1c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Constraint name -> condition, per table. PostgreSQL's VARCHAR caps some lengths already;
# SQLite's does not, and neither caps TEXT.
CHECKS = {
    "board": {
        "ck_board_title_length": "length(title) BETWEEN 1 AND 200",
        "ck_board_description_length": "length(description) <= 20000",
    },
    "card": {
        "ck_card_title_length": "length(title) BETWEEN 1 AND 200",
        "ck_card_description_length": "length(description) <= 20000",
    },
    "label": {"ck_label_name_length": "length(name) <= 200"},
    "comment": {"ck_comment_body_length": "length(body) BETWEEN 1 AND 10000"},
    "user": {"ck_user_email_length": "length(email) <= 254"},
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_window_start"), ["window_start"], unique=False
        )

    # SQLite adds a constraint by rebuilding the table, which cannot carry an expression index.
    if _sqlite():
        op.drop_index("uq_user_email_lower", table_name="user")
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks.items():
                batch_op.create_check_constraint(op.f(name), condition)
    if _sqlite():
        op.create_index("uq_user_email_lower", "user", [sa.text("lower(email)")], unique=True)


def downgrade() -> None:
    if _sqlite():
        op.drop_index("uq_user_email_lower", table_name="user")
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in checks:
                batch_op.drop_constraint(op.f(name), type_="check")
    if _sqlite():
        op.create_index("uq_user_email_lower", "user", [sa.text("lower(email)")], unique=True)

    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_window_start"))
    op.drop_table("login_throttle")
