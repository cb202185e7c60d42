"""`./run`, the Quick start's entry point: which nox sessions and options it passes on."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Stands in for nox: answers --version (so ./run does not install it) and prints its arguments.
FAKE_NOX = '#!/bin/sh\n[ "$1" = --version ] && exit 0\necho "nox $*"\n'


@pytest.fixture
def run_script(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "run", tmp_path / "run")
    nox = tmp_path / ".nox" / "_nox" / "bin" / "nox"
    nox.parent.mkdir(parents=True)
    nox.write_text(FAKE_NOX)
    nox.chmod(0o755)
    return tmp_path / "run"


@pytest.mark.parametrize(
    ("arguments", "passed_on"),
    [
        (["serve"], "nox -s serve --"),
        (["serve", "--", "--port", "9000"], "nox -s serve -- --port 9000"),
        (["serve", "--port", "9000"], "nox -s serve -- --port 9000"),
        (["tests", "-x", "-q"], "nox -s container tests -- -x -q"),
        (["lint", "typecheck"], "nox -s lint typecheck --"),
        (["kanban-api", "demo", "--users", "3"], "nox -s kanban-api -- demo --users 3"),
    ],
)
def test_options_reach_the_task_with_or_without_a_double_dash(
    run_script: Path, arguments: list[str], passed_on: str
) -> None:
    sh = shutil.which("sh")
    assert sh is not None
    done = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sh, str(run_script), *arguments], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == passed_on
