from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, field_validator
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


# One rename per colour is all a request needs; more is only work for the server.
LabelRenames = Annotated[
    list[LabelRename],
    Field(max_length=len(LabelColor), description="At most one rename per colour"),
]


class BoardCreate(InputModel):
    title: Title
    description: Description = ""


class BoardUpdate(PatchModel):
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    labels: LabelRenames | SkipJsonSchema[None] = None

    @field_validator("labels")
    @classmethod
    def _one_per_color(cls, renames: list[LabelRename] | None) -> list[LabelRename] | None:
        """Two names for one colour in one request is a client bug; neither silently wins."""
        colors = [rename.color for rename in renames or ()]
        if len(set(colors)) != len(colors):
            raise ValueError("must name each colour at most once")
        return renames


class BoardEventOut(ApiModel):
    """The board as every member sees it: the data of a `board.updated` event, which goes
    to all members alike, so it carries no one's role."""

    id: int
    title: str
    description: str
    labels: list[LabelOut]
    created_at: datetime
    updated_at: datetime
    version: int = Field(
        description="Grows with every change. The ETag is this and the caller's role, "
        'quoted: `"3-editor"`.'
    )


def board_entity_tag(version: int, role: Role) -> str:
    """The board's ETag for one caller, unquoted: `3-editor`.

    BoardOut shows the caller's role, so the tag names it too: a member whose
    role changed gets a new tag (not a 304 for a stale role), and an owner and an
    editor never share a tag for their different bodies.
    """
    return f"{version}-{role.value}"


class BoardOut(BoardEventOut):
    """The board as the caller sees it."""

    # The caller's role: the same board reads differently to each member.
    role: Role

    @property
    def entity_tag(self) -> str:
        return board_entity_tag(self.version, self.role)

    @classmethod
    def of(cls, board: Board, role: Role) -> Self:
        fields = {name: getattr(board, name) for name in cls.model_fields if name != "role"}
        return cls.model_validate({**fields, "role": role})
