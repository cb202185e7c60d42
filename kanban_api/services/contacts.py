"""Whom a user may add to a board at once: only accounts whose email they already know.

User ids are small consecutive numbers, so adding anyone by id would let a user walk
ids 1, 2, 3 … and learn every account's email (the share's answer) or push boards
onto strangers' board lists. A user is introduced to themself, to anyone they found
by exact email (`remember`, called by POST /api/users/search), and to anyone they
both joined a board with (whose email its member list shows them anyway). Sharing
with anyone else makes an invitation (services/boards.py), which shows no email and
joins nobody until its user accepts it.
"""

from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kanban_api.models import Contact, Membership


async def remember(session: AsyncSession, *, user_id: int, contact_id: int) -> None:
    """Record that `user_id` found `contact_id` by exact email (idempotent)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    insert: Any = postgresql.insert if postgres else sqlite.insert
    await session.execute(
        insert(Contact)
        .values(user_id=user_id, contact_id=contact_id)
        .on_conflict_do_nothing(index_elements=[Contact.user_id, Contact.contact_id])
    )


async def introduced(session: AsyncSession, *, sharer_id: int, user_id: int) -> bool:
    """Whether `sharer_id` may add `user_id` to a board at once (see above).

    Boards count only where both joined: an invitation not yet accepted shows
    neither side the other's email.
    """
    mine, theirs = aliased(Membership), aliased(Membership)
    shares_a_board = exists().where(
        mine.user_id == sharer_id,
        mine.accepted_at.is_not(None),
        theirs.board_id == mine.board_id,
        theirs.user_id == user_id,
        theirs.accepted_at.is_not(None),
    )
    found = exists().where(Contact.user_id == sharer_id, Contact.contact_id == user_id)
    return sharer_id == user_id or bool(await session.scalar(select(or_(found, shares_a_board))))
