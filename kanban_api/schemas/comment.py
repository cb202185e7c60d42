from datetime import datetime

from pydantic.json_schema import SkipJsonSchema

from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import CommentBody


class CommentCreate(InputModel):
    body: CommentBody


class CommentUpdate(PatchModel):
    body: CommentBody | SkipJsonSchema[None] = None


class CommentOut(ApiModel):
    id: int
    card_id: int
    # null once the author's account is deleted; the comment itself stays.
    author_id: int | None
    body: str
    created_at: datetime
    updated_at: datetime
