"""Factories: users, boards with members, cards and tokens made straight in the database.

For tests that are not about signing up or logging in (those go through HTTP:
`Accounts.sign_up`). A user costs one INSERT: every account with the same password
shares one Argon2id hash, computed once per test session, so logging in with it
still works; tokens are minted with the app's key as the login route mints them.
"""

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import act_as
from kanban_api.database import Database
from kanban_api.models import Board, Membership, Role, User, Webhook
from kanban_api.schemas.card import CardCreate
from kanban_api.services import boards as board_service
from kanban_api.services import cards as card_service
from kanban_api.services import contacts, trash
from kanban_api.services.card_caps import CardCaps
from kanban_api.utils.password import hash_password
from kanban_api.utils.token import create_access_token
from kanban_api.webhooks.signing import new_secret

_emails = itertools.count(1)


_hashes: dict[str, str] = {}


async def password_hash(password: str) -> str:
    """One Argon2id hash per password and test session (the server's own hasher)."""
    if password not in _hashes:
        _hashes[password] = await hash_password(password)
    return _hashes[password]


def next_email() -> str:
    return f"user{next(_emails)}@example.com"


def mint_token(user: User, *, secret_key: str, minutes: int = 60) -> str:
    """A bearer token for the user, as `POST /api/auth/tokens` would answer it."""
    return create_access_token(
        user_id=user.id,
        email=user.email,
        credentials_version=user.credentials_version,
        secret_key=secret_key,
        minutes=minutes,
    )


async def create_user(session: AsyncSession, *, email: str, password: str) -> User:
    user = User(email=email, hashed_password=await password_hash(password))
    session.add(user)
    await session.flush()
    return user


async def create_board(
    database: Database,
    *,
    owner_id: int,
    caps: CardCaps,
    members: Mapping[int, Role] = {},
    cards: Sequence[Mapping[str, Any]] = (),
    title: str = "Board",
) -> tuple[int, list[int]]:
    """A board owned by `owner_id`, shared with `members` in their roles, holding `cards`
    (CardCreate fields) in order; returns the board's id and the cards' ids. Its events
    are recorded as the owner's, as if the owner had done it all over HTTP."""
    async with database.sessionmaker() as session, session.begin():
        act_as(session, user_id=owner_id)
        owner = await session.get_one(User, owner_id)
        board = await board_service.create_board(session, user=owner, title=title, description="")
        for user_id, role in members.items():
            # As if the owner had found them by email first (services/contacts.py).
            await contacts.remember(session, user_id=owner_id, contact_id=user_id)
            await board_service.add_member(
                session, board=board, sharer_id=owner_id, user_id=user_id, role=role
            )
        created = await card_service.create_cards(
            session,
            board=board,
            cards=[CardCreate.model_validate(card) for card in cards],
            caps=caps,
        )
    return board.id, [card.id for card in created]


async def invite(database: Database, *, board_id: int, user_id: int, role: Role) -> None:
    """Make the user an invited member of the board (not accepted yet), as sharing by
    someone who never found them by email does, whoever they happen to know; no event."""
    async with database.sessionmaker() as session, session.begin():
        session.add(Membership(user_id=user_id, board_id=board_id, role=role, accepted_at=None))


async def create_webhook(database: Database, *, board_id: int, owner_id: int, url: str) -> int:
    """A webhook of the board, made as its owner would, without checking where `url` leads
    (tests that are not about targets need none reachable); returns its id."""
    async with database.sessionmaker() as session, session.begin():
        board = await session.get_one(Board, board_id)
        webhook = Webhook(
            board_id=board_id,
            owner_id=owner_id,
            url=url,
            events=None,
            secret=new_secret(),
            last_seq=board.event_seq,
        )
        session.add(webhook)
        await session.flush()
        return webhook.id


async def trash_board(database: Database, *, board_id: int, user_id: int) -> None:
    """Move the board to the trash as `user_id` would with DELETE /api/boards/{board_id}."""
    async with database.sessionmaker() as session, session.begin():
        act_as(session, user_id=user_id)
        user = await session.get_one(User, user_id)
        board = await session.get_one(Board, board_id)
        await trash.trash_board(session, board=board, user=user)


async def empty_trash(database: Database) -> int:
    """Purge everything in the trash now, as the pruner does once the retention has passed."""
    async with database.sessionmaker() as session, session.begin():
        return await trash.purge(session, retention_days=0)
