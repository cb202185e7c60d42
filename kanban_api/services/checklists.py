"""Checklist writes: items of a card, in order, with the card's counts kept up to date.

A card has at most CHECKLIST_ITEMS_MAX items, so an item's `position` is simply its
index: adding, deleting or reordering renumbers the card's items (a hundred rows at
most), and positions are always 0, 1, 2…. The caller holds the board lock
(`access.lock_board`), so no two writers renumber one card at once.
"""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.errors import ConflictError, InvalidInputError
from kanban_api.events import feed as events
from kanban_api.limits import CHECKLIST_ITEMS_MAX
from kanban_api.models import Card, ChecklistItem
from kanban_api.schemas.card import CardOut
from kanban_api.schemas.checklist import ChecklistItemOut, ChecklistItemUpdate
from kanban_api.schemas.event import EventType

# Where an item goes: after the item with this id, first (None), or at the end (LAST).
LAST = -1


async def list_items(session: AsyncSession, *, card_id: int) -> Sequence[ChecklistItem]:
    """The card's items in order (ix_checklist_item_card_id_position serves it)."""
    statement = (
        select(ChecklistItem)
        .where(ChecklistItem.card_id == card_id)
        .order_by(ChecklistItem.position, ChecklistItem.id)
    )
    return (await session.scalars(statement)).all()


async def add_item(
    session: AsyncSession, *, card: Card, text: str, after_id: int | None = LAST
) -> ChecklistItem:
    """Add an item after `after_id` (None: first; LAST: at the end).

    Raises ConflictError (409) past CHECKLIST_ITEMS_MAX items, InvalidInputError (422)
    for an `after_id` that is not an item of this card.
    Events: `checklist.item_created`, then `card.updated` (its counts changed).
    """
    items = list(await list_items(session, card_id=card.id))
    if len(items) >= CHECKLIST_ITEMS_MAX:
        raise ConflictError(f"A card holds at most {CHECKLIST_ITEMS_MAX} checklist items")
    item = ChecklistItem(card_id=card.id, text=text, done=False, position=len(items))
    session.add(item)
    _place(items, item, after_id)
    _count(card, items)
    await session.flush()
    await _record(
        session, card=card, counted=True, type=EventType.CHECKLIST_ITEM_CREATED, item=item
    )
    return item


async def update_item(
    session: AsyncSession, *, card: Card, item: ChecklistItem, update: ChecklistItemUpdate
) -> ChecklistItem:
    """Edit the text, tick or untick, and/or move the item (`afterId` given).

    Events: `checklist.item_updated` if anything changed, then `card.updated` if the
    card's counts changed.
    """
    items = list(await list_items(session, card_id=card.id))
    before = (item.text, item.done, [entry.id for entry in items])
    if update.text is not None:
        item.text = update.text
    if update.done is not None:
        item.done = update.done
    if "after_id" in update.model_fields_set:
        items.remove(item)
        _place(items, item, update.after_id)
    if (item.text, item.done, [entry.id for entry in items]) == before:
        return item
    counts_changed = _count(card, items)
    await session.flush()
    await _record(
        session,
        card=card,
        counted=counts_changed,
        type=EventType.CHECKLIST_ITEM_UPDATED,
        item=item,
    )
    return item


async def delete_item(session: AsyncSession, *, card: Card, item: ChecklistItem) -> None:
    """Events: `checklist.item_deleted`, then `card.updated` (its counts changed)."""
    items = [entry for entry in await list_items(session, card_id=card.id) if entry is not item]
    await session.delete(item)
    _renumber(items)
    _count(card, items)
    await session.flush()
    await events.record_many(
        session,
        board_id=card.board_id,
        events=[
            (EventType.CHECKLIST_ITEM_DELETED, events.deleted(item.id)),
            (EventType.CARD_UPDATED, CardOut.model_validate(card)),
        ],
    )


def _place(items: list[ChecklistItem], item: ChecklistItem, after_id: int | None) -> None:
    """Insert `item` into `items` (the card's others, in order) and renumber them all."""
    if after_id == LAST:
        index = len(items)
    elif after_id is None:
        index = 0
    else:
        ids = [entry.id for entry in items]
        if after_id not in ids:
            raise InvalidInputError(
                ("body", "afterId"), "afterId must be another checklist item of the same card"
            )
        index = ids.index(after_id) + 1
    items.insert(index, item)
    _renumber(items)


def _renumber(items: list[ChecklistItem]) -> None:
    for position, entry in enumerate(items):
        if entry.position != position:
            entry.position = position


def _count(card: Card, items: Sequence[ChecklistItem]) -> bool:
    """Store the card's counts; True if they changed (the card's version then grows)."""
    done, total = sum(entry.done for entry in items), len(items)
    if (card.checklist_done, card.checklist_total) == (done, total):
        return False
    card.checklist_done, card.checklist_total = done, total
    return True


async def _record(
    session: AsyncSession, *, card: Card, counted: bool, type: EventType, item: ChecklistItem
) -> None:
    """The item's event, then `card.updated` if the card's counts (`counted`) changed."""
    recorded: list[tuple[EventType, events.EventData]] = [
        (type, ChecklistItemOut.model_validate(item))
    ]
    if counted:
        recorded.append((EventType.CARD_UPDATED, CardOut.model_validate(card)))
    await events.record_many(session, board_id=card.board_id, events=recorded)
