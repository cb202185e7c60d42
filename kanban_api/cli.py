"""The `kanban-api` command: serve the API and manage its database."""

import asyncio
import copy
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.config import LOGGING_CONFIG

from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.errors import ConfigError
from kanban_api.events import retention
from kanban_api.migrations.runner import upgrade
from kanban_api.models import LabelColor
from kanban_api.services.demo import seed_demo_data

T = TypeVar("T")


def _load_settings() -> Settings:
    try:
        settings = Settings()
        settings.resolve_secret_key()
    except (ConfigError, ValueError) as error:
        click.echo(f"kanban-api: configuration error: {error}", err=True)
        sys.exit(2)
    return settings


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
    if settings.env == "development":
        upgrade(settings.database_url)
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
    upgrade(settings.database_url)
    click.echo("kanban-api: database is up to date", err=True)


@main.command()
@click.option("--users", default=1, show_default=True, type=click.IntRange(0, 100_000))
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
def seed(users: int, boards: int, cards: int, labels: int, password: str | None) -> None:
    """Fill the database with demo users, boards and cards, and print how to log in.

    Prints one `email password` line per user on standard output.
    """
    if password is not None and len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")
    settings = _load_settings()
    if settings.env == "development":
        upgrade(settings.database_url)
    password = password or secrets.token_urlsafe(12)
    started = time.perf_counter()
    with click.progressbar(
        length=max(1, users * boards * (1 + cards)), label="Seeding", file=sys.stderr
    ) as bar:
        created = asyncio.run(
            _in_transaction(
                settings,
                lambda session: seed_demo_data(
                    session,
                    users=users,
                    boards=boards,
                    cards=cards,
                    labels_per_card=labels,
                    password=password,
                    progress=bar.update,
                ),
            )
        )
    click.echo(
        f"kanban-api: seeded {_count(users, 'user')}, {_count(users * boards, 'board')} and "
        f"{_count(users * boards * cards, 'card')} in {time.perf_counter() - started:.1f} s; "
        "log in (POST /api/auth/tokens) as:",
        err=True,
    )
    for user in created:
        click.echo(f"{user.email} {password}")


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
    """Delete events and webhook deliveries older than KANBAN_EVENT_RETENTION_DAYS, and
    expired stream tickets.

    Every server worker also does this hourly; the command is for one-off clean-ups and cron.
    """
    settings = _load_settings()
    deleted = asyncio.run(_prune(settings))
    if settings.event_retention_days == 0:
        click.echo("kanban-api: events are kept forever (KANBAN_EVENT_RETENTION_DAYS=0)", err=True)
    else:
        click.echo(
            f"kanban-api: deleted {deleted} events older than "
            f"{settings.event_retention_days} days",
            err=True,
        )


async def _prune(settings: Settings) -> int:
    database = Database(settings)
    try:
        async with database.sessionmaker() as session:
            deleted = await retention.prune(session, retention_days=settings.event_retention_days)
            await session.commit()
            return deleted
    finally:
        await database.dispose()
