"""The outsider walk: every board- or card-scoped route, called by a non-member, answers 404.

The routes come from the app's route table and the request bodies from its OpenAPI
schema, so a route added later is walked without anyone listing it here.
"""

import itertools
import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from httpx import AsyncClient

from kanban_api.state import state_of
from tests import factories
from tests.helpers import Accounts, create_board, create_cards, create_comment

# Path parameters that place a route inside one board.
SCOPED = {"board_id", "card_id", "comment_id", "item_id"}
# Path parameters that place a route inside the caller's own account (another user's
# token is a 404: tests/auth/test_api_tokens.py).
OWN = {"token_id"}


def example(schema: dict[str, Any], openapi: dict[str, Any]) -> Any:
    """A small valid value for a JSON schema, enough for a request to pass validation."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example(openapi["components"]["schemas"][name], openapi)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return example(schema[combinator][0], openapi)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(value, openapi) for name, value in properties.items()}
    if kind == "array":
        return [example(schema["items"], openapi)] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if schema.get("format") == "email":
        return "member@example.com"
    return "x" * max(8, schema.get("minLength", 0))


def body_for(path: str, method: str, openapi: dict[str, Any]) -> Any:
    operation = openapi["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return example(content["application/json"]["schema"], openapi)


def scoped_routes(app: FastAPI) -> list[tuple[str, list[str], set[str]]]:
    """(path, its parameter names, methods) of every API route inside a board."""
    routes = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue  # the docs and the static client
        path, methods = _path_and_methods(route)
        names = re.findall(r"{(\w+)}", path)
        if SCOPED & set(names):
            routes.append((path, names, methods))
        elif not set(names) <= OWN:
            assert not names, (
                f"{path} has path parameters {names} the outsider walk does not know; "
                "if they place the route inside a board, add them to SCOPED and give "
                "them real ids in test_outsiders_find_nothing"
            )
    return routes


def _path_and_methods(route: RouteContext) -> tuple[str, set[str]]:
    assert route.path_format is not None
    assert route.methods is not None
    return route.path_format, route.methods


async def test_outsiders_find_nothing(
    app: FastAPI, client: AsyncClient, accounts: Accounts
) -> None:
    owner, outsider = await accounts.create(), await accounts.create()
    board = await create_board(client, owner, "Private", description="secret plans")
    cards = await create_cards(
        client, owner, board["id"], {"title": "Secret", "labels": ["red"]}, {"title": "Other"}
    )
    card = cards[0]
    comment = await create_comment(client, owner, card["id"], "secret remark")
    webhook_id = await factories.create_webhook(
        state_of(app).database, board_id=board["id"], owner_id=owner.id, url="https://a.test/"
    )
    item = await client.post(
        f"/api/cards/{card['id']}/checklist", json={"text": "secret step"}, headers=owner.headers
    )
    # A board and a card in the trash: as invisible to outsiders as live ones, restores included.
    trashed_board = await create_board(client, owner, "Trashed")
    trashed_card = cards[1]
    for path in (f"/api/boards/{trashed_board['id']}", f"/api/cards/{trashed_card['id']}"):
        assert (await client.delete(path, headers=owner.headers)).status_code == 204
    # Every path parameter gets real ids; user ids both the owner's and the outsider's own.
    ids = {
        "board_id": [board["id"], trashed_board["id"]],
        "card_id": [card["id"], trashed_card["id"]],
        "comment_id": [comment["id"]],
        "item_id": [item.json()["id"]],
        "user_id": [owner.id, outsider.id],
        "webhook_id": [webhook_id],
    }
    openapi = app.openapi()

    async def owners_view() -> list[Any]:
        paths = (
            f"/api/boards/{board['id']}",
            f"/api/boards/{board['id']}/cards",
            f"/api/boards/{board['id']}/users",
            f"/api/cards/{card['id']}/comments",
            f"/api/boards/{board['id']}/webhooks",
            f"/api/cards/{card['id']}/checklist",
            "/api/trash",
        )
        return [(await client.get(path, headers=owner.headers)).json() for path in paths]

    before = await owners_view()
    walked, answers = [], []
    for template, names, methods in scoped_routes(app):
        for method, values in itertools.product(
            sorted(methods), itertools.product(*(ids[name] for name in names))
        ):
            path = template.format(**dict(zip(names, values, strict=True)))
            body = body_for(template, method, openapi)
            response = await client.request(method, path, json=body, headers=outsider.headers)
            walked.append(f"{method} {template}")
            if response.status_code != 404:
                answers.append((method, path, response.status_code, response.text))
    assert answers == []
    assert len(set(walked)) >= 10  # the table really was walked
    assert await owners_view() == before
