"""The hot card reads (the card list, one card): Core rows from statements built once,
mapped to CardOut's wire shape, the access check inside the statement.

Writes use ORM entities (services/cards.py); here, building and tracking entities
and pydantic models would cost more than the query itself on a large board
(docs/performance.md). The card's wire fields are declared once, in `CARD_FIELDS`:
the SELECT and the JSON are both built from it, and tests/cards/test_read_paths.py
checks it against CardOut.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, NamedTuple

from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ColumnExpressionArgument,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    join,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

from kanban_api.access import (
    ReadAccess,
    caller_may,
    caller_membership,
    card_in_play,
    check_board,
    refuse,
    role_on_board,
)
from kanban_api.direct import fetch_all, fetch_one
from kanban_api.errors import CARD_NOT_FOUND, InvalidInputError
from kanban_api.models import (
    Board,
    Card,
    CardAssignee,
    CardColumn,
    CardLabel,
    CardRenumbering,
    Label,
    LabelColor,
    Membership,
)
from kanban_api.permissions import Action
from kanban_api.schemas.card import CardListQuery
from kanban_api.schemas.fields import Id
from kanban_api.services import ordering
from kanban_api.utils.cursor import decode_cursor, encode_cursor
from kanban_api.utils.sql import DialectFunction

LABEL_COLORS = tuple(LabelColor)
CardSelect = Select[*tuple[Any, ...]]


class SortKey(NamedTuple):
    attribute: InstrumentedAttribute[Any]
    # Checks a cursor's value for this key, which a client could have tampered with.
    adapter: TypeAdapter[Any]


# The card list's order, first key first; the last key must be unique. A cursor
# holds the last card's value of each key, so a new key is only added here. Each
# adapter admits only what the column can hold: a position is one `ordering` gives.
CARD_ORDER = (
    SortKey(Card.column, TypeAdapter(CardColumn)),
    SortKey(Card.position, TypeAdapter(Annotated[int, Field(ge=1, le=ordering.MAX_POSITION)])),
    SortKey(Card.id, TypeAdapter(Id)),
)


# A cursor's renumber count: what an integer column of the database can hold.
_RENUMBERS = TypeAdapter(Annotated[int, Field(ge=0, le=2**31 - 1)])
_NEVER_RENUMBERED = 2**31 - 1


class _CommaJoined(DialectFunction):
    """SQLAlchemy's `aggregate_strings(x, ",")` with the comma written into the SQL.

    `aggregate_strings` sends its separator as a literal-execute parameter, which
    makes SQLAlchemy re-render the statement's text on every execution.
    """

    inherit_cache = True
    templates = {"postgresql": "string_agg({}, ',')", "sqlite": "group_concat({}, ',')"}


def _joined(column: ColumnExpressionArgument[Any]) -> ColumnElement[str]:
    """The values as one comma-separated string (`string_agg` / `group_concat`)."""
    return _CommaJoined(cast(column, String))


@functools.cache
def _colors(joined: str | None) -> tuple[LabelColor, ...]:
    """`"4,0"` → (red, blue): positions are colour order, so sorting them sorts colours.

    Cached: there are only so many label sets (a few thousand orderings of 7
    colours at most), while a list would otherwise parse one string per card.
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


def undecorated(
    column: InstrumentedAttribute[Any],
) -> ColumnElement[Any] | InstrumentedAttribute[Any]:
    """The column as the driver returns it, without its TypeDecorator's Python step.

    That step is a Python call per value (models.base: UTCDateTime attaching the zone
    SQLite lacks, OrdinalEnum turning a position into a member), repeated for every
    timestamp of every card of a list (docs/performance.md has the cost). The hot
    reads select columns this way and convert in their row mapper instead
    (WireField.convert), or not at all: orjson writes a timestamp the same with or
    without its zone (utils.wire).
    """
    column_type = column.type
    if not isinstance(column_type, TypeDecorator):
        return column
    return type_coerce(column, column_type.impl_instance).label(column.key)


def ordinal_members(column: InstrumentedAttribute[Any]) -> Callable[[int], Any]:
    """For an `undecorated` OrdinalEnum column: its stored position → the enum member."""
    members: tuple[Any, ...] = column.type.members
    return members.__getitem__


class WireField(NamedTuple):
    """One field of a resource's JSON: its key, the column it is read from (None: an
    aggregate each statement supplies, by `label`) and how the value is converted."""

    key: str
    column: ColumnElement[Any] | InstrumentedAttribute[Any] | None
    convert: Callable[[Any], Any] | None = None
    label: str | None = None


@functools.lru_cache(maxsize=4096)
def _counts(joined: str) -> dict[str, int]:
    """`"2,5"` → {"done": 2, "total": 5}. Cached: few distinct pairs, many cards."""
    done, total = map(int, joined.split(","))
    return {"done": done, "total": total}


# The card's checklist counts as one column, `done,total`, for `_counts`.
_CHECKLIST_COUNTS = (
    cast(Card.checklist_done, String) + "," + cast(Card.checklist_total, String)
).label("checklist")

# CardOut's fields, in its wire order.
CARD_FIELDS = (
    WireField("id", Card.id),
    WireField("title", Card.title),
    WireField("description", Card.description),
    WireField("boardId", Card.board_id),
    WireField("column", undecorated(Card.column), ordinal_members(Card.column)),
    WireField("labels", None, _colors, "label_colors"),
    WireField("createdAt", undecorated(Card.created_at)),
    WireField("updatedAt", undecorated(Card.updated_at)),
    WireField("position", Card.position),
    WireField("version", Card.version),
    WireField("dueAt", undecorated(Card.due_at)),
    WireField("assigneeIds", None, _ids, "assignee_ids"),
    WireField("archived", Card.archived),
    WireField("checklist", _CHECKLIST_COUNTS, _counts),
)


def select_fields(
    fields: Sequence[WireField], computed: Mapping[str, ColumnElement[Any]]
) -> CardSelect:
    """SELECT the fields in order; `computed` gives the aggregates, by label."""
    return select(
        *(
            (
                field.column
                if field.column is not None
                else computed[field.label or ""].label(field.label)
            )
            for field in fields
        )
    )


def row_mapper(fields: Sequence[WireField]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """Row of `select_fields(fields, ...)` → dict with the fields' keys, in their order.

    The function is written out from the fields, as `dataclasses` writes `__init__`:
    unpacking the row and building one dict literal is the fastest mapping Python
    has, and a list maps thousands of rows. orjson then renders the dict
    (routes.responses.JsonBytes) to the bytes pydantic would.
    """
    names = [f"value{index}" for index in range(len(fields))]
    converters = {f"convert{index}": field.convert for index, field in enumerate(fields)}
    entries = [
        f"{field.key!r}: " + (f"convert{index}({name})" if field.convert else name)
        for index, (field, name) in enumerate(zip(fields, names, strict=True))
    ]
    source = (
        f"def to_json(row):\n    {', '.join(names)}, = row\n"
        f"    return {{{', '.join(entries)}}}\n"
    )
    namespace: dict[str, Any] = {key: value for key, value in converters.items() if value}
    # Generated from constant field declarations only, never from input.
    exec(source, namespace)  # noqa: S102
    to_json: Callable[[Sequence[Any]], dict[str, Any]] = namespace["to_json"]
    return to_json


card_json = row_mapper(CARD_FIELDS)


def _assignee_ids() -> ColumnElement[str]:
    """The card's assignees, comma-joined: a subquery correlated with the card, which
    reads only that card's rows (pk_card_assignee leads with card_id)."""
    return (
        select(_joined(CardAssignee.user_id))
        .where(CardAssignee.card_id == Card.id)
        .scalar_subquery()
    )


@functools.cache
def _board_cards(filters: frozenset[str], action: Action) -> CardSelect:
    """The cards of board `:board_id` that pass `filters`, if the principal may perform
    `action` on the board.

    One statement however many cards, whose cost is linear in the board's cards
    whatever the planner's statistics say. The labels are joined to the cards and
    aggregated per card (GROUP BY the card's key), never aggregated for the whole
    board and joined on: right after a board's cards are created, before ANALYZE,
    PostgreSQL estimates one card and joins such an aggregate by nested loop,
    re-running it for every card (quadratic: 64 ms for 500 cards). Joined this way,
    every plan is linear: an index probe of the card's labels per card when the
    estimate is small, a hash join of the board's card_label rows (found through
    its labels, ix_card_label_label_id_card_id) when it is not. The assignees, rare,
    are a subquery correlated with the card, an index probe per card. The access
    check is a condition of the select. Built once per filter combination and
    action, since building and keying a statement costs more than running a small
    one (docs/performance.md); tests/cards/test_list_plan.py checks the plan.
    """
    board_id: BindParameter[int] = bindparam("board_id")
    # The board's labels only: a no-op for correctness (a card carries only its
    # board's labels), but it lets PostgreSQL start from them rather than from all of
    # card_label.
    board_labels = join(
        CardLabel, Label, and_(Label.id == CardLabel.label_id, Label.board_id == board_id)
    )
    statement = (
        select_fields(
            CARD_FIELDS,
            {"label_colors": _joined(Label.color), "assignee_ids": _assignee_ids()},
        )
        .select_from(Card)
        .outerjoin(board_labels, CardLabel.card_id == Card.id)
        .where(
            Card.board_id == board_id,
            card_in_play(),
            Card.archived == bindparam("archived"),
            caller_may(action, board_id=board_id),
            *_filter_conditions(filters, board_id),
        )
        .group_by(Card.id)
        .order_by(*(key.attribute for key in CARD_ORDER))
    )
    if "limit" in filters:
        renumbers = select(Board.renumber_count).where(Board.id == board_id).scalar_subquery()
        statement = statement.add_columns(renumbers).limit(bindparam("limit", type_=Integer))
    return statement


def _filter_conditions(
    filters: frozenset[str], board_id: BindParameter[int]
) -> list[ColumnElement[bool]]:
    """The card list's optional filters, each taking the bind parameter of its name.

    Each narrows the board's cards, which uq_card_board_id_column_position finds; the
    selective ones have an index of their own: a label through
    ix_card_label_label_id_card_id, an assignee through
    ix_card_assignee_user_id_board_id, a due date through ix_card_board_id_due_at.
    Text search scans the board's cards only.
    """
    conditions: list[ColumnElement[bool]] = []
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
        conditions.append(_after_cursor())
    return conditions


def _after_cursor() -> ColumnElement[bool]:
    """Cards after the cursor's card (`:after_column`, `:after_position`, `:after_id`) as
    the cursor's page saw them: before the board's renumbering number `:renumbers` + 1.

    A renumbering of a column (services/ordering.py) changes the positions of cards that
    nobody moved, but keeps each card's earlier position (`CardRenumbering`). A card's
    position when the page was read is the one kept by the first renumbering since, if
    any, else its position now; compared with the cursor's card's position then, every
    card nobody moved falls on the same side of the page boundary as it did, whatever
    else moved, the cursor's own card included. docs/api.md states the guarantee.
    """
    column, position, card_id = (
        bindparam(f"after_{key.attribute.key}", type_=key.attribute.type) for key in CARD_ORDER
    )
    kept = (
        select(CardRenumbering.position)
        .where(
            CardRenumbering.card_id == Card.id,
            CardRenumbering.renumbering > bindparam("renumbers", type_=Integer),
        )
        .order_by(CardRenumbering.renumbering)
        .limit(1)
        .scalar_subquery()
    )
    position_then = func.coalesce(kept, Card.position)
    return or_(
        Card.column > column,
        and_(Card.column == column, tuple_(position_then, Card.id) > tuple_(position, card_id)),
    )


class CardPage(NamedTuple):
    # Rows for `card_json`: turned into dicts and JSON by the answer, a chunk at a time.
    rows: Sequence[Sequence[Any]]
    # Where the next page starts, if there is one.
    next_cursor: str | None


async def list_cards(
    connection: AsyncConnection, *, board_id: int, access: ReadAccess, query: CardListQuery
) -> CardPage:
    """The board's cards that pass the query's filters, in board order, a page at a time,
    if the principal may perform `access.action` on the board.

    One statement (see `_board_cards`); only an empty answer costs another
    (`access.check_board`), to tell no cards (200, []) from a board the caller may
    not see (404), a role that may not (403) or a stale credential (401). It runs
    on a bare connection: the ORM's result layer would add only cost per row here.
    """
    params: dict[str, Any] = {
        **access.principal.params(),
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
            await check_board(
                connection, principal=access.principal, board_id=board_id, action=access.action
            )
            raise
        filters.add("cursor")
        params.update(_cursor_params(start))
    rows = await fetch_all(connection, _board_cards(frozenset(filters), access.action), params)
    if not rows:
        await check_board(
            connection, principal=access.principal, board_id=board_id, action=access.action
        )
        return CardPage([], None)
    if query.limit is None:
        return CardPage(rows, None)
    # A page's rows end with the board's renumber count, for its cursor.
    renumbers = rows[0][-1]
    cards = [row[:-1] for row in rows[: query.limit]]
    if len(rows) <= query.limit:
        return CardPage(cards, None)
    return CardPage(cards, _next_cursor(cards[-1], renumbers=renumbers))


def _next_cursor(last: Sequence[Any], *, renumbers: int) -> str:
    """The last card's sort keys and how many renumberings the page saw (`_after_cursor`)."""
    card = card_json(last)
    keys = [key.adapter.dump_python(card[key.attribute.key], mode="json") for key in CARD_ORDER]
    return encode_cursor([*keys, renumbers])


def _cursor_params(values: tuple[Any, ...]) -> dict[str, Any]:
    """The `_after_cursor` parameters of a decoded cursor. One of an earlier release,
    without the renumber count, continues as if no renumbering had happened since."""
    names = [f"after_{key.attribute.key}" for key in CARD_ORDER]
    renumbers = values[len(CARD_ORDER)] if len(values) > len(CARD_ORDER) else _NEVER_RENUMBERED
    return {**dict(zip(names, values[: len(CARD_ORDER)], strict=True)), "renumbers": renumbers}


def _escape_like(text: str) -> str:
    """Searched text is literal: its % and _ are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _decode_cursor(cursor: str) -> tuple[Any, ...]:
    """The cursor's values, checked one by one: the last card's sort keys, then the
    board's renumber count (absent from cursors of earlier releases)."""
    try:
        values = decode_cursor(cursor)
        if len(values) not in (len(CARD_ORDER), len(CARD_ORDER) + 1):
            raise ValueError("wrong length")
        adapters = [key.adapter for key in CARD_ORDER] + [_RENUMBERS]
        return tuple(
            adapter.validate_python(value) for adapter, value in zip(adapters, values, strict=False)
        )
    except (ValueError, ValidationError) as error:
        raise InvalidInputError(
            ("query", "cursor"), "Invalid cursor; use the one from the Link header"
        ) from error


@functools.cache
def _member_card(action: Action) -> CardSelect:
    """Card `:card_id` as a row for `card_json`, if the principal may perform the action
    on its board."""
    colors = (
        select(_joined(Label.color))
        .select_from(CardLabel)
        .join(Label, Label.id == CardLabel.label_id)
        .where(CardLabel.card_id == Card.id)
        .scalar_subquery()
    )
    return (
        select_fields(CARD_FIELDS, {"label_colors": colors, "assignee_ids": _assignee_ids()})
        .join(Membership, Membership.board_id == Card.board_id)
        .where(Card.id == bindparam("card_id"), card_in_play(), *caller_membership(action))
    )


_CARDS_BOARD = (
    select(Card.board_id).where(Card.id == bindparam("card_id"), card_in_play()).scalar_subquery()
)


async def read_card(
    connection: AsyncConnection, *, card_id: int, access: ReadAccess
) -> dict[str, Any]:
    """The card in CardOut's wire shape, if the principal may perform the action on its
    board: one statement, the credential check included; else 401, 404 or 403."""
    params = {**access.principal.params(), "card_id": card_id}
    row = await fetch_one(connection, _member_card(access.action), params)
    if row is None:
        await refuse(
            connection,
            principal=access.principal,
            action=access.action,
            role=role_on_board(_CARDS_BOARD),
            not_found=CARD_NOT_FOUND,
            params=params,
        )
    return card_json(row)
