from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kanban_api.errors import NotFoundError
from kanban_api.models import Board, Card, CardLabel, Label, LabelColor, Membership, User
from kanban_api.models.base import utcnow
from kanban_api.models.enums import COLOR_ORDER
from kanban_api.schemas.card import CardCreate, CardOut, CardUpdate
from kanban_api.schemas.event import EventType
from kanban_api.services import boards, events

CARD_NOT_FOUND = "Card not found"


async def list_cards(session: AsyncSession, *, board: Board) -> Sequence[Card]:
    statement = (
        select(Card)
        .where(Card.board_id == board.id)
        .options(selectinload(Card.labels))
        .order_by(Card.column, Card.id)
    )
    return (await session.scalars(statement)).all()


async def get_member_card(
    session: AsyncSession, *, card_id: int, user: User, lock: bool = False
) -> Card:
    """The card if the user is a member of its board; otherwise 404.

    With `lock`, for a request that will change the card, its board is locked first
    (see `boards.lock_board`) and the card read again, as the last writer left it.
    """
    statement = (
        select(Card)
        .join(Membership, Membership.board_id == Card.board_id)
        .where(Card.id == card_id, Membership.user_id == user.id)
        .options(selectinload(Card.labels))
    )
    card = await session.scalar(statement)
    if card is not None and lock:
        await boards.lock_board(session, board_id=card.board_id)
        card = await session.scalar(statement.execution_options(populate_existing=True))
    if card is None:
        raise NotFoundError(CARD_NOT_FOUND)
    return card


async def create_cards(
    session: AsyncSession, *, board: Board, cards: Sequence[CardCreate]
) -> list[Card]:
    """Insert a batch in request order, in the request's transaction: all or nothing."""
    created = [
        Card(
            board_id=board.id,
            title=card.title,
            description=card.description,
            column=card.column,
        )
        for card in cards
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
        events=[(EventType.CARD_CREATED, CardOut.model_validate(card)) for card in created],
    )
    return created


async def update_card(session: AsyncSession, *, card: Card, update: CardUpdate) -> Card:
    changed = False
    for field, value in update.model_dump(exclude_unset=True, exclude={"labels"}).items():
        changed = changed or getattr(card, field) != value
        setattr(card, field, value)
    if update.labels is not None:
        changed = await _replace_labels(session, card=card, colors=update.labels) or changed
    await session.flush()
    if changed:
        await events.record(
            session,
            board_id=card.board_id,
            type=EventType.CARD_UPDATED,
            data=CardOut.model_validate(card),
        )
    return card


async def delete_card(session: AsyncSession, *, card: Card) -> None:
    await session.execute(delete(Card).where(Card.id == card.id))
    await events.record(
        session, board_id=card.board_id, type=EventType.CARD_DELETED, data=events.deleted(card.id)
    )


async def _replace_labels(
    session: AsyncSession,
    *,
    card: Card,
    colors: Iterable[LabelColor],
) -> bool:
    """Make the card's labels exactly `colors`, keeping rows for labels it already had;
    tells whether that changed anything."""
    board_labels = await session.scalars(select(Label).where(Label.board_id == card.board_id))
    wanted = _labels_for({label.color: label for label in board_labels}, colors)
    current_ids = {label.id for label in card.labels}
    wanted_ids = {label.id for label in wanted}
    if current_ids == wanted_ids:
        return False
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
    return True


def _labels_for(
    labels_by_color: dict[LabelColor, Label], colors: Iterable[LabelColor]
) -> list[Label]:
    """The board's labels for these colours, de-duplicated and in colour order."""
    return sorted(
        {labels_by_color[color] for color in colors}, key=lambda label: COLOR_ORDER[label.color]
    )
