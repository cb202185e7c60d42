"""Pruning of old events and expired tickets, and purging of the trash, in the background
of every worker."""

import asyncio
import logging
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kanban_api import idempotency, rate_limit
from kanban_api.events import feed
from kanban_api.middleware import DATABASE_ERRORS
from kanban_api.services import ordering, trash
from kanban_api.webhooks.queue import prune_deliveries

logger = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 3600


async def prune_periodically(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    retention_days: int,
    trash_retention_days: int,
) -> None:
    """Prune now and then hourly; several workers doing so only repeat an idempotent DELETE.

    A failed round is logged and the next one comes an hour later as usual: the database
    away at that moment (a refused or timed-out connection, which SQLAlchemy passes on
    as the OSError or TimeoutError it is) must not end pruning for the worker's life.
    """
    while True:
        try:
            async with sessionmaker() as session:
                pruned = await prune(
                    session,
                    retention_days=retention_days,
                    trash_retention_days=trash_retention_days,
                )
                await session.commit()
            if pruned.events:
                logger.info("pruned %d events older than %d days", pruned.events, retention_days)
            if pruned.trash:
                logger.info(
                    "purged %d boards and cards from the trash after %d days",
                    pruned.trash,
                    trash_retention_days,
                )
        except DATABASE_ERRORS:
            logger.exception("pruning events failed; trying again in an hour")
        await asyncio.sleep(PRUNE_INTERVAL_SECONDS)


class Pruned(NamedTuple):
    # Events deleted, and boards and cards purged from the trash.
    events: int
    trash: int


async def prune(session: AsyncSession, *, retention_days: int, trash_retention_days: int) -> Pruned:
    """Delete expired tickets, past rate-limit windows and idempotency keys, events,
    webhook deliveries and cards' positions before a renumbering older than
    `retention_days`, and boards and cards in the trash for longer than
    `trash_retention_days` (services/trash.py)."""
    deleted = await feed.prune(session, retention_days=retention_days)
    await prune_deliveries(session, retention_days=retention_days)
    await ordering.prune_renumberings(session, retention_days=retention_days)
    await rate_limit.prune(session)
    await idempotency.prune(session)
    purged = await trash.purge(session, retention_days=trash_retention_days)
    return Pruned(events=deleted, trash=purged)
