"""Applying migrations from code, for `kanban-api migrate`, `serve` and the tests.

Alembic is imported by the functions that migrate, not by this module: a worker only
needs the revision ids (`schema_behind`, for `/health/ready`), which are read from the
scripts' `revision` and `down_revision` assignments without running them, and Alembic
with the templating and dialect modules it loads would stay in every worker's memory.
"""

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent
VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def alembic_config(database_url: str) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


_IDS = frozenset({"revision", "down_revision"})


def _revision_ids(script: Path) -> tuple[str, tuple[str, ...]]:
    """A script's `revision` and its `down_revision`s (none for the first, several for
    a merge), from its module-level assignments as Alembic's template writes them."""
    found: dict[str, object] = {}
    for statement in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(statement, ast.AnnAssign | ast.Assign) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in _IDS:
                    found[target.id] = ast.literal_eval(statement.value)
    revision, down = found["revision"], found.get("down_revision")
    parents = [] if down is None else [down] if isinstance(down, str) else down
    assert isinstance(revision, str), f"{script.name}: revision is not a string"
    assert isinstance(parents, list | tuple), f"{script.name}: down_revision is not ids"
    return revision, tuple(map(str, parents))


@functools.cache
def _known_revisions() -> tuple[str, frozenset[str]]:
    """This code's newest revision, and every revision it has, read once from its scripts."""
    parents = dict(_revision_ids(script) for script in VERSIONS_DIR.glob("*.py"))
    superseded = {parent for ids in parents.values() for parent in ids}
    [head] = set(parents) - superseded
    return head, frozenset(parents)


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
