"""Bad input of every kind gets a clear 4xx, never a 500, and limits hold in the database too."""

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import exc, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from kanban_api.middleware import MAX_BODY_BYTES
from kanban_api.models import Base, Board, Card, Comment, Label, LabelColor, User
from tests.helpers import Accounts, detail


@pytest.fixture
async def card(auth_client: AsyncClient) -> dict[str, Any]:
    """A card on a board of the `auth_client` user, with one comment (`commentId`)."""
    response = await auth_client.post("/api/boards", json={"title": "Board"})
    board_id = response.json()["id"]
    response = await auth_client.post(f"/api/boards/{board_id}/cards", json=[{"title": "Card"}])
    created: dict[str, Any] = response.json()[0]
    response = await auth_client.post(f"/api/cards/{created['id']}/comments", json={"body": "c"})
    return {**created, "commentId": response.json()["id"]}


# (method, path template, body maker, kind of text field) for every free-text field.
TEXT_FIELDS: list[tuple[str, str, Callable[[str], Any], str]] = [
    ("POST", "/api/boards", lambda text: {"title": text}, "title"),
    ("POST", "/api/boards", lambda text: {"title": "ok", "description": text}, "description"),
    ("PATCH", "/api/boards/{board}", lambda text: {"title": text}, "title"),
    ("PATCH", "/api/boards/{board}", lambda text: {"description": text}, "description"),
    (
        "PATCH",
        "/api/boards/{board}",
        lambda text: {"labels": [{"color": "red", "name": text}]},
        "name",
    ),
    ("POST", "/api/boards/{board}/cards", lambda text: [{"title": text}], "title"),
    (
        "POST",
        "/api/boards/{board}/cards",
        lambda text: [{"title": "ok", "description": text}],
        "description",
    ),
    ("PATCH", "/api/cards/{card}", lambda text: {"title": text}, "title"),
    ("PATCH", "/api/cards/{card}", lambda text: {"description": text}, "description"),
    ("POST", "/api/cards/{card}/comments", lambda text: {"body": text}, "body"),
    ("PATCH", "/api/comments/{comment}", lambda text: {"body": text}, "body"),
]
TOO_LONG = {
    "title": "t" * 201,
    "description": "d" * 20_001,
    "name": "n" * 201,
    "body": "b" * 10_001,
}
# Text that must not be empty.
REQUIRED = {"title", "body"}


async def send_json(client: AsyncClient, method: str, path: str, body: Any) -> Response:
    """JSON with non-ASCII escaped, so that even unpaired surrogates can be sent."""
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return await client.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize("invalid", ["before\x00after", "\ud800", "pair \ud83d alone"])
async def test_unstorable_text_is_refused_with_422(
    auth_client: AsyncClient, card: dict[str, Any], invalid: str
) -> None:
    for method, template, body, _ in TEXT_FIELDS:
        path = template.format(board=card["boardId"], card=card["id"], comment=card["commentId"])
        response = await send_json(auth_client, method, path, body(invalid))
        assert response.status_code == 422, (method, path, response.text)
    if "\x00" in invalid:  # a URL cannot carry a lone surrogate at all
        path = f"/api/boards/{card['boardId']}/cards"
        response = await auth_client.get(path, params={"q": invalid})
        assert response.status_code == 422, response.text


@pytest.mark.parametrize("blank", [" ", "\t\n ", "\u3000\u00a0", "\ufeff\u2028"])
async def test_titles_and_comments_of_whitespace_alone_are_refused(
    auth_client: AsyncClient, card: dict[str, Any], blank: str
) -> None:
    for method, template, body, kind in TEXT_FIELDS:
        if kind not in REQUIRED:
            continue
        path = template.format(board=card["boardId"], card=card["id"], comment=card["commentId"])
        response = await send_json(auth_client, method, path, body(blank))
        assert response.status_code == 422, (method, path, kind)
    # Whitespace around visible text is kept as sent.
    response = await auth_client.patch(f"/api/cards/{card['id']}", json={"title": " x "})
    assert response.json()["title"] == " x "
    comments = await auth_client.get(f"/api/cards/{card['id']}/comments")
    assert [comment["body"] for comment in comments.json()] == ["c"]
    boards = await auth_client.get("/api/boards")
    assert [board["title"] for board in boards.json()] == ["Board"]


async def test_length_limits(auth_client: AsyncClient, card: dict[str, Any]) -> None:
    for method, template, body, kind in TEXT_FIELDS:
        path = template.format(board=card["boardId"], card=card["id"], comment=card["commentId"])
        response = await send_json(auth_client, method, path, body(TOO_LONG[kind]))
        assert response.status_code == 422, (method, path, kind)
        if kind in REQUIRED:
            response = await send_json(auth_client, method, path, body(""))
            assert response.status_code == 422, (method, path, kind)
    # The limits themselves are allowed, counted in characters, not bytes.
    title, description = "é" * 200, "ü" * 20_000
    response = await auth_client.post("/api/boards", json={"title": title})
    assert response.status_code == 201
    response = await auth_client.patch(
        f"/api/cards/{card['id']}", json={"title": title, "description": description}
    )
    assert response.status_code == 200
    assert response.json()["title"] == title
    assert response.json()["description"] == description


async def test_account_limits(client: AsyncClient, accounts: Accounts) -> None:
    account = await accounts.create()
    local = "a" * 64
    long_email = f"{local}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com"  # 259 characters
    for body in (
        {"email": long_email, "password": "long enough"},
        {"email": "not an email", "password": "long enough"},
        {"email": "a@example.com", "password": "seven c"},
        {"email": "a@example.com", "password": "p" * 257},
        {"email": "a@example.com", "password": "long\x00enough"},
    ):
        assert (await client.post("/api/users", json=body)).status_code == 422
    response = await client.post(
        "/api/users", json={"email": "b@example.com", "password": "p" * 256}
    )
    assert response.status_code == 201
    response = await client.post(
        "/api/users/search", json={"email": "x\x00@example.com"}, headers=account.headers
    )
    assert response.status_code == 422


async def test_batches_and_label_sets_are_bounded(auth_client: AsyncClient) -> None:
    board = (await auth_client.post("/api/boards", json={"title": "Board"})).json()
    cards_path = f"/api/boards/{board['id']}/cards"
    response = await auth_client.post(cards_path, json=[{"title": "c"}] * 501)
    assert response.status_code == 422
    response = await auth_client.post(cards_path, json=[{"title": "c"}] * 500)
    assert response.status_code == 201
    response = await auth_client.post(
        cards_path, json=[{"title": "c", "labels": [*LabelColor, "red"]}]
    )
    assert response.status_code == 422
    renames = [{"color": "red", "name": "x"}] * 8
    response = await auth_client.patch(f"/api/boards/{board['id']}", json={"labels": renames})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/boards/99999999999999999999",
        "/api/boards/2147483648",
        "/api/boards/0",
        "/api/boards/-1",
        "/api/boards/1e3",
        "/api/boards/1.0",
        "/api/boards/%00",
        "/api/boards/%20",
        "/api/boards/99999999999999999999/cards",
        "/api/boards/1/users/99999999999999999999",
        "/api/cards/99999999999999999999",
        "/api/cards/" + "9" * 5000,
    ],
)
async def test_odd_ids_in_paths_get_4xx(auth_client: AsyncClient, path: str) -> None:
    for method in ("GET", "PATCH", "DELETE", "PUT", "POST"):
        response = await auth_client.request(method, path, json={})
        assert response.status_code in (404, 405, 422), (method, response.text)
        assert detail(response)


async def test_ids_past_the_database_integer_get_422(auth_client: AsyncClient) -> None:
    for path in ("/api/boards/99999999999999999999", "/api/cards/2147483648"):
        response = await auth_client.get(path)
        assert response.status_code == 422
        assert detail(response)[0]["loc"][0] == "path"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"title": "unterminated', "application/json"),
        (b"", "application/json"),
        (b"[" * 100_000, "application/json"),
        (b'{"title": "\xff\xfe"}', "application/json"),
        (b'{"title": NaN}', "application/json"),
        (b'{"title": 1e999}', "application/json"),
        (b'{"title": 123456789012345678901234567890}', "application/json"),
        (b'{"title": "ok"}', "text/plain"),
        (b'{"title": "ok"}', "application/x-www-form-urlencoded"),
        (b"title=ok", "application/x-www-form-urlencoded"),
        (b"--x\r\n\r\n", "multipart/form-data; boundary=x"),
        (b'"a string"', "application/json"),
        (b"null", "application/json"),
    ],
)
async def test_malformed_bodies_get_4xx(
    auth_client: AsyncClient, content: bytes, content_type: str
) -> None:
    response = await auth_client.post(
        "/api/boards", content=content, headers={"Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, response.text
    assert detail(response)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"username": "a@example.com", "password": "x"}', "application/json"),
        (b"username=a%00b&password=x", "application/x-www-form-urlencoded"),
        (b"username=%FF%FE&password=x", "application/x-www-form-urlencoded"),
        (b"username=a&password=%ED%A0%80", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "multipart/form-data; boundary=x"),
    ],
)
async def test_malformed_login_forms_get_4xx(
    client: AsyncClient, content: bytes, content_type: str
) -> None:
    response = await client.post(
        "/api/auth/tokens", content=content, headers={"Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, response.text


class Chunks:
    """A request body sent in chunks, remembering how many the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent * self.chunk < self.total:
            self.sent += 1
            yield b" " * self.chunk


async def test_bodies_over_1_mib_are_refused_unread(auth_client: AsyncClient) -> None:
    body = Chunks(total=10 * MAX_BODY_BYTES)
    response = await auth_client.post(
        "/api/boards",
        content=body,
        headers={"Content-Type": "application/json", "Content-Length": str(body.total)},
    )
    assert response.status_code == 413
    assert "exceeds" in detail(response)
    assert body.sent == 0  # refused on the declared length alone


@pytest.mark.parametrize("path", ["/api/boards", "/api/auth/tokens", "/api/users"])
async def test_chunked_bodies_are_cut_off_past_1_mib(auth_client: AsyncClient, path: str) -> None:
    body = Chunks(total=10 * MAX_BODY_BYTES)
    response = await auth_client.post(
        path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert "exceeds" in detail(response)
    assert MAX_BODY_BYTES < body.sent * body.chunk < body.total


async def test_bodies_up_to_1_mib_are_accepted(auth_client: AsyncClient) -> None:
    board = (await auth_client.post("/api/boards", json={"title": "Board"})).json()
    cards = [{"title": "c", "description": "x" * 2000}] * 500  # about 1,010,000 bytes
    response = await auth_client.post(f"/api/boards/{board['id']}/cards", json=cards)
    assert response.status_code == 201
    assert len(response.json()) == 500


@pytest.mark.parametrize(
    ("model", "column", "limit", "minimum"),
    [
        (Board, "title", 200, 1),
        (Board, "description", 20_000, 0),
        (Card, "title", 200, 1),
        (Card, "description", 20_000, 0),
        (Label, "name", 200, 0),
        (User, "email", 254, 0),
        (User, "email_key", 254, 0),
        (Comment, "body", 10_000, 1),
    ],
)
async def test_the_database_refuses_what_the_api_would(
    engine: AsyncEngine, model: type[Base], column: str, limit: int, minimum: int
) -> None:
    """Whatever code path writes, the tables themselves hold the limits (SQLite too)."""
    async with engine.begin() as connection:
        board = await connection.execute(
            insert(Board).values(title="b", description="").returning(Board.id)
        )
        board_id = board.scalar_one()
        card = await connection.execute(
            insert(Card)
            .values(board_id=board_id, title="c", description="", position=0)
            .returning(Card.id)
        )
        card_id = card.scalar_one()
    rows: dict[type[Base], dict[str, Any]] = {
        Board: {"title": "b", "description": ""},
        Card: {"board_id": board_id, "title": "c", "description": "", "position": 1},
        Label: {"board_id": board_id, "color": LabelColor.RED, "name": ""},
        User: {"email": "", "email_key": "", "hashed_password": "x"},
        Comment: {"card_id": card_id, "body": "b"},
    }
    valid = rows[model]
    if minimum:
        with pytest.raises(exc.DBAPIError):
            async with engine.begin() as connection:
                await connection.execute(insert(model).values({**valid, column: ""}))
    with pytest.raises(exc.DBAPIError):
        async with engine.begin() as connection:
            await connection.execute(insert(model).values({**valid, column: "é" * (limit + 1)}))
    async with engine.begin() as connection:
        await connection.execute(insert(model).values({**valid, column: "é" * limit}))


@pytest.mark.parametrize("length", [b"abc", b"-1", b"\xb2", b"1e9"])
async def test_nonsense_content_length_gets_400(auth_client: AsyncClient, length: bytes) -> None:
    response = await auth_client.post(
        "/api/boards",
        content=b'{"title": "t"}',
        headers=[(b"content-type", b"application/json"), (b"content-length", length)],
    )
    assert response.status_code == 400
    assert detail(response) == "Invalid Content-Length"
