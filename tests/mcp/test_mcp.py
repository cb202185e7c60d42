"""/mcp, driven by the MCP SDK's own client: the REST API's access rules, validation, answers
and change feed, through tools."""

from collections.abc import AsyncIterator
from itertools import cycle
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.mcp_endpoint.catalog import TOOLS
from kanban_api.models import CardColumn
from kanban_api.state import state_of
from tests.helpers import (
    Account,
    Accounts,
    board_events,
    call_tool,
    create_api_token,
    create_board,
    create_cards,
    mcp_session,
    move_card,
    running,
    tool_error,
)

TOOL_NAMES = {
    "list_boards",
    "get_board",
    "create_board",
    "update_board",
    "delete_board",
    "list_cards",
    "get_card",
    "create_cards",
    "update_card",
    "move_card",
    "delete_card",
    "list_comments",
    "add_comment",
    "list_members",
    "find_user",
    "share_board",
    "board_activity",
}


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with running(app):
        yield app


async def _board_with_card(
    client: AsyncClient, accounts: Accounts
) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    """An owner, their board and its one card `Card`."""
    owner = await accounts.create()
    board = await create_board(client, owner)
    (card,) = await create_cards(client, owner, board["id"], {"title": "Card"})
    return owner, board, card


async def test_no_credential_is_a_401_asking_for_a_bearer_token(served: FastAPI) -> None:
    transport = httpx2.ASGITransport(app=served)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        for headers in ({}, {"Authorization": "Bearer kbp_unknown"}, {"Authorization": "Basic x"}):
            response = await http.post("/mcp", json={}, headers=headers)
            assert response.status_code == 401, response.text
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert response.json() == {"detail": "Could not validate credentials"}


async def test_get_and_delete_are_405_not_a_stream_held_open(
    served: FastAPI, accounts: Accounts
) -> None:
    account = await accounts.create()
    headers = {**account.headers, "Accept": "application/json, text/event-stream"}
    transport = httpx2.ASGITransport(app=served)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        for method in ("DELETE", "GET"):
            response = await http.request(method, "/mcp", headers=headers)
            assert response.status_code == 405, response.text
            assert response.headers["Allow"] == "POST"


async def test_a_login_token_retired_by_a_password_change_is_a_401(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    account = await accounts.create()
    response = await client.patch(
        "/api/users/me",
        json={"password": "another long password", "currentPassword": account.password},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    transport = httpx2.ASGITransport(app=served)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.post("/mcp", json={}, headers=account.headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


async def test_every_tool_is_listed_with_the_rest_schemas(
    served: FastAPI, accounts: Accounts
) -> None:
    account = await accounts.create()
    async with mcp_session(served, account.headers) as session:
        listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == TOOL_NAMES == {spec.name for spec in TOOLS}
    for tool in listed.values():
        assert tool.description
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None
    move = listed["move_card"].input_schema
    assert move["required"] == ["column", "afterId", "cardId"]
    column = move["$defs"]["CardColumn"]
    assert column["enum"] == [column.value for column in CardColumn]
    card = listed["create_cards"].input_schema["$defs"]["CardCreate"]
    assert card["properties"]["title"]["maxLength"] == 200
    assert card["additionalProperties"] is False
    assert listed["get_card"].annotations is not None
    assert listed["get_card"].annotations.read_only_hint is True
    assert listed["delete_board"].annotations is not None
    assert listed["delete_board"].annotations.destructive_hint is True


async def test_a_board_made_and_worked_through_mcp_records_the_rest_events(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    token = await create_api_token(client, owner)
    async with mcp_session(served, token.headers) as session:
        board = await call_tool(session, "create_board", title="Roadmap")
        created = await call_tool(
            session,
            "create_cards",
            boardId=board["id"],
            cards=[{"title": "Write"}, {"title": "Ship", "column": "DOING"}],
        )
        write, ship = created["cards"]
        moved = await call_tool(
            session, "move_card", cardId=write["id"], column="DOING", afterId=ship["id"]
        )
        shown = await call_tool(session, "get_board", boardId=board["id"])
    assert moved["column"] == "DOING"
    assert [card["id"] for card in shown["cards"]] == [ship["id"], write["id"]]
    assert (
        shown["board"]
        == (await client.get(f"/api/boards/{board['id']}", headers=owner.headers)).json()
    )
    # The same move through REST, for comparison: the feed cannot tell them apart.
    rest_moved = await move_card(client, owner, ship["id"], "DOING", write["id"])
    assert rest_moved.status_code == 200, rest_moved.text
    events = await board_events(client, owner, board["id"])
    assert [event["type"] for event in events] == [
        "card.created",
        "card.created",
        "card.moved",
        "card.moved",
    ]
    by_mcp, by_rest = events[2], events[3]
    assert by_mcp["data"] == moved
    assert by_rest["data"] == rest_moved.json()
    assert by_mcp["actorId"] == by_rest["actorId"] == owner.id
    assert by_mcp.keys() == by_rest.keys()


async def test_results_are_the_rest_answers(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner, "Plans")
    (card,) = await create_cards(
        client,
        owner,
        board["id"],
        {"title": "Card", "labels": ["red"], "dueAt": "2030-01-31T17:00:00Z"},
    )
    async with mcp_session(served, owner.headers) as session:
        read = await call_tool(session, "get_card", cardId=card["id"])
        boards = await call_tool(session, "list_boards")
        listed = await call_tool(session, "list_cards", boardId=board["id"])
        members = await call_tool(session, "list_members", boardId=board["id"])
        result = await session.call_tool("get_card", {"cardId": card["id"]})
    rest_card = await client.get(f"/api/cards/{card['id']}", headers=owner.headers)
    assert read == rest_card.json()
    assert boards == {"boards": (await client.get("/api/boards", headers=owner.headers)).json()}
    assert listed == {"cards": [rest_card.json()], "nextCursor": None}
    rest_members = await client.get(f"/api/boards/{board['id']}/users", headers=owner.headers)
    assert members == {"members": rest_members.json()}
    summary, as_text = [block.text for block in result.content if block.type == "text"]
    assert summary == f"Card #{card['id']} 'Card' in BACKLOG"
    assert as_text == rest_card.text


async def test_the_card_list_pages_with_next_cursor(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    board = await create_board(client, owner)
    cards = await create_cards(client, owner, board["id"], *({"title": f"#{n}"} for n in range(3)))
    seen: list[int] = []
    async with mcp_session(served, owner.headers) as session:
        page = await call_tool(session, "list_cards", boardId=board["id"], limit=2)
        seen += [card["id"] for card in page["cards"]]
        page = await call_tool(
            session, "list_cards", boardId=board["id"], limit=2, cursor=page["nextCursor"]
        )
        seen += [card["id"] for card in page["cards"]]
        archived = await call_tool(session, "list_cards", boardId=board["id"], archived=True)
    assert seen == [card["id"] for card in cards]
    assert page["nextCursor"] is None
    assert archived == {"cards": [], "nextCursor": None}


async def test_a_read_only_token_reads_but_every_write_tool_fails_without_an_event(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner, board, card = await _board_with_card(client, accounts)
    other = await accounts.create()
    reader = await create_api_token(client, owner, scopes=["read"])
    before = await board_events(client, owner, board["id"])
    writes = {
        "create_board": {"title": "New"},
        "update_board": {"boardId": board["id"], "title": "Renamed"},
        "delete_board": {"boardId": board["id"]},
        "create_cards": {"boardId": board["id"], "cards": [{"title": "New"}]},
        "update_card": {"cardId": card["id"], "title": "Renamed"},
        "move_card": {"cardId": card["id"], "column": "DONE", "afterId": None},
        "delete_card": {"cardId": card["id"]},
        "add_comment": {"cardId": card["id"], "body": "Hello"},
        "share_board": {"boardId": board["id"], "userId": other.id},
    }
    assert set(writes) == {spec.name for spec in TOOLS if spec.changes_boards}
    async with mcp_session(served, reader.headers) as session:
        for name, arguments in writes.items():
            error = await tool_error(session, name, **arguments)
            assert error["status"] == 403, (name, error)
            assert "read scope" in error["detail"]
        assert (await call_tool(session, "get_card", cardId=card["id"]))["title"] == "Card"
        # Finding a user writes no board, as POST /api/users/search is allowed too.
        assert (await call_tool(session, "find_user", email=other.email))["id"] == other.id
    assert await board_events(client, owner, board["id"]) == before
    assert (await client.get("/api/boards", headers=owner.headers)).json()[0]["title"] == "Board"


async def test_a_board_limited_token_sees_only_its_boards(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner = await accounts.create()
    mine, other = await create_board(client, owner, "Mine"), await create_board(client, owner)
    (card,) = await create_cards(client, owner, other["id"], {"title": "Elsewhere"})
    limited = await create_api_token(client, owner, boardIds=[mine["id"]])
    async with mcp_session(served, limited.headers) as session:
        boards = await call_tool(session, "list_boards")
        assert [board["id"] for board in boards["boards"]] == [mine["id"]]
        for name, arguments in {
            "get_board": {"boardId": other["id"]},
            "get_card": {"cardId": card["id"]},
            "move_card": {"cardId": card["id"], "column": "DONE", "afterId": None},
        }.items():
            assert (await tool_error(session, name, **arguments))["status"] == 404
        refused = await tool_error(session, "create_board", title="Outside")
    assert refused["status"] == 403


async def test_an_outsiders_get_card_is_a_not_found_tool_error(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    _, _, card = await _board_with_card(client, accounts)
    outsider = await accounts.create()
    async with mcp_session(served, outsider.headers) as session:
        error = await tool_error(session, "get_card", cardId=card["id"])
        missing = await tool_error(session, "get_card", cardId=card["id"] + 1)
    assert error == {"status": 404, "detail": "Card not found", "text": "Error 404: Card not found"}
    assert missing == error


async def test_invalid_arguments_are_tool_errors_naming_the_problem(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner, board, card = await _board_with_card(client, accounts)
    async with mcp_session(served, owner.headers) as session:
        column = await tool_error(
            session, "move_card", cardId=card["id"], column="LATER", afterId=None
        )
        unknown = await tool_error(session, "get_card", cardId=card["id"], colour="red")
        missing = await tool_error(session, "move_card", cardId=card["id"], column="DONE")
        blank = await tool_error(
            session, "create_cards", boardId=board["id"], cards=[{"title": " "}]
        )
        after = await tool_error(
            session, "move_card", cardId=card["id"], column="DONE", afterId=card["id"]
        )
        nulled = await tool_error(session, "update_card", cardId=card["id"], title=None)
        stranger = await tool_error(
            session,
            "create_cards",
            boardId=board["id"],
            cards=[{"title": "Mine"}, {"title": "Theirs", "assigneeIds": [owner.id + 1000]}],
        )
        no_tool = await tool_error(session, "rename_everything")
    assert column["status"] == 422
    assert "column: Input should be 'BACKLOG', 'TODO', 'DOING' or 'DONE'" in column["text"]
    assert "colour" in unknown["text"]
    assert "afterId: Field required" in missing["text"]
    assert "cards.0.title" in blank["text"]
    assert after["status"] == nulled["status"] == 422
    assert "afterId" in after["text"]
    assert "title cannot be null" in nulled["text"]
    assert stranger["status"] == 422
    assert "cards.1.assigneeIds: Assignees must be members" in stranger["text"]
    assert no_tool["status"] == 404
    assert "list_boards" in no_tool["text"]
    assert [event["type"] for event in await board_events(client, owner, board["id"])] == [
        "card.created"
    ]


async def test_a_full_column_is_a_conflict_naming_it(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner, board, card = await _board_with_card(client, accounts)
    async with mcp_session(served, owner.headers) as session:
        await call_tool(
            session,
            "update_board",
            boardId=board["id"],
            columns=[{"key": "DOING", "name": "In progress", "wipLimit": 1}],
        )
        await call_tool(session, "move_card", cardId=card["id"], column="DOING", afterId=None)
        error = await tool_error(
            session,
            "create_cards",
            boardId=board["id"],
            cards=[{"title": "More", "column": "DOING"}],
        )
    assert error["status"] == 409
    assert "'In progress' (DOING) has a WIP limit of 1" in error["detail"]


async def test_comments_members_and_activity(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner, board, card = await _board_with_card(client, accounts)
    colleague = await accounts.create()
    async with mcp_session(served, owner.headers) as session:
        found = await call_tool(session, "find_user", email=colleague.email.upper())
        member = await call_tool(
            session, "share_board", boardId=board["id"], userId=found["id"], role="viewer"
        )
        comment = await call_tool(session, "add_comment", cardId=card["id"], body="Looks good")
        comments = await call_tool(session, "list_comments", cardId=card["id"])
        activity = await call_tool(session, "board_activity", boardId=board["id"], after=1)
        renamed = await call_tool(session, "update_card", cardId=card["id"], title="Renamed")
        deleted = await call_tool(session, "delete_card", cardId=card["id"])
        gone = await call_tool(session, "delete_board", boardId=board["id"])
        unknown = await tool_error(session, "find_user", email="nobody@example.com")
    assert member == {
        "id": colleague.id,
        "email": colleague.email,
        "role": "viewer",
        "status": "member",
    }
    assert comments == {"comments": [comment]}
    assert comment["authorId"] == owner.id
    assert [event["type"] for event in activity["events"]] == ["member.added", "comment.created"]
    assert renamed["title"] == "Renamed"
    assert deleted == {"id": card["id"]}
    assert gone == {"id": board["id"]}
    assert unknown["status"] == 404
    response = await client.get(f"/api/boards/{board['id']}", headers=owner.headers)
    assert response.status_code == 404


class _Alternating(httpx2.AsyncBaseTransport):
    """Sends each request to the next of several apps, as a load balancer over workers."""

    def __init__(self, apps: list[FastAPI]) -> None:
        self.transports = cycle([httpx2.ASGITransport(app=app) for app in apps])

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await next(self.transports).handle_async_request(request)


async def test_any_worker_answers_any_request(
    served: FastAPI, settings: Settings, client: AsyncClient, accounts: Accounts
) -> None:
    """Stateless: initialize on one worker, each tool call on another."""
    owner = await accounts.create()
    other_worker = create_app(settings)
    try:
        async with running(other_worker):
            transport = _Alternating([served, other_worker])
            async with mcp_session(served, owner.headers, transport=transport) as session:
                board = await call_tool(session, "create_board", title="Shared")
                await call_tool(
                    session, "create_cards", boardId=board["id"], cards=[{"title": "A"}]
                )
                shown: dict[str, Any] = await call_tool(session, "get_board", boardId=board["id"])
    finally:
        await state_of(other_worker).database.dispose()
    assert [card["title"] for card in shown["cards"]] == ["A"]


async def test_mcp_requests_count_against_the_rate_limit(
    settings: Settings, accounts: Accounts
) -> None:
    owner = await accounts.create()
    limited = create_app(Settings(**(settings.model_dump() | {"rate_limit_per_minute": 2})))
    try:
        async with running(limited):
            transport = httpx2.ASGITransport(app=limited)
            async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
                answers = [
                    await http.post("/mcp", json={}, headers=owner.headers) for _ in range(3)
                ]
    finally:
        await state_of(limited).database.dispose()
    assert answers[0].headers["RateLimit-Limit"] == "2"
    assert answers[-1].status_code == 429


async def test_sharing_with_a_stranger_invites_without_their_email(
    served: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner, board, _ = await _board_with_card(client, accounts)
    stranger = await accounts.create()
    async with mcp_session(served, owner.headers) as session:
        shared = await call_tool(session, "share_board", boardId=board["id"], userId=stranger.id)
        members = await call_tool(session, "list_members", boardId=board["id"])
    assert shared == {"id": stranger.id, "email": None, "role": "editor", "status": "invited"}
    assert stranger.email not in str(members)
    invitations = await client.get("/api/invitations", headers=stranger.headers)
    assert [invitation["boardId"] for invitation in invitations.json()] == [board["id"]]
