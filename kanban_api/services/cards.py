from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kanban_api.errors import NotFoundError
from kanban_api.models import (
    Board,
    Card,
    CardColumn,
    CardLabel,
    Label,
    LabelColor,
    Membership,
    User,
)
from kanban_api.models.base import utcnow
from kanban_api.models.enums import COLOR_ORDER
from kanban_api.schemas.card import CardCreate, CardUpdate
from kanban_api.services import ordering
from kanban_api.services.boards import lock_board

CARD_NOT_FOUND = "Card not found"


async def list_cards(session: AsyncSession, *, board: Board) -> Sequence[Card]:
    statement = (
        select(Card)
        .where(Card.board_id == board.id)
        .options(selectinload(Card.labels))
        .order_by(Card.column, Card.position)
    )
    return (await session.scalars(statement)).all()


async def get_member_card(
    session: AsyncSession, *, card_id: int, user: User, for_update: bool = False
) -> Card:
    """The card if the user is a member of its board; otherwise 404.

    `for_update` first locks the card's board (see `lock_board`), so the card is
    read as the last writer left it and stays so until this transaction ends.
    """
    visible = (Card.id == card_id, Membership.user_id == user.id)
    member_join = (Membership, Membership.board_id == Card.board_id)
    if for_update:
        board_id = await session.scalar(select(Card.board_id).join(*member_join).where(*visible))
        if board_id is None:
            raise NotFoundError(CARD_NOT_FOUND)
        await lock_board(session, board_id=board_id)
    statement = select(Card).join(*member_join).where(*visible).options(selectinload(Card.labels))
    card = await session.scalar(statement)
    if card is None:
        raise NotFoundError(CARD_NOT_FOUND)
    return card


async def create_cards(
    session: AsyncSession, *, board: Board, cards: Sequence[CardCreate]
) -> list[Card]:
    """Insert a batch in request order, in the request's transaction: all or nothing.

    Each card goes to the bottom of its column; cards of one column keep their request order.
    """
    await lock_board(session, board_id=board.id)
    positions = {
        column: iter(
            await ordering.bottom_positions(session, board_id=board.id, column=column, count=count)
        )
        for column, count in Counter(card.column for card in cards).items()
    }
    created = [
        Card(
            board_id=board.id,
            title=card.title,
            description=card.description,
            column=card.column,
            position=next(positions[card.column]),
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
    """Apply a partial update; a card changing column goes to the bottom of the new one.

    The caller holds the board lock (`get_member_card(..., for_update=True)`).
    """
    if update.column is not None and update.column != card.column:
        await ordering.place_card(session, card=card, column=update.column, anchor=ordering.BOTTOM)
    changes = update.model_dump(exclude_unset=True, exclude={"labels", "column"})
    for field, value in changes.items():
        setattr(card, field, value)
    if update.labels is not None:
        await _replace_labels(session, card=card, colors=update.labels)
    await session.flush()
    return card


async def move_card(
    session: AsyncSession, *, card: Card, column: CardColumn, after_id: int | None
) -> Card:
    """Put the card right after card `after_id` of `column` (None: at the top).

    The caller holds the board lock (`get_member_card(..., for_update=True)`).
    """
    await ordering.place_card(session, card=card, column=column, anchor=after_id)
    return card


async def delete_card(session: AsyncSession, *, card: Card) -> None:
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
