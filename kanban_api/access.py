"""The access rule, in one place: who is calling, and may they do this on this board.

Every route that reaches a board, a card or a comment goes through this module, in
this order:

1. Authenticate. The request's credential (a bearer token or, for event streams, a
   single-use ticket) becomes a `Principal`; it is the only kind of caller routes
   see, so a new kind of credential is added in `authenticate` alone.
2. Lock, for writes. The board's row, FOR NO KEY UPDATE, before any other row lock
   or write on the board: see `lock_board`. Writers of one board queue there.
3. Check. The principal is a member of the board, still holds the credential it
   presented (the user's `credentials_version`), and its role allows the action
   (`permissions.PERMISSIONS`, the one table, for reads as for writes).
4. Read the resource: after the lock, so as the last writer left it.

The trash is part of the rule: a board or card in it (`deleted_at` set) is not there
for any request, whoever asks (`board_is_live`, `card_in_play`), until it is restored
through the trash's own routes (`trashed_board_access`, `trashed_card_access`).

Answers, decided here only (`refuse`): 401 when the credential is not current any
more, 404 to a non-member (for them the board, card or comment does not exist),
403 to a member whose role does not allow the action.

Personal access tokens (`kbp_...`, see services/api_tokens.py) are principals too:
their user's, narrowed. Each request looks its token up in the database (one
statement: no process remembers a token, so a revoked one fails on every worker at
once); a read-only token is refused every write (`require_scope`), and a
board-limited one reaches only its boards: the membership conditions below hold
only on those, so any other board answers 404 as to an outsider.

Hot reads (the card list, one card, the board list) run steps 3 and 4 as one
statement: the conditions below go into their SQL, and only when it finds nothing
does `refuse` spend a statement on telling the three answers apart.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Exists,
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased, joinedload, selectinload

from kanban_api.database import Database
from kanban_api.direct import fetch_one
from kanban_api.errors import (
    BOARD_NOT_FOUND,
    CARD_NOT_FOUND,
    CHECKLIST_ITEM_NOT_FOUND,
    COMMENT_NOT_FOUND,
    ForbiddenError,
    NotAuthenticatedError,
    NotFoundError,
)
from kanban_api.models import (
    ApiToken,
    ApiTokenBoard,
    Board,
    Card,
    ChecklistItem,
    Comment,
    EventTicket,
    Membership,
    Role,
    User,
)
from kanban_api.models.base import utcnow
from kanban_api.permissions import PERMISSIONS, Action, require
from kanban_api.utils.token import TokenClaims, TokenVerifier

# The session.info key of the user the session's events are attributed to.
ACTOR_ID = "kanban.actor_id"
# Session.info key: board id → LockedBoard, for the boards this session's transaction locked.
_LOCKED_BOARDS = "kanban.locked_boards"
# The attribute that marks a route dependency with the action it checks.
ACTION_CHECKED = "kanban_action"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user, and the credentials version its credential was
    issued for (a password or email change bumps the user's, retiring the credential)."""

    user_id: int
    credentials_version: int
    # The email the credential was issued to, and when it proved who the user is (Unix
    # seconds: a token's login); None where the credential does not say (a ticket).
    email: str | None = None
    authenticated_at: float | None = None
    # A personal access token's id, and how it narrows its user's rights.
    token_id: int | None = None
    can_write: bool = True
    board_limited: bool = False

    @classmethod
    def of_claims(cls, claims: TokenClaims) -> "Principal":
        return cls(claims.user_id, claims.credentials_version, claims.email, claims.issued_at)

    def params(self) -> dict[str, int | None]:
        """Bind parameters of the conditions below (`user_id`, `credentials_version`,
        `limited_token_id`: the token whose boards bound the caller, or None)."""
        return {
            "user_id": self.user_id,
            "credentials_version": self.credentials_version,
            "limited_token_id": self.token_id if self.board_limited else None,
        }


@dataclass(frozen=True, slots=True)
class ReadAccess:
    """What a hot read checks in its own statement: who asks, to do what."""

    principal: Principal
    action: Action


# --- Authentication: every kind of credential becomes a Principal here ----------------


def authenticate(tokens: TokenVerifier, *, bearer: str | None) -> Principal:
    """The bearer token's principal, once its signature and expiry are checked; 401 if not.

    Whether its user still holds those credentials takes the database: checked by the
    statements below (`credential_is_current`, `current_user`), not here.
    """
    claims = tokens.claims(bearer) if bearer else None
    if claims is None:
        raise NotAuthenticatedError
    return Principal.of_claims(claims)


# The request scope's key under which `get_principal` marks a request that an access
# token authenticated (its answer is that token's): what tells the counters that the
# token is a current credential (rate_limit.py, overload.py).
TOKEN_AUTHENTICATED = "kanban.token_authenticated"  # noqa: S105 (a scope key, not a secret)
# How long the counters go on counting an access token against itself after it last
# authenticated a request: a token revoked meanwhile keeps its own count that long
# (its requests answer 401 all the same).
KNOWN_TOKEN_SECONDS = 600


@dataclass(frozen=True, slots=True)
class CountedAs:
    """Who a request counts against, as far as is known without the database.

    `fallback` is `user:<id>` for a valid login token (its signature proves it), else
    `address:<client address>`; `token_hash` is the SHA-256 (hex) of the `kbp_` access
    token the request carries, if any. The request counts against `token` only once
    that token is known to be current (rate_limit.py, overload.py), else against
    `fallback`: a made-up token is as anonymous as no token.
    """

    fallback: str
    token_hash: str | None = None

    @property
    def token(self) -> str | None:
        """`token:<hash>`: the key of the access token, if the request carries one."""
        return None if self.token_hash is None else f"token:{self.token_hash}"


def counted_as(tokens: TokenVerifier, *, authorization: str | None, address: str) -> CountedAs:
    """Who a request counts against (see `CountedAs`), from its Authorization header."""
    bearer = _bearer(authorization)
    if bearer is not None:
        if bearer.startswith(API_TOKEN_PREFIX):
            return CountedAs(f"address:{address}", ticket_hash(bearer))
        claims = tokens.claims(bearer)
        if claims is not None:
            return CountedAs(f"user:{claims.user_id}")
    return CountedAs(f"address:{address}")


def principal_key(tokens: TokenVerifier, *, authorization: str | None, address: str) -> str:
    """Whose idempotency keys a request's are: `user:<id>` for a valid login token,
    `token:<hash>` for an access token (valid or not: it is checked later), else
    `address:<client address>`."""
    counted = counted_as(tokens, authorization=authorization, address=address)
    return counted.token or counted.fallback


def access_token_is_current() -> Exists:
    """SQL that holds while the access token whose hash is `:token_hash` authenticates
    (not revoked, expired at `:now`, nor retired by a password change): what the rate
    limit's counter reads to choose its key in the same statement."""
    return exists().where(
        ApiToken.token_hash == bindparam("token_hash"),
        User.id == ApiToken.user_id,
        User.credentials_version == ApiToken.credentials_version,
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now")),
    )


async def principal_is_current(
    tokens: TokenVerifier, database: Database, *, authorization: str | None
) -> bool:
    """Whether the credential `principal_key` keys a request by still holds: False for an
    access token revoked, expired or retired, or a login token whose user changed their
    password or is gone; True for a request keyed by its address. What a stored
    answer is replayed to (idempotency.py). One statement."""
    bearer = _bearer(authorization)
    if bearer is None:
        return True
    if bearer.startswith(API_TOKEN_PREFIX):
        try:
            await authenticate_bearer(tokens, database, bearer=bearer)
        except NotAuthenticatedError:
            return False
        return True
    claims = tokens.claims(bearer)
    if claims is None:
        return True
    async with database.reading() as connection:
        current = await connection.scalar(
            select(credential_is_current()),
            {"user_id": claims.user_id, "credentials_version": claims.credentials_version},
        )
    return bool(current)


def _bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if the header is one."""
    scheme, _, bearer = (authorization or "").partition(" ")
    return bearer if scheme.lower() == "bearer" and bearer else None


def ticket_hash(ticket: str) -> str:
    """What is stored of a stream ticket or an access token: SHA-256, hex."""
    return hashlib.sha256(ticket.encode()).hexdigest()


API_TOKEN_PREFIX = "kbp_"  # noqa: S105 (a prefix, not a secret)
# lastUsedAt is written at most this often per token, so reads stay reads.
LAST_USED_PRECISION = timedelta(minutes=1)
TOKEN_CANNOT = "An access token cannot {what}; use a login token"  # noqa: S105

_TOKEN_LOOKUP = (
    select(
        ApiToken.id,
        ApiToken.user_id,
        ApiToken.credentials_version,
        ApiToken.can_write,
        ApiToken.board_limited,
        ApiToken.expires_at,
        ApiToken.last_used_at,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        User.credentials_version == ApiToken.credentials_version,
    )
)


async def authenticate_bearer(
    tokens: TokenVerifier, database: Database, *, bearer: str | None
) -> Principal:
    """The principal of a login token (`authenticate`) or of a personal access token;
    401 for an unknown, revoked, expired or retired (password changed) access token.

    An access token costs one statement, in autocommit mode, and a second at most
    once a minute per token to record `last_used_at`.
    """
    if bearer is None or not bearer.startswith(API_TOKEN_PREFIX):
        return authenticate(tokens, bearer=bearer)
    async with database.reading() as connection:
        row = await fetch_one(connection, _TOKEN_LOOKUP, {"token_hash": ticket_hash(bearer)})
        if row is None:
            raise NotAuthenticatedError
        token_id, user_id, credentials_version, can_write, board_limited, expires, used = row
        now = utcnow()
        if expires is not None and expires <= now:
            raise NotAuthenticatedError
        if used is None or used <= now - LAST_USED_PRECISION:
            await connection.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
    return Principal(
        user_id,
        credentials_version,
        token_id=token_id,
        can_write=can_write,
        board_limited=board_limited,
    )


async def boards_not_joined(
    session: AsyncSession, *, user_id: int, board_ids: list[int]
) -> list[int]:
    """Those of `board_ids` the user is not a member of (what a token may not be limited to)."""
    joined = set(
        await session.scalars(
            select(Membership.board_id).where(
                Membership.user_id == user_id,
                Membership.board_id.in_(board_ids),
                board_is_live(Membership.board_id),
            )
        )
    )
    return [board_id for board_id in board_ids if board_id not in joined]


def require_scope(principal: Principal, *, writes: bool) -> None:
    """403 for a write by a read-only access token."""
    if writes and not principal.can_write:
        raise ForbiddenError(TOKEN_CANNOT.format(what="write: it has the read scope only"))


def require_login(principal: Principal, *, what: str) -> None:
    """403 unless the principal logged in: access tokens may not manage the account."""
    if principal.token_id is not None:
        raise ForbiddenError(TOKEN_CANNOT.format(what=what))


def require_all_boards(principal: Principal) -> None:
    """403 for a board-limited access token: a new board would lie outside its limit."""
    if principal.board_limited:
        raise ForbiddenError(TOKEN_CANNOT.format(what="create boards: it is limited to some"))


async def authenticate_ticket(database: Database, *, ticket: str, board_id: int) -> Principal:
    """The principal a stream ticket was issued to, if it is valid for this board and
    unused; 401 if not. Redeeming deletes it, in a transaction of its own (the stream's
    request is a GET, whose session must not write), and atomically: DELETE ...
    RETURNING gives the row to only one of two requests, on any workers."""
    async with database.sessionmaker() as session, session.begin():
        row = (
            await session.execute(
                delete(EventTicket)
                .where(EventTicket.ticket_hash == ticket_hash(ticket))
                .returning(
                    EventTicket.user_id,
                    EventTicket.board_id,
                    EventTicket.credentials_version,
                    EventTicket.expires_at,
                )
            )
        ).one_or_none()
    if row is None or row.board_id != board_id or row.expires_at <= utcnow():
        raise NotAuthenticatedError
    return Principal(row.user_id, row.credentials_version)


# --- SQL: the membership and credential conditions ------------------------------------

_USER_ID: BindParameter[int] = bindparam("user_id")
_LIVE_BOARD = aliased(Board, name="live_board")


def board_is_live(
    board_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> Exists:
    """SQL that holds while board `board_id` is not in the trash."""
    return exists().where(_LIVE_BOARD.id == board_id, _LIVE_BOARD.deleted_at.is_(None))


def card_in_play(card: type[Card] = Card) -> ColumnElement[bool]:
    """SQL that holds while the card (`Card`, or an alias of it) is not in the trash. Every
    statement over a board's cards has it, so that trashed cards hold no place, count
    towards no cap or WIP limit and show in no list."""
    return card.deleted_at.is_(None)


_LIMITED_TOKEN_ID: BindParameter[int | None] = bindparam("limited_token_id", type_=Integer)


def token_may_reach(
    board_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> ColumnElement[bool]:
    """SQL that holds unless the principal is a board-limited access token (the
    `limited_token_id` parameter) whose boards do not include `board_id`."""
    return or_(
        _LIMITED_TOKEN_ID.is_(None),
        exists().where(
            ApiTokenBoard.token_id == _LIMITED_TOKEN_ID, ApiTokenBoard.board_id == board_id
        ),
    )


def credential_is_current() -> Exists:
    """SQL that holds while the principal's user exists with the credentials version its
    credential was issued for; takes the bind parameters of `Principal.params`."""
    return exists().where(
        User.id == _USER_ID, User.credentials_version == bindparam("credentials_version")
    )


def caller_membership(
    action: Action, *, board_in_trash: bool = False
) -> tuple[ColumnElement[bool], ...]:
    """Conditions on a `Membership` row joined by the statement: it is the principal's, in
    a role that may perform `action`, and the credential is current; on a live board, or
    (`board_in_trash`, for the trash's list) on one in the trash."""
    board = board_is_live(Membership.board_id)
    return (
        Membership.user_id == _USER_ID,
        _role_may(action),
        credential_is_current(),
        token_may_reach(Membership.board_id),
        ~board if board_in_trash else board,
    )


def _role_may(action: Action) -> ColumnElement[bool]:
    """The membership's role is one that may perform `action` (PERMISSIONS).

    The roles are bound one by one: a plain `in_` of a list would be an "expanding"
    parameter, whose SQL SQLAlchemy renders again at every execution of the
    statement, hot reads included.
    """
    roles = [literal(role, Membership.role.type) for role in sorted(PERMISSIONS[action])]
    return Membership.role.in_(roles)


def caller_may(action: Action, *, board_id: ColumnElement[int]) -> Exists:
    """SQL that holds while the principal may perform `action` on board `board_id`."""
    return exists().where(Membership.board_id == board_id, *caller_membership(action))


def user_may(
    action: Action,
    *,
    user_id: ColumnElement[int] | InstrumentedAttribute[int],
    board_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> Exists:
    """SQL that holds while user `user_id` may perform `action` on board `board_id`: for
    background work done on a user's behalf, without a credential (webhooks' senders)."""
    return exists().where(
        Membership.board_id == board_id,
        Membership.user_id == user_id,
        _role_may(action),
    )


# --- 401 / 404 / 403 --------------------------------------------------------------------


async def check_credential(connection: AsyncConnection, *, principal: Principal) -> None:
    """401 unless the principal's user still exists with its credentials version."""
    version = await connection.scalar(
        select(User.credentials_version).where(User.id == principal.user_id)
    )
    if version != principal.credentials_version:
        raise NotAuthenticatedError


async def refuse(
    connection: AsyncConnection,
    *,
    principal: Principal,
    action: Action,
    role: ScalarSelect[Role] | None,
    not_found: str,
    params: dict[str, Any],
) -> NoReturn:
    """Why a read found nothing, as the answer: 401 for a stale credential, 404 for a
    non-member (`role`, the principal's role on the resource's board, is NULL), 403 for
    a role that may not. One statement; `role` None checks the credential only."""
    columns: list[Any] = [User.credentials_version]
    if role is not None:
        columns.append(role)
    row = (
        await connection.execute(select(*columns).where(User.id == _USER_ID), params)
    ).one_or_none()
    if row is None or row[0] != principal.credentials_version:
        raise NotAuthenticatedError
    if role is not None and row[1] is not None:
        require(row[1], action)
    raise NotFoundError(not_found)


def role_on_board(board_id: ColumnElement[int]) -> ScalarSelect[Role]:
    """The principal's role on board `board_id` (NULL if not a member), for `refuse`."""
    return (
        select(Membership.role)
        .where(
            Membership.board_id == board_id,
            Membership.user_id == _USER_ID,
            token_may_reach(Membership.board_id),
            board_is_live(Membership.board_id),
        )
        .scalar_subquery()
    )


async def check_board(
    connection: AsyncConnection, *, principal: Principal, board_id: int, action: Action
) -> None:
    """Return if the principal may perform `action` on the board; else 401, 404 or 403."""
    params = {**principal.params(), "board_id": board_id}
    if await connection.scalar(_BOARD_CHECKS[action], params) is None:
        await refuse(
            connection,
            principal=principal,
            action=action,
            role=role_on_board(bindparam("board_id")),
            not_found=BOARD_NOT_FOUND,
            params=params,
        )


_BOARD_CHECKS = {
    action: select(Membership.board_id).where(
        Membership.board_id == bindparam("board_id"), *caller_membership(action)
    )
    for action in Action
}


# --- Locks ------------------------------------------------------------------------------

Lockable = type[Board] | type[Card] | type[Comment] | type[ChecklistItem]


@dataclass(slots=True)
class LockedBoard:
    """What the board lock's own statement read of the board, valid while the lock is held:
    no other transaction can change the row until this one ends.

    Reading them with the lock spares the write path a round trip each, made while every
    other writer of the board waits: `event_seq` (events/feed.py numbers events from it,
    and keeps it current) and `column_settings` (services/wip.py reads the WIP limits).
    """

    event_seq: int
    column_settings: Any


def _locked(statement: Select[Any]) -> Select[Any]:
    """The lock statement's columns: the board's id, then what `LockedBoard` keeps."""
    return statement.add_columns(Board.event_seq, Board.column_settings)


def locked_board(session: AsyncSession, *, board_id: int) -> LockedBoard | None:
    """What this session's board lock read of the board, if it holds the lock (see
    `LockedBoard`); None otherwise, and the caller reads the board itself."""
    locked: dict[int, LockedBoard] = session.info.get(_LOCKED_BOARDS, {})
    return locked.get(board_id)


def _remember_lock(session: AsyncSession, row: Any) -> bool:
    if row is None:
        return False
    board_id, event_seq, column_settings = row
    session.info.setdefault(_LOCKED_BOARDS, {})[board_id] = LockedBoard(event_seq, column_settings)
    return True


def _lock_through(kind: Lockable, *, trashed: bool = False) -> Select[Any]:
    """Lock the board of `kind` `:id`, if the principal is a member (any role: the role is
    checked once the lock is granted, by the statement that reads the resource).

    Only through what is not in the trash; `trashed`: only through a board (or card) in
    it, for restoring it (the card's board may be live or trashed)."""
    statement = _locked(select(Board.id))
    key: InstrumentedAttribute[int] = Board.id
    trash: ColumnElement[bool] = (
        Board.deleted_at.is_not(None) if trashed else Board.deleted_at.is_(None)
    )
    if kind is not Board:
        statement = statement.join(Card, Card.board_id == Board.id)
        key = Card.id
        trash = Card.deleted_at.is_not(None) if trashed else and_(trash, card_in_play())
    if kind is Comment:
        statement = statement.join(Comment, Comment.card_id == Card.id)
        key = Comment.id
    if kind is ChecklistItem:
        statement = statement.join(ChecklistItem, ChecklistItem.card_id == Card.id)
        key = ChecklistItem.id
    return (
        statement.join(Membership, Membership.board_id == Board.id)
        .where(
            key == bindparam("id"),
            Membership.user_id == _USER_ID,
            credential_is_current(),
            token_may_reach(Board.id),
            trash,
        )
        .with_for_update(of=Board, key_share=True)
    )


_LOCKS = {kind: _lock_through(kind) for kind in (Board, Card, Comment, ChecklistItem)}
_TRASH_LOCKS = {kind: _lock_through(kind, trashed=True) for kind in (Board, Card)}


async def lock_board(
    session: AsyncSession,
    *,
    through: Lockable = Board,
    id: int,
    principal: Principal | None = None,
) -> bool:
    """Hold the board row until the transaction ends; every writer of a board takes it first.

    `through` names what `id` is: the board, one of its cards or one of their
    comments. With a principal, only a member's request locks it (else False, and
    nothing is locked); without, the caller already checked access (True unless the
    board is gone).

    One lock, always taken first, serializes the writers of a board's cards (their
    positions depend on each other) and makes `If-Match` checks atomic with the
    write that follows, without deadlocks. It must come before any other row lock or
    write on the board: each change also bumps the board's event counter (see
    events/feed.py), so a writer holding, say, a card row when it reaches the
    counter would deadlock with a board deletion holding the board row and waiting
    for the card. FOR NO KEY UPDATE leaves foreign key checks, such as sharing the
    board, unblocked. Only the board row is locked: a row locked through a join is
    re-checked after the wait, the rows joined to it are not, so the resource is read
    afterwards. SQLite needs none of it: its transactions already run one at a time
    (BEGIN IMMEDIATE).
    """
    connection = await session.connection()
    if principal is None:
        statement = (
            _locked(select(Board.id))
            .where(Board.id == id, Board.deleted_at.is_(None))
            .with_for_update(key_share=True)
        )
        row = (await connection.execute(statement)).one_or_none()
        return _remember_lock(session, row)
    params = {**principal.params(), "id": id}
    row = (await connection.execute(_LOCKS[through], params)).one_or_none()
    return _remember_lock(session, row)


def lock_free_boards(
    board_id: InstrumentedAttribute[int], rows: ColumnElement[bool]
) -> Select[int]:
    """The boards of the rows matching `rows` that no transaction holds, locked for this
    one (SKIP LOCKED): for background work that must not wait for any board."""
    # Never correlated: the rows may be boards, and the statement may delete boards.
    return (
        select(Board.id)
        .where(Board.id.in_(select(board_id).where(rows).correlate(None)))
        .with_for_update(key_share=True, skip_locked=True)
        .correlate(None)
    )


# --- What routes receive ----------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """The caller, reaching something on a board they are a member of, in their role."""

    user: User
    role: Role

    def require(self, action: Action) -> None:
        """403 unless the caller's role allows `action` (for checks that need the request)."""
        require(self.role, action)


@dataclass(frozen=True)
class BoardAccess(Access):
    board: Board
    # The caller's membership is an invitation not yet accepted (models.board.Membership).
    invited: bool = False


@dataclass(frozen=True)
class CardAccess(Access):
    card: Card


@dataclass(frozen=True)
class ChecklistItemAccess(CardAccess):
    item: ChecklistItem


@dataclass(frozen=True)
class CommentAccess(Access):
    comment: Comment
    # The board of the comment's card.
    board_id: int

    @property
    def is_author(self) -> bool:
        return self.comment.author_id == self.user.id


def act_as(session: AsyncSession, *, user_id: int) -> None:
    """Attribute the events this session records to the user (events/feed.py reads it)."""
    session.info[ACTOR_ID] = user_id


async def current_user(session: AsyncSession, *, principal: Principal) -> User:
    """The principal's user; 401 if it is gone or its credentials changed since."""
    user = await session.get(User, principal.user_id)
    if user is None or user.credentials_version != principal.credentials_version:
        raise NotAuthenticatedError
    act_as(session, user_id=user.id)
    return user


async def board_access(
    session: AsyncSession,
    *,
    principal: Principal,
    board_id: int,
    action: Action,
    for_update: bool = False,
) -> BoardAccess:
    """The board (labels loaded) and the caller's role, checked for `action`.

    `for_update` takes the board lock first (`lock_board`), then reads the board and
    the role once it is granted, so a role changed by the writer this one waited for
    is the one checked.
    """
    user = await current_user(session, principal=principal)
    if for_update and not await lock_board(session, id=board_id, principal=principal):
        raise NotFoundError(BOARD_NOT_FOUND)
    statement = (
        select(Board, Membership.role, Membership.accepted_at)
        .join(Membership, Membership.board_id == Board.id)
        .where(
            Board.id == board_id,
            Membership.user_id == user.id,
            token_may_reach(Board.id),
            Board.deleted_at.is_(None),
        )
        .options(selectinload(Board.labels))
    )
    row = (await session.execute(statement, principal.params())).one_or_none()
    if row is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    board, role, accepted_at = row
    require(role, action)
    return BoardAccess(user=user, role=role, board=board, invited=accepted_at is None)


def _card_with_access(*, trashed: bool) -> Select[Card, Role, User]:
    """Card `:id` with its labels and assignees, the caller's role on its board, and the
    caller, if the credential is current: the whole of a card route's access check, and
    the user loaded with it, a statement fewer than `current_user` first. Only a card in
    play on a live board, or (`trashed`) only one in the trash, whatever its board."""
    visible = (
        (Card.deleted_at.is_not(None),)
        if trashed
        else (card_in_play(), board_is_live(Card.board_id))
    )
    return (
        select(Card, Membership.role, User)
        .join(Membership, Membership.board_id == Card.board_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Card.id == bindparam("id"),
            User.id == _USER_ID,
            User.credentials_version == bindparam("credentials_version"),
            token_may_reach(Card.board_id),
            *visible,
        )
        .options(joinedload(Card.labels), joinedload(Card.assignees))
    )


_CARD_WITH_ACCESS = _card_with_access(trashed=False)
_TRASHED_CARD_WITH_ACCESS = _card_with_access(trashed=True)


async def card_access(
    session: AsyncSession,
    *,
    principal: Principal,
    card_id: int,
    action: Action,
    for_update: bool = False,
) -> CardAccess:
    """The card (labels and assignees loaded), the caller's role on its board and the
    caller, checked for `action`: one statement, two with `for_update` (the lock)."""
    params = {**principal.params(), "id": card_id}
    locked = not for_update or await lock_board(
        session, through=Card, id=card_id, principal=principal
    )
    row = None
    if locked:
        row = (await session.execute(_CARD_WITH_ACCESS, params)).unique().one_or_none()
    if row is None:
        await check_credential(await session.connection(), principal=principal)
        raise NotFoundError(CARD_NOT_FOUND)
    card, role, user = row
    act_as(session, user_id=user.id)
    require(role, action)
    return CardAccess(user=user, role=role, card=card)


async def comment_access(
    session: AsyncSession,
    *,
    principal: Principal,
    comment_id: int,
    action: Action,
    for_update: bool = False,
) -> CommentAccess:
    """The comment, the caller's role on its board and the board's id, checked for
    `action`; `for_update` locks the comment's board first (`lock_board`)."""
    user = await current_user(session, principal=principal)
    if for_update and not await lock_board(
        session, through=Comment, id=comment_id, principal=principal
    ):
        raise NotFoundError(COMMENT_NOT_FOUND)
    row = (
        await session.execute(
            select(Comment, Membership.role, Card.board_id)
            .join(Card, Card.id == Comment.card_id)
            .join(Membership, Membership.board_id == Card.board_id)
            .where(
                Comment.id == comment_id,
                Membership.user_id == user.id,
                token_may_reach(Card.board_id),
                card_in_play(),
                board_is_live(Card.board_id),
            ),
            principal.params(),
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(COMMENT_NOT_FOUND)
    comment, role, board_id = row
    require(role, action)
    return CommentAccess(user=user, role=role, comment=comment, board_id=board_id)


async def checklist_item_access(
    session: AsyncSession, *, principal: Principal, item_id: int, action: Action
) -> ChecklistItemAccess:
    """The item, its card (as `card_access` loads it) and the caller's role, checked for
    `action`, after locking the board (`lock_board`): items are only read through their
    card's list, so this serves writes only."""
    if not await lock_board(session, through=ChecklistItem, id=item_id, principal=principal):
        await check_credential(await session.connection(), principal=principal)
        raise NotFoundError(CHECKLIST_ITEM_NOT_FOUND)
    item = await session.get_one(ChecklistItem, item_id)
    found = await card_access(session, principal=principal, card_id=item.card_id, action=action)
    return ChecklistItemAccess(user=found.user, role=found.role, card=found.card, item=item)


async def trashed_board_access(
    session: AsyncSession, *, principal: Principal, board_id: int, action: Action
) -> BoardAccess:
    """A board in the trash (labels loaded) and the caller's role on it, checked for
    `action`, once its lock is held; 404 unless it is in the trash and the caller a member."""
    user = await current_user(session, principal=principal)
    connection = await session.connection()
    params = {**principal.params(), "id": board_id}
    if await connection.scalar(_TRASH_LOCKS[Board], params) is None:
        raise NotFoundError(BOARD_NOT_FOUND)
    board, role = (
        await session.execute(
            select(Board, Membership.role)
            .join(Membership, Membership.board_id == Board.id)
            .where(Board.id == board_id, Membership.user_id == user.id)
            .options(selectinload(Board.labels))
        )
    ).one()
    require(role, action)
    return BoardAccess(user=user, role=role, board=board)


async def trashed_card_access(
    session: AsyncSession, *, principal: Principal, card_id: int, action: Action
) -> CardAccess:
    """A card in the trash (as `card_access` loads it) and the caller's role on its board,
    checked for `action`, once the board's lock is held; 404 unless the card is in the
    trash and the caller a member of its board (live or in the trash itself)."""
    params = {**principal.params(), "id": card_id}
    connection = await session.connection()
    row = None
    if await connection.scalar(_TRASH_LOCKS[Card], params) is not None:
        row = (await session.execute(_TRASHED_CARD_WITH_ACCESS, params)).unique().one_or_none()
    if row is None:
        await check_credential(connection, principal=principal)
        raise NotFoundError(CARD_NOT_FOUND)
    card, role, user = row
    act_as(session, user_id=user.id)
    require(role, action)
    return CardAccess(user=user, role=role, card=card)


async def may_still_view(session: AsyncSession, *, board_id: int, principal: Principal) -> bool:
    """Whether the principal may still view the board with the credential it presented:
    what an open event stream re-checks now and then."""
    row = (
        await session.execute(
            select(User.credentials_version, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.id == principal.user_id,
                Membership.board_id == board_id,
                token_may_reach(Membership.board_id),
                board_is_live(Membership.board_id),
                _token_is_live(principal),
            ),
            principal.params(),
        )
    ).one_or_none()
    return (
        row is not None
        and row.credentials_version == principal.credentials_version
        and row.role in PERMISSIONS[Action.VIEW]
    )


def _token_is_live(principal: Principal) -> ColumnElement[bool]:
    """SQL that holds while the principal's access token, if any, is not revoked."""
    if principal.token_id is None:
        return true()
    return exists().where(
        ApiToken.id == principal.token_id,
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow()),
    )
