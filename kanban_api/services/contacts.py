"""Whom a user may add to a board at once: only accounts whose email they already know.

User ids are small consecutive numbers, so adding anyone by id would let a user walk
ids 1, 2, 3 … and learn every account's email (the share's answer) or push boards
onto strangers' board lists. A user is introduced to themself, to anyone they found
by exact email (`remember`, called by POST /api/users/search), and to anyone they
both joined a board with (whose email its member list shows them anyway; a board in
the trash does not count). Sharing with anyone else makes an invitation
(services/boards.py), which shows no email and joins nobody until its user accepts it.
"""

from typing import Any

from sqlalchemy import ColumnElement, exists, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from kanban_api.access import board_is_live
from kanban_api.errors import USER_NOT_FOUND, NotFoundError
from kanban_api.models import Contact, Membership, User
from kanban_api.services import users
from kanban_api.utils.emails import email_key


async def find_by_email(session: AsyncSession, *, user_id: int, email: str) -> User:
    """The account `email` names, however it is spelled (as at sign-up), remembered as a
    contact `user_id` may share boards with; 404 if there is none."""
    found = await users.get_by_email(session, email=email)
    if found is None:
        raise NotFoundError(USER_NOT_FOUND)
    await remember(session, user_id=user_id, contact_id=found.id)
    return found


async def remember(session: AsyncSession, *, user_id: int, contact_id: int) -> None:
    """Record that `user_id` found `contact_id` by exact email (idempotent)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    insert: Any = postgresql.insert if postgres else sqlite.insert
    await session.execute(
        insert(Contact)
        .values(user_id=user_id, contact_id=contact_id)
        .on_conflict_do_nothing(index_elements=[Contact.user_id, Contact.contact_id])
    )


async def co_members_by_email(
    session: AsyncSession, *, user_id: int, emails: set[str]
) -> dict[str, int]:
    """`email_key` → user id, for those of `emails` naming the user or someone they are
    introduced to by a board (see above): whom an import may name (services/transfer.py)."""
    keys = {email_key(email) for email in emails}
    if not keys:
        return {}
    rows = await session.execute(
        select(User.email_key, User.id).where(
            User.email_key.in_(sorted(keys)),
            or_(User.id == user_id, _shares_a_board(user_id, User.id)),
        )
    )
    return {row.email_key: row.id for row in rows}


def _shares_a_board(user_id: int, other: int | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL that holds while users `user_id` and `other` both joined one live board (an
    invitation not yet accepted shows neither side the other's email)."""
    mine, theirs = aliased(Membership), aliased(Membership)
    return exists().where(
        mine.user_id == user_id,
        mine.accepted_at.is_not(None),
        theirs.board_id == mine.board_id,
        theirs.user_id == other,
        theirs.accepted_at.is_not(None),
        board_is_live(mine.board_id),
    )


def introduced_to(user_id: int, other: int | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL that holds while `other` is introduced to `user_id` (see above): whose email
    `user_id` knows already."""
    found = exists().where(Contact.user_id == user_id, Contact.contact_id == other)
    return or_(literal(user_id) == other, found, _shares_a_board(user_id, other))


async def introduced(session: AsyncSession, *, sharer_id: int, user_id: int) -> bool:
    """Whether `sharer_id` may add `user_id` to a board at once (see above)."""
    return bool(await session.scalar(select(introduced_to(sharer_id, user_id))))
