"""Probes for load balancers and orchestrators, and the root's pointer to the docs; outside
/api, never authenticated."""

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy import text

from kanban_api import __version__
from kanban_api.database import Database
from kanban_api.routes.responses import SERVICE_UNAVAILABLE

router = APIRouter(prefix="/health", tags=["health"])
home = APIRouter(tags=["health"])

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
    """The database answers a query; otherwise the app's fault handler answers 503."""
    database: Database = request.app.state.database
    async with asyncio.timeout(READY_TIMEOUT_SECONDS), database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {"status": "ok"}
