from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from kanban_api.models.enums import CardColumn, LabelColor
from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import Description, Title

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


class CardOut(ApiModel):
    id: int
    title: str
    description: str
    board_id: int
    column: CardColumn
    labels: list[LabelColor]
    created_at: datetime
    updated_at: datetime

    @field_validator("labels", mode="before")
    @classmethod
    def _label_colors(cls, value: object) -> object:
        """Cards hold Label rows; the wire shows only their colours."""
        if isinstance(value, list):
            return [getattr(label, "color", label) for label in value]
        return value
