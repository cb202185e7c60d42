"""What a serving worker knows of the migrations, without Alembic in its memory."""

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from kanban_api.migrations.runner import MIGRATIONS_DIR, head_revision, schema_behind


def test_the_revisions_read_from_the_scripts_are_alembics() -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    [first] = scripts.get_bases()

    assert head_revision() == scripts.get_current_head()
    behind = {script.revision for script in scripts.walk_revisions()} - {head_revision()}
    assert behind
    assert all(schema_behind(revision) for revision in behind)
    assert schema_behind(head_revision()) is None
    assert schema_behind(first) == (
        f"the database schema is at revision {first}, this code needs {head_revision()}; "
        "run `kanban-api migrate`"
    )
    assert schema_behind("f00dbabe0000") is None  # a newer release's revision


def test_a_serving_worker_does_not_load_alembic(tmp_path: Path) -> None:
    probe = "import sys, kanban_api.main; print(sorted({'alembic', 'mako'} & set(sys.modules)))"
    done = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "[]"
