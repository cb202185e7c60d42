"""Probes for load balancers and orchestrators; outside /api, never authenticated."""

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy import text

from kanban_api.routes.responses import SERVICE_UNAVAILABLE
from kanban_api.state import app_state

router = APIRouter(prefix="/health", tags=["health"])

# A readiness probe must answer before the prober gives up, whatever the database does.
READY_TIMEOUT_SECONDS = 5.0


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up and serving; the database is not consulted."""
    return {"status": "ok"}


@router.get("/ready", responses=SERVICE_UNAVAILABLE)
async def ready(request: Request) -> dict[str, str]:
    """The database answers a query; otherwise the app's fault handler answers 503."""
    engine = app_state(request).database.engine
    async with asyncio.timeout(READY_TIMEOUT_SECONDS), engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {"status": "ok"}
