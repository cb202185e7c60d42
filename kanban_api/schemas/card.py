from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from kanban_api.models.enums import CardColumn, LabelColor
from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.checklist import ChecklistCounts
from kanban_api.schemas.fields import (
    BodyFlag,
    BodyId,
    Description,
    Id,
    QueryFlag,
    SearchText,
    Title,
    UTCTimestamp,
)

MAX_CARDS_PER_BATCH = 500
MAX_ASSIGNEES = 100
MAX_PAGE_SIZE = 500

LabelSet = Annotated[list[LabelColor], Field(max_length=len(LabelColor))]
# Members of the card's board only; the order is irrelevant and duplicates collapse.
AssigneeSet = Annotated[list[BodyId], Field(max_length=MAX_ASSIGNEES)]


class CardCreate(InputModel):
    title: Title
    description: Description = ""
    column: CardColumn = CardColumn.BACKLOG
    labels: LabelSet = []
    due_at: UTCTimestamp | None = None
    assignee_ids: AssigneeSet = []
    archived: BodyFlag = False


CardBatch = Annotated[list[CardCreate], Field(max_length=MAX_CARDS_PER_BATCH)]


class CardUpdate(PatchModel):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"due_at"})

    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    column: CardColumn | SkipJsonSchema[None] = None
    labels: LabelSet | SkipJsonSchema[None] = None
    # null clears the due date.
    due_at: UTCTimestamp | None = None
    assignee_ids: AssigneeSet | SkipJsonSchema[None] = None
    archived: BodyFlag | SkipJsonSchema[None] = None


class CardMove(InputModel):
    column: CardColumn
    after_id: BodyId | None = Field(
        description="The card to place this one right after, in `column` of the same board; "
        "`null` places it at the top. Required, so a forgotten field cannot mean the top."
    )


class CardOut(ApiModel):
    id: int
    title: str
    description: str
    board_id: int
    column: CardColumn
    labels: list[LabelColor]
    created_at: datetime
    updated_at: datetime
    position: int = Field(
        description="Sort key within the card's column (ascending = top to bottom). Compare "
        "it only with cards of the same column; the server may renumber a column."
    )
    version: int = Field(description="Grows with every change; the ETag is this, quoted.")
    due_at: datetime | None
    assignee_ids: list[int]
    archived: bool
    checklist: ChecklistCounts = Field(description="How many checklist items are done, of all")

    @property
    def entity_tag(self) -> str:
        """A card reads the same to every member: its ETag is its version."""
        return str(self.version)

    @field_validator("labels", mode="before")
    @classmethod
    def _label_colors(cls, value: object) -> object:
        """Cards hold Label rows; the wire shows only their colours."""
        if isinstance(value, list):
            return [getattr(label, "color", label) for label in value]
        return value


class CardListQuery(ApiModel):
    """The card list's filters, all optional and combined with AND, and its paging."""

    column: CardColumn | None = None
    label: LabelColor | None = Field(default=None, description="Cards with this label")
    assignee: Id | None = Field(default=None, description="Cards assigned to this user id")
    q: SearchText = Field(default="", description="Text in the title or description, ignoring case")
    due_before: UTCTimestamp | None = Field(
        default=None, description="Cards due strictly before this time (with a timezone)"
    )
    archived: QueryFlag = Field(
        default=False, description="false: cards in play; true: only the archived ones"
    )
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] | None = Field(
        default=None,
        description="Page size; when more cards remain, a Link header with rel=next points on",
    )
    cursor: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Where to continue: taken from the Link header's URL"
    )
