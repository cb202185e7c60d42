"""Hands events to the in-process hub when, and only when, their transaction commits.

Used where the database has no NOTIFY (SQLite). Events recorded inside a savepoint
that is rolled back are dropped with it, so no stream ever sees a seq that was undone.
"""

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from kanban_api.live.message import LiveEvent

# Session.info key of the callable that receives committed events (set by the app).
PUBLISH = "kanban.publish"
_PENDING = "kanban.pending_events"

Publish = Callable[[list[LiveEvent]], None]


class EventSession(Session):
    """The application's session class; its listeners are registered below."""


def publish_after_commit(session: AsyncSession, events: Iterable[LiveEvent]) -> None:
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    pending: list[tuple[SessionTransaction | None, LiveEvent]] = sync.info.setdefault(_PENDING, [])
    pending.extend((transaction, live) for live in events)


@event.listens_for(EventSession, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its events wait for the outer commit
    pending = session.info.pop(_PENDING, None)
    publish: Publish | None = session.info.get(PUBLISH)
    if pending and publish is not None:
        publish([live for _, live in pending])


@event.listens_for(EventSession, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    pending: list[tuple[Any, LiveEvent]] | None = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [
            (transaction, live)
            for transaction, live in pending
            if not _within(transaction, previous)
        ]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
