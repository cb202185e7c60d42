"""One normalized email key per account: user.email_key replaces the lower(email) index

Accounts are found and kept unique by `email_key` (kanban_api/utils/emails.py),
computed in Python so that SQLite and PostgreSQL in any locale agree. Existing
rows get their key here; if two accounts share one under the new rule, nothing
is merged: the migration stops and names them, for an operator to resolve.

Revision ID: e1a11c0de011
Revises: c2054fe2d7c4
Create Date: 2026-11-29 18:40:00.000000

"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e1a11c0de011"
down_revision: str | Sequence[str] | None = "c2054fe2d7c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMAIL_MAX = 254

_user = sa.table("user", sa.column("id", sa.Integer), sa.column("email"), sa.column("email_key"))


class EmailCollisionError(RuntimeError):
    """Two or more accounts whose emails are one address under the new rule."""


def email_key(email: str) -> str:
    """kanban_api.utils.emails.email_key as of this revision (a migration keeps its rule)."""
    normalized = unicodedata.normalize("NFKC", email.strip())
    return unicodedata.normalize("NFKC", normalized.casefold())


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_user.c.id, _user.c.email))
    keys = {row.id: email_key(row.email) for row in rows}
    # Before any change to the schema, which SQLite might not roll back.
    _refuse_collisions(keys)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(length=EMAIL_MAX), nullable=True))
    if keys:
        connection.execute(
            _user.update().where(_user.c.id == sa.bindparam("user_id")),
            [{"user_id": user_id, "email_key": key} for user_id, key in keys.items()],
        )
    # SQLite rebuilds the table for these, which cannot carry an expression index.
    op.drop_index("uq_user_email_lower", table_name="user")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("email_key", existing_type=sa.String(EMAIL_MAX), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_user_email_key"), ["email_key"])
        batch_op.create_check_constraint(
            batch_op.f("ck_user_email_key_length"), f"length(email_key) <= {EMAIL_MAX}"
        )


def _refuse_collisions(keys: dict[int, str]) -> None:
    """Stop, naming the accounts by id, if any key is shared or too long."""
    owners: defaultdict[str, list[int]] = defaultdict(list)
    for user_id, key in keys.items():
        owners[key].append(user_id)
    shared = [sorted(ids) for ids in owners.values() if len(ids) > 1]
    too_long = sorted(user_id for user_id, key in keys.items() if len(key) > EMAIL_MAX)
    problems = [f"accounts {ids} have the same email under the new rule" for ids in sorted(shared)]
    if too_long:
        problems.append(f"accounts {too_long} have emails over {EMAIL_MAX} characters normalized")
    if problems:
        raise EmailCollisionError(
            "Cannot give every account its own normalized email key: "
            + "; ".join(problems)
            + ". Nothing was merged or changed. Change or delete all but one account of each"
            " group (for example by changing its email), then run the migration again."
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_email_key_length"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_user_email_key"), type_="unique")
        batch_op.drop_column("email_key")
    op.create_index("uq_user_email_lower", "user", [sa.text("lower(email)")], unique=True)
