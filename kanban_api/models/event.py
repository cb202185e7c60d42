from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kanban_api.models.base import Base, UTCDateTime


class BoardEvent(Base):
    """One change to a board, numbered by `seq` without gaps within the board.

    `data` is plain JSON rather than JSONB: JSONB reorders keys, and the API's
    shapes have a fixed field order.
    """

    __tablename__ = "board_event"
    # The unique (board_id, seq) index serves catch-up reads and lookups by board_id.
    __table_args__ = (UniqueConstraint("board_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    # Indexed for pruning by age.
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class EventTicket(Base):
    """A single-use permission to open one board's event stream, for clients that cannot
    send headers (browsers' EventSource). Only a hash is stored, so a database leak does
    not hand out live tickets."""

    __tablename__ = "event_ticket"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    # The user's credentials version at issue: a password change voids outstanding tickets.
    credentials_version: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
