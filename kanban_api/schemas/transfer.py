"""Board export and import: the `kanban-api/1` document, and the parts of a Trello board
export that an import reads. Unknown fields are ignored in both, so a newer document or
a Trello export with fields added since still imports."""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, StrictBool, Tag

from kanban_api.limits import CHECKLIST_ITEMS_MAX
from kanban_api.models.enums import CardColumn, LabelColor, Role
from kanban_api.schemas.base import ApiModel
from kanban_api.schemas.card import MAX_ASSIGNEES, LabelSet
from kanban_api.schemas.fields import (
    ChecklistText,
    ColumnName,
    CommentBody,
    Description,
    DocumentEmail,
    LabelName,
    Title,
    UTCTimestamp,
    WipLimit,
    named_once,
)

FORMAT = "kanban-api/1"
# The documents are bounded by the request body's size (1 MiB); these bound the work.
MAX_DOCUMENT_CARDS = 25_000
MAX_DOCUMENT_MEMBERS = 1000
MAX_CARD_COMMENTS = 1000


class DocumentModel(ApiModel):
    model_config = ConfigDict(extra="ignore")


class DocumentBoard(DocumentModel):
    title: Title
    description: Description = ""


class DocumentColumn(DocumentModel):
    key: CardColumn
    name: ColumnName
    wip_limit: WipLimit | None = None


class DocumentLabel(DocumentModel):
    color: LabelColor
    name: LabelName = ""


class DocumentMember(DocumentModel):
    email: DocumentEmail
    role: Role


class DocumentChecklistItem(DocumentModel):
    text: ChecklistText
    done: StrictBool = False


class DocumentComment(DocumentModel):
    author: DocumentEmail | None = Field(
        default=None, description="The author's email; null once their account is gone"
    )
    body: CommentBody
    created_at: UTCTimestamp | None = None


class DocumentCard(DocumentModel):
    title: Title
    description: Description = ""
    column: CardColumn = CardColumn.BACKLOG
    labels: LabelSet = []
    due_at: UTCTimestamp | None = None
    archived: StrictBool = False
    assignees: Annotated[list[DocumentEmail], Field(max_length=MAX_ASSIGNEES)] = []
    checklist: Annotated[list[DocumentChecklistItem], Field(max_length=CHECKLIST_ITEMS_MAX)] = []
    comments: Annotated[list[DocumentComment], Field(max_length=MAX_CARD_COMMENTS)] = []


class BoardDocument(DocumentModel):
    """A whole board, as `GET /api/boards/{id}/export` answers and `POST
    /api/boards/import` takes it: cards in board order, people by email."""

    format: Literal["kanban-api/1"]
    board: DocumentBoard
    columns: Annotated[
        list[DocumentColumn], Field(max_length=len(CardColumn)), named_once("key", "column")
    ] = []
    labels: Annotated[
        list[DocumentLabel], Field(max_length=len(LabelColor)), named_once("color", "colour")
    ] = []
    members: Annotated[list[DocumentMember], Field(max_length=MAX_DOCUMENT_MEMBERS)] = []
    cards: Annotated[list[DocumentCard], Field(max_length=MAX_DOCUMENT_CARDS)] = []


# --- Trello ------------------------------------------------------------------------------
# Field names are Trello's (camelCase already); text limits are ours, so that a card or
# comment too long to keep is a 422 naming its place in the Trello document.


class TrelloModel(ApiModel):
    model_config = ConfigDict(extra="ignore", alias_generator=None)


class TrelloLabel(TrelloModel):
    id: str
    name: str = ""
    color: str | None = None


class TrelloList(TrelloModel):
    id: str
    name: str = ""
    closed: StrictBool = False
    pos: float = 0


class TrelloCard(TrelloModel):
    id: str
    name: Title
    desc: Description = ""
    closed: StrictBool = False
    idList: str  # noqa: N815 (Trello's name)
    idLabels: list[str] = []  # noqa: N815
    due: UTCTimestamp | None = None
    pos: float = 0


class TrelloCheckItem(TrelloModel):
    name: ChecklistText
    state: Literal["complete", "incomplete"] = "incomplete"
    pos: float = 0


class TrelloChecklist(TrelloModel):
    idCard: str  # noqa: N815
    pos: float = 0
    checkItems: list[TrelloCheckItem] = []  # noqa: N815


class TrelloAction(TrelloModel):
    """An entry of the board's activity; only `commentCard` ones are read (`trello.py`)."""

    type: str
    date: UTCTimestamp | None = None
    data: dict[str, Any] = {}
    memberCreator: dict[str, Any] | None = None  # noqa: N815


class TrelloBoard(TrelloModel):
    """A Trello board export ("Print, export and share" → "Export as JSON")."""

    name: Title
    desc: Description = ""
    labels: list[TrelloLabel] = []
    lists: list[TrelloList]
    cards: Annotated[list[TrelloCard], Field(max_length=MAX_DOCUMENT_CARDS)]
    checklists: list[TrelloChecklist] = []
    actions: list[TrelloAction] = []


class TrelloImport(DocumentModel):
    """A Trello export with the columns its lists go to (list id → column key); lists not
    named go where they would without a mapping."""

    trello: TrelloBoard
    list_mapping: dict[str, CardColumn] = {}


def _document_kind(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    if "format" in value:
        return "kanban"
    if "trello" in value:
        return "mapped"
    # Neither kind: one error saying what is expected, not every missing Trello field.
    return "trello" if _TRELLO_KEYS.intersection(value) else None


# The fields every Trello board export has.
_TRELLO_KEYS = frozenset({"name", "lists", "cards"})


ImportBody = Annotated[
    Annotated[BoardDocument, Tag("kanban")]
    | Annotated[TrelloImport, Tag("mapped")]
    | Annotated[TrelloBoard, Tag("trello")],
    Discriminator(
        _document_kind,
        custom_error_type="document_kind",
        custom_error_message="Expected a kanban-api/1 document or a Trello board export",
    ),
]
