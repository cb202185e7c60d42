"""Pruning of old events and expired tickets, in the background of every worker."""

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kanban_api import idempotency, rate_limit
from kanban_api.events import feed
from kanban_api.webhooks.queue import prune_deliveries

logger = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 3600


async def prune_periodically(
    sessionmaker: async_sessionmaker[AsyncSession], *, retention_days: int
) -> None:
    """Prune now and then hourly; several workers doing so only repeat an idempotent DELETE."""
    while True:
        try:
            async with sessionmaker() as session:
                deleted = await prune(session, retention_days=retention_days)
                await session.commit()
            if deleted:
                logger.info("pruned %d events older than %d days", deleted, retention_days)
        except SQLAlchemyError:
            logger.exception("pruning events failed; trying again in an hour")
        await asyncio.sleep(PRUNE_INTERVAL_SECONDS)


async def prune(session: AsyncSession, *, retention_days: int) -> int:
    """Delete expired tickets, past rate-limit windows and idempotency keys, and events and
    webhook deliveries older than the retention; returns the events deleted."""
    deleted = await feed.prune(session, retention_days=retention_days)
    await prune_deliveries(session, retention_days=retention_days)
    await rate_limit.prune(session)
    await idempotency.prune(session)
    return deleted
