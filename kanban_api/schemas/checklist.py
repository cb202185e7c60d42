from datetime import datetime
from typing import ClassVar

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import BodyFlag, BodyId, ChecklistText

_AFTER_ID = Field(
    default=None,
    description="The item of the same card to put this one right after; `null`: first. "
    "Omitted: at the end when adding, where it is when editing.",
)


class ChecklistItemCreate(InputModel):
    text: ChecklistText
    after_id: BodyId | None = _AFTER_ID


class ChecklistItemUpdate(PatchModel):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"after_id"})

    text: ChecklistText | SkipJsonSchema[None] = None
    done: BodyFlag | SkipJsonSchema[None] = None
    after_id: BodyId | None = _AFTER_ID


class ChecklistItemOut(ApiModel):
    id: int
    card_id: int
    text: str
    done: bool
    position: int = Field(description="0, 1, 2… in checklist order")
    created_at: datetime
    updated_at: datetime


class ChecklistCounts(ApiModel):
    done: int
    total: int
