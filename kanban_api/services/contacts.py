"""Whom a user may share a board with: only accounts whose email they already know.

User ids are small consecutive numbers, so sharing by id with anyone would let a
user walk ids 1, 2, 3 … and learn every account's email (the share's answer) or
push boards onto strangers. A user may share with themself, with anyone they found
by exact email (`remember`, called by POST /api/users/search), and with anyone
they already share a board with (whose email the member list shows them anyway; a board
in the trash does not count).
Anyone else is answered like an id that does not exist.
"""

from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
    """`email_key` → user id, for those of `emails` naming the user or someone who shares a
    board with them (not one in the trash): whom an import may name (services/transfer.py)."""
    keys = {email_key(email) for email in emails}
    if not keys:
        return {}
    rows = await session.execute(
        select(User.email_key, User.id).where(
            User.email_key.in_(sorted(keys)), or_(User.id == user_id, _shares_a_board(user_id))
        )
    )
    return {row.email_key: row.id for row in rows}


def _shares_a_board(user_id: int) -> ColumnElement[bool]:
    """SQL that holds while `User` and user `user_id` are members of one live board."""
    mine, theirs = aliased(Membership), aliased(Membership)
    return exists().where(
        mine.user_id == user_id,
        theirs.board_id == mine.board_id,
        theirs.user_id == User.id,
        board_is_live(mine.board_id),
    )


async def shareable_user(session: AsyncSession, *, sharer_id: int, user_id: int) -> User | None:
    """User `user_id` if `sharer_id` may share boards with them (see above), else None."""
    shares_a_board = _shares_a_board(sharer_id)
    found = exists().where(Contact.user_id == sharer_id, Contact.contact_id == User.id)
    return await session.scalar(
        select(User).where(User.id == user_id, or_(User.id == sharer_id, found, shares_a_board))
    )
