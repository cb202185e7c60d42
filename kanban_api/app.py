"""The ASGI application: routers, middleware, error answers and the optional static client."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.types import Receive, Scope, Send

from kanban_api import __version__
from kanban_api.config import Settings
from kanban_api.database import Database, is_concurrent_conflict, is_unavailable
from kanban_api.errors import ApiError
from kanban_api.live.hub import EventHub
from kanban_api.live.retention import prune_periodically
from kanban_api.middleware import (
    BodySizeLimitMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
)
from kanban_api.routes import auth, boards, cards, comments, events, health, members, users
from kanban_api.routes.responses import BODY_TOO_LARGE, SERVICE_UNAVAILABLE, UNPARSABLE_BODY
from kanban_api.utils.token import TokenVerifier
from kanban_api.validation import public_errors, reject_unknown_query_parameters

logger = logging.getLogger(__name__)

CONCURRENT_CHANGE = "The request collided with a simultaneous change; send it again"

# Swagger UI's and ReDoc's scripts, served from the fastapi-offline package: no CDN needed.
DOCS_ASSETS_URL = "/docs-assets"
# Paths the static web client may never answer, even when it has a file of that name.
RESERVED_PREFIXES = ("/api", "/docs", "/redoc", "/openapi.json", "/health", DOCS_ASSETS_URL)


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

    app = FastAPIOffline(
        static_url=DOCS_ASSETS_URL,
        title="kanban-api",
        version=__version__,
        description="Boards, cards, labels and sharing for Kanban applications.",
        openapi_tags=[
            {"name": tag}
            for tag in (
                "auth",
                "users",
                "boards",
                "members",
                "cards",
                "comments",
                "events",
                "health",
            )
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.events = hub
    app.state.secret_key = settings.resolve_secret_key()
    app.state.tokens = TokenVerifier(app.state.secret_key)

    # FastAPI tries routes in the order they were included, twice per request: the
    # busiest first (a card read went from 69 to 15 µs of routing). Docs keep their
    # order through `openapi_tags`.
    strict_query = [Depends(reject_unknown_query_parameters)]
    for module in (cards, boards, comments, members, events, users, auth):
        app.include_router(
            module.router,
            prefix="/api",
            responses={**UNPARSABLE_BODY, **BODY_TOO_LARGE, **SERVICE_UNAVAILABLE},
            dependencies=strict_query,
        )
    app.include_router(health.router, dependencies=strict_query)
    if settings.static_dir is None:
        # With a static client, `/` is its index page instead.
        app.include_router(health.home, dependencies=strict_query)
    _add_error_handlers(app)

    # Added innermost first: the request log sees every answer, including 413s and preflights.
    app.add_middleware(BodySizeLimitMiddleware)
    if settings.cors_origins:
        # Bearer tokens travel in a header, not cookies, so credentials are never allowed;
        # that also makes a `*` origin safe to configure.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["*"],
            allow_headers=["*"],
            # Browsers hide response headers from scripts unless listed: clients need the
            # ETag to send If-Match, the Link header to fetch the next page of cards, and
            # Retry-After to wait out a login limit.
            expose_headers=["ETag", "Link", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestLogMiddleware)
    # Outermost, so that every answer gets the headers, the request log's 500s included.
    app.add_middleware(SecurityHeadersMiddleware)

    if settings.static_dir is not None:
        app.mount("/", _ReservedPathGuard(StaticFiles(directory=settings.static_dir, html=True)))
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.content(), error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        """FastAPI's 422 shape, in the request's terms (see validation.py)."""
        return JSONResponse({"detail": public_errors(error.errors())}, 422)

    async def _database_error(request: Request, error: Exception) -> JSONResponse:
        """409 for a lost race, 503 while the database is unreachable; else a 500 (a bug)."""
        if is_concurrent_conflict(error):
            return JSONResponse({"detail": CONCURRENT_CHANGE}, 409)
        if not is_unavailable(error):
            raise error
        # The class and driver message only: SQLAlchemy's own text may quote statement values.
        cause = error.orig if isinstance(error, exc.DBAPIError) else error
        logger.warning(
            "database unavailable (request %s): %s: %s",
            getattr(request.state, "request_id", "-"),
            type(cause).__name__,
            cause,
        )
        return JSONResponse({"detail": "Service unavailable: the database cannot be reached"}, 503)

    for error_class in (exc.DBAPIError, exc.TimeoutError, OSError, StaleDataError):
        app.add_exception_handler(error_class, _database_error)


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
