"""Schemathesis fuzzes every operation of the app's own OpenAPI schema, logged in.

For each operation, valid (positive) and invalid (negative) requests are generated,
deterministically and in bounded number, and every answer must be a non-5xx that
the schema documents: status code, content type, headers and body.

Half of the valid requests name a real board, card and user (the rest get random
ids), so that the code behind the 404s is reached too. Between examples the test
repairs what a request may have broken: a deleted board, a changed password.
"""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import hypothesis
import pytest
import schemathesis
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis import CheckContext, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.database import create_engine
from tests.conftest import TEST_SECRET, empty_tables

EXAMPLES_PER_MODE = 10
FuzzCase = schemathesis.Case[Any]

# Rules no schema can state (a cursor must come from a Link header, assignees must be
# members, afterId a card of that column, one label rename per colour, a webhook's URL
# a public host; the schema's descriptions tell them): schema-valid data may break
# them and get a 422 at one of these places. Keyed by operation; `*` stands for a batch index.
REFERENCE_RULES: dict[str, set[tuple[str, ...]]] = {
    "GET /api/boards/{board_id}/cards": {("query", "cursor")},
    "GET /api/trash": {("query", "cursor")},
    "PATCH /api/boards/{board_id}": {("body", "labels"), ("body", "columns")},
    "POST /api/boards/{board_id}/cards": {("body", "*", "assigneeIds")},
    "PATCH /api/cards/{card_id}": {("body", "assigneeIds")},
    "POST /api/cards/{card_id}/move": {("body", "afterId")},
    "POST /api/users/me/tokens": {("body", "boardIds")},
    # Where a webhook's URL leads takes resolving its host (docs/webhooks.md).
    "POST /api/boards/{board_id}/webhooks": {("body", "url")},
    "PATCH /api/boards/{board_id}/webhooks/{webhook_id}": {("body", "url")},
    "POST /api/cards/{card_id}/checklist": {("body", "afterId")},
    "PATCH /api/checklist-items/{item_id}": {("body", "afterId")},
    # A document's references: lists of the Trello export, one card's checklists in all at
    # most 100 items, comments that still fit once they name their author, and each
    # column key and label colour named once.
    "POST /api/boards/import": {
        ("body", "kanban", "columns"),
        ("body", "kanban", "labels"),
        ("body", "mapped", "listMapping"),
        ("body", "trello", "cards", "*", "idList"),
        ("body", "mapped", "trello", "cards", "*", "idList"),
        ("body", "trello", "checklists", "*"),
        ("body", "mapped", "trello", "checklists", "*"),
        ("body", "trello", "actions", "*", "data", "text"),
        ("body", "mapped", "trello", "actions", "*", "data", "text"),
        ("body", "kanban", "cards", "*", "comments", "*", "body"),
    },
}


def valid_data_accepted(
    ctx: CheckContext, response: schemathesis.Response, case: FuzzCase
) -> bool | None:
    """Schemathesis' positive_data_acceptance, except for answers that are right.

    A 412 for a valid but stale If-Match, a 410 for an event `after` the board's log
    does not hold, and a 422 for breaking a reference rule.
    """
    if response.status_code in (410, 412):
        return None
    if response.status_code == 422:
        # Any write: a fuzzed Idempotency-Key may repeat with another body.
        allowed = REFERENCE_RULES.get(case.operation.label, set()) | {("header", "Idempotency-Key")}
        locs = {
            tuple("*" if isinstance(part, int) else part for part in error["loc"])
            for error in response.json()["detail"]
        }
        if locs <= allowed:
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    valid_data_accepted,
    ignored_auth,
]


# A valid request to the event stream is answered by a stream that never ends, which
# a fuzzer cannot wait out; its answers are tested in tests/events/test_event_stream.py.
ENDLESS = {"GET /api/boards/{board_id}/events/stream"}


# Changing the account's own password retires the token the other operations use; run
# last, its fuzzing cannot get in their way (World.repair logs in again regardless).
LAST = "PATCH /api/users/me"


def operation_labels() -> list[str]:
    """Listed from a throw-away app (it never connects), so that each gets its own test."""
    settings = Settings(_env_file=None, secret_key=TEST_SECRET, database_url="sqlite://")
    paths = create_app(settings).openapi()["paths"]
    labels = [f"{method.upper()} {path}" for path, methods in paths.items() for method in methods]
    return sorted(
        (label for label in labels if label not in ENDLESS), key=lambda label: label == LAST
    )


def reserved_email(body: Any) -> bool:
    """Whether the body's email has a special-use domain (`.test`, `.local`, ...).

    JSON Schema's `format: email` allows them, email-validator (rightly) refuses them;
    valid requests are generated without them instead of documenting the list.
    """
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str):
        return False
    return email.rsplit(".", 1)[-1].rsplit("@", 1)[-1].lower() in SPECIAL_USE_DOMAIN_NAMES


class World:
    """A user with a token, another user, a board, a card with a comment: real ids to fuzz."""

    def __init__(self, client: asgi.ASGIClient) -> None:
        self.client = client
        self.email, self.password = "fuzz-owner@example.com", "fuzz owner password"
        self.user_id = self._sign_up(self.email, self.password)
        self.other_user_id = self._sign_up("fuzz-other@example.com", "fuzz other password")
        self.token = self._login()
        self.board_id = self.card_id = self.comment_id = self.token_id = self.webhook_id = 0
        self.item_id = 0
        self.repair()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def ids(self) -> dict[str, int]:
        return {
            "board_id": self.board_id,
            "card_id": self.card_id,
            "comment_id": self.comment_id,
            "item_id": self.item_id,
            "user_id": self.other_user_id,
            "token_id": self.token_id,
            "webhook_id": self.webhook_id,
        }

    def after(self, case: FuzzCase, response: schemathesis.Response) -> None:
        """Follow a successful change of our own credentials, as a client would."""
        if case.operation.label == "PATCH /api/users/me" and response.status_code == 200:
            body = case.body if isinstance(case.body, dict) else {}
            self.email = response.json()["email"]
            self.password = str(body.get("password", self.password))

    def repair(self) -> None:
        if self.client.get("/api/users/me", headers=self.headers).status_code != 200:
            self.token = self._login()
        if self._get(f"/api/boards/{self.board_id}") != 200:
            self.board_id = self._post("/api/boards", {"title": "Fuzzed"})["id"]
        if self._get(f"/api/cards/{self.card_id}") != 200:
            # A fuzzed WIP limit must not keep the card from being made again.
            unlimited = [{"key": key, "wipLimit": None} for key in ("BACKLOG", "TODO")]
            self.client.patch(
                f"/api/boards/{self.board_id}", json={"columns": unlimited}, headers=self.headers
            )
            cards = self._post(f"/api/boards/{self.board_id}/cards", [{"title": "Fuzzed"}])
            self.card_id = cards[0]["id"]
        tokens = self.client.get("/api/users/me/tokens", headers=self.headers).json()
        if self.token_id not in {token["id"] for token in tokens}:
            body = {"name": "Fuzzed", "scopes": ["read"]}
            self.token_id = self._post("/api/users/me/tokens", body)["id"]
        comments = self.client.get(f"/api/cards/{self.card_id}/comments", headers=self.headers)
        if self.comment_id not in {comment["id"] for comment in comments.json()}:
            path = f"/api/cards/{self.card_id}/comments"
            self.comment_id = self._post(path, {"body": "Fuzzed"})["id"]
        if self._get(f"/api/boards/{self.board_id}/webhooks/{self.webhook_id}") != 200:
            path = f"/api/boards/{self.board_id}/webhooks"
            self.webhook_id = self._post(path, {"url": "http://127.0.0.1:9/hook"})["id"]
        items = self.client.get(f"/api/cards/{self.card_id}/checklist", headers=self.headers)
        if self.item_id not in {item["id"] for item in items.json()}:
            path = f"/api/cards/{self.card_id}/checklist"
            self.item_id = self._post(path, {"text": "Fuzzed"})["id"]

    def _sign_up(self, email: str, password: str) -> int:
        response = self.client.post("/api/users", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        user_id: int = response.json()["id"]
        return user_id

    def _login(self) -> str:
        response = self.client.post(
            "/api/auth/tokens", data={"username": self.email, "password": self.password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def _get(self, path: str) -> int:
        return self.client.get(path, headers=self.headers).status_code

    def _post(self, path: str, body: Any) -> Any:
        response = self.client.post(path, json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()


@dataclass
class Target:
    client: asgi.ASGIClient
    schema: OpenApiSchema
    world: World


@pytest.fixture(scope="module")
def target(database_url: str) -> Iterator[Target]:
    """The app, served in Schemathesis' own event loop, shared by this module's tests.

    The database is emptied after. Fuzzed logins fail by the hundred from one
    address, and one user sends hundreds of requests a minute, so the address limit
    and the rate limit are lifted here; the limits have their own tests.
    """
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=TEST_SECRET,
        login_max_failures_per_address=10**6,
        rate_limit_per_minute=0,
        # The world's webhook points at a closed loopback port: nothing leaves the machine.
        webhook_allow_private=True,
    )
    app = create_app(settings)
    try:
        with asgi.get_client(cast("asgi.ASGIApp", app)) as client:
            schema = schemathesis.openapi.from_asgi("/openapi.json", app)
            yield Target(client, schema, World(client))
    finally:
        asgi.shutdown_lifespans()  # the app's lifespan disposes of its engine
        asyncio.run(_empty(settings))


async def _empty(settings: Settings) -> None:
    engine: AsyncEngine = create_engine(settings.async_database_url)
    await empty_tables(engine)
    await engine.dispose()


@pytest.mark.parametrize("label", operation_labels())
def test_fuzz_operation(target: Target, label: str) -> None:
    client, world = target.client, target.world
    method, path = label.split(" ", 1)
    operation = target.schema[path][method]

    def check(case: FuzzCase, use_real_ids: bool) -> None:
        if case.meta is not None and case.meta.generation.mode.is_positive:
            hypothesis.assume(not reserved_email(case.body))
        world.repair()
        if use_real_ids:
            real = world.ids()
            case.path_parameters = {name: real[name] for name in case.path_parameters or {}}
        response = case.call(session=client, headers=world.headers)
        case.validate_response(response, checks=CHECKS, headers=world.headers)
        world.after(case, response)

    modes = [GenerationMode.POSITIVE]
    if any(map(len, (operation.path_parameters, operation.query, operation.body))):
        modes.append(GenerationMode.NEGATIVE)  # there is something to make invalid
    for mode in modes:
        # Real ids only in valid requests: an invalid one may be invalid because of its ids.
        real_ids = st.booleans() if mode is GenerationMode.POSITIVE else st.just(False)

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode), use_real_ids=real_ids)
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_MODE,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        def fuzz(case: FuzzCase, use_real_ids: bool) -> None:
            check(case, use_real_ids)

        fuzz()


def test_protected_operations_document_their_401(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                assert "401" in operation["responses"], f"{method.upper()} {path}"
