"""The ASGI application: routers, error answers and the optional static web client."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from kanban_api import __version__
from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.errors import ApiError
from kanban_api.live.hub import EventHub
from kanban_api.live.retention import prune_periodically
from kanban_api.routes import auth, boards, cards, comments, events, members, users

# Paths the static web client may never answer, even when it has a file of that name.
RESERVED_PREFIXES = ("/api", "/docs", "/redoc", "/openapi.json", "/health")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    database = Database(settings)
    hub = EventHub(settings, database.sessionmaker)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pruning = asyncio.create_task(
            prune_periodically(database.sessionmaker, retention_days=settings.event_retention_days)
        )
        yield
        pruning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruning
        await hub.close()
        await database.dispose()

    app = FastAPI(
        title="kanban-api",
        version=__version__,
        description="Boards, cards, labels and sharing for Kanban applications.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.events = hub
    app.state.secret_key = settings.resolve_secret_key()

    api = APIRouter(prefix="/api")
    for module in (auth, users, boards, members, cards, comments, events):
        api.include_router(module.router)
    app.include_router(api)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.content(), error.status_code, headers=error.headers)

    if settings.cors_origins:
        # Bearer tokens travel in a header, not cookies, so credentials are never allowed.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["*"],
            allow_headers=["*"],
            # Browsers hide response headers from scripts unless listed: clients need the
            # ETag to send If-Match, and the Link header to fetch the next page of cards.
            expose_headers=["ETag", "Link"],
        )

    if settings.static_dir is not None:
        app.mount("/", _ReservedPathGuard(StaticFiles(directory=settings.static_dir, html=True)))
    return app


class _ReservedPathGuard:
    """Answers API-looking paths with the API's JSON 404 instead of a static file."""

    def __init__(self, static: StaticFiles) -> None:
        self.static = static

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["type"] == "http" and any(
            path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES
        ):
            response = JSONResponse({"detail": "Not Found"}, status_code=404)
            await response(scope, receive, send)
            return
        await self.static(scope, receive, send)
