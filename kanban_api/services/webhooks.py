"""Webhooks of a board: set up, change, rewind and remove them, and read their delivery log.

Sending is the background senders' work (kanban_api/webhooks); here only the rows that
steer them change, in the request's transaction, after the board lock (access.py).
"""

import asyncio
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.errors import ConflictError, InvalidInputError, NotFoundError
from kanban_api.events import feed
from kanban_api.limits import WEBHOOKS_PER_BOARD_MAX
from kanban_api.models import Board, Webhook, WebhookDelivery
from kanban_api.models.base import utcnow
from kanban_api.schemas.webhook import WebhookCreate, WebhookUpdate
from kanban_api.webhooks import signing, targets
from kanban_api.webhooks.targets import TargetPolicy

WEBHOOK_NOT_FOUND = "Webhook not found"


async def check_url(url: str, *, policy: TargetPolicy) -> None:
    """422 unless the server may send to `url` now (webhooks/targets.py says what may be).

    The request holds the board lock meanwhile, so resolving the host is given no longer
    than a delivery would be."""
    try:
        parsed = targets.parse(url, allow_private=policy.allow_private)
        async with asyncio.timeout(policy.timeout_seconds):
            await targets.resolve(parsed, allow_private=policy.allow_private)
    except targets.UnsafeTargetError as error:
        raise InvalidInputError(("body", "url"), f"The URL {error}") from None
    except TimeoutError:
        raise InvalidInputError(("body", "url"), "The URL's host did not resolve in time") from None


async def create_webhook(
    session: AsyncSession, *, board: Board, owner_id: int, data: WebhookCreate, policy: TargetPolicy
) -> Webhook:
    """A webhook sending the board's events from the next one on; 422 for an unsafe URL,
    409 past WEBHOOKS_PER_BOARD_MAX."""
    count = await session.scalar(
        select(func.count()).select_from(Webhook).where(Webhook.board_id == board.id)
    )
    if (count or 0) >= WEBHOOKS_PER_BOARD_MAX:
        raise ConflictError(f"A board may have at most {WEBHOOKS_PER_BOARD_MAX} webhooks")
    await check_url(data.url, policy=policy)
    webhook = Webhook(
        board_id=board.id,
        owner_id=owner_id,
        url=data.url,
        events=_stored(data.events),
        description=data.description,
        secret=signing.new_secret(),
        last_seq=board.event_seq,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def list_webhooks(session: AsyncSession, *, board_id: int) -> Sequence[Webhook]:
    return (
        await session.scalars(
            select(Webhook).where(Webhook.board_id == board_id).order_by(Webhook.id)
        )
    ).all()


async def get_webhook(session: AsyncSession, *, board_id: int, webhook_id: int) -> Webhook:
    """The board's webhook; 404 if the board has none of that id."""
    webhook = await session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.board_id == board_id)
    )
    if webhook is None:
        raise NotFoundError(WEBHOOK_NOT_FOUND)
    return webhook


async def update_webhook(
    session: AsyncSession,
    *,
    webhook: Webhook,
    owner_id: int,
    changes: WebhookUpdate,
    policy: TargetPolicy,
) -> Webhook:
    """Apply the changes; the caller becomes the owner whose access the sender checks.
    Turning it active resumes at the first unacknowledged event, retries forgotten."""
    fields = changes.model_fields_set
    if "url" in fields and changes.url is not None:
        await check_url(changes.url, policy=policy)
        webhook.url = changes.url
    if "events" in fields:
        webhook.events = _stored(changes.events)
    if "description" in fields and changes.description is not None:
        webhook.description = changes.description
    if "active" in fields and changes.active is not None:
        if changes.active and not webhook.active:
            _resume(webhook)
        webhook.active = changes.active
        webhook.disabled_reason = None
    webhook.owner_id = owner_id
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, *, webhook: Webhook) -> None:
    """Delete it and its log; a delivery in flight is not recorded (its lease is gone)."""
    await session.delete(webhook)
    await session.flush()


async def replay(session: AsyncSession, *, webhook: Webhook, after_seq: int) -> None:
    """Make the event after `after_seq` the next one sent; 410 if the feed no longer has
    it (pruned, or past the board's latest)."""
    await feed.list_events(session, board_id=webhook.board_id, after=after_seq, limit=1)
    webhook.last_seq = after_seq
    _resume(webhook)
    await session.flush()


async def list_deliveries(
    session: AsyncSession, *, webhook_id: int, limit: int
) -> Sequence[WebhookDelivery]:
    """The latest attempts, newest first."""
    return (
        await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    ).all()


def _resume(webhook: Webhook) -> None:
    """Send the next event now, as a first attempt. A lease held by a sender stays: its
    outcome no longer counts (queue.finish compares `last_seq`), yet no second sender
    starts before it ends."""
    webhook.attempt, webhook.failing_since, webhook.next_attempt_at = 0, None, utcnow()


def _stored(types: Sequence[str] | None) -> list[str] | None:
    return None if types is None else [str(type) for type in types]
