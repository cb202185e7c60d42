"""A Trello board export as a `kanban-api/1` document, for services/transfer.py to import.

Lists become columns, in board order: the first three open lists `BACKLOG`, `TODO` and
`DOING`, every later one `DONE`, unless the request maps list ids to columns; each column
is named after the first list it takes (cut to the column name's 50 characters). Closed
lists and closed cards become archived cards. Trello's ten label colours (and their
`_dark`/`_light` shades) become the nearest of our seven, colourless labels gray; a
colour keeps the names of the labels it took, joined. Checklists become the card's
checklist (their items in order, one checklist after another), `commentCard` actions
comments (oldest first, each starting with its author's name: Trello exports no emails,
so nobody is matched, and assignees are dropped for the same reason), `due` the due date.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from kanban_api.errors import InvalidInputError
from kanban_api.limits import CHECKLIST_ITEMS_MAX, COLUMN_NAME_MAX, LABEL_NAME_MAX
from kanban_api.models.enums import CardColumn, LabelColor
from kanban_api.schemas.fields import ColumnName, LabelName
from kanban_api.schemas.transfer import FORMAT, BoardDocument, DocumentComment, TrelloBoard

# Trello's label colours by their nearest of ours (by RGB distance of Trello's palette).
TRELLO_COLORS = {
    "green": LabelColor.GREEN,
    "yellow": LabelColor.YELLOW,
    "orange": LabelColor.ORANGE,
    "red": LabelColor.RED,
    "purple": LabelColor.PURPLE,
    "blue": LabelColor.BLUE,
    "sky": LabelColor.BLUE,
    "lime": LabelColor.GREEN,
    "pink": LabelColor.PURPLE,
    "black": LabelColor.GRAY,
}
_DEFAULT_ORDER = (CardColumn.BACKLOG, CardColumn.TODO, CardColumn.DOING)
_UNKNOWN_AUTHOR = "Someone"
_COLUMN_NAME: TypeAdapter[str] = TypeAdapter(ColumnName)
_LABEL_NAME: TypeAdapter[str] = TypeAdapter(LabelName)


def color_of(trello_color: str | None) -> LabelColor:
    """`sky` → blue, `green_dark` → green; no colour (or an unknown one) → gray."""
    base = (trello_color or "").split("_", 1)[0]
    return TRELLO_COLORS.get(base, LabelColor.GRAY)


def to_document(
    trello: TrelloBoard,
    *,
    list_mapping: Mapping[str, CardColumn] | None = None,
    loc: tuple[str, ...] = ("body",),
) -> BoardDocument:
    """The Trello board as a document; InvalidInputError (422) at `loc` and the place in
    the Trello document for a mapping that names an unknown list, a card in an unknown
    list, too many checklist items on one card, or a comment that cannot be kept."""
    columns = _columns(trello, list_mapping or {}, loc)
    closed_lists = {entry.id for entry in trello.lists if entry.closed}
    lists_order = {entry.id: index for index, entry in enumerate(_by_pos(trello.lists))}
    for index, card in enumerate(trello.cards):
        if card.idList not in columns:
            raise InvalidInputError(
                (*loc, "cards", index, "idList"), "The card's list is not among the lists"
            )
    labels = {label.id: color_of(label.color) for label in trello.labels}
    checklists = _checklists(trello, loc)
    comments = _comments(trello, loc)
    cards = sorted(trello.cards, key=lambda card: (lists_order[card.idList], card.pos))
    return BoardDocument.model_validate(
        {
            "format": FORMAT,
            "board": {"title": trello.name, "description": trello.desc},
            "columns": _column_names(trello, columns),
            "labels": _label_names(trello),
            "cards": [
                {
                    "title": card.name,
                    "description": card.desc,
                    "column": columns[card.idList],
                    "labels": sorted({labels[i] for i in card.idLabels if i in labels}),
                    "dueAt": card.due,
                    "archived": card.closed or card.idList in closed_lists,
                    "checklist": checklists.get(card.id, []),
                    "comments": comments.get(card.id, []),
                }
                for card in cards
            ],
        }
    )


def _by_pos(entries: list[Any]) -> list[Any]:
    return sorted(entries, key=lambda entry: entry.pos)


def _columns(
    trello: TrelloBoard, mapping: Mapping[str, CardColumn], loc: tuple[str, ...]
) -> dict[str, CardColumn]:
    known = {entry.id for entry in trello.lists}
    for list_id in mapping:
        if list_id not in known:
            raise InvalidInputError(
                (*loc[:-1], "listMapping"), f"listMapping names {list_id!r}, not a list"
            )
    columns = {}
    open_lists = [entry for entry in _by_pos(trello.lists) if not entry.closed]
    for index, entry in enumerate(open_lists):
        columns[entry.id] = (
            _DEFAULT_ORDER[index] if index < len(_DEFAULT_ORDER) else CardColumn.DONE
        )
    for entry in trello.lists:
        columns.setdefault(entry.id, CardColumn.DONE)
    return columns | dict(mapping)


def _column_names(trello: TrelloBoard, columns: dict[str, CardColumn]) -> list[dict[str, Any]]:
    """Each column named after the first open list (else closed one) that goes there."""
    named: dict[CardColumn, str] = {}
    ordered = sorted(trello.lists, key=lambda entry: (entry.closed, entry.pos))
    for entry in ordered:
        name = _fitting(_COLUMN_NAME, entry.name.strip()[:COLUMN_NAME_MAX])
        if name is not None:
            named.setdefault(columns[entry.id], name)
    return [{"key": key, "name": name} for key, name in named.items()]


def _label_names(trello: TrelloBoard) -> list[dict[str, Any]]:
    names: dict[LabelColor, list[str]] = {}
    for label in trello.labels:
        taken = names.setdefault(color_of(label.color), [])
        if label.name and label.name not in taken:
            taken.append(label.name)
    return [
        {"color": color, "name": _fitting(_LABEL_NAME, " / ".join(taken)[:LABEL_NAME_MAX]) or ""}
        for color, taken in names.items()
    ]


def _fitting(adapter: TypeAdapter[str], name: str) -> str | None:
    """The name if it is one we can keep (no NUL, not blank for a column), else None: a
    list or label name is only a name, not worth refusing the whole import for."""
    try:
        return adapter.validate_python(name)
    except ValidationError:
        return None


def _checklists(trello: TrelloBoard, loc: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    items: dict[str, list[dict[str, Any]]] = {}
    for index, checklist in sorted(enumerate(trello.checklists), key=lambda pair: pair[1].pos):
        taken = items.setdefault(checklist.idCard, [])
        taken += [
            {"text": item.name, "done": item.state == "complete"}
            for item in _by_pos(checklist.checkItems)
        ]
        if len(taken) > CHECKLIST_ITEMS_MAX:
            raise InvalidInputError(
                (*loc, "checklists", index),
                f"A card holds at most {CHECKLIST_ITEMS_MAX} checklist items; its "
                "checklists together have more",
            )
    return items


def _comments(trello: TrelloBoard, loc: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """Each card's `commentCard` actions, oldest first, as comments naming their author."""
    found = []
    for index, action in enumerate(trello.actions):
        if action.type != "commentCard":
            continue
        card = action.data.get("card")
        text = action.data.get("text")
        if not isinstance(card, dict) or not isinstance(card.get("id"), str):
            continue
        creator = action.memberCreator or {}
        author = creator.get("fullName") or creator.get("username") or _UNKNOWN_AUTHOR
        try:
            comment = DocumentComment.model_validate(
                {"body": f"{author}: {text}" if isinstance(text, str) else None}
            )
        except ValidationError as error:
            raise InvalidInputError(
                (*loc, "actions", index, "data", "text"),
                f"A comment, with its author's name in front, must be {error.errors()[0]['msg']}",
            ) from error
        at = action.date or datetime.min.replace(tzinfo=UTC)
        found.append((at, index, card["id"], comment.body, action.date))
    comments: dict[str, list[dict[str, Any]]] = {}
    for _, _, card_id, body, date in sorted(found):
        comments.setdefault(card_id, []).append({"body": body, "createdAt": date})
    return comments
