from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kanban_api.errors import InvalidInputError, NotFoundError
from kanban_api.models import (
    Board,
    Card,
    CardAssignee,
    CardColumn,
    CardLabel,
    Label,
    LabelColor,
    Membership,
    Role,
    User,
)
from kanban_api.models.base import utcnow
from kanban_api.models.enums import COLOR_ORDER
from kanban_api.schemas.card import CardCreate, CardListQuery, CardUpdate
from kanban_api.schemas.fields import Id
from kanban_api.services import ordering
from kanban_api.services.boards import lock_board
from kanban_api.utils.cursor import decode_cursor, encode_cursor

CARD_NOT_FOUND = "Card not found"


class SortKey(NamedTuple):
    attribute: InstrumentedAttribute[Any]
    # Checks a cursor's value for this key, which a client could have tampered with.
    adapter: TypeAdapter[Any]


# The card list's order, first key first; the last key must be unique. A cursor
# holds the last card's value of each key, so a new key is only added here.
CARD_ORDER = (
    SortKey(Card.column, TypeAdapter(CardColumn)),
    SortKey(Card.position, TypeAdapter(int)),
    SortKey(Card.id, TypeAdapter(Id)),
)


class CardPage(NamedTuple):
    cards: Sequence[Card]
    # Where the next page starts, if there is one.
    next_cursor: str | None


async def list_cards(session: AsyncSession, *, board: Board, query: CardListQuery) -> CardPage:
    """The board's cards that pass the query's filters, in board order, a page at a time."""
    statement = (
        select(Card)
        .where(Card.board_id == board.id, *_filters(board, query))
        .options(selectinload(Card.labels), selectinload(Card.assignees))
        .order_by(*(key.attribute for key in CARD_ORDER))
    )
    if query.cursor is not None:
        start = _decode_cursor(query.cursor)
        statement = statement.where(tuple_(*(key.attribute for key in CARD_ORDER)) > start)
    if query.limit is None:
        return CardPage((await session.scalars(statement)).all(), None)
    cards = (await session.scalars(statement.limit(query.limit + 1))).all()
    if len(cards) <= query.limit:
        return CardPage(cards, None)
    cards = cards[: query.limit]
    last = cards[-1]
    after = [
        key.adapter.dump_python(getattr(last, key.attribute.key), mode="json") for key in CARD_ORDER
    ]
    return CardPage(cards, encode_cursor(after))


def _filters(board: Board, query: CardListQuery) -> list[ColumnElement[bool]]:
    """The query's filters as conditions on the board's cards.

    Each narrows the board's cards, which ix_card_board_id_column finds; the
    selective ones also have an index of their own, so a filter on a 5,000-card
    board reads only the matching rows: a label through ix_card_label_label_id,
    an assignee through ix_card_assignee_user_id_board_id, a due date through
    ix_card_board_id_due_at. Text search cannot use a b-tree index; it scans the
    board's cards only, which takes milliseconds at that size.
    """
    conditions = [Card.archived == query.archived]
    if query.column is not None:
        conditions.append(Card.column == query.column)
    if query.label is not None:
        label = next(label for label in board.labels if label.color == query.label)
        conditions.append(
            Card.id.in_(select(CardLabel.card_id).where(CardLabel.label_id == label.id))
        )
    if query.assignee is not None:
        conditions.append(
            Card.id.in_(
                select(CardAssignee.card_id).where(
                    CardAssignee.user_id == query.assignee, CardAssignee.board_id == board.id
                )
            )
        )
    if query.q:
        # lower() on both sides: ILIKE is PostgreSQL-only, and SQLite's LIKE ignores
        # case for ASCII only; this way both databases agree (for ASCII text).
        pattern = func.lower("%" + _escape_like(query.q) + "%")
        conditions.append(
            or_(
                func.lower(Card.title).like(pattern, escape="\\"),
                func.lower(Card.description).like(pattern, escape="\\"),
            )
        )
    if query.due_before is not None:
        conditions.append(Card.due_at < query.due_before)
    return conditions


def _escape_like(text: str) -> str:
    """Searched text is literal: its % and _ are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        values = decode_cursor(cursor)
        if len(values) != len(CARD_ORDER):
            raise ValueError("wrong length")
        return tuple(
            key.adapter.validate_python(value)
            for key, value in zip(CARD_ORDER, values, strict=True)
        )
    except (ValueError, ValidationError) as error:
        raise InvalidInputError(
            ("query", "cursor"), "Invalid cursor; use the one from the Link header"
        ) from error


async def get_member_card(
    session: AsyncSession, *, card_id: int, user: User, for_update: bool = False
) -> tuple[Card, Role]:
    """The card and the user's role on its board; 404 for outsiders.

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
    statement = (
        select(Card, Membership.role)
        .join(*member_join)
        .where(*visible)
        .options(selectinload(Card.labels), selectinload(Card.assignees))
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFoundError(CARD_NOT_FOUND)
    found, role = row
    return found, role


async def create_cards(
    session: AsyncSession, *, board: Board, cards: Sequence[CardCreate]
) -> list[Card]:
    """Insert a batch in request order, in the request's transaction: all or nothing.

    Each card goes to the bottom of its column; cards of one column keep their request order.
    """
    await lock_board(session, board_id=board.id)
    outsiders = await _non_members(
        session, board_id=board.id, user_ids={i for request in cards for i in request.assignee_ids}
    )
    for index, request in enumerate(cards):
        if refused := outsiders.intersection(request.assignee_ids):
            raise _not_members(("body", index, "assigneeIds"), refused)
    positions = {
        column: iter(
            await ordering.bottom_positions(session, board_id=board.id, column=column, count=count)
        )
        for column, count in Counter(request.column for request in cards).items()
    }
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
    return created


async def update_card(session: AsyncSession, *, card: Card, update: CardUpdate) -> Card:
    """Apply a partial update; a card changing column goes to the bottom of the new one.

    The caller holds the board lock (`get_member_card(..., for_update=True)`).
    """
    if update.column is not None and update.column != card.column:
        await ordering.place_card(session, card=card, column=update.column, anchor=ordering.BOTTOM)
    columns = update.model_dump(
        exclude_unset=True, exclude={"labels", "assignee_ids", "column"}, by_alias=False
    )
    for field, value in columns.items():
        setattr(card, field, value)
    if update.labels is not None:
        await _replace_labels(session, card=card, colors=update.labels)
    if update.assignee_ids is not None:
        await _replace_assignees(session, card=card, user_ids=set(update.assignee_ids))
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
    """Those of the users who are not members of the board.

    The memberships found stay share-locked until commit, so removing one of
    them concurrently waits for this transaction, then unassigns as usual.
    """
    if not user_ids:
        return set()
    members = await session.scalars(
        select(Membership.user_id)
        .where(Membership.board_id == board_id, Membership.user_id.in_(user_ids))
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
