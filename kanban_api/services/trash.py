"""The trash: deleting a board or a card moves it here; it can be restored as it was until
it is purged, KANBAN_TRASH_RETENTION_DAYS later.

A trashed row stays where it is, marked (`deleted_at`, `deleted_by`); access.py's
conditions (`board_is_live`, `card_in_play`) keep it out of every read, count, lock
and list, and the card position index is partial, so a trashed card holds nobody's
place. Everything on a trashed board or card (cards, labels, members, comments,
checklist items, webhooks, events) stays with it and comes back with it; the purge
deletes it all, by the database's cascades.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import (
    Row,
    String,
    bindparam,
    delete,
    exists,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kanban_api.access import (
    Principal,
    caller_membership,
    check_credential,
    lock_free_boards,
)
from kanban_api.errors import ConflictError, InvalidInputError
from kanban_api.events import feed as events
from kanban_api.models import Board, Card, Membership, User
from kanban_api.models.base import utcnow
from kanban_api.permissions import Action
from kanban_api.schemas.board import BoardEventOut
from kanban_api.schemas.card import CardOut
from kanban_api.schemas.event import EventType
from kanban_api.schemas.fields import BodyId, UTCTimestamp
from kanban_api.schemas.trash import TrashedType
from kanban_api.services import card_caps, ordering, wip
from kanban_api.services.card_caps import CardCaps
from kanban_api.services.cards import updated_card_events
from kanban_api.utils.cursor import decode_cursor, encode_cursor

BOARD_IN_TRASH = "The card's board is in the trash; restore the board first"


async def trash_board(session: AsyncSession, *, board: Board, user: User) -> None:
    """Move the board, with everything on it, to the trash. The caller holds the board lock.

    Event: `board.deleted`, the board's last until it is restored: streams end with it.
    """
    board.deleted_at, board.deleted_by = utcnow(), user.id
    await session.flush()
    await events.record(
        session, board_id=board.id, type=EventType.BOARD_DELETED, data=events.deleted(board.id)
    )


async def trash_card(session: AsyncSession, *, card: Card, user: User) -> None:
    """Move the card, with its comments and checklist, to the trash; its place in its
    column is free at once. The caller holds the board lock. Event: `card.deleted`."""
    card.deleted_at, card.deleted_by = utcnow(), user.id
    await session.flush()
    await events.record(
        session, board_id=card.board_id, type=EventType.CARD_DELETED, data=events.deleted(card.id)
    )


async def restore_board(session: AsyncSession, *, board: Board) -> Board:
    """Bring the board back from the trash with everything that was on it (cards trashed
    on their own stay in the trash). The caller holds the board lock.

    Event: `board.restored` (the board, as `board.updated` carries it).
    """
    board.deleted_at = board.deleted_by = None
    await session.flush()
    await events.record(
        session,
        board_id=board.id,
        type=EventType.BOARD_RESTORED,
        data=BoardEventOut.model_validate(board),
    )
    return board


async def restore_card(session: AsyncSession, *, card: Card, caps: CardCaps) -> Card:
    """Bring the card back from the trash, with its labels, assignees (those still members),
    comments and checklist, at its old place, or at the bottom of its column if another
    card holds that place now. The caller holds the board lock.

    Raises ConflictError (409) if its board is in the trash, or if the board has no room
    for it (its card cap, or its column's WIP limit for an active card).
    Events: `card.updated` for each card a renumbering of the column moved, then
    `card.restored`.
    """
    if await session.scalar(select(Board.deleted_at).where(Board.id == card.board_id)):
        raise ConflictError(BOARD_IN_TRASH)
    await card_caps.make_room(
        session,
        board_id=card.board_id,
        caps=caps,
        active=0 if card.archived else 1,
        archived=1 if card.archived else 0,
    )
    if not card.archived:
        await wip.make_room(session, board_id=card.board_id, adding={card.column: 1})
    renumbered: list[int] = []
    if await _place_taken(session, card=card):
        # Placed while still in the trash: the partial index never sees two cards at once.
        renumbered = await ordering.place_card(
            session, card=card, column=card.column, anchor=ordering.BOTTOM
        )
    card.deleted_at = card.deleted_by = None
    await session.flush()
    await events.record_many(
        session,
        board_id=card.board_id,
        events=[
            *await updated_card_events(session, card_ids=renumbered),
            (EventType.CARD_RESTORED, CardOut.model_validate(card)),
        ],
    )
    return card


async def _place_taken(session: AsyncSession, *, card: Card) -> bool:
    """Whether a card in play holds the trashed card's place in its column."""
    other = select(Card.id).where(
        Card.board_id == card.board_id,
        Card.column == card.column,
        Card.position == card.position,
        Card.deleted_at.is_(None),
    )
    return bool(await session.scalar(select(exists(other))))


# The caller's trash: boards they own, and cards of live boards where they may edit cards.
_TRASHED_BOARDS = (
    select(
        literal_column("'board'", String).label("type"),
        Board.id,
        Board.title,
        Board.id.label("board_id"),
        Board.deleted_at,
        Board.deleted_by,
    )
    .join(Membership, Membership.board_id == Board.id)
    .where(*caller_membership(Action.MANAGE_BOARD, board_in_trash=True))
)
_TRASHED_CARDS = (
    select(
        literal_column("'card'", String).label("type"),
        Card.id,
        Card.title,
        Card.board_id,
        Card.deleted_at,
        Card.deleted_by,
    )
    .join(Membership, Membership.board_id == Card.board_id)
    .where(Card.deleted_at.is_not(None), *caller_membership(Action.EDIT_CARDS))
)
_TRASH = union_all(_TRASHED_BOARDS, _TRASHED_CARDS).subquery("trash")
# Newest first; a board and a card may share an id and a deletion time, so the type
# breaks ties too, and the three keys together are unique (what a cursor needs).
_TRASH_ORDER = (_TRASH.c.deleted_at, _TRASH.c.type, _TRASH.c.id)
_LIST_TRASH = select(_TRASH).order_by(*(key.desc() for key in _TRASH_ORDER))
_AFTER_CURSOR = tuple_(*_TRASH_ORDER) < tuple_(
    *(bindparam(f"after_{key.name}", type_=key.type) for key in _TRASH_ORDER)
)
# Checked as strictly as a request's own fields: a client can forge a cursor.
_CURSOR_VALUES = TypeAdapter(tuple[UTCTimestamp, TrashedType, BodyId])


@dataclass(frozen=True, slots=True)
class TrashPage:
    """Rows of (type, id, title, board_id, deleted_at, deleted_by), and the cursor of the
    page after them (None: this was the last)."""

    rows: Sequence[Row[Any]]
    next_cursor: str | None


async def list_trash(
    connection: AsyncConnection, *, principal: Principal, limit: int | None, cursor: str | None
) -> TrashPage:
    """The caller's restorable items, newest first: all of them, or (`limit`) one page
    after the item `cursor` names. One statement; an empty answer costs a second, to
    tell an empty trash from a stale credential (401). InvalidInputError (422) for a
    cursor this did not make."""
    statement = _LIST_TRASH
    params = principal.params()
    if cursor is not None:
        statement = statement.where(_AFTER_CURSOR)
        params |= _cursor_params(cursor)
    if limit is not None:
        statement = statement.limit(limit + 1)
    rows = (await connection.execute(statement, params)).all()
    if not rows:
        await check_credential(connection, principal=principal)
    if limit is None or len(rows) <= limit:
        return TrashPage(rows, None)
    last = rows[limit - 1]
    return TrashPage(rows[:limit], encode_cursor([last.deleted_at.isoformat(), last.type, last.id]))


def _cursor_params(cursor: str) -> dict[str, Any]:
    try:
        values = _CURSOR_VALUES.validate_python(decode_cursor(cursor))
    except (ValueError, ValidationError) as error:
        raise InvalidInputError(
            ("query", "cursor"), "Invalid cursor; use the one from the Link header"
        ) from error
    deleted_at, type, id = values
    return {"after_deleted_at": deleted_at, "after_type": type.value, "after_id": id}


async def purge(session: AsyncSession, *, retention_days: int) -> int:
    """Delete for good the boards and cards that have been in the trash longer than
    `retention_days`, with everything on them; returns how many boards and cards.

    Like every writer of a board it holds the board while deleting, and waits for none:
    a board in use now is skipped (SKIP LOCKED) and purged next time.
    """
    cutoff = utcnow() - timedelta(days=retention_days)
    old_boards = Board.deleted_at < cutoff
    boards = await session.execute(
        delete(Board).where(Board.id.in_(lock_free_boards(Board.id, old_boards)), old_boards)
    )
    old_cards = Card.deleted_at < cutoff
    cards = await session.execute(
        delete(Card).where(Card.board_id.in_(lock_free_boards(Card.board_id, old_cards)), old_cards)
    )
    purged: int = boards.rowcount + cards.rowcount  # type: ignore[attr-defined]
    return purged
