"""Probes for load balancers and orchestrators, and the root's pointer to the docs; outside
/api, never authenticated."""

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy import text

from kanban_api import __version__
from kanban_api.db_faults import RETRY_DOWN_SECONDS
from kanban_api.errors import SchemaNotReadyError
from kanban_api.migrations.runner import schema_behind
from kanban_api.routes.responses import SERVICE_UNAVAILABLE
from kanban_api.state import app_state
from kanban_api.validation import StrictQueryRoute

router = APIRouter(route_class=StrictQueryRoute, prefix="/health", tags=["health"])
home = APIRouter(route_class=StrictQueryRoute, tags=["health"])

# A readiness probe must answer before the prober gives up, whatever the database does.
READY_TIMEOUT_SECONDS = 5.0


@home.get("/")
async def root() -> dict[str, str]:
    """What answers here, and where to read on: `{name, version, docs, openapi, health}`."""
    return {
        "name": "kanban-api",
        "version": __version__,
        "docs": "/docs",
        "openapi": "/openapi.json",
        "health": "/health/ready",
    }


@router.get("")
async def health() -> dict[str, str]:
    """Same as `/health/live`: the process is up; `/health/ready` also asks the database."""
    return {"status": "ok"}


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up and serving; the database is not consulted."""
    return {"status": "ok"}


@router.get("/ready", responses=SERVICE_UNAVAILABLE)
async def ready(request: Request) -> dict[str, str]:
    """The database answers and its schema is the one this code needs; else 503.

    A schema migrated past this code's newest revision (a rollout under way, the new
    code already migrated) counts as ready: migrations only ever add what old code
    can ignore. A missing or older schema does not: every request would fail.
    """
    engine = app_state(request).database.engine
    async with asyncio.timeout(READY_TIMEOUT_SECONDS), engine.connect() as connection:
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    if problem := schema_behind(revision):
        raise SchemaNotReadyError(f"Service unavailable: {problem}", retry_after=RETRY_DOWN_SECONDS)
    return {"status": "ok"}
