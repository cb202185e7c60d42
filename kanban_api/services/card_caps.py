"""How many cards a board may hold: active ones and archived ones, each under a cap.

Without caps one editor could grow a board without bound (500 cards a request), and
every member's unpaged card list would answer all of it. Active cards are capped
at KANBAN_MAX_CARDS_PER_BOARD (5,000 by default, Trello's limit of open cards per
board); archived ones, which lists leave out unless asked, count separately under
the higher KANBAN_MAX_ARCHIVED_CARDS_PER_BOARD, so archiving makes room.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.access import card_in_play
from kanban_api.config import Settings
from kanban_api.errors import ConflictError
from kanban_api.models import Card


@dataclass(frozen=True, slots=True)
class CardCaps:
    active: int
    archived: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "CardCaps":
        return cls(
            active=settings.max_cards_per_board, archived=settings.max_archived_cards_per_board
        )


async def make_room(
    session: AsyncSession, *, board_id: int, caps: CardCaps, active: int = 0, archived: int = 0
) -> None:
    """Raise ConflictError (409) unless the board can take `active` more active cards and
    `archived` more archived ones (either may be negative: a card leaving that state).

    One statement; the caller holds the board lock, so no other writer can add cards
    between this count and its own insert.
    """
    rows = await session.execute(
        select(Card.archived, func.count())
        .where(Card.board_id == board_id, card_in_play())
        .group_by(Card.archived)
    )
    counts: dict[bool, int] = dict(rows.all())
    for is_archived, adding, cap, kind in (
        (False, active, caps.active, "active"),
        (True, archived, caps.archived, "archived"),
    ):
        now = counts.get(is_archived, 0)
        if adding > 0 and now + adding > cap:
            raise ConflictError(
                f"A board holds at most {cap} {kind} cards; this one has {now}, so "
                f"{adding} more would exceed it"
                + (" (archive or delete some first)" if kind == "active" else "")
            )
