"""Demo data for `kanban-api seed`: users with boards full of labelled cards.

Boards are made by the service users get (`create_board`), so each has its seven
labels and its owner as member. Users and cards are bulk-inserted through the
models' tables instead, because one Argon2 hash per user and one ORM flush per
card would make a 5,000-card board take minutes: every user gets the same hash
of the one password, and cards go in by the thousand.
"""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.models import CardColumn, CardLabel, LabelColor, User
from kanban_api.models.card import Card
from kanban_api.services import ordering
from kanban_api.services.boards import create_board
from kanban_api.utils.emails import email_key
from kanban_api.utils.password import hash_password

EMAIL_PATTERN = re.compile(r"demo(\d+)@example\.com")
CARDS_PER_INSERT = 1_000


@dataclass(frozen=True)
class DemoUser:
    id: int
    email: str


async def seed_demo_data(
    session: AsyncSession,
    *,
    users: int,
    boards: int,
    cards: int,
    labels_per_card: int,
    password: str,
    progress: Callable[[int], None] = lambda _: None,
) -> list[DemoUser]:
    """Create `users` users, each with `boards` boards of `cards` cards.

    Emails are demo<N>@example.com, numbered after those already there, so seeding
    twice adds users. Cards are spread over the columns and carry `labels_per_card`
    labels each. `progress` is told how many boards and cards were just written.
    """
    demo_users = await _create_users(session, count=users, password=password)
    for user in demo_users:
        owner = await session.get_one(User, user.id)
        for number in range(1, boards + 1):
            board = await create_board(
                session, user=owner, title=f"Demo board {number}", description=""
            )
            progress(1)
            label_ids = {label.color: label.id for label in board.labels}
            await _create_cards(
                session,
                board_id=board.id,
                label_ids=[label_ids[color] for color in LabelColor],
                count=cards,
                labels_per_card=labels_per_card,
                progress=progress,
            )
    return demo_users


async def _create_users(session: AsyncSession, *, count: int, password: str) -> list[DemoUser]:
    existing = await session.scalars(select(User.email).where(User.email.like("demo%@example.com")))
    numbers = [int(match[1]) for email in existing if (match := EMAIL_PATTERN.fullmatch(email))]
    first = max(numbers, default=0) + 1
    hashed = await hash_password(password)
    emails = [f"demo{number}@example.com" for number in range(first, first + count)]
    if not emails:
        return []
    ids = await session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {"email": email, "email_key": email_key(email), "hashed_password": hashed}
            for email in emails
        ],
    )
    return [DemoUser(id=id_, email=email) for id_, email in zip(ids, emails, strict=True)]


async def _create_cards(
    session: AsyncSession,
    *,
    board_id: int,
    label_ids: list[int],
    count: int,
    labels_per_card: int,
    progress: Callable[[int], None],
) -> None:
    """Cards as executemany batches, then their labels by the cards' ids on this new board.

    Positions come from the ordering service, as for cards created through the API;
    versions and the board's event counter keep their defaults (nothing happened to
    the cards yet, and no events are recorded for demo data).
    (Ids are read back with one SELECT rather than RETURNING, which SQLite's driver
    would answer one row per statement.)
    """
    columns = list(CardColumn)
    column_of = [columns[number % len(columns)] for number in range(count)]
    positions = {}
    for column, in_column in Counter(column_of).items():
        found = await ordering.bottom_positions(
            session, board_id=board_id, column=column, count=in_column
        )
        positions[column] = iter(found.positions)
    numbers = iter(range(count))
    while chunk := list(islice(numbers, CARDS_PER_INSERT)):
        await session.execute(
            insert(Card),
            [
                {
                    "board_id": board_id,
                    "title": f"Card {number + 1}",
                    "description": f"Demo card {number + 1} of board {board_id}.",
                    "column": column_of[number],
                    "position": next(positions[column_of[number]]),
                }
                for number in chunk
            ],
        )
        progress(len(chunk))
    card_ids = await session.scalars(
        select(Card.id).where(Card.board_id == board_id).order_by(Card.id)
    )
    card_labels = [
        {"card_id": card_id, "label_id": label_ids[(number + offset) % len(label_ids)]}
        for number, card_id in enumerate(card_ids)
        for offset in range(labels_per_card)
    ]
    if card_labels:
        await session.execute(insert(CardLabel), card_labels)
