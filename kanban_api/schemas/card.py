from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from kanban_api.models.enums import CardColumn, LabelColor
from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import Description, Id, Title

MAX_CARDS_PER_BATCH = 500

LabelSet = Annotated[list[LabelColor], Field(max_length=len(LabelColor))]


class CardCreate(InputModel):
    title: Title
    description: Description = ""
    column: CardColumn = CardColumn.BACKLOG
    labels: LabelSet = []


CardBatch = Annotated[list[CardCreate], Field(max_length=MAX_CARDS_PER_BATCH)]


class CardUpdate(PatchModel):
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    column: CardColumn | SkipJsonSchema[None] = None
    labels: LabelSet | SkipJsonSchema[None] = None


class CardMove(InputModel):
    column: CardColumn
    after_id: Id | None = Field(
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

    @field_validator("labels", mode="before")
    @classmethod
    def _label_colors(cls, value: object) -> object:
        """Cards hold Label rows; the wire shows only their colours."""
        if isinstance(value, list):
            return [getattr(label, "color", label) for label in value]
        return value
