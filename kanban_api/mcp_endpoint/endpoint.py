"""`/mcp`: the Model Context Protocol over Streamable HTTP, built on the official SDK.

Stateless: every HTTP request stands alone (no MCP session is kept), so any worker
on any machine answers any request, and JSON answers instead of event streams. Each
request authenticates as a REST request does (`access.authenticate_bearer`: a login
token or a personal access token; 401 with `WWW-Authenticate: Bearer` otherwise),
then the SDK's server (server.py) runs the tool calls.

A worker loads the SDK and starts its server on its first `/mcp` request, not at
startup: the SDK is a large part of a worker's memory (docs/performance.md), and
most workers of a deployment whose clients are apps never serve `/mcp`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from kanban_api import access
from kanban_api.mcp_endpoint.tools import PRINCIPAL
from kanban_api.state import AppState

if TYPE_CHECKING:
    from kanban_api.mcp_endpoint.server import McpServer


class McpEndpoint:
    """The ASGI app served at `/mcp`; `running()` belongs in the app's lifespan."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.tasks: TaskGroup | None = None
        self.server: McpServer | None = None
        self.starting = anyio.Lock()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The task group the SDK's server runs in, once started, for the app's lifespan.

        An app's lifespan may be entered again (tests do), and the SDK's session
        manager runs once, so each run starts a server of its own.
        """
        async with anyio.create_task_group() as tasks:
            self.tasks, self.server = tasks, None
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
                self.tasks = self.server = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, then serve; a NotAuthenticatedError becomes the app's 401."""
        scheme, token = get_authorization_scheme_param(Headers(scope=scope).get("authorization"))
        bearer = token if scheme.lower() == "bearer" and token else None
        database = self.state.database
        principal = await access.authenticate_bearer(self.state.tokens, database, bearer=bearer)
        if principal.token_id is None:
            # A login token's signature is checked; whether a password change retired it
            # takes the database (an access token's lookup checked that already).
            async with database.reading() as connection:
                await access.check_credential(connection, principal=principal)
        server = await self._started()
        scope[PRINCIPAL] = principal
        if principal.token_id is not None:
            # Counted as itself from now on (rate_limit.py), as a REST request's token is.
            scope[access.TOKEN_AUTHENTICATED] = True
        await server.handle_request(scope, receive, send)

    async def _started(self) -> "McpServer":
        """The SDK's server, loaded and started by the first request that needs it."""
        async with self.starting:
            if self.server is None:
                if self.tasks is None:
                    raise RuntimeError("/mcp is served only inside the app's lifespan")
                from kanban_api.mcp_endpoint.server import McpServer

                server = McpServer(self.state)
                await self.tasks.start(server.run)
                self.server = server
            return self.server
