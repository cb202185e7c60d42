from datetime import datetime
from typing import Self

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from kanban_api.models import Board
from kanban_api.models.enums import LabelColor, Role
from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import Description, LabelName, Title


class LabelOut(ApiModel):
    color: LabelColor
    name: str


class LabelRename(InputModel):
    color: LabelColor
    name: LabelName


class BoardCreate(InputModel):
    title: Title
    description: Description = ""


class BoardUpdate(PatchModel):
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    labels: list[LabelRename] | SkipJsonSchema[None] = None


class BoardEventOut(ApiModel):
    """The board as every member sees it: the data of a `board.updated` event, which goes
    to all members alike, so it carries no one's role."""

    id: int
    title: str
    description: str
    labels: list[LabelOut]
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Grows with every change; the ETag is this, quoted.")


class BoardOut(BoardEventOut):
    """The board as the caller sees it."""

    # The caller's role: the same board reads differently to each member.
    role: Role

    @classmethod
    def of(cls, board: Board, role: Role) -> Self:
        fields = {name: getattr(board, name) for name in cls.model_fields if name != "role"}
        return cls.model_validate({**fields, "role": role})
