"""Cards: ORM entities for writes, plain rows for the hot reads (see `list_cards`)."""

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ColumnExpressionArgument,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, joinedload, selectinload
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
from kanban_api.schemas.card import CardCreate, CardListQuery, CardOut, CardUpdate
from kanban_api.schemas.event import EventType
from kanban_api.schemas.fields import Id
from kanban_api.services import boards, card_caps, events, ordering
from kanban_api.services.card_caps import CardCaps
from kanban_api.services.users import check_token, token_is_current, token_params
from kanban_api.utils.cursor import decode_cursor, encode_cursor
from kanban_api.utils.sql import DialectFunction
from kanban_api.utils.token import TokenClaims

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


# The hot reads (card list, one card) answer with dicts in CardOut's wire shape,
# built from Core rows of statements built once; writes use ORM entities.
# Building and tracking entities (and pydantic models) costs more than the query
# itself on a large board; see docs/performance.md.

LABEL_COLORS = tuple(LabelColor)
CardSelect = Select[*tuple[Any, ...]]


class _CommaJoined(DialectFunction):
    """SQLAlchemy's `aggregate_strings(x, ",")` with the comma written into the SQL.

    `aggregate_strings` sends its separator as a literal-execute parameter, which
    makes SQLAlchemy re-render the statement's text on every execution: a tenth of
    a card read's CPU.
    """

    inherit_cache = True
    templates = {"postgresql": "string_agg({}, ',')", "sqlite": "group_concat({}, ',')"}


def _joined(column: ColumnExpressionArgument[Any]) -> ColumnElement[str]:
    """The values as one comma-separated string (`string_agg` / `group_concat`)."""
    return _CommaJoined(cast(column, String))


def _select_cards(label_colors: ColumnElement[Any], assignee_ids: ColumnElement[Any]) -> CardSelect:
    """Cards as plain rows for `card_json`, given SQL for their joined label colours
    and assignee ids, so that neither costs a statement of its own."""
    return select(
        Card.id,
        Card.title,
        Card.description,
        Card.board_id,
        Card.column,
        label_colors.label("label_colors"),
        Card.created_at,
        Card.updated_at,
        Card.position,
        Card.version,
        Card.due_at,
        assignee_ids.label("assignee_ids"),
        Card.archived,
    )


def card_json(row: Sequence[Any]) -> dict[str, Any]:
    """One row of `_select_cards` in CardOut's wire shape (same keys, same order).

    The row is unpacked rather than read by attribute, which is several times
    faster over thousands of rows; a column added to `_select_cards` goes here too.
    orjson renders the dict (routes.responses.JsonBytes) to the bytes pydantic would;
    tests/test_read_paths.py compares them.
    """
    (
        card_id,
        title,
        description,
        board_id,
        column,
        label_colors,
        created_at,
        updated_at,
        position,
        version,
        due_at,
        assignee_ids,
        archived,
    ) = row
    return {
        "id": card_id,
        "title": title,
        "description": description,
        "boardId": board_id,
        "column": column,
        "labels": _colors(label_colors),
        "createdAt": created_at,
        "updatedAt": updated_at,
        "position": position,
        "version": version,
        "dueAt": due_at,
        "assigneeIds": _ids(assignee_ids),
        "archived": archived,
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


@functools.lru_cache(maxsize=4096)
def _ids(joined: str | None) -> tuple[int, ...]:
    """`"7,3"` → (3, 7): assignees in user id order, as CardOut lists them."""
    if not joined:
        return ()
    return tuple(sorted(map(int, joined.split(","))))


@functools.cache
def _board_cards(filters: frozenset[str]) -> CardSelect:
    """The cards of board `:board_id` that pass `filters`, if the token's user is a member.

    One statement for 10 cards or 5,000: the labels' colours and the assignees are
    aggregated once for the whole board and joined on, instead of a subquery per
    card (with which PostgreSQL re-plans a small join for every card, ten times
    slower on a 500-card board), and the membership and token are conditions of the
    select. Built once per filter combination: building and keying the statement
    took a tenth of a small list's time.

    Each filter narrows the board's cards, which uq_card_board_id_column_position
    finds; the selective ones have an index of their own: a label through
    ix_card_label_label_id_card_id, an assignee through
    ix_card_assignee_user_id_board_id, a due date through ix_card_board_id_due_at.
    Text search scans the board's cards only, milliseconds at that size.
    """
    board_id: BindParameter[int] = bindparam("board_id")
    colors = (
        select(CardLabel.card_id, _joined(Label.color).label("colors"))
        .join(Label, Label.id == CardLabel.label_id)
        .where(Label.board_id == board_id)
        .group_by(CardLabel.card_id)
        .subquery("card_colors")
    )
    assignees = (
        select(CardAssignee.card_id, _joined(CardAssignee.user_id).label("ids"))
        .where(CardAssignee.board_id == board_id)
        .group_by(CardAssignee.card_id)
        .subquery("card_assignees")
    )
    conditions: list[ColumnElement[bool]] = [
        Card.board_id == board_id,
        Card.archived == bindparam("archived"),
        boards.member_of_board(),
    ]
    if "column" in filters:
        conditions.append(Card.column == bindparam("column"))
    if "label" in filters:
        with_label = (
            select(CardLabel.card_id)
            .join(Label, Label.id == CardLabel.label_id)
            .where(Label.board_id == board_id, Label.color == bindparam("label"))
        )
        conditions.append(Card.id.in_(with_label))
    if "assignee" in filters:
        assigned = select(CardAssignee.card_id).where(
            CardAssignee.user_id == bindparam("assignee"), CardAssignee.board_id == board_id
        )
        conditions.append(Card.id.in_(assigned))
    if "q" in filters:
        # lower() on both sides: ILIKE is PostgreSQL-only, and SQLite's LIKE ignores
        # case for ASCII only; this way both databases agree (for ASCII text).
        pattern = func.lower(bindparam("pattern", type_=String))
        conditions.append(
            or_(
                func.lower(Card.title).like(pattern, escape="\\"),
                func.lower(Card.description).like(pattern, escape="\\"),
            )
        )
    if "due_before" in filters:
        conditions.append(Card.due_at < bindparam("due_before"))
    if "cursor" in filters:
        keys = [key.attribute for key in CARD_ORDER]
        after = [bindparam(f"after_{key.key}", type_=key.type) for key in keys]
        conditions.append(tuple_(*keys) > tuple_(*after))
    statement = (
        _select_cards(colors.c.colors, assignees.c.ids)
        .outerjoin(colors, colors.c.card_id == Card.id)
        .outerjoin(assignees, assignees.c.card_id == Card.id)
        .where(*conditions)
        .order_by(*(key.attribute for key in CARD_ORDER))
    )
    if "limit" in filters:
        statement = statement.limit(bindparam("limit", type_=Integer))
    return statement


class CardPage(NamedTuple):
    # Rows for `card_json`: turned into dicts and JSON by the answer, a chunk at a time.
    rows: Sequence[Sequence[Any]]
    # Where the next page starts, if there is one.
    next_cursor: str | None


async def list_cards(
    connection: AsyncConnection, *, board_id: int, claims: TokenClaims, query: CardListQuery
) -> CardPage:
    """The board's cards that pass the query's filters, in board order, a page at a time,
    if the token's user is a member (any role may view).

    One statement (see `_board_cards`); only an empty answer costs another, to tell
    no cards (200, []) from a board the caller may not see (404) or a stale token
    (401). It runs on a bare connection: the ORM's result layer would add only cost
    per row here.
    """
    params: dict[str, Any] = {
        **token_params(claims),
        "board_id": board_id,
        "archived": query.archived,
    }
    values = {
        "column": query.column,
        "label": query.label,
        "assignee": query.assignee,
        "pattern": "%" + _escape_like(query.q) + "%" if query.q else None,
        "due_before": query.due_before,
        "limit": None if query.limit is None else query.limit + 1,
    }
    params.update((name, value) for name, value in values.items() if value is not None)
    filters = {"q" if name == "pattern" else name for name in params if name in values}
    if query.cursor is not None:
        try:
            start = _decode_cursor(query.cursor)
        except InvalidInputError:
            # Outsiders learn nothing, not even that their cursor is bad.
            await boards.check_member(connection, board_id=board_id, claims=claims)
            raise
        filters.add("cursor")
        params.update(
            (f"after_{key.attribute.key}", value)
            for key, value in zip(CARD_ORDER, start, strict=True)
        )
    rows = (await connection.execute(_board_cards(frozenset(filters)), params)).all()
    if not rows:
        await boards.check_member(connection, board_id=board_id, claims=claims)
        return CardPage([], None)
    if query.limit is None or len(rows) <= query.limit:
        return CardPage(rows, None)
    rows = rows[: query.limit]
    last = rows[-1]
    after = [
        key.adapter.dump_python(getattr(last, key.attribute.key), mode="json") for key in CARD_ORDER
    ]
    return CardPage(rows, encode_cursor(after))


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


@functools.cache
def _member_card() -> CardSelect:
    """Card `:card_id` as a row for `card_json`, if the token's user is a member of its board."""
    colors = (
        select(_joined(Label.color))
        .select_from(CardLabel)
        .join(Label, Label.id == CardLabel.label_id)
        .where(CardLabel.card_id == Card.id)
        .scalar_subquery()
    )
    assignees = (
        select(_joined(CardAssignee.user_id))
        .where(CardAssignee.card_id == Card.id)
        .scalar_subquery()
    )
    return (
        _select_cards(colors, assignees)
        .join(Membership, Membership.board_id == Card.board_id)
        .where(
            Card.id == bindparam("card_id"),
            Membership.user_id == bindparam("user_id"),
            token_is_current(),
        )
    )


async def read_card(
    connection: AsyncConnection, *, card_id: int, claims: TokenClaims
) -> dict[str, Any]:
    """The card in CardOut's wire shape if the token's user is a member of its board
    (any role may view): one statement, token included."""
    params = {**token_params(claims), "card_id": card_id}
    row = (await connection.execute(_member_card(), params)).one_or_none()
    if row is None:
        await check_token(connection, claims=claims)
        raise NotFoundError(CARD_NOT_FOUND)
    return card_json(row)


@functools.cache
def _lock_card_board() -> Select[int]:
    """Lock the board of card `:card_id`, if the token's user is a member of it.

    FOR NO KEY UPDATE OF board, as `boards.lock_board` takes it: only the board row
    is locked, the card is read afterwards (see `get_member_card`).
    """
    return (
        select(Board.id)
        .join(Card, Card.board_id == Board.id)
        .join(Membership, Membership.board_id == Board.id)
        .where(
            Card.id == bindparam("card_id"),
            Membership.user_id == bindparam("user_id"),
            token_is_current(),
        )
        .with_for_update(of=Board, key_share=True)
    )


@functools.cache
def _card_with_access() -> Select[Card, Role, User]:
    """Card `:card_id` with its labels and assignees, the caller's role on its board,
    and the caller, if the token is current: the whole of a card route's access check."""
    return (
        select(Card, Membership.role, User)
        .join(Membership, Membership.board_id == Card.board_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Card.id == bindparam("card_id"),
            User.id == bindparam("user_id"),
            User.credentials_version == bindparam("credentials_version"),
        )
        .options(joinedload(Card.labels), joinedload(Card.assignees))
    )


async def get_member_card(
    session: AsyncSession, *, card_id: int, claims: TokenClaims, for_update: bool = False
) -> tuple[Card, Role, User]:
    """The card, the caller's role on its board and the caller (the token's user);
    404 for outsiders, 401 if the token went stale.

    One statement, the token check included; `for_update` first locks the card's
    board, as every writer of a board does (see `boards.lock_board`), so the card is
    then read as the last writer left it and stays so until this transaction ends.
    That takes a statement of its own: a row locked by a join is re-checked after
    the wait, but the rows joined to it are not re-read, so the card could be stale.
    """
    params = {**token_params(claims), "card_id": card_id}
    # Core statements run on the session's connection: the ORM's execute costs more.
    connection = await session.connection()
    if for_update and await connection.scalar(_lock_card_board(), params) is None:
        await check_token(connection, claims=claims)
        raise NotFoundError(CARD_NOT_FOUND)
    row = (await session.execute(_card_with_access(), params)).unique().one_or_none()
    if row is None:
        await check_token(connection, claims=claims)
        raise NotFoundError(CARD_NOT_FOUND)
    card, role, user = row
    return card, role, user


async def create_cards(
    session: AsyncSession, *, board: Board, cards: Sequence[CardCreate], caps: CardCaps
) -> list[Card]:
    """Insert a batch in request order, in the request's transaction: all or nothing.

    Each card goes to the bottom of its column; cards of one column keep their request order.
    The caller holds the board lock (`boards.get_member_board(..., for_update=True)`).
    Raises ConflictError (409) if the batch would take the board past a cap (card_caps.py).
    Events: `card.updated` for each card a column renumbering moved to make room, then
    `card.created` per card, in request order.
    """
    outsiders = await _non_members(
        session, board_id=board.id, user_ids={i for request in cards for i in request.assignee_ids}
    )
    for index, request in enumerate(cards):
        if refused := outsiders.intersection(request.assignee_ids):
            raise _not_members(("body", index, "assigneeIds"), refused)
    archiving = sum(request.archived for request in cards)
    await card_caps.make_room(
        session, board_id=board.id, caps=caps, active=len(cards) - archiving, archived=archiving
    )
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


async def update_card(
    session: AsyncSession, *, card: Card, update: CardUpdate, caps: CardCaps
) -> Card:
    """Apply a partial update; a card changing column goes to the bottom of the new one.

    The caller holds the board lock (`get_member_card(..., for_update=True)`).
    Raises ConflictError (409) if (un)archiving would take the board past a cap.
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
    await session.flush()
    await _record_change(session, card=card, changed=card.version != version, renumbered=renumbered)
    return card


async def move_card(
    session: AsyncSession, *, card: Card, column: CardColumn, after_id: int | None
) -> Card:
    """Put the card right after card `after_id` of `column` (None: at the top).

    The caller holds the board lock (`get_member_card(..., for_update=True)`).
    Events: `card.updated` for each other card a renumbering of the column moved,
    then `card.moved` for this card, unless it was already there.
    """
    version = card.version
    renumbered = await ordering.place_card(session, card=card, column=column, anchor=after_id)
    await _record_change(
        session,
        card=card,
        changed=card.version != version,
        renumbered=renumbered,
        type=EventType.CARD_MOVED,
    )
    return card


async def delete_card(session: AsyncSession, *, card: Card) -> None:
    await session.execute(delete(Card).where(Card.id == card.id))
    await events.record(
        session, board_id=card.board_id, type=EventType.CARD_DELETED, data=events.deleted(card.id)
    )


async def updated_card_events(
    session: AsyncSession, *, card_ids: Sequence[int]
) -> list[tuple[EventType, CardOut]]:
    """A `card.updated` event for each of these cards, changed by a bulk statement the
    session has not seen (a renumbering, an unassignment), in board order."""
    if not card_ids:
        return []
    changed = await session.scalars(
        select(Card)
        .where(Card.id.in_(card_ids))
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
) -> None:
    """The events of a change to one card: the cards renumbered to make room for it, then
    the card itself if it changed. Positions are only comparable within a column after a
    renumbering, so clients must learn every renumbered card's new position."""
    recorded: list[tuple[EventType, events.EventData]] = [
        *await updated_card_events(session, card_ids=renumbered)
    ]
    if changed:
        recorded.append((type, CardOut.model_validate(card)))
    await events.record_many(session, board_id=card.board_id, events=recorded)


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
