"""Alembic environment: runs migrations over the app's async engine."""

import asyncio
import warnings
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import TypeDecorator
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

from kanban_api.config import Settings, to_async_url
from kanban_api.database import create_engine
from kanban_api.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    """An explicit `sqlalchemy.url` (set by tests and the CLI) wins over the settings."""
    return config.get_main_option("sqlalchemy.url") or Settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our TypeDecorators as their plain SQL types, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction(), warnings.catch_warnings():
        # SQLite's batch mode reflects the user table and cannot read its lower(email)
        # index; the migrations that change that table drop the index or recreate it
        # themselves, so the warning would only alarm whoever starts a fresh server.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        context.run_migrations()


async def _run_online() -> None:
    # Batch mode rebuilds a SQLite table by dropping the old one; with foreign keys on,
    # that drop would cascade and empty every child table. They are checked afterwards.
    engine = create_engine(to_async_url(_database_url()), sqlite_foreign_keys=False)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        if engine.dialect.name == "sqlite":
            violations = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
            if violations:
                raise RuntimeError(f"migration left dangling references: {violations[:10]}")
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=str(to_async_url(_database_url())),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
