"""Stream tickets: single-use permissions to open one board's event stream, for clients
that cannot send an Authorization header (browsers' EventSource). JWTs never go into URLs."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.models import Board, EventTicket, User
from kanban_api.models.base import utcnow
from kanban_api.services.boards import lock_board

TICKET_SECONDS = 60


async def issue_ticket(session: AsyncSession, *, user: User, board: Board) -> str:
    """A single-use ticket to open the board's stream within TICKET_SECONDS; only its hash is
    stored, in the database, so any worker can redeem it exactly once.

    Takes the board lock first, as every writer of the board does (see `lock_board`): the
    ticket row references the board, which a concurrent deletion may be removing.
    """
    await lock_board(session, board_id=board.id)
    now = utcnow()
    # The board's own expired tickets only: the lock covers those; the pruner does the rest.
    await session.execute(
        delete(EventTicket).where(EventTicket.board_id == board.id, EventTicket.expires_at < now)
    )
    ticket = secrets.token_urlsafe(32)
    session.add(
        EventTicket(
            ticket_hash=_hash(ticket),
            user_id=user.id,
            board_id=board.id,
            credentials_version=user.credentials_version,
            expires_at=now + timedelta(seconds=TICKET_SECONDS),
        )
    )
    await session.flush()
    return ticket


async def redeem_ticket(session: AsyncSession, *, ticket: str, board_id: int) -> User | None:
    """The ticket's user, if it is valid for this board and unused.

    DELETE ... RETURNING makes redeeming atomic: of two concurrent requests, on any
    workers, only one gets the row.
    """
    row = (
        await session.execute(
            delete(EventTicket)
            .where(EventTicket.ticket_hash == _hash(ticket))
            .returning(
                EventTicket.user_id,
                EventTicket.board_id,
                EventTicket.credentials_version,
                EventTicket.expires_at,
            )
        )
    ).one_or_none()
    if row is None or row.board_id != board_id or row.expires_at <= utcnow():
        return None
    user = await session.get(User, row.user_id)
    if user is None or user.credentials_version != row.credentials_version:
        return None
    return user


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()
