"""Cards: ORM entities for writes, plain rows for the hot reads.

Reads answer with dicts in CardOut's wire shape, built from one SQL statement
whatever the board's size; see `select_cards` and `select_board_cards`.
"""

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, cast, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from kanban_api.errors import NotFoundError
from kanban_api.models import Board, Card, CardLabel, Label, LabelColor, Membership
from kanban_api.models.base import utcnow
from kanban_api.models.enums import COLOR_ORDER
from kanban_api.schemas.card import CardCreate, CardUpdate
from kanban_api.services.boards import check_member, member_of_board
from kanban_api.services.users import check_token, token_is_current, token_params
from kanban_api.utils.token import TokenClaims

CARD_NOT_FOUND = "Card not found"


LABEL_COLORS = tuple(LabelColor)
CardSelect = Select[*tuple[Any, ...]]


def select_cards(label_colors: ColumnElement[Any]) -> CardSelect:
    """Cards as plain rows for `card_json`, given SQL for their label colours.

    Only the columns CardOut shows are selected, as rows rather than ORM entities:
    building and tracking entities costs more than the query itself on a large board.
    The colours come joined into one string (`string_agg` on PostgreSQL,
    `group_concat` on SQLite), so a card's labels cost no statement of their own.
    """
    return select(
        Card.id,
        Card.title,
        Card.description,
        Card.board_id,
        Card.column,
        label_colors.label("label_colors"),
        Card.created_at,
        Card.updated_at,
    )


def _joined_colors() -> ColumnElement[str]:
    return func.aggregate_strings(cast(Label.color, String), ",")


def select_board_cards() -> CardSelect:
    """The cards of board `:board_id` with their label colours: one statement for 10 or 5,000.

    The colours are aggregated once for the whole board (its 7 labels, then their
    card_label rows through the label_id index) and joined on, instead of a
    subquery per card: with a subquery PostgreSQL re-plans a small join for every
    card, ten times slower on a 500-card board. Filters, ORDER BY and LIMIT go on
    the returned select as usual.
    """
    colors = (
        select(CardLabel.card_id, _joined_colors().label("colors"))
        .join(Label, Label.id == CardLabel.label_id)
        .where(Label.board_id == bindparam("board_id"))
        .group_by(CardLabel.card_id)
        .subquery("card_colors")
    )
    return (
        select_cards(colors.c.colors)
        .outerjoin(colors, colors.c.card_id == Card.id)
        .where(Card.board_id == bindparam("board_id"))
    )


def card_json(row: Sequence[Any]) -> dict[str, Any]:
    """One row of `select_cards` in CardOut's wire shape (same keys, same order).

    The row is unpacked rather than read by attribute, which is several times
    faster over thousands of rows; a column added to `select_cards` goes here too.
    orjson renders the dict (routes.responses.JsonBytes) to the bytes pydantic would.
    """
    card_id, title, description, board_id, column, label_colors, created_at, updated_at = row
    return {
        "id": card_id,
        "title": title,
        "description": description,
        "boardId": board_id,
        "column": column,
        "labels": _colors(label_colors),
        "createdAt": created_at,
        "updatedAt": updated_at,
    }


@functools.cache
def _colors(joined: str | None) -> tuple[LabelColor, ...]:
    """`"4,0"` → (red, blue): positions are colour order, so sorting them sorts colours.

    Cached: there are only so many label sets (a few thousand orderings of 7
    colours at most), and parsing each card's string was a sixth of a list's time.
    """
    if not joined:
        return ()
    return tuple(LABEL_COLORS[position] for position in sorted(map(int, joined.split(","))))


# Built once, as building and keying this statement took a tenth of a small list's
# time; a filter from the request would be added with `_MEMBER_BOARD_CARDS.where(...)`.
_MEMBER_BOARD_CARDS = select_board_cards().where(member_of_board()).order_by(Card.column, Card.id)


async def list_cards(
    session: AsyncSession, *, board_id: int, claims: TokenClaims
) -> list[dict[str, Any]]:
    """The board's cards in board order (column, then id), if the token's user is a member.

    One statement: the membership and the token are conditions of the card select.
    Only an empty answer costs another, to tell an empty board (200, []) from a
    board the caller may not see (404) or a stale token (401). It runs on the
    session's Core connection: the ORM's result layer adds only cost per row here.
    """
    params = {**token_params(claims), "board_id": board_id}
    result = await (await session.connection()).execute(_MEMBER_BOARD_CARDS, params)
    cards = [card_json(row) for row in result]
    if not cards:
        await check_member(session, board_id=board_id, claims=claims)
    return cards


# Built once: a statement reused as is skips SQLAlchemy's per-call cache key work.
_MEMBER_CARD = (
    select_cards(
        select(_joined_colors())
        .select_from(CardLabel)
        .join(Label, Label.id == CardLabel.label_id)
        .where(CardLabel.card_id == Card.id)
        .scalar_subquery()
    )
    .join(Membership, Membership.board_id == Card.board_id)
    .where(
        Card.id == bindparam("card_id"),
        Membership.user_id == bindparam("user_id"),
        token_is_current(),
    )
)


async def read_card(session: AsyncSession, *, card_id: int, claims: TokenClaims) -> dict[str, Any]:
    """The card if the token's user is a member of its board: one statement, token included."""
    params = {**token_params(claims), "card_id": card_id}
    row = (await (await session.connection()).execute(_MEMBER_CARD, params)).one_or_none()
    if row is None:
        await check_token(session, claims=claims)
        raise NotFoundError(CARD_NOT_FOUND)
    return card_json(row)


_MEMBER_CARD_ENTITY = (
    select(Card)
    .join(Membership, Membership.board_id == Card.board_id)
    .where(
        Card.id == bindparam("card_id"),
        Membership.user_id == bindparam("user_id"),
        token_is_current(),
    )
    .options(joinedload(Card.labels))
)


async def get_member_card(session: AsyncSession, *, card_id: int, claims: TokenClaims) -> Card:
    """The card entity with its labels, for changes: one statement, token included.

    404 unless the token's user is a member of the card's board (401 if the token
    went stale).
    """
    params = {**token_params(claims), "card_id": card_id}
    card = (await session.scalars(_MEMBER_CARD_ENTITY, params)).unique().one_or_none()
    if card is None:
        await check_token(session, claims=claims)
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
    for field, value in update.model_dump(exclude_unset=True, exclude={"labels"}).items():
        setattr(card, field, value)
    if update.labels is not None:
        await _replace_labels(session, card=card, colors=update.labels)
    await session.flush()
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
