"""Demo data for `kanban-api demo`: users with boards full of cards to try every filter on.

Each board has named labels, its owner and (with two users or more) the next user as an
editor; its cards have task titles, due dates (some overdue), assignees, a few comments,
and some of the done ones are archived. `plain=True` makes numbered cards with labels
only, as the benchmarks measure.

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
from datetime import UTC, datetime, timedelta
from itertools import islice

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.models import CardColumn, CardLabel, Comment, LabelColor, Membership, Role, User
from kanban_api.models.base import utcnow
from kanban_api.models.card import Card, CardAssignee
from kanban_api.services import ordering
from kanban_api.services.boards import create_board
from kanban_api.utils.emails import email_key
from kanban_api.utils.password import hash_password

EMAIL_PATTERN = re.compile(r"demo(\d+)@example\.com")
CARDS_PER_INSERT = 1_000
LABEL_NAMES = {
    LabelColor.RED: "Bug",
    LabelColor.ORANGE: "Urgent",
    LabelColor.YELLOW: "Chore",
    LabelColor.GREEN: "Feature",
    LabelColor.BLUE: "Docs",
    LabelColor.PURPLE: "Research",
    LabelColor.GRAY: "Later",
}
TASKS = [
    "Sign-up page",
    "Password reset email",
    "Fix the login redirect loop",
    "Dark mode",
    "Export a board as CSV",
    "Onboarding checklist",
    "Mobile layout for the board view",
    "Keyboard shortcuts",
    "Due date reminders",
    "Search across boards",
    "Upgrade the database driver",
    "Write the API guide",
    "Drag and drop between columns",
    "Invite teammates by email",
    "Audit log for board changes",
    "Profile pictures",
]
COMMENTS = [
    "I can take this one this week.",
    "Sounds good; ping me when it is ready for review.",
]
# Cards with a comment thread on each board, and how often a card gets a due date / is archived.
COMMENTED_CARDS = 3
DUE_EVERY = 3
ARCHIVED_EVERY = 3


@dataclass(frozen=True)
class DemoUser:
    id: int
    email: str


async def create_demo_data(
    session: AsyncSession,
    *,
    users: int,
    boards: int,
    cards: int,
    labels_per_card: int,
    password: str,
    plain: bool = False,
    progress: Callable[[int], None] = lambda _: None,
) -> list[DemoUser]:
    """Create `users` users, each with `boards` boards of `cards` cards.

    Emails are demo<N>@example.com, numbered after those already there, so running it
    twice adds users. Cards are spread over the columns and carry `labels_per_card`
    labels each; unless `plain`, the board and cards get the details in the module's
    docstring. `progress` is told how many boards and cards were just written.
    """
    demo_users = await _create_users(session, count=users, password=password)
    for index, user in enumerate(demo_users):
        owner = await session.get_one(User, user.id)
        # The next user (round the list) joins each board, unless there is only one.
        member = None if plain or users < 2 else demo_users[(index + 1) % users].id
        for number in range(1, boards + 1):
            board = await create_board(
                session, user=owner, title=f"Demo board {number}", description=""
            )
            progress(1)
            if not plain:
                for label in board.labels:
                    label.name = LABEL_NAMES[label.color]
            if member is not None:
                session.add(
                    Membership(
                        user_id=member, board_id=board.id, role=Role.EDITOR, accepted_at=utcnow()
                    )
                )
            await session.flush()
            label_ids = {label.color: label.id for label in board.labels}
            card_ids = await _create_cards(
                session,
                board_id=board.id,
                label_ids=[label_ids[color] for color in LabelColor],
                count=cards,
                labels_per_card=labels_per_card,
                plain=plain,
                progress=progress,
            )
            if not plain:
                people = [user.id] if member is None else [user.id, member]
                await _add_details(session, board_id=board.id, card_ids=card_ids, people=people)
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
    plain: bool,
    progress: Callable[[int], None],
) -> list[int]:
    """Cards as executemany batches, then their labels by the cards' ids on this new board;
    the cards' ids, in creation order.

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
                    "column": column_of[number],
                    "position": next(positions[column_of[number]]),
                    **(_plain_card(number, board_id) if plain else _card(number, column_of)),
                }
                for number in chunk
            ],
        )
        progress(len(chunk))
    card_ids = list(
        await session.scalars(select(Card.id).where(Card.board_id == board_id).order_by(Card.id))
    )
    card_labels = [
        {"card_id": card_id, "label_id": label_ids[(number + offset) % len(label_ids)]}
        for number, card_id in enumerate(card_ids)
        for offset in range(labels_per_card)
    ]
    if card_labels:
        await session.execute(insert(CardLabel), card_labels)
    return card_ids


def _plain_card(number: int, board_id: int) -> dict[str, object]:
    return {
        "title": f"Card {number + 1}",
        "description": f"Demo card {number + 1} of board {board_id}.",
    }


def _card(number: int, column_of: list[CardColumn]) -> dict[str, object]:
    """A task title (numbered once the list repeats), a due date on every third card, from
    five days overdue to eleven days ahead, and every third done card archived."""
    title = TASKS[number % len(TASKS)]
    if number >= len(TASKS):
        title = f"{title} ({number // len(TASKS) + 1})"
    due = None
    if number % DUE_EVERY == 0:
        today = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)
        due = today + timedelta(days=number % 17 - 5)
    done = column_of[number] == CardColumn.DONE
    return {
        "title": title,
        "description": f"Demo task {number + 1}: what to do, and how we know it is done.",
        "due_at": due,
        "archived": done and (number // len(CardColumn)) % ARCHIVED_EVERY == 0,
    }


async def _add_details(
    session: AsyncSession, *, board_id: int, card_ids: list[int], people: list[int]
) -> None:
    """Every other card assigned (to the members in turn), and a short comment thread,
    one comment per member, on the first cards."""
    assignees = [
        {"card_id": card_id, "user_id": people[number // 2 % len(people)], "board_id": board_id}
        for number, card_id in enumerate(card_ids)
        if number % 2 == 0
    ]
    if assignees:
        await session.execute(insert(CardAssignee), assignees)
    comments = [
        {"card_id": card_id, "author_id": author, "body": body}
        for card_id in card_ids[:COMMENTED_CARDS]
        for author, body in zip(reversed(people), COMMENTS, strict=False)
    ]
    if comments:
        await session.execute(insert(Comment), comments)
