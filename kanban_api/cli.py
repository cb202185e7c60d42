"""The `kanban-api` command: serve the API and manage its database."""

import asyncio
import contextlib
import copy
import secrets
import socket
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from pydantic import ValidationError
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.config import LOGGING_CONFIG

from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.errors import ConfigError
from kanban_api.events import retention
from kanban_api.migrations.runner import upgrade
from kanban_api.models import LabelColor
from kanban_api.services.demo import create_demo_data

T = TypeVar("T")


def _load_settings() -> Settings:
    try:
        settings = Settings()
        settings.resolve_secret_key()
        # Parsed here, so that a wrong URL is reported as the others are, not as a traceback
        # from the first command that connects.
        _refuse_memory_database(settings)
    except ValidationError as error:
        _configuration_error(*_describe(error))
    except (ConfigError, ValueError) as error:
        _configuration_error(str(error))
    return settings


def _refuse_memory_database(settings: Settings) -> None:
    """ConfigError for an in-memory SQLite database: each pooled connection would open
    an empty one of its own, which no migration reaches, and all of it vanishes at exit."""
    url = settings.async_database_url
    if settings.is_sqlite and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    ):
        raise ConfigError(
            "KANBAN_DATABASE_URL names an in-memory SQLite database, which would be empty "
            "for every connection and lost at exit; name a file, such as sqlite:///kanban.db"
        )


def _describe(error: ValidationError) -> list[str]:
    """One line per bad setting, named as the operator wrote it; the value itself is not
    repeated, since it may be a secret."""
    return [
        f"KANBAN_{'_'.join(str(part) for part in item['loc']).upper()}: "
        f"{item['msg'].removeprefix('Value error, ')}"
        for item in error.errors()
    ]


def _configuration_error(*lines: str) -> None:
    click.echo("kanban-api: configuration error:", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    sys.exit(2)


def _upgrade(settings: Settings) -> None:
    """Apply pending migrations once the database answers (see `_reach_or_exit`); a
    migration's own failure still shows its traceback."""
    _reach_or_exit(settings)
    upgrade(settings.database_url)


def _reach_or_exit(settings: Settings) -> None:
    """Return once the database answers. One that does not (a PostgreSQL server down, no
    such database, refusing the user; a SQLite file that cannot be opened or created) is
    one line naming it, its password hidden, and exit status 1, rather than the driver's
    traceback."""
    try:
        if settings.is_sqlite:
            _open_sqlite(settings)
        else:
            asyncio.run(_reach(settings))
    except (OSError, DBAPIError, sqlite3.Error) as error:
        reason = error.orig if isinstance(error, DBAPIError) else error
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        click.echo(f"kanban-api: cannot reach the database at {url}: {reason}", err=True)
        sys.exit(1)


def _open_sqlite(settings: Settings) -> None:
    """Open (or create) the SQLite file with the standard library: aiosqlite, failing to
    open one, answers its own clean-up after the event loop has closed."""
    path = settings.async_database_url.database or ""  # never empty: _load_settings
    if path.startswith("file:"):  # a URI's options are aiosqlite's to read
        return
    folder = Path(path).parent
    if not folder.is_dir():
        missing = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"{folder} {missing}")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        # Reading the header: a file that is not a database fails here.
        connection.execute("PRAGMA schema_version")


async def _reach(settings: Settings) -> None:
    database = Database(settings)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await database.dispose()


def _check_port_free(host: str, port: int) -> None:
    """Fails at once, before any migration, when something already listens on the port."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As uvicorn binds: a port in TIME_WAIT is free, one with a listener is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise click.UsageError(
            f"cannot listen on {host}:{port} ({error.strerror}); is another server running? "
            "Choose another port with --port."
        ) from error


@click.group()
@click.version_option(package_name="kanban-api")
def main() -> None:
    """kanban-api: a backend for Kanban board applications."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 512))
@click.option("--reload", is_flag=True, help="Restart on code changes (development only).")
@click.option(
    "--timeout-keep-alive",
    default=5,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds an idle connection is kept open. Behind a proxy that reuses "
    "connections, set it above the proxy's own idle timeout.",
)
def serve(host: str, port: int, workers: int, reload: bool, timeout_keep_alive: int) -> None:
    """Run the HTTP server; in development, pending migrations are applied first."""
    settings = _load_settings()
    _check_port_free(host, port)
    if settings.env == "development":
        _upgrade(settings)
    click.echo(f"kanban-api: API docs at http://{host}:{port}/docs", err=True)
    uvicorn.run(
        "kanban_api.main:app",
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        # A proxy that reuses a connection the server has just closed gets an error (a
        # 502 for its client), so the server must keep idle connections the longer.
        timeout_keep_alive=timeout_keep_alive,
        # Client addresses from X-Forwarded-For, trusted only from FORWARDED_ALLOW_IPS
        # (uvicorn's setting; 127.0.0.1 unless set), so login limits count real clients.
        proxy_headers=True,
        # The app logs each request itself (JSON, no query string, which may carry tokens).
        access_log=False,
        log_config=log_config(),
    )


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the app's: the request log as bare JSON lines on stdout."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["json_line"] = {"format": "%(message)s"}
    config["handlers"]["requests"] = {
        "formatter": "json_line",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["kanban_api"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["loggers"]["kanban_api.access"] = {
        "handlers": ["requests"],
        "level": "INFO",
        "propagate": False,
    }
    return config


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = _load_settings()
    _upgrade(settings)
    click.echo("kanban-api: database is up to date", err=True)


@main.command()
@click.option("--users", default=2, show_default=True, type=click.IntRange(0, 100_000))
@click.option(
    "--boards", default=3, show_default=True, type=click.IntRange(0, 10_000), help="Per user."
)
@click.option(
    "--cards", default=50, show_default=True, type=click.IntRange(0, 1_000_000), help="Per board."
)
@click.option(
    "--labels",
    default=2,
    show_default=True,
    type=click.IntRange(0, len(LabelColor)),
    help="Labels per card.",
)
@click.option("--password", help="The demo users' password (8+ characters); random if omitted.")
@click.option(
    "--plain",
    is_flag=True,
    help="Numbered cards with labels only (no due dates, assignees, comments or second member).",
)
def demo(
    users: int, boards: int, cards: int, labels: int, password: str | None, plain: bool
) -> None:
    """Fill the database with demo users, boards and cards, and print how to log in.

    Each user's boards are shared with the next user, and their cards have named labels,
    due dates, assignees, comments and archived ones (unless --plain). Prints one
    `email password` line per user on standard output.
    """
    if password is not None and len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")
    settings = _load_settings()
    if settings.env == "development":
        _upgrade(settings)
    else:
        _reach_or_exit(settings)
    password = password or secrets.token_urlsafe(12)
    started = time.perf_counter()
    with click.progressbar(
        length=max(1, users * boards * (1 + cards)), label="Creating demo data", file=sys.stderr
    ) as bar:
        created = asyncio.run(
            _in_transaction(
                settings,
                lambda session: create_demo_data(
                    session,
                    users=users,
                    boards=boards,
                    cards=cards,
                    labels_per_card=labels,
                    password=password,
                    plain=plain,
                    progress=bar.update,
                ),
            )
        )
    click.echo(
        f"kanban-api: created {_count(users, 'user')}, {_count(users * boards, 'board')} and "
        f"{_count(users * boards * cards, 'card')} in {time.perf_counter() - started:.1f} s; "
        "log in (POST /api/auth/tokens) as:",
        err=True,
    )
    for user in created:
        click.echo(f"{user.email} {password}")


# The command's earlier name, kept working for scripts that use it.
main.add_command(demo, name="seed")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


async def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on a database of its own (outside any server)."""
    database = Database(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            return await work(session)
    finally:
        await database.dispose()


@main.command("prune-events")
def prune_events() -> None:
    """Delete events and webhook deliveries older than KANBAN_EVENT_RETENTION_DAYS, expired
    stream tickets, and boards and cards in the trash for longer than
    KANBAN_TRASH_RETENTION_DAYS.

    Every server worker also does this hourly; the command is for one-off clean-ups and cron.
    """
    settings = _load_settings()
    _reach_or_exit(settings)
    pruned = asyncio.run(_prune(settings))
    if settings.event_retention_days == 0:
        click.echo("kanban-api: events are kept forever (KANBAN_EVENT_RETENTION_DAYS=0)", err=True)
    else:
        click.echo(
            f"kanban-api: deleted {pruned.events} events older than "
            f"{settings.event_retention_days} days",
            err=True,
        )
    click.echo(
        f"kanban-api: purged {pruned.trash} boards and cards in the trash for more than "
        f"{settings.trash_retention_days} days",
        err=True,
    )


async def _prune(settings: Settings) -> retention.Pruned:
    database = Database(settings)
    try:
        async with database.sessionmaker() as session:
            pruned = await retention.prune(
                session,
                retention_days=settings.event_retention_days,
                trash_retention_days=settings.trash_retention_days,
            )
            await session.commit()
            return pruned
    finally:
        await database.dispose()
