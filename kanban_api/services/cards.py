from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kanban_api.errors import NotFoundError
from kanban_api.models import Board, Card, CardLabel, Label, LabelColor, Membership, User
from kanban_api.models.base import utcnow
from kanban_api.models.enums import COLOR_ORDER
from kanban_api.schemas.card import CardCreate, CardUpdate

CARD_NOT_FOUND = "Card not found"


async def list_cards(session: AsyncSession, *, board: Board) -> Sequence[Card]:
    statement = (
        select(Card)
        .where(Card.board_id == board.id)
        .options(selectinload(Card.labels))
        .order_by(Card.column, Card.id)
    )
    return (await session.scalars(statement)).all()


async def get_member_card(session: AsyncSession, *, card_id: int, user: User) -> Card:
    """The card if the user is a member of its board; otherwise 404."""
    statement = (
        select(Card)
        .join(Membership, Membership.board_id == Card.board_id)
        .where(Card.id == card_id, Membership.user_id == user.id)
        .options(selectinload(Card.labels))
    )
    card = await session.scalar(statement)
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
    return created


async def update_card(session: AsyncSession, *, card: Card, update: CardUpdate) -> Card:
    await _lock(session, card=card)
    await session.refresh(card, ["labels"])  # as the previous writer left them
    for field, value in update.model_dump(exclude_unset=True, exclude={"labels"}).items():
        setattr(card, field, value)
    if update.labels is not None:
        await _replace_labels(session, card=card, colors=update.labels)
    await session.flush()
    return card


async def _lock(session: AsyncSession, *, card: Card) -> None:
    """Serialize writers of one card; 404 if it was deleted since it was read.

    Without the row lock, two simultaneous label changes both read the old set and
    both insert the same link (a unique violation). The board is locked first
    (shared: card writers do not block each other), as deleting the board does, so
    that its cascade and a card write wait for each other instead of deadlocking.
    SQLite transactions are serialized already; there FOR ... is a no-op.
    """
    await session.execute(
        select(Board.id).where(Board.id == card.board_id).with_for_update(read=True, key_share=True)
    )
    locked = await session.scalar(select(Card.id).where(Card.id == card.id).with_for_update())
    if locked is None:
        raise NotFoundError(CARD_NOT_FOUND)


async def delete_card(session: AsyncSession, *, card: Card) -> None:
    await _lock(session, card=card)
    await session.execute(delete(Card).where(Card.id == card.id))


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


def _labels_for(
    labels_by_color: dict[LabelColor, Label], colors: Iterable[LabelColor]
) -> list[Label]:
    """The board's labels for these colours, de-duplicated and in colour order."""
    return sorted(
        {labels_by_color[color] for color in colors}, key=lambda label: COLOR_ORDER[label.color]
    )
