"""Developer tasks. `nox -l` lists them; dependencies come pinned from poetry.lock's exports."""

import shutil

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_venv = "yes"
# virtualenv brings its own pip, so sessions install where Python's venv lacks one (Debian's
# python3 without python3-venv).
nox.options.default_venv_backend = "virtualenv"

SOURCES = ["kanban_api", "tests", "bench", "scripts", "noxfile.py"]


def install(session: nox.Session, requirements: str) -> None:
    """Install the locked dependencies, then the project itself without re-resolving them.

    pip's own output is shown, so a first install's progress is visible; later runs reuse
    the environment and print one line per requirement already satisfied.
    """
    session.install("-r", f"requirements/{requirements}.txt", silent=False)
    session.install("--no-deps", "-e", ".", silent=False)


@nox.session
def serve(session: nox.Session) -> None:
    """Run the API on the default SQLite database: docs at http://127.0.0.1:8000/docs."""
    install(session, "main")
    session.run("kanban-api", "serve", *session.posargs)


@nox.session(name="kanban-api")
def kanban_api(session: nox.Session) -> None:
    """Any `kanban-api` command: `./run kanban-api demo`, `nox -s kanban-api -- --help`."""
    install(session, "main")
    session.run("kanban-api", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on SQLite and PostgreSQL (left out, loudly, when it cannot be used)."""
    install(session, "dev")
    session.run("pytest", *session.posargs)


@nox.session(venv_backend="none")
def container(session: nox.Session) -> None:
    """Build the image and drive compose.yaml's stack (KANBAN_CONTAINER_CHECK=1 or CI; root)."""
    session.run("bash", "scripts/container-check/run.sh", external=True)


@nox.session
def lint(session: nox.Session) -> None:
    install(session, "dev")
    session.run("ruff", "check", *SOURCES)
    session.run("black", "--check", *SOURCES)


@nox.session
def typecheck(session: nox.Session) -> None:
    install(session, "dev")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark kanban-api against a bare baseline on PostgreSQL (needs wrk); see
    docs/performance.md. Options pass through: `nox -s bench -- --help`."""
    if shutil.which("wrk") is None:
        session.error(
            "wrk, the load generator, is not installed: `sudo apt-get install wrk` "
            "(Debian/Ubuntu) or `brew install wrk` (macOS), then run the bench again"
        )
    install(session, "bench")
    session.run("python", "-m", "bench.run", *session.posargs)


@nox.session(name="format")
def format_(session: nox.Session) -> None:
    install(session, "dev")
    session.run("ruff", "check", "--fix", *SOURCES)
    session.run("black", *SOURCES)


@nox.session
def lock(session: nox.Session) -> None:
    """Re-resolve poetry.lock and re-export the pinned requirement files nox installs from."""
    session.install("poetry>=2", "poetry-plugin-export")
    session.run("poetry", "lock")
    session.run("poetry", "export", "--extras", "dev", "-o", "requirements/dev.txt")
    session.run("poetry", "export", "-o", "requirements/main.txt")
    # The bench measures servers as deployed: production dependencies plus its own.
    session.run("poetry", "export", "--extras", "bench", "-o", "requirements/bench.txt")
