"""The ASGI application: routers, middleware, error answers and the optional static client."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.types import Receive, Scope, Send

from kanban_api import __version__
from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.db_faults import classify
from kanban_api.errors import ApiError
from kanban_api.live.hub import EventHub
from kanban_api.live.retention import prune_periodically
from kanban_api.middleware import (
    BodySizeLimitMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
)
from kanban_api.overload import InFlightLimitMiddleware
from kanban_api.routes import auth, boards, cards, comments, events, health, members, users
from kanban_api.routes.responses import (
    BODY_TOO_LARGE,
    SERVICE_UNAVAILABLE,
    TOO_MANY_IN_FLIGHT,
    UNPARSABLE_BODY,
)
from kanban_api.utils.token import TokenVerifier

logger = logging.getLogger(__name__)

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
    for module in (cards, boards, comments, members, events, users, auth):
        app.include_router(
            module.router,
            prefix="/api",
            responses={
                **UNPARSABLE_BODY,
                **BODY_TOO_LARGE,
                **TOO_MANY_IN_FLIGHT,
                **SERVICE_UNAVAILABLE,
            },
        )
    app.include_router(health.router)
    _add_error_handlers(app)

    # Added innermost first: the request log sees every answer, including 413s and preflights.
    app.add_middleware(
        InFlightLimitMiddleware,
        tokens=app.state.tokens,
        max_in_flight=settings.max_requests_in_flight,
        max_queued=settings.max_requests_queued,
    )
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
        """FastAPI's 422 shape without `input`, which would echo passwords back."""
        errors = [
            {key: value for key, value in item.items() if key != "input"} for item in error.errors()
        ]
        return JSONResponse({"detail": jsonable_encoder(errors)}, 422)

    async def _database_error(request: Request, error: Exception) -> JSONResponse:
        """409 for a lost race, 503 while the database is busy or unavailable (both with
        `Retry-After`; see db_faults.py); anything else is a bug: a 500."""
        fault = classify(error, method=request.method)
        if fault is None:
            raise error
        if fault.status_code == 503:
            # The class and driver message only: SQLAlchemy's own text may quote values.
            cause = error.orig if isinstance(error, exc.DBAPIError) else error
            logger.warning(
                "database unavailable (request %s): %s: %s",
                getattr(request.state, "request_id", "-"),
                type(cause).__name__,
                cause,
            )
        return JSONResponse(
            {"detail": fault.detail},
            fault.status_code,
            headers={"Retry-After": str(fault.retry_after)},
        )

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
