from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kanban_api.limits import WEBHOOK_DESCRIPTION_MAX, WEBHOOK_URL_MAX
from kanban_api.models.base import Base, UTCDateTime, utcnow


class Webhook(Base):
    """A board's subscriber: its change feed, POSTed to `url` one event at a time, in seq order.

    `last_seq` is the last event the receiver acknowledged: delivery resumes after it,
    whatever happened to the worker that sent it. A sender holds the webhook for one
    delivery by `lease_token` until `lease_until` (webhooks/queue.py).
    """

    __tablename__ = "webhook"
    # Ids are never reused (SQLite would reuse the highest after a delete): a sender
    # finishing a delivery of a deleted webhook must not touch a new one.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    # The owner who set it up (or last changed it): its events are sent while they own the board.
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(WEBHOOK_URL_MAX))
    # Event types to send; None: every type, including ones added later.
    events: Mapped[list[str] | None] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(WEBHOOK_DESCRIPTION_MAX), default="")
    # Standard Webhooks' `whsec_` + base64 form; needed in clear text to sign.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seq: Mapped[int]
    # Failed attempts at the next event, since when they fail, and when to try again.
    attempt: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One attempt to deliver one event: `pending` while it is being sent."""

    __tablename__ = "webhook_delivery"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    event_type: Mapped[str] = mapped_column(String(50))
    attempt: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    response_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(1000))
    duration_ms: Mapped[int | None]
    # Indexed for pruning by age.
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
