from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kanban_api.models.base import Base, UTCDateTime, utcnow


class ApiToken(Base):
    """A personal access token: a long-lived credential a user makes for a script.

    Only a SHA-256 hash of the secret is stored (the secret is 256 random bits, so no
    slow hash is needed to resist guessing), so a database leak hands out no live
    token. Revoking deletes the row. See access.py for how a token authenticates.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    can_write: Mapped[bool]
    # True when the token reaches only the boards listed in api_token_board.
    board_limited: Mapped[bool]
    # The user's credentials version at creation: a password change retires the token.
    credentials_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiTokenBoard(Base):
    """A board a board-limited token may reach."""

    __tablename__ = "api_token_board"

    # The primary key (token_id, board_id) serves the membership condition's lookup.
    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True
    )
    board_id: Mapped[int] = mapped_column(
        ForeignKey("board.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RateLimitWindow(Base):
    """How many requests one principal made in one fixed one-minute window.

    A row per principal and window, so that concurrent requests of different callers
    never wait for the same row; old windows are pruned hourly.
    """

    __tablename__ = "rate_limit_window"

    principal: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Unix minute: seconds since the epoch // 60.
    window: Mapped[int] = mapped_column(primary_key=True, index=True)
    count: Mapped[int]


class IdempotencyKey(Base):
    """A write sent with an `Idempotency-Key`: claimed while it runs (`status` NULL),
    then its answer, replayed to a retry for 24 hours (see idempotency.py)."""

    __tablename__ = "idempotency_key"

    principal: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of method, path, query and body: a retry must send the same request.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    headers: Mapped[str | None] = mapped_column(String(2000))
    body: Mapped[bytes | None]
    # Indexed for pruning by age.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
