"""Every board-scoped route, called by every role, answers as the permission table says.

The expected answers are generated from `kanban_api.permissions.PERMISSIONS`;
CASES says which action each call performs. A route missing from CASES (or from
UNSCOPED) fails `test_every_route_is_covered`, so a new route cannot skip this.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import AsyncClient

from kanban_api.access import ACTION_CHECKED
from kanban_api.database import Database
from kanban_api.mcp_endpoint.catalog import TOOLS
from kanban_api.models import Role
from kanban_api.permissions import PERMISSIONS, Action
from kanban_api.services.card_caps import CardCaps
from kanban_api.state import state_of
from tests import factories
from tests.helpers import (
    Account,
    Accounts,
    add_member,
    create_api_token,
    create_board,
    create_cards,
    create_comment,
    detail,
    introduce,
    mcp_session,
    running,
    serve_in_process,
)

ROLES = ["owner", "editor", "viewer", "outsider"]

# Routes that are not about one board, so roles do not apply.
UNSCOPED = {
    ("POST", "/api/auth/tokens"),
    ("POST", "/api/users"),
    ("GET", "/api/users/me"),
    ("PATCH", "/api/users/me"),
    ("POST", "/api/users/search"),
    ("GET", "/api/boards"),
    ("POST", "/api/boards"),
    ("POST", "/api/boards/import"),
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/api/users/me/tokens"),
    ("POST", "/api/users/me/tokens"),
    ("DELETE", "/api/users/me/tokens/{token_id}"),
    # Each caller's own trash: its SQL holds the roles (tests/trash/test_trash.py).
    ("GET", "/api/trash"),
    ("GET", "/api/invitations"),
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    action: Action
    body: Any = None
    # Which of the World's ids fills each path parameter, where the default does not.
    ids: dict[str, str] = field(default_factory=dict)
    # An event stream never ends by itself: test_stream_role_table opens it over a real
    # port and checks the status the stream starts with.
    streams: bool = False
    # The actor's membership (in the role under test) is an invitation not yet accepted.
    invited: bool = False


CASES = [
    Case("GET", "/api/boards/{board_id}", Action.VIEW),
    Case("PATCH", "/api/boards/{board_id}", Action.MANAGE_BOARD, {"title": "Renamed"}),
    Case("PATCH", "/api/boards/{board_id}", Action.MANAGE_BOARD, {"description": "New"}),
    Case(
        "PATCH",
        "/api/boards/{board_id}",
        Action.RENAME_LABELS,
        {"labels": [{"color": "red", "name": "Urgent"}]},
    ),
    Case(
        "PATCH",
        "/api/boards/{board_id}",
        Action.CONFIGURE_COLUMNS,
        {"columns": [{"key": "DOING", "name": "In progress", "wipLimit": 3}]},
    ),
    Case("DELETE", "/api/boards/{board_id}", Action.MANAGE_BOARD),
    Case("GET", "/api/boards/{board_id}/export", Action.VIEW),
    Case("GET", "/api/boards/{board_id}/cards", Action.VIEW),
    Case("POST", "/api/boards/{board_id}/cards", Action.EDIT_CARDS, [{"title": "New"}]),
    Case("GET", "/api/boards/{board_id}/users", Action.VIEW),
    Case(
        "PUT",
        "/api/boards/{board_id}/users/{user_id}",
        Action.MANAGE_MEMBERS,
        ids={"user_id": "newcomer_id"},
    ),
    Case(
        "PUT",
        "/api/boards/{board_id}/users/{user_id}",
        Action.MANAGE_MEMBERS,
        {"role": "viewer"},
    ),
    Case("DELETE", "/api/boards/{board_id}/users/{user_id}", Action.MANAGE_MEMBERS),
    Case(
        "DELETE",
        "/api/boards/{board_id}/users/{user_id}",
        Action.LEAVE,
        ids={"user_id": "actor_id"},
    ),
    Case("GET", "/api/boards/{board_id}/invitations", Action.MANAGE_MEMBERS),
    Case("POST", "/api/invitations/{board_id}/accept", Action.VIEW, invited=True),
    Case("DELETE", "/api/invitations/{board_id}", Action.LEAVE, invited=True),
    Case("GET", "/api/cards/{card_id}", Action.VIEW),
    Case("PATCH", "/api/cards/{card_id}", Action.EDIT_CARDS, {"column": "DONE"}),
    Case("PATCH", "/api/cards/{card_id}", Action.EDIT_CARDS, {"archived": True}),
    Case(
        "POST", "/api/cards/{card_id}/move", Action.EDIT_CARDS, {"column": "DONE", "afterId": None}
    ),
    Case("DELETE", "/api/cards/{card_id}", Action.EDIT_CARDS),
    Case("GET", "/api/cards/{card_id}/comments", Action.VIEW),
    Case("POST", "/api/cards/{card_id}/comments", Action.COMMENT, {"body": "Hello"}),
    Case(
        "PATCH",
        "/api/comments/{comment_id}",
        Action.COMMENT,
        {"body": "Reworded"},
        ids={"comment_id": "own_comment_id"},
    ),
    Case("PATCH", "/api/comments/{comment_id}", Action.EDIT_OTHERS_COMMENTS, {"body": "Mine"}),
    Case(
        "DELETE",
        "/api/comments/{comment_id}",
        Action.DELETE_OWN_COMMENT,
        ids={"comment_id": "own_comment_id"},
    ),
    Case("DELETE", "/api/comments/{comment_id}", Action.DELETE_ANY_COMMENT),
    Case("GET", "/api/cards/{card_id}/checklist", Action.VIEW),
    Case("POST", "/api/cards/{card_id}/checklist", Action.EDIT_CARDS, {"text": "Step"}),
    Case("PATCH", "/api/checklist-items/{item_id}", Action.EDIT_CARDS, {"done": True}),
    Case("DELETE", "/api/checklist-items/{item_id}", Action.EDIT_CARDS),
    Case("GET", "/api/boards/{board_id}/events", Action.VIEW),
    Case("POST", "/api/boards/{board_id}/events/tickets", Action.VIEW),
    Case("GET", "/api/boards/{board_id}/events/stream", Action.VIEW, streams=True),
    Case("GET", "/api/boards/{board_id}/webhooks", Action.MANAGE_WEBHOOKS),
    # A public address (no DNS needed); nothing is sent, since no sender runs here.
    Case(
        "POST",
        "/api/boards/{board_id}/webhooks",
        Action.MANAGE_WEBHOOKS,
        {"url": "https://93.184.215.14/hook"},
    ),
    Case("GET", "/api/boards/{board_id}/webhooks/{webhook_id}", Action.MANAGE_WEBHOOKS),
    Case(
        "PATCH",
        "/api/boards/{board_id}/webhooks/{webhook_id}",
        Action.MANAGE_WEBHOOKS,
        {"description": "CI"},
    ),
    Case("DELETE", "/api/boards/{board_id}/webhooks/{webhook_id}", Action.MANAGE_WEBHOOKS),
    Case("GET", "/api/boards/{board_id}/webhooks/{webhook_id}/deliveries", Action.MANAGE_WEBHOOKS),
    Case(
        "POST",
        "/api/boards/{board_id}/webhooks/{webhook_id}/replay",
        Action.MANAGE_WEBHOOKS,
        {"afterSeq": 0},
    ),
    Case(
        "POST",
        "/api/trash/boards/{board_id}/restore",
        Action.MANAGE_BOARD,
        ids={"board_id": "trashed_board_id"},
    ),
    Case(
        "POST",
        "/api/trash/cards/{card_id}/restore",
        Action.EDIT_CARDS,
        ids={"card_id": "trashed_card_id"},
    ),
]

DEFAULT_IDS = {
    "board_id": "board_id",
    "card_id": "card_id",
    "comment_id": "others_comment_id",
    "user_id": "other_member_id",
    "webhook_id": "webhook_id",
    "item_id": "item_id",
}


@dataclass
class World:
    """A fresh board: its creator (an owner), the actor in the role under test, one more
    member (an editor), a card with a comment by the creator and one by the actor and a
    checklist item, and a user who is not a member yet; a card of the board and a second
    board (the actor in the same role) in the trash."""

    board_id: int
    card_id: int
    own_comment_id: int
    others_comment_id: int
    actor_id: int
    other_member_id: int
    newcomer_id: int
    webhook_id: int
    item_id: int
    trashed_card_id: int
    trashed_board_id: int


async def build_world(
    client: AsyncClient,
    database: Database,
    role: str,
    creator: Account,
    actor: Account,
    other: Account,
    new: Account,
    *,
    invited: bool = False,
) -> World:
    board = await create_board(client, creator)
    card, trashed_card = await create_cards(
        client, creator, board["id"], {"title": "Card"}, {"title": "Trashed"}
    )
    await add_member(client, creator, board["id"], other, "editor")
    # The actor comments while an editor, so even a viewer or an outsider has a comment.
    await add_member(client, creator, board["id"], actor, "editor")
    own = await create_comment(client, actor, card["id"])
    item = await client.post(
        f"/api/cards/{card['id']}/checklist", json={"text": "Step"}, headers=creator.headers
    )
    others = await create_comment(client, creator, card["id"])
    response = await client.delete(f"/api/cards/{trashed_card['id']}", headers=creator.headers)
    assert response.status_code == 204, response.text
    # Made in the database: the creator's requests stay under the rate limit.
    trashed_board_id, _ = await factories.create_board(
        database,
        owner_id=creator.id,
        caps=CardCaps(active=10, archived=10),
        members={} if role == "outsider" else {actor.id: Role(role)},
    )
    await factories.trash_board(database, board_id=trashed_board_id, user_id=creator.id)
    if role == "outsider" or invited:
        response = await client.delete(
            f"/api/boards/{board['id']}/users/{actor.id}", headers=creator.headers
        )
        assert response.status_code == 204, response.text
    if invited and role != "outsider":
        await factories.invite(database, board_id=board["id"], user_id=actor.id, role=Role(role))
    elif role != "outsider":
        await add_member(client, creator, board["id"], actor, role)
    # Sharing by id needs the newcomer found by email first, as the seed's clients do.
    await introduce(client, actor, new)
    return World(
        board_id=board["id"],
        card_id=card["id"],
        own_comment_id=own["id"],
        others_comment_id=others["id"],
        actor_id=actor.id,
        other_member_id=other.id,
        newcomer_id=new.id,
        webhook_id=await factories.create_webhook(
            database, board_id=board["id"], owner_id=creator.id, url="https://93.184.215.14/"
        ),
        item_id=item.json()["id"],
        trashed_card_id=trashed_card["id"],
        trashed_board_id=trashed_board_id,
    )


def expected_status(role: str, action: Action) -> int | None:
    """None for any success."""
    if role == "outsider":
        return 404
    return None if role in PERMISSIONS[action] else 403


def test_every_route_is_covered(app: FastAPI) -> None:
    # The OpenAPI paths list every API route; app.routes nests included routers lazily.
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    covered = {(case.method, case.path) for case in CASES}
    assert routes - UNSCOPED - covered == set(), "add these routes to CASES or UNSCOPED"
    assert covered - routes == set(), "CASES names routes that do not exist"


def _checked_actions(dependant: Dependant) -> set[Action]:
    """The actions the route's access dependencies check (dependencies.py marks them)."""
    found = set()
    for dependency in dependant.dependencies:
        action = getattr(dependency.call, "__dict__", {}).get(ACTION_CHECKED)
        if action is not None:
            found.add(action)
        found |= _checked_actions(dependency)
    return found


def test_every_board_scoped_route_checks_its_action_against_the_table(app: FastAPI) -> None:
    """Reads included: each names one action, which access.py checks against PERMISSIONS
    (the hot reads in their SQL); a request-dependent action starts from VIEW."""
    expected: dict[tuple[str, str], set[Action]] = {}
    for case in CASES:
        actions = expected.setdefault((case.method, case.path), set())
        actions.add(case.action if case.method == "GET" else Action.VIEW)
    checked_routes = 0
    for method, path, dependant in _api_routes(app):
        key = (method, path)
        if key in UNSCOPED or not path.startswith("/api/"):
            continue
        checked = _checked_actions(dependant)
        assert len(checked) == 1, f"{key} checks {checked}"
        if method == "GET":
            assert checked == expected[key], key
        checked_routes += 1
    assert checked_routes == len(expected)


def test_the_board_list_checks_the_view_action(app: FastAPI) -> None:
    (dependant,) = [
        dependant
        for method, path, dependant in _api_routes(app)
        if (method, path) == ("GET", "/api/boards")
    ]
    assert _checked_actions(dependant) == {Action.VIEW}


def _api_routes(app: FastAPI) -> list[tuple[str, str, Dependant]]:
    routes = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            assert context.path_format is not None
            routes += [
                (method, context.path_format, route.dependant) for method in route.methods or ()
            ]
    return routes


def test_every_action_is_exercised() -> None:
    assert {case.action for case in CASES} == set(Action)


@pytest.mark.parametrize("role", ROLES)
async def test_role_table(client: AsyncClient, accounts: Accounts, role: str) -> None:
    assert accounts.database is not None
    creator, actor, other, new = [await accounts.create() for _ in range(4)]
    mismatches = []
    for case in CASES:
        if case.streams:
            continue
        world = await build_world(
            client, accounts.database, role, creator, actor, other, new, invited=case.invited
        )
        ids = {name: getattr(world, attr) for name, attr in (DEFAULT_IDS | case.ids).items()}
        response = await client.request(
            case.method, case.path.format(**ids), json=case.body, headers=actor.headers
        )
        expected = expected_status(role, case.action)
        ok = (
            200 <= response.status_code < 300
            if expected is None
            else response.status_code == expected
        )
        if not ok:
            mismatches.append(
                f"{case.method} {case.path} {case.body} ({case.action.name}): "
                f"expected {expected or '2xx'}, got {response.status_code} {response.text}"
            )
        elif expected == 403:
            assert role in detail(response)
    assert mismatches == []


@pytest.mark.parametrize("role", ROLES)
async def test_stream_role_table(app: FastAPI, role: str) -> None:
    async with serve_in_process(app) as served, served.client() as client:
        accounts = Accounts(client)
        creator, actor, other, new = [await accounts.create() for _ in range(4)]
        for case in (case for case in CASES if case.streams):
            world = await build_world(
                client, state_of(app).database, role, creator, actor, other, new
            )
            ids = {name: getattr(world, attr) for name, attr in (DEFAULT_IDS | case.ids).items()}
            async with client.stream(
                case.method, case.path.format(**ids), headers=actor.headers
            ) as response:
                expected = expected_status(role, case.action)
                if expected is None:
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/event-stream")
                else:
                    await response.aread()
                    assert response.status_code == expected, response.text


def _reads_only(case: Case) -> bool:
    """GETs, and the POSTs that change no board (a stream ticket)."""
    return case.method == "GET" or case.path.endswith("/events/tickets")


@pytest.mark.parametrize("token", ["read-only", "other-board"])
async def test_token_table(client: AsyncClient, accounts: Accounts, token: str) -> None:
    """The actor, an owner (every action allowed), calls every route with an access token:
    read-only, every write answers 403 and every read 2xx; limited to another board of
    theirs, everything on this board answers 404, as to an outsider."""
    assert accounts.database is not None
    creator, actor, other, new = [await accounts.create() for _ in range(4)]
    elsewhere = await create_board(client, actor, "Elsewhere")
    caller = await create_api_token(
        client,
        actor,
        **(
            {"scopes": ["read"]}
            if token == "read-only"
            else {"scopes": ["read", "write"], "boardIds": [elsewhere["id"]]}
        ),
    )
    mismatches = []
    for case in CASES:
        if case.streams:
            continue
        world = await build_world(
            client, accounts.database, "owner", creator, actor, other, new, invited=case.invited
        )
        ids = {name: getattr(world, attr) for name, attr in (DEFAULT_IDS | case.ids).items()}
        response = await client.request(
            case.method, case.path.format(**ids), json=case.body, headers=caller.headers
        )
        if token == "other-board":
            expected: int | None = 404
        else:
            expected = None if _reads_only(case) else 403
        ok = (
            200 <= response.status_code < 300
            if expected is None
            else response.status_code == expected
        )
        if not ok:
            mismatches.append(
                f"{case.method} {case.path} {case.body}: "
                f"expected {expected or '2xx'}, got {response.status_code} {response.text}"
            )
    assert mismatches == []


@pytest.mark.parametrize("token", ["read-only", "other-board"])
async def test_token_stream_table(app: FastAPI, token: str) -> None:
    async with serve_in_process(app) as served, served.client() as client:
        accounts = Accounts(client)
        owner = await accounts.create()
        board, elsewhere = await create_board(client, owner), await create_board(client, owner)
        limit = {"scopes": ["read"]} if token == "read-only" else {"boardIds": [elsewhere["id"]]}
        caller = await create_api_token(client, owner, **limit)
        async with client.stream(
            "GET", f"/api/boards/{board['id']}/events/stream", headers=caller.headers
        ) as response:
            if token == "read-only":
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
            else:
                await response.aread()
                assert response.status_code == 404, response.text


# --- The MCP tools (/mcp), through the same table -------------------------------------------


@dataclass(frozen=True)
class ToolCase:
    tool: str
    action: Action
    # The tool's arguments on a World.
    arguments: Callable[[World], dict[str, Any]]


TOOL_CASES = [
    ToolCase("get_board", Action.VIEW, lambda world: {"boardId": world.board_id}),
    ToolCase(
        "update_board",
        Action.MANAGE_BOARD,
        lambda world: {"boardId": world.board_id, "title": "Renamed"},
    ),
    ToolCase(
        "update_board",
        Action.RENAME_LABELS,
        lambda world: {"boardId": world.board_id, "labels": [{"color": "red", "name": "Urgent"}]},
    ),
    ToolCase(
        "update_board",
        Action.CONFIGURE_COLUMNS,
        lambda world: {"boardId": world.board_id, "columns": [{"key": "DOING", "wipLimit": 3}]},
    ),
    ToolCase("delete_board", Action.MANAGE_BOARD, lambda world: {"boardId": world.board_id}),
    ToolCase("list_cards", Action.VIEW, lambda world: {"boardId": world.board_id}),
    ToolCase(
        "create_cards",
        Action.EDIT_CARDS,
        lambda world: {"boardId": world.board_id, "cards": [{"title": "New"}]},
    ),
    ToolCase("get_card", Action.VIEW, lambda world: {"cardId": world.card_id}),
    ToolCase(
        "update_card", Action.EDIT_CARDS, lambda world: {"cardId": world.card_id, "column": "DONE"}
    ),
    ToolCase(
        "move_card",
        Action.EDIT_CARDS,
        lambda world: {"cardId": world.card_id, "column": "DONE", "afterId": None},
    ),
    ToolCase("delete_card", Action.EDIT_CARDS, lambda world: {"cardId": world.card_id}),
    ToolCase("list_comments", Action.VIEW, lambda world: {"cardId": world.card_id}),
    ToolCase(
        "add_comment", Action.COMMENT, lambda world: {"cardId": world.card_id, "body": "Hello"}
    ),
    ToolCase("list_members", Action.VIEW, lambda world: {"boardId": world.board_id}),
    ToolCase(
        "share_board",
        Action.MANAGE_MEMBERS,
        lambda world: {"boardId": world.board_id, "userId": world.newcomer_id},
    ),
    ToolCase(
        "share_board",
        Action.MANAGE_MEMBERS,
        lambda world: {
            "boardId": world.board_id,
            "userId": world.other_member_id,
            "role": "viewer",
        },
    ),
    ToolCase("board_activity", Action.VIEW, lambda world: {"boardId": world.board_id}),
]
# Tools that are not about one board, so roles do not apply.
UNSCOPED_TOOLS = {"list_boards", "create_board", "find_user"}


def test_every_tool_is_covered() -> None:
    covered = {case.tool for case in TOOL_CASES}
    assert covered | UNSCOPED_TOOLS == {spec.name for spec in TOOLS}
    assert covered.isdisjoint(UNSCOPED_TOOLS)


async def _tool_mismatches(
    app: FastAPI,
    client: AsyncClient,
    accounts: Accounts,
    role: str,
    caller: Callable[[Account], Awaitable[Account]],
    expected: Callable[[ToolCase], int | None],
) -> list[str]:
    """Each tool case, called by `caller` (the actor, or a token of theirs) on a fresh
    World in which the actor has `role`, compared with `expected` (None: success)."""
    assert accounts.database is not None
    creator, actor, other, new = [await accounts.create() for _ in range(4)]
    headers = (await caller(actor)).headers
    mismatches = []
    async with running(app), mcp_session(app, headers) as session:
        for case in TOOL_CASES:
            world = await build_world(client, accounts.database, role, creator, actor, other, new)
            result = await session.call_tool(case.tool, case.arguments(world))
            answer = result.structured_content
            want = expected(case)
            ok = not result.is_error if want is None else answer["status"] == want
            if ok and want == 403 and role != "owner":
                ok = role in answer["detail"]
            if not ok:
                mismatches.append(
                    f"{case.tool} ({case.action.name}): expected {want or 'success'}, got {answer}"
                )
    return mismatches


@pytest.mark.parametrize("role", ROLES)
async def test_tool_role_table(
    app: FastAPI, client: AsyncClient, accounts: Accounts, role: str
) -> None:
    async def itself(actor: Account) -> Account:
        return actor

    mismatches = await _tool_mismatches(
        app, client, accounts, role, itself, lambda case: expected_status(role, case.action)
    )
    assert mismatches == []


@pytest.mark.parametrize("token", ["read-only", "other-board"])
async def test_tool_token_table(
    app: FastAPI, client: AsyncClient, accounts: Accounts, token: str
) -> None:
    """As test_token_table: an owner's read-only token may read only, a token limited to
    another board of theirs reaches nothing on this one."""

    async def token_of(actor: Account) -> Account:
        if token == "read-only":
            return await create_api_token(client, actor, scopes=["read"])
        elsewhere = await create_board(client, actor, "Elsewhere")
        return await create_api_token(client, actor, boardIds=[elsewhere["id"]])

    def expected(case: ToolCase) -> int | None:
        if token == "other-board":
            return 404
        return (
            403 if next(spec for spec in TOOLS if spec.name == case.tool).changes_boards else None
        )

    mismatches = await _tool_mismatches(app, client, accounts, "owner", token_of, expected)
    assert mismatches == []
