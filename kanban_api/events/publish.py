"""How recorded events leave their transaction: one publisher, chosen at startup.

`publisher_for` picks it from the database kind, once; the write path then calls
`announce` without knowing which it got. Both deliver an event when, and only when,
its transaction commits, in commit order:

- `Notify` (PostgreSQL): `pg_notify` inside the transaction; PostgreSQL delivers the
  notice to every listening worker on commit (events/postgres.py listens).
- `AfterCommit` (SQLite, whose database one process owns): kept on the session and
  handed to the process's hub after commit. Events recorded inside a savepoint that
  is rolled back are dropped with it, so no stream ever sees a seq that was undone.
"""

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import ARRAY, Text, bindparam, event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from kanban_api.events.message import LiveEvent

# The NOTIFY channel every worker listens on.
CHANNEL = "kanban_board_events"
# Session.info key of the session's publisher (set on the sessionmaker at startup).
PUBLISHER = "kanban.publisher"
_PENDING = "kanban.pending_events"
_DELIVER = "kanban.deliver"

Deliver = Callable[[list[LiveEvent]], None]


class Publisher(Protocol):
    async def announce(self, session: AsyncSession, events: list[LiveEvent]) -> None:
        """Have the events delivered if the session's transaction commits."""


class Notify:
    _statement = text(
        "SELECT pg_notify(:channel, payload) FROM unnest(CAST(:payloads AS text[])) AS payload"
    ).bindparams(bindparam("payloads", type_=ARRAY(Text)))

    async def announce(self, session: AsyncSession, events: list[LiveEvent]) -> None:
        connection = await session.connection()
        payloads = [live.notify_payload() for live in events]
        await connection.execute(self._statement, {"channel": CHANNEL, "payloads": payloads})


class AfterCommit:
    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver

    async def announce(self, session: AsyncSession, events: list[LiveEvent]) -> None:
        sync = session.sync_session
        transaction = sync.get_nested_transaction() or sync.get_transaction()
        pending: list[tuple[SessionTransaction | None, LiveEvent]] = sync.info.setdefault(
            _PENDING, []
        )
        pending.extend((transaction, live) for live in events)
        sync.info[_DELIVER] = self.deliver


def publisher_for(*, is_sqlite: bool, deliver: Deliver) -> Publisher:
    """NOTIFY on PostgreSQL; on SQLite, `deliver` (the hub's) after commit."""
    return AfterCommit(deliver) if is_sqlite else Notify()


def notifies(session: AsyncSession) -> bool:
    """Whether the session's publisher is `Notify`: a statement of the write path may
    then send the NOTIFYs itself (events/feed.py, to save a round trip)."""
    return isinstance(session.info.get(PUBLISHER), Notify)


async def announce(session: AsyncSession, events: list[LiveEvent]) -> None:
    """Hand the events to the session's publisher; sessions made without one (the
    command line's) announce nothing."""
    publisher: Publisher | None = session.info.get(PUBLISHER)
    if publisher is not None:
        await publisher.announce(session, events)


class EventSession(Session):
    """The application's session class; the listeners below deliver `AfterCommit` events."""


@event.listens_for(EventSession, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its events wait for the outer commit
    pending = session.info.pop(_PENDING, None)
    deliver: Deliver | None = session.info.get(_DELIVER)
    if pending and deliver is not None:
        deliver([live for _, live in pending])


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
