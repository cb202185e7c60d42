from datetime import datetime
from typing import Annotated

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from kanban_api.models.enums import LabelColor
from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import Description, LabelName, Title


class LabelOut(ApiModel):
    color: LabelColor
    name: str


class LabelRename(InputModel):
    color: LabelColor
    name: LabelName


# One rename per colour is all a request needs; more is only work for the server.
LabelRenames = Annotated[list[LabelRename], Field(max_length=len(LabelColor))]


class BoardCreate(InputModel):
    title: Title
    description: Description = ""


class BoardUpdate(PatchModel):
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    labels: LabelRenames | SkipJsonSchema[None] = None


class BoardOut(ApiModel):
    id: int
    title: str
    description: str
    labels: list[LabelOut]
    created_at: datetime
    updated_at: datetime
