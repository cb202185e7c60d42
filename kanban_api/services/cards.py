"""Card writes, on ORM entities (the hot reads are reads/cards.py)."""

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kanban_api.access import card_in_play
from kanban_api.database import flush_pending
from kanban_api.errors import InvalidInputError
from kanban_api.events import feed as events
from kanban_api.models import (
    Board,
    Card,
    CardAssignee,
    CardColumn,
    CardLabel,
    Label,
    LabelColor,
    Membership,
)
from kanban_api.models.base import utcnow
from kanban_api.models.enums import COLOR_ORDER
from kanban_api.reads.cards import CARD_ORDER
from kanban_api.schemas.card import CardCreate, CardOut, CardUpdate
from kanban_api.schemas.event import EventType
from kanban_api.services import card_caps, ordering, wip
from kanban_api.services.card_caps import CardCaps


async def create_cards(
    session: AsyncSession, *, board: Board, cards: Sequence[CardCreate], caps: CardCaps
) -> list[Card]:
    """Insert a batch in request order, in the request's transaction: all or nothing.

    Each card goes to the bottom of its column; cards of one column keep their request order.
    The caller holds the board lock (see `access.lock_board`).
    Raises ConflictError (409) if the batch would take the board past a cap (card_caps.py).
    Events: `card.updated` for each card a column renumbering moved to make room, then
    `card.created` per card, in request order.
    """
    await _admit_batch(session, board_id=board.id, cards=cards, caps=caps)
    positions = {}
    renumbered: list[int] = []
    for column, count in Counter(request.column for request in cards).items():
        found = await ordering.bottom_positions(
            session, board_id=board.id, column=column, count=count
        )
        positions[column] = iter(found.positions)
        renumbered += found.renumbered
    created = [
        Card(
            board_id=board.id,
            title=request.title,
            description=request.description,
            column=request.column,
            position=next(positions[request.column]),
            due_at=request.due_at,
            archived=request.archived,
            assignees=[
                CardAssignee(user_id=user_id, board_id=board.id)
                for user_id in sorted(set(request.assignee_ids))
            ],
        )
        for request in cards
    ]
    session.add_all(created)
    await session.flush()
    labels_by_color = {label.color: label for label in board.labels}
    for card, request in zip(created, cards, strict=True):
        labels = _labels_for(labels_by_color, request.labels)
        session.add_all(CardLabel(card_id=card.id, label_id=label.id) for label in labels)
        set_committed_value(card, "labels", labels)
    await session.flush()
    await events.record_many(
        session,
        board_id=board.id,
        events=[
            *await updated_card_events(session, card_ids=renumbered),
            *[(EventType.CARD_CREATED, CardOut.model_validate(card)) for card in created],
        ],
    )
    return created


async def _admit_batch(
    session: AsyncSession, *, board_id: int, cards: Sequence[CardCreate], caps: CardCaps
) -> None:
    """422 if a card names an assignee who is not a member; 409 past a cap (card_caps.py)
    or a column's WIP limit (wip.py)."""
    outsiders = await _non_members(
        session, board_id=board_id, user_ids={i for request in cards for i in request.assignee_ids}
    )
    for index, request in enumerate(cards):
        if refused := outsiders.intersection(request.assignee_ids):
            raise _not_members(("body", index, "assigneeIds"), refused)
    archiving = sum(request.archived for request in cards)
    await card_caps.make_room(
        session, board_id=board_id, caps=caps, active=len(cards) - archiving, archived=archiving
    )
    await wip.make_room(
        session,
        board_id=board_id,
        adding=Counter(request.column for request in cards if not request.archived),
    )


async def update_card(
    session: AsyncSession, *, card: Card, update: CardUpdate, caps: CardCaps
) -> CardOut:
    """Apply a partial update; a card changing column goes to the bottom of the new one.

    Returns the card as changed: the model its event carries (see `_record_change`).

    The caller holds the board lock (see `access.lock_board`).
    Raises ConflictError (409) if (un)archiving would take the board past a cap, or if
    the card would become active in a column at its WIP limit.
    Events: `card.updated` for each card a renumbering of the new column moved, then
    `card.updated` for this card if anything about it changed.
    """
    version = card.version
    renumbered: list[int] = []
    if update.archived is not None and update.archived != card.archived:
        moving = 1 if update.archived else -1
        await card_caps.make_room(
            session, board_id=card.board_id, caps=caps, active=-moving, archived=moving
        )
    column = card.column if update.column is None else update.column
    archived = card.archived if update.archived is None else update.archived
    if not archived and (card.archived or column != card.column):
        await wip.make_room(session, board_id=card.board_id, adding={column: 1})
    if update.column is not None and update.column != card.column:
        renumbered = await ordering.place_card(
            session, card=card, column=update.column, anchor=ordering.BOTTOM
        )
    columns = update.model_dump(
        exclude_unset=True, exclude={"labels", "assignee_ids", "column"}, by_alias=False
    )
    for field, value in columns.items():
        setattr(card, field, value)
    if update.labels is not None:
        await _replace_labels(session, card=card, colors=update.labels)
    if update.assignee_ids is not None:
        await _replace_assignees(session, card=card, user_ids=set(update.assignee_ids))
    await flush_pending(session)
    return await _record_change(
        session, card=card, changed=card.version != version, renumbered=renumbered
    )


async def move_card(
    session: AsyncSession, *, card: Card, column: CardColumn, after_id: int | None
) -> CardOut:
    """Put the card right after card `after_id` of `column` (None: at the top).

    Returns the card as moved: the model its event carries.

    The caller holds the board lock (see `access.lock_board`).
    Raises ConflictError (409) if an active card would enter a column at its WIP limit.
    Events: `card.updated` for each other card a renumbering of the column moved,
    then `card.moved` for this card, unless it was already there.
    """
    version = card.version
    if not card.archived and column != card.column:
        await wip.make_room(session, board_id=card.board_id, adding={column: 1})
    renumbered = await ordering.place_card(session, card=card, column=column, anchor=after_id)
    return await _record_change(
        session,
        card=card,
        changed=card.version != version,
        renumbered=renumbered,
        type=EventType.CARD_MOVED,
    )


async def updated_card_events(
    session: AsyncSession, *, card_ids: Sequence[int], in_play_only: bool = False
) -> list[tuple[EventType, CardOut]]:
    """A `card.updated` event for each of these cards, changed by a bulk statement the
    session has not seen (a renumbering, an unassignment), in board order; with
    `in_play_only`, none for those in the trash (which no event may show)."""
    if not card_ids:
        return []
    changed = await session.scalars(
        select(Card)
        .where(Card.id.in_(card_ids), *((card_in_play(),) if in_play_only else ()))
        .options(selectinload(Card.labels), selectinload(Card.assignees))
        .order_by(*(key.attribute for key in CARD_ORDER))
        .execution_options(populate_existing=True)
    )
    return [(EventType.CARD_UPDATED, CardOut.model_validate(card)) for card in changed]


async def _record_change(
    session: AsyncSession,
    *,
    card: Card,
    changed: bool,
    renumbered: Sequence[int],
    type: EventType = EventType.CARD_UPDATED,
) -> CardOut:
    """The events of a change to one card: the cards renumbered to make room for it, then
    the card itself if it changed. Positions are only comparable within a column after a
    renumbering, so clients must learn every renumbered card's new position.

    Returns the card as an API model, built once for its event and its answer: reading
    the entity's attributes into the model is among a drag's larger costs.
    """
    recorded: list[tuple[EventType, events.EventData]] = [
        *await updated_card_events(session, card_ids=renumbered)
    ]
    out = CardOut.model_validate(card)
    if changed:
        recorded.append((type, out))
    await events.record_many(session, board_id=card.board_id, events=recorded)
    return out


async def _replace_labels(
    session: AsyncSession,
    *,
    card: Card,
    colors: Iterable[LabelColor],
) -> None:
    """Make the card's labels exactly `colors`, keeping rows for labels it already had."""
    board_labels = await session.scalars(select(Label).where(Label.board_id == card.board_id))
    wanted = _labels_for({label.color: label for label in board_labels}, colors)
    current_ids = {label.id for label in card.labels}
    wanted_ids = {label.id for label in wanted}
    if current_ids == wanted_ids:
        return
    if removed := current_ids - wanted_ids:
        await session.execute(
            delete(CardLabel).where(CardLabel.card_id == card.id, CardLabel.label_id.in_(removed))
        )
    session.add_all(
        CardLabel(card_id=card.id, label_id=label_id) for label_id in wanted_ids - current_ids
    )
    set_committed_value(card, "labels", wanted)
    # The label rows live in another table, so the card's own row must be told it changed.
    card.updated_at = utcnow()


async def _replace_assignees(session: AsyncSession, *, card: Card, user_ids: set[int]) -> None:
    """Make the card's assignees exactly `user_ids`, keeping rows for those it already had."""
    current = set(card.assignee_ids)
    if user_ids == current:
        return
    if refused := await _non_members(session, board_id=card.board_id, user_ids=user_ids - current):
        raise _not_members(("body", "assigneeIds"), refused)
    kept = [assignee for assignee in card.assignees if assignee.user_id in user_ids]
    added = [
        CardAssignee(user_id=user_id, board_id=card.board_id) for user_id in user_ids - current
    ]
    # Assignees dropped from the list are deleted as orphans at flush.
    card.assignees = sorted(kept + added, key=lambda assignee: assignee.user_id)
    card.updated_at = utcnow()


async def _non_members(session: AsyncSession, *, board_id: int, user_ids: set[int]) -> set[int]:
    """Those of the users who are not members of the board: invited ones count as not
    yet (an assignee's id is shown to every member; see models.board.Membership).

    The memberships found stay share-locked until commit, so removing one of
    them concurrently waits for this transaction, then unassigns as usual.
    """
    if not user_ids:
        return set()
    members = await session.scalars(
        select(Membership.user_id)
        .where(
            Membership.board_id == board_id,
            Membership.user_id.in_(user_ids),
            Membership.accepted_at.is_not(None),
        )
        .with_for_update(read=True, key_share=True)
    )
    return user_ids - set(members)


def _not_members(loc: tuple[str | int, ...], user_ids: set[int]) -> InvalidInputError:
    listed = ", ".join(map(str, sorted(user_ids)))
    return InvalidInputError(loc, f"Assignees must be members of the board; not members: {listed}")


def _labels_for(
    labels_by_color: dict[LabelColor, Label], colors: Iterable[LabelColor]
) -> list[Label]:
    """The board's labels for these colours, de-duplicated and in colour order."""
    return sorted(
        {labels_by_color[color] for color in colors}, key=lambda label: COLOR_ORDER[label.color]
    )
