"""The MCP SDK's side of `/mcp` (endpoint.py): the server, its tool listing and calls.

Each tool call runs in one transaction of its own, committed before the answer, with
the principal endpoint.py authenticated: the access checks, services, events, live
streams and webhooks are the REST API's (see tools.py). Imported only when a worker
serves its first `/mcp` request (endpoint.py says why).
"""

from typing import Any

import anyio
import orjson
from anyio.abc import TaskStatus
from mcp import types
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from kanban_api import __version__, access
from kanban_api.access import Principal
from kanban_api.db_faults import classify
from kanban_api.errors import ApiError, InvalidInputError, NotAuthenticatedError
from kanban_api.mcp_endpoint.arguments import input_schema
from kanban_api.mcp_endpoint.catalog import INSTRUCTIONS, TOOLS
from kanban_api.mcp_endpoint.tools import PRINCIPAL, Answer, Call, ToolSpec
from kanban_api.middleware import DATABASE_ERRORS
from kanban_api.state import AppState
from kanban_api.utils.wire import WIRE_JSON_OPTIONS
from kanban_api.validation import public_errors

# The REST request parts an InvalidInputError's location starts with; a tool has arguments.
_REQUEST_PARTS = frozenset({"body", "query", "path"})


class McpServer:
    """The SDK's stateless session manager, serving the tools (catalog.py) as `state`'s
    app serves REST."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.tools = {spec.name: spec for spec in TOOLS}
        self.listing = types.ListToolsResult(tools=[_describe(spec) for spec in TOOLS])
        server: Server[Any] = Server(
            "kanban-api",
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )
        # No DNS rebinding check: every request must carry a bearer token, which a page
        # another site serves cannot send (CORS, KANBAN_CORS_ORIGINS, governs that).
        self.sessions = StreamableHTTPSessionManager(server, stateless=True, json_response=True)

    async def run(self, *, task_status: TaskStatus[None]) -> None:
        """Run the session manager (its task group runs the requests' servers) until
        cancelled; `task_status` is told once requests can be handled."""
        async with self.sessions.run():
            task_status.started()
            await anyio.sleep_forever()

    async def handle_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.sessions.handle_request(scope, receive, send)

    async def _list_tools(
        self, _: ServerRequestContext[Any], __: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return self.listing

    async def _call_tool(
        self, context: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        spec = self.tools.get(params.name)
        if spec is None:
            names = ", ".join(self.tools)
            return _failure(404, f"There is no tool {params.name!r}; the tools are: {names}")
        request = context.request
        principal = request.scope.get(PRINCIPAL) if isinstance(request, Request) else None
        if not isinstance(principal, Principal):
            return _refused(NotAuthenticatedError())
        try:
            arguments = spec.arguments.model_validate(params.arguments or {})
            answer = await self._run(spec, principal, arguments)
        except ValidationError as error:
            return _invalid(public_errors(error.errors()))
        except ApiError as error:
            return _refused(error, body_argument=spec.body_argument)
        except DATABASE_ERRORS as error:
            fault = classify(error, method="POST" if spec.writes else "GET")
            if fault is None:
                raise
            return _failure(fault.status_code, fault.detail)
        return _success(answer)

    async def _run(self, spec: ToolSpec[Any], principal: Principal, arguments: BaseModel) -> Answer:
        """The tool in one transaction, committed before it answers (a read-only session
        for tools that write nothing), as a REST request runs."""
        access.require_scope(principal, writes=spec.changes_boards)
        database, settings = self.state.database, self.state.settings
        if spec.writes:
            async with database.transaction() as session:
                return await spec.run(Call(principal, session, database, settings), arguments)
        async with database.read_sessionmaker() as session:
            return await spec.run(Call(principal, session, database, settings), arguments)


def _describe(spec: ToolSpec[Any]) -> types.Tool:
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=input_schema(spec.arguments),
        output_schema=spec.result.model_json_schema(by_alias=True, mode="serialization"),
        annotations=types.ToolAnnotations(
            read_only_hint=not spec.writes,
            destructive_hint=spec.destructive,
            open_world_hint=False,
        ),
    )


def _json(value: Any) -> Any:
    """Pydantic models inside the answer as the REST API writes them."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _success(answer: Answer) -> types.CallToolResult:
    """The structured answer, a summary, and the same JSON as text for clients that show
    models text only (as the MCP specification recommends)."""
    text = orjson.dumps(answer.content, default=_json, option=WIRE_JSON_OPTIONS)
    return types.CallToolResult(
        content=[
            types.TextContent(text=answer.summary),
            types.TextContent(text=text.decode()),
        ],
        structured_content=orjson.loads(text),
    )


def _failure(status: int, detail: Any, message: str | None = None) -> types.CallToolResult:
    """A tool error: the REST error answer (`status`, `detail`) and its text."""
    return types.CallToolResult(
        content=[types.TextContent(text=f"Error {status}: {message or detail}")],
        structured_content={"status": status, "detail": detail},
        is_error=True,
    )


def _refused(error: ApiError, *, body_argument: str | None = None) -> types.CallToolResult:
    """The REST error answer; an invalid input's location names the tool's arguments."""
    if isinstance(error, InvalidInputError):
        renamed: dict[str | int, str | int] = {"body": body_argument} if body_argument else {}
        loc = [
            renamed.get(part, part)
            for part in error.loc
            if part in renamed or part not in _REQUEST_PARTS
        ]
        return _invalid([{"type": "value_error", "loc": loc, "msg": error.detail}])
    return _failure(error.status_code, error.detail)


def _invalid(errors: list[dict[str, Any]]) -> types.CallToolResult:
    """422: each invalid argument, by name, and what it must be."""
    problems = "; ".join(
        f"{'.'.join(map(str, error['loc'])) or 'arguments'}: {error['msg']}" for error in errors
    )
    return _failure(422, errors, f"Invalid arguments: {problems}")
