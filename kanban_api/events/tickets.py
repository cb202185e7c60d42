"""Stream tickets: single-use permissions to open one board's event stream, for clients
that cannot send an Authorization header (browsers' EventSource). JWTs never go into URLs."""

import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import lock_board, ticket_hash
from kanban_api.errors import BOARD_NOT_FOUND, NotFoundError
from kanban_api.models import Board, EventTicket, User
from kanban_api.models.base import utcnow

TICKET_SECONDS = 60


async def issue_ticket(session: AsyncSession, *, user: User, board: Board) -> str:
    """A single-use ticket to open the board's stream within TICKET_SECONDS; only its hash is
    stored, in the database, so any worker can redeem it exactly once.

    Takes the board lock first, as every writer of the board does (see `lock_board`): the
    ticket row references the board, which a concurrent deletion may be removing.
    """
    if not await lock_board(session, id=board.id):
        raise NotFoundError(BOARD_NOT_FOUND)
    now = utcnow()
    # The board's own expired tickets only: the lock covers those; the pruner does the rest.
    await session.execute(
        delete(EventTicket).where(EventTicket.board_id == board.id, EventTicket.expires_at < now)
    )
    ticket = secrets.token_urlsafe(32)
    session.add(
        EventTicket(
            ticket_hash=ticket_hash(ticket),
            user_id=user.id,
            board_id=board.id,
            credentials_version=user.credentials_version,
            expires_at=now + timedelta(seconds=TICKET_SECONDS),
        )
    )
    await session.flush()
    return ticket
