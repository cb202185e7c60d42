"""Safe response headers, CORS without credentials, the access log, and no secrets leaking."""

import json
import logging
import secrets
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from httpx import AsyncClient

from kanban_api import cli
from kanban_api.middleware import access_log
from kanban_api.reads import boards as board_reads
from tests.conftest import ClientFactory
from tests.helpers import Accounts, detail

ACCESS_LOGGER = "kanban_api.access"
# The test's own HTTP client logs the URLs it requests; that is the client's log, not ours.
CLIENT_LOGGERS = ("httpx", "httpcore")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the server side logged, tracebacks included."""
    return "\n".join(
        caplog.handler.format(record)
        for record in caplog.records
        if not record.name.startswith(CLIENT_LOGGERS)
    )


async def test_api_answers_carry_safe_headers(client: AsyncClient) -> None:
    for response in (
        await client.get("/api/boards"),  # an error
        await client.get("/health/live"),  # a success
        await client.get("/openapi.json"),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers


async def test_https_answers_ask_for_hsts(client: AsyncClient) -> None:
    response = await client.get("https://test/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_swagger_ui_is_not_broken_by_the_policy(client: AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    # Swagger UI loads its bundle from this server, then starts it with an inline script.
    assert "/docs-assets/swagger-ui-bundle.js" in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src" not in policy
    assert "script-src" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_static_client_pages_keep_their_scripts(
    client_with: ClientFactory, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<script>boot()</script>", encoding="utf-8")
    client = await client_with(static_dir=tmp_path)
    response = await client.get("/")
    assert response.status_code == 200
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


async def test_wildcard_cors_origin_never_allows_credentials(client_with: ClientFactory) -> None:
    cors_client = await client_with(cors_origins=["*"])
    preflight = await cors_client.options(
        "/api/boards",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()

    response = await cors_client.get("/health/live", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


ORIGIN = "https://app.example"


async def _failing(*_: object, **__: object) -> None:
    raise RuntimeError("a bug")


async def _unreachable(*_: object, **__: object) -> None:
    raise ConnectionRefusedError("database down")


@pytest.mark.parametrize(
    ("status", "request_args", "broken"),
    [
        (500, {"method": "GET", "url": "/api/boards"}, _failing),
        (503, {"method": "GET", "url": "/api/boards"}, _unreachable),
        (413, {"method": "POST", "url": "/api/boards", "content": b"x" * (1024 * 1024 + 1)}, None),
        (422, {"method": "POST", "url": "/api/boards", "json": {}}, None),
        (404, {"method": "GET", "url": "/api/boards/999"}, None),
        (401, {"method": "GET", "url": "/api/users/me", "headers": {"Authorization": ""}}, None),
        (429, {"method": "POST", "url": "/api/auth/tokens", "data": {"username": "x@y.z"}}, None),
    ],
    ids=["500", "503", "413", "422", "404", "401", "429"],
)
async def test_every_answer_is_readable_cross_origin(
    client_with: ClientFactory,
    accounts: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    request_args: dict[str, Any],
    broken: Any,
) -> None:
    """CORS, the request id and the security headers on errors too, 500 and 503 included:
    otherwise a browser shows its client a network error instead of the answer."""
    request_args = {**request_args}  # the parameters are shared by both databases' runs
    account = await accounts.create()
    cors_client = await client_with(cors_origins=[ORIGIN], login_max_failures_per_address=1)
    if broken is not None:
        monkeypatch.setattr(board_reads, "list_boards", broken)
    if status == 429:
        request_args["data"] = {**request_args["data"], "password": "wrong password"}
        await cors_client.post("/api/auth/tokens", data=request_args["data"])
    headers = {**account.headers, "Origin": ORIGIN, **request_args.pop("headers", {})}
    response = await cors_client.request(**request_args, headers=headers)

    assert response.status_code == status
    assert "detail" in response.json()
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_one_structured_log_line_per_request(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = await client.get("/api/boards/12", headers={"X-Request-ID": "trace-42.a:b"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "trace-42.a:b"
    [line] = access_lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == "/api/boards/12"
    assert line["status"] == 401
    assert line["request_id"] == "trace-42.a:b"
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0


async def test_a_bug_is_a_json_500_with_the_request_id_and_headers(
    client: AsyncClient,
    accounts: Accounts,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug's own words")

    account = await accounts.create()
    monkeypatch.setattr(board_reads, "list_boards", broken)
    caplog.set_level(logging.INFO)
    response = await client.get(
        "/api/boards", headers={**account.headers, "X-Request-ID": "trace-500"}
    )

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert response.headers["x-request-id"] == "trace-500"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    [line] = access_lines(caplog)
    assert (line["status"], line["request_id"]) == (500, "trace-500")
    [error] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert "trace-500" in error.getMessage()
    assert "a bug's own words" in server_log(caplog)  # the traceback, for whoever fixes it


@pytest.mark.parametrize("sent", [None, "", "x" * 129, "evil\r\nid", "<script>", "ü-id"])
async def test_request_id_is_generated_unless_sane(
    client: AsyncClient, caplog: pytest.LogCaptureFixture, sent: str | None
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    headers = [] if sent is None else [(b"x-request-id", sent.encode())]
    response = await client.get("/health/live", headers=headers)
    request_id = response.headers["x-request-id"]
    assert request_id != sent
    assert len(request_id) == 32
    assert access_lines(caplog)[0]["request_id"] == request_id


async def test_rejected_password_appears_in_no_answer_and_no_log(
    client: AsyncClient, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    account = await accounts.create()
    caplog.set_level(logging.DEBUG)
    secret = "Sh0rt!"  # too short to sign up with
    responses = [
        await client.post("/api/users", json={"email": "a@example.com", "password": secret}),
        # A whole-body error (the email is missing) would echo every field.
        await client.post("/api/users", json={"password": secret * 2}),
        await client.patch("/api/users/me", json={"password": secret}, headers=account.headers),
        # Too long for the login form.
        await client.post(
            "/api/auth/tokens", data={"username": account.email, "password": secret * 200}
        ),
    ]
    for response in responses:
        assert response.status_code == 422
        assert secret not in response.text
        assert all("input" not in error for error in detail(response))
    assert detail(responses[0])[0]["loc"] == ["body", "password"]
    assert secret not in server_log(caplog)


async def test_tokens_and_query_strings_are_never_logged(
    client: AsyncClient, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    account = await accounts.create()
    caplog.set_level(logging.DEBUG)
    await client.get("/api/users/me", headers=account.headers)
    await client.get("/api/boards", params={"access_token": "leaked-query-token"})
    await client.get("/api/boards", headers={"Authorization": "Bearer forged.token.value"})
    assert len(access_lines(caplog)) == 3
    for secret in (account.token, "leaked-query-token", "forged.token.value", account.password):
        assert secret not in server_log(caplog)


def test_the_server_logs_requests_through_the_app_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn's own access log would write query strings, so `serve` turns it off."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_, **options: calls.append(options))
    monkeypatch.setenv("KANBAN_ENV", "production")
    monkeypatch.setenv("KANBAN_SECRET_KEY", secrets.token_urlsafe(48))
    # Port 0 (any free one): the README's own server may hold 8000 while the tests run.
    result = CliRunner().invoke(cli.main, ["serve", "--port", "0"])
    assert result.exit_code == 0, result.output
    [options] = calls
    assert options["access_log"] is False
    assert options["proxy_headers"] is True
    config = options["log_config"]
    [handler] = config["loggers"][access_log.name]["handlers"]
    formatter = config["handlers"][handler]["formatter"]
    assert config["formatters"][formatter] == {"format": "%(message)s"}  # bare JSON lines
