"""The delivery queue, kept in the webhooks' rows: which event each one sends next, and
who is sending it.

A sender claims a webhook for one delivery in a short transaction: the row, locked
FOR UPDATE SKIP LOCKED (so workers never wait for each other), gets a random
`lease_token` and a `lease_until` past the longest a delivery may take; no other
sender claims it before then. The outcome is recorded in a second transaction, only
if the lease is still the sender's. A sender that dies leaves the lease to expire,
and the event is sent again: at least once, never two at a time. SQLite ignores SKIP
LOCKED, but runs these transactions one at a time, which gives the same.

Only committed events are read (`board.event_seq` and the feed's rows), so a write
that rolls back sends nothing.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kanban_api.access import user_may
from kanban_api.models import Board, BoardEvent, Webhook, WebhookDelivery
from kanban_api.models.base import utcnow
from kanban_api.permissions import Action
from kanban_api.schemas.event import EventOut

# Webhooks one sender claims at once; they are sent concurrently.
CLAIM_BATCH = 10
# A failing event is retried for this long, then the webhook is turned off.
GIVE_UP_AFTER = timedelta(hours=24)
# The longest wait between two attempts, however many failed.
MAX_RETRY_DELAY = timedelta(hours=1)
LOST_ACCESS = "Its creator is no longer an owner of the board"


@dataclass(frozen=True)
class Job:
    """One delivery a sender holds the lease for."""

    webhook_id: int
    lease_token: str
    delivery_id: int
    url: str
    secret: str
    board_id: int
    # The webhook's last acknowledged seq when claimed: the outcome counts only if unchanged.
    after_seq: int
    event: EventOut

    @property
    def message_id(self) -> str:
        """Standard Webhooks' `webhook-id`: the same for every attempt at one event."""
        return f"{self.board_id}-{self.event.seq}"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_status: int | None
    error: str | None
    duration_ms: int


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], *, lease_seconds: float
) -> list[Job]:
    """Lease the webhooks that have a committed event to send and are due, up to
    CLAIM_BATCH, each for its next event; webhooks whose creator lost the board are
    turned off, and events of types a webhook does not want are skipped on the way."""
    now = utcnow()
    statement = (
        select(
            Webhook,
            Board.event_seq,
            user_may(Action.MANAGE_WEBHOOKS, user_id=Webhook.owner_id, board_id=Webhook.board_id),
        )
        .join(Board, Board.id == Webhook.board_id)
        .where(
            Webhook.active,
            # A board in the trash sends nothing; its webhooks resume if it is restored.
            Board.deleted_at.is_(None),
            Board.event_seq > Webhook.last_seq,
            Webhook.next_attempt_at <= now,
            or_(Webhook.lease_until.is_(None), Webhook.lease_until < now),
        )
        .order_by(Webhook.next_attempt_at)
        .limit(CLAIM_BATCH)
        .with_for_update(of=Webhook, skip_locked=True)
    )
    jobs = []
    async with sessionmaker() as session, session.begin():
        for webhook, latest, allowed in (await session.execute(statement)).all():
            if not allowed:
                webhook.active, webhook.disabled_reason = False, LOST_ACCESS
                continue
            job = await _lease(session, webhook, latest=latest, until=now + _seconds(lease_seconds))
            if job is not None:
                jobs.append(job)
    return jobs


async def _lease(
    session: AsyncSession, webhook: Webhook, *, latest: int, until: datetime
) -> Job | None:
    """Lease the webhook for its next wanted event up to `latest`, logged as pending; None
    (and every event up to `latest` counted as done) if there is none it wants."""
    wanted = select(BoardEvent).where(
        BoardEvent.board_id == webhook.board_id,
        BoardEvent.seq > webhook.last_seq,
        BoardEvent.seq <= latest,
    )
    if webhook.events is not None:
        wanted = wanted.where(BoardEvent.type.in_(webhook.events))
    event = await session.scalar(wanted.order_by(BoardEvent.seq).limit(1))
    if event is None:
        webhook.last_seq = latest
        return None
    webhook.lease_token, webhook.lease_until = secrets.token_hex(16), until
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        seq=event.seq,
        event_type=event.type,
        attempt=webhook.attempt + 1,
        status="pending",
    )
    session.add(delivery)
    await session.flush()
    return Job(
        webhook_id=webhook.id,
        lease_token=webhook.lease_token,
        delivery_id=delivery.id,
        url=webhook.url,
        secret=webhook.secret,
        board_id=webhook.board_id,
        after_seq=webhook.last_seq,
        event=EventOut.model_validate(event),
    )


async def finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    job: Job,
    outcome: Outcome,
    retry_base_seconds: float,
) -> None:
    """Log the attempt and, if the lease is still the job's and nobody rewound the webhook
    meanwhile, move on to the next event or schedule a retry (exponential backoff from
    `retry_base_seconds`; off after GIVE_UP_AFTER of failures)."""
    async with sessionmaker() as session, session.begin():
        # The webhook's row before its log's, in the order deleting the webhook takes them.
        webhook = await session.scalar(
            select(Webhook)
            .where(Webhook.id == job.webhook_id, Webhook.lease_token == job.lease_token)
            .with_for_update()
        )
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == job.delivery_id)
            .values(
                status="delivered" if outcome.ok else "failed",
                response_status=outcome.response_status,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        if webhook is None:
            return
        webhook.lease_token = webhook.lease_until = None
        if webhook.last_seq != job.after_seq:
            return
        if outcome.ok:
            webhook.last_seq, webhook.attempt, webhook.failing_since = job.event.seq, 0, None
            webhook.next_attempt_at = utcnow()
        elif webhook.active:
            _schedule_retry(webhook, job=job, outcome=outcome, base_seconds=retry_base_seconds)


def _schedule_retry(webhook: Webhook, *, job: Job, outcome: Outcome, base_seconds: float) -> None:
    now = utcnow()
    webhook.attempt += 1
    webhook.failing_since = webhook.failing_since or now
    if now - webhook.failing_since >= GIVE_UP_AFTER:
        webhook.active = False
        webhook.disabled_reason = (
            f"Event {job.event.seq} failed for {GIVE_UP_AFTER.total_seconds() / 3600:g} hours "
            f"({webhook.attempt} attempts); the last: {outcome.error}"
        )
        return
    delay = min(_seconds(base_seconds * 2 ** (webhook.attempt - 1)), MAX_RETRY_DELAY)
    webhook.next_attempt_at = now + delay


def _seconds(seconds: float) -> timedelta:
    # Far retries overflow timedelta long after MAX_RETRY_DELAY caps them.
    return timedelta(seconds=min(seconds, MAX_RETRY_DELAY.total_seconds()))


async def prune_deliveries(session: AsyncSession, *, retention_days: int) -> None:
    """Forget delivery attempts older than the change feed keeps events (0: keep all)."""
    if retention_days:
        cutoff = utcnow() - timedelta(days=retention_days)
        await session.execute(delete(WebhookDelivery).where(WebhookDelivery.at < cutoff))
