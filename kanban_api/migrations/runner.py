"""Applying migrations from code, for `kanban-api migrate`, `serve` and the tests."""

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


@functools.cache
def _known_revisions() -> tuple[str, tuple[str, ...]]:
    """This code's newest revision, and every revision it has, read once from its scripts."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    head = scripts.get_current_head()
    assert head is not None, "the migrations have one head"
    return head, tuple(script.revision for script in scripts.walk_revisions())


def head_revision() -> str:
    """The newest revision of this code's migrations."""
    return _known_revisions()[0]


def schema_behind(revision: str | None) -> str | None:
    """Why a database at `revision` cannot serve this code, or None if it can.

    A revision this code does not know is taken as a newer one (migrations add only
    what older code can ignore), so a rollout's old workers stay ready.
    """
    head, known = _known_revisions()
    if revision == head or (revision is not None and revision not in known):
        return None
    return (
        f"the database schema is at revision {revision or 'none'}, this code needs {head}; "
        "run `kanban-api migrate`"
    )
