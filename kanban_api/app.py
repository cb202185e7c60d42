"""The ASGI application: routers, middleware, error answers and the optional static client."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.routing import NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from kanban_api import __version__
from kanban_api.config import Settings
from kanban_api.db_faults import classify
from kanban_api.errors import ApiError
from kanban_api.idempotency import SECRET_ANSWERS, IdempotencyMiddleware
from kanban_api.mcp_endpoint.endpoint import McpEndpoint
from kanban_api.middleware import (
    MCP_PATH,
    BodySizeLimitMiddleware,
    InternalErrorMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
)
from kanban_api.overload import InFlightLimitMiddleware
from kanban_api.rate_limit import RateLimitMiddleware
from kanban_api.routes import API_ROUTERS, DOCS_TAGS, HOME_ROUTER, OTHER_ROUTERS
from kanban_api.routes.responses import (
    BODY_TOO_LARGE,
    SERVICE_UNAVAILABLE,
    TOO_MANY_IN_FLIGHT,
    UNPARSABLE_BODY,
    document_api_headers,
)
from kanban_api.state import AppState
from kanban_api.validation import public_errors

logger = logging.getLogger(__name__)

# Swagger UI's and ReDoc's scripts, served from the fastapi-offline package: no CDN needed.
DOCS_ASSETS_URL = "/docs-assets"

# Paths the static web client may never answer, even when it has a file of that name.
RESERVED_PREFIXES = (
    "/api",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/health",
    MCP_PATH,
    DOCS_ASSETS_URL,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for these settings (read from the environment if not given)."""
    state = AppState.build(settings or Settings())
    mcp = McpEndpoint(state)
    app = _new_app(state, mcp)
    _include_routers(app, state.settings)
    # Not a FastAPI route: the SDK speaks the protocol, so it has no OpenAPI operation.
    # POST only: a stateless server has no stream to offer (GET) and no session to end
    # (DELETE), and the SDK would hold a GET open for ever; the protocol wants 405 then.
    app.router.routes.append(Route(MCP_PATH, mcp, methods=["POST"], include_in_schema=False))
    _add_error_handlers(app)
    _add_middleware(app, state)
    if state.settings.static_dir is not None:
        app.mount(
            "/", _ReservedPathGuard(StaticFiles(directory=state.settings.static_dir, html=True))
        )
    return app


def _new_app(state: AppState, mcp: McpEndpoint) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start()
        _build_routes(app)
        async with mcp.running():
            yield
        await state.stop()

    app = FastAPIOffline(
        static_url=DOCS_ASSETS_URL,
        title="kanban-api",
        version=__version__,
        description="Boards, cards, labels and sharing for Kanban applications.",
        openapi_tags=[{"name": tag} for tag in DOCS_TAGS],
        lifespan=lifespan,
    )
    app.state.kanban = state
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_api_headers(build_schema(), secret_answers=SECRET_ANSWERS)
        return build_schema()  # FastAPI keeps the schema it built: the one changed above

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _build_routes(app: FastAPI) -> None:
    """Have FastAPI build every included router's routes now, before the first request.

    FastAPI builds an included router's routes (their validators and serializers) when
    a request first reaches it, and that request waits meanwhile: a new worker's first
    answers would each be late (docs/performance.md). Looking up a route name that
    does not exist walks, hence builds, them all.
    """
    with suppress(NoMatchFound):
        app.url_path_for("(no route has this name)")


def _include_routers(app: FastAPI, settings: Settings) -> None:
    for router in API_ROUTERS:
        app.include_router(
            router,
            prefix="/api",
            responses={
                **UNPARSABLE_BODY,
                **BODY_TOO_LARGE,
                **TOO_MANY_IN_FLIGHT,
                **SERVICE_UNAVAILABLE,
            },
        )
    for router in OTHER_ROUTERS:
        app.include_router(router)
    if settings.static_dir is None:
        # With a static client, `/` is its index page instead.
        app.include_router(HOME_ROUTER)


def _add_middleware(app: FastAPI, state: AppState) -> None:
    settings = state.settings
    # Added innermost first. Every answer the app, the size limit or the error layer
    # gives (413s and 500s included) passes CORS, the request log and the security
    # headers, so a browser can read each one; CORS preflights are logged too.
    app.add_middleware(IdempotencyMiddleware, tokens=state.tokens, database=state.database)
    if state.rate_counter is not None:
        app.add_middleware(
            RateLimitMiddleware,
            tokens=state.tokens,
            counter=state.rate_counter,
            limit=settings.rate_limit_per_minute,
        )
    app.add_middleware(
        InFlightLimitMiddleware,
        tokens=state.tokens,
        max_in_flight=settings.max_requests_in_flight,
        max_queued=settings.max_requests_queued,
    )
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(InternalErrorMiddleware)
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
            expose_headers=[
                "ETag",
                "Link",
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "Idempotency-Replayed",
            ],
        )
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.content(), error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        """FastAPI's 422 shape, in the request's terms (see validation.py)."""
        return JSONResponse({"detail": public_errors(error.errors())}, 422)

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
