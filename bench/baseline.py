"""The benchmark's yardstick: the bench scenarios' endpoints as bare Starlette + asyncpg.

No ORM, no dependency injection, no validation models: hand-written SQL that
also checks the token's user, the membership and the role, and orjson for the
answer. It answers the same JSON as kanban-api for what the benchmark sends
(CardOut and BoardOut in their current shapes, the list in board order without
archived cards), and nothing more (PATCH takes only `title` and `description`,
no If-Match; a 404 where kanban-api would tell 401 from 404), so the ratio to it
is the price of the real app's framework, ORM and checks. A PATCH does the same
database work as kanban-api's: it locks the board row first, bumps the card's
version and records a `card.updated` event (the board's event counter, the
board_event row and the NOTIFY that live streams listen for), in one
transaction. Passwords are verified by kanban-api's own function, so that login
compares everything but the hash.

Run it like the app: `uvicorn bench.baseline:app` with KANBAN_DATABASE_URL (a
postgresql:// URL) and KANBAN_SECRET_KEY set.
"""

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kanban_api.events.message import MAX_NOTIFY_BYTES
from kanban_api.events.publish import CHANNEL
from kanban_api.utils.emails import email_key
from kanban_api.utils.password import verify_password

ALGORITHM = "HS256"
# The enums' stored indexes (models/enums.py), in order.
COLUMNS = ("BACKLOG", "TODO", "DOING", "DONE")
COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "gray")
ROLES = ("owner", "editor", "viewer")
WRITERS = (0, 1)  # owner and editor may edit cards
EDITABLE = {"title", "description"}

CARD_COLUMNS = """c.id, c.title, c.description, c.board_id, c."column", c.created_at,
    c.updated_at, c.position, c.version, c.due_at, c.archived"""
CARD_FIELDS = f"""{CARD_COLUMNS},
    ARRAY(SELECT l.color FROM card_label cl JOIN label l ON l.id = cl.label_id
          WHERE cl.card_id = c.id ORDER BY l.color) AS labels,
    ARRAY(SELECT a.user_id FROM card_assignee a WHERE a.card_id = c.id
          ORDER BY a.user_id) AS assignee_ids"""
MEMBER = """user_board m JOIN "user" u ON u.id = m.user_id AND u.credentials_version = $2"""

# As kanban-api does, the list aggregates the board's labels and assignees once rather
# than per card.
LIST_CARDS = f"""SELECT {CARD_COLUMNS}, coalesce(cl.colors, '{{}}') AS labels,
    coalesce(ca.ids, '{{}}') AS assignee_ids FROM {MEMBER}
    LEFT JOIN card c ON c.board_id = m.board_id AND NOT c.archived
    LEFT JOIN (SELECT cl.card_id, array_agg(l.color ORDER BY l.color) AS colors
               FROM label l JOIN card_label cl ON cl.label_id = l.id
               WHERE l.board_id = $3 GROUP BY cl.card_id) cl ON cl.card_id = c.id
    LEFT JOIN (SELECT card_id, array_agg(user_id ORDER BY user_id) AS ids
               FROM card_assignee WHERE board_id = $3 GROUP BY card_id) ca ON ca.card_id = c.id
    WHERE m.user_id = $1 AND m.board_id = $3 ORDER BY c."column", c.position, c.id"""
GET_CARD = f"""SELECT {CARD_FIELDS} FROM card c JOIN {MEMBER} ON m.board_id = c.board_id
    WHERE m.user_id = $1 AND c.id = $3"""
LIST_BOARDS = f"""SELECT b.id, b.title, b.description, b.created_at, b.updated_at, b.version,
    m.role, array_agg(l.color ORDER BY l.color) AS colors,
    array_agg(l.name ORDER BY l.color) AS names
    FROM {MEMBER} JOIN board b ON b.id = m.board_id JOIN label l ON l.board_id = b.id
    WHERE m.user_id = $1 GROUP BY b.id, m.role ORDER BY b.id"""
# The PATCH, in one transaction: the card's board locked first, as every writer of a
# board does in kanban-api (access.py: lock_board), with the access check...
LOCK_CARD_BOARD = f"""SELECT b.id, m.role FROM board b JOIN card c ON c.board_id = b.id
    JOIN {MEMBER} ON m.board_id = b.id WHERE m.user_id = $1 AND c.id = $3
    FOR NO KEY UPDATE OF b"""
# ...then the card, read and written after the lock is granted...
PATCH_CARD = f"""UPDATE card c SET title = coalesce($2, c.title),
    description = coalesce($3, c.description), version = c.version + 1,
    updated_at = clock_timestamp() WHERE c.id = $1 RETURNING {CARD_FIELDS}"""
# ...then its event, as events/feed.py records it.
NEXT_EVENT = "UPDATE board SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq"
INSERT_EVENT = """INSERT INTO board_event (board_id, seq, type, data, actor_id, at)
    VALUES ($1, $2, 'card.updated', $3, $4, $5)"""
NOTIFY = "SELECT pg_notify($1, $2)"
USER_BY_EMAIL = """SELECT id, email, hashed_password, credentials_version FROM "user"
    WHERE email_key = $1"""

SECRET_KEY = os.environ.get("KANBAN_SECRET_KEY", "")
DATABASE_URL = os.environ.get("KANBAN_DATABASE_URL", "")


class HTTPError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status, self.detail = status, detail


def json(content: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(content, option=orjson.OPT_UTC_Z), status, None, "application/json"
    )


def claims(request: Request) -> tuple[int, int]:
    _, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
        return int(payload["sub"]), int(payload.get("ver", 0))
    except (jwt.InvalidTokenError, KeyError, ValueError) as error:
        raise HTTPError(401, "Could not validate credentials") from error


def card(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "boardId": row["board_id"],
        "column": COLUMNS[row["column"]],
        "labels": [COLORS[color] for color in row["labels"]],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "position": row["position"],
        "version": row["version"],
        "dueAt": row["due_at"],
        "assigneeIds": row["assignee_ids"],
        "archived": row["archived"],
    }


def board(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "labels": [
            {"color": COLORS[color], "name": name}
            for color, name in zip(row["colors"], row["names"], strict=True)
        ],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "version": row["version"],
        "role": ROLES[row["role"]],
    }


def notify_payload(board_id: int, seq: int, event: bytes) -> str:
    """kanban-api's NOTIFY encoding (events/message.py), so its listeners can read it."""
    inline = b'{"boardId":%d,"seq":%d,"event":%s}' % (board_id, seq, event)
    if len(inline) <= MAX_NOTIFY_BYTES:
        return inline.decode()
    return orjson.dumps({"boardId": board_id, "seq": seq}).decode()


def pool(request: Request) -> asyncpg.Pool:
    database: asyncpg.Pool = request.app.state.pool
    return database


async def list_cards(request: Request) -> Response:
    rows: Sequence[asyncpg.Record] = await pool(request).fetch(
        LIST_CARDS, *claims(request), request.path_params["board_id"]
    )
    if not rows:
        raise HTTPError(404, "Board not found")
    return json([card(row) for row in rows if row["id"] is not None])


async def get_card(request: Request) -> Response:
    row = await pool(request).fetchrow(GET_CARD, *claims(request), request.path_params["card_id"])
    if row is None:
        raise HTTPError(404, "Card not found")
    return json(card(row))


async def list_boards(request: Request) -> Response:
    rows = await pool(request).fetch(LIST_BOARDS, *claims(request))
    return json([board(row) for row in rows])


async def patch_card(request: Request) -> Response:
    user_id, version = claims(request)
    body = orjson.loads(await request.body())
    if not isinstance(body, dict) or not set(body) <= EDITABLE:
        raise HTTPError(422, f"only {sorted(EDITABLE)} can be changed here")
    title, description = body.get("title"), body.get("description")
    if title is not None and not (isinstance(title, str) and 1 <= len(title) <= 200):
        raise HTTPError(422, "title must be 1 to 200 characters")
    if description is not None and not isinstance(description, str):
        raise HTTPError(422, "description must be a string")
    card_id = request.path_params["card_id"]
    connection: asyncpg.Connection
    async with pool(request).acquire() as connection, connection.transaction():
        access = await connection.fetchrow(LOCK_CARD_BOARD, user_id, version, card_id)
        if access is None:
            raise HTTPError(404, "Card not found")
        if access["role"] not in WRITERS:
            raise HTTPError(403, "Your role on this board does not allow editing cards")
        board_id = access["id"]
        row = await connection.fetchrow(PATCH_CARD, card_id, title, description)
        assert row is not None  # the board lock keeps the card from being deleted meanwhile
        data = card(row)
        seq = await connection.fetchval(NEXT_EVENT, board_id)
        at = datetime.now(UTC)
        event = {"seq": seq, "type": "card.updated", "data": data, "actorId": user_id, "at": at}
        encoded = orjson.dumps(event, option=orjson.OPT_UTC_Z)
        await connection.execute(
            INSERT_EVENT,
            board_id,
            seq,
            orjson.dumps(data, option=orjson.OPT_UTC_Z).decode(),
            user_id,
            at,
        )
        await connection.execute(NOTIFY, CHANNEL, notify_payload(board_id, seq, encoded))
    return json(data)


async def login(request: Request) -> Response:
    form = await request.form()
    email, password = str(form.get("username", "")), str(form.get("password", ""))
    user = await pool(request).fetchrow(USER_BY_EMAIL, email_key(email))
    valid, _ = await verify_password(password, user["hashed_password"] if user else None)
    if user is None or not valid:
        raise HTTPError(401, "Incorrect email or password")
    now = datetime.now(UTC)
    payload = {
        "sub": str(user["id"]),
        "email": user["email"],
        "ver": user["credentials_version"],
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    token = jwt.encode(payload, SECRET_KEY, algorithm=ALGORITHM)
    return json({"access_token": token, "token_type": "bearer"})


async def http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPError)
    return json({"detail": error.detail}, error.status)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=10) as pool:
        app.state.pool = pool
        yield


app = Starlette(
    routes=[
        Route("/api/boards/{board_id:int}/cards", list_cards),
        Route("/api/cards/{card_id:int}", get_card),
        Route("/api/cards/{card_id:int}", patch_card, methods=["PATCH"]),
        Route("/api/boards", list_boards),
        Route("/api/auth/tokens", login, methods=["POST"]),
    ],
    exception_handlers={HTTPError: http_error},
    lifespan=lifespan,
)
