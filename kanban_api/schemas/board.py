from datetime import datetime
from typing import Annotated, ClassVar, Self

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from kanban_api.models import Board
from kanban_api.models.enums import CardColumn, LabelColor, Role
from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import (
    ColumnName,
    Description,
    LabelName,
    Title,
    WipLimit,
    named_once,
)


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
    named_once("color", "colour"),
]


class ColumnOut(ApiModel):
    key: CardColumn
    name: str
    wip_limit: int | None = Field(
        description="At most this many active (non-archived) cards in the column; null: no limit"
    )


class ColumnUpdate(PatchModel):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"wip_limit"})

    key: CardColumn
    name: ColumnName | SkipJsonSchema[None] = None
    # null removes the limit; omitted leaves it as it is.
    wip_limit: WipLimit | None = None


ColumnUpdates = Annotated[
    list[ColumnUpdate],
    Field(max_length=len(CardColumn), description="At most one entry per column key"),
    named_once("key", "column"),
]


class BoardCreate(InputModel):
    title: Title
    description: Description = ""


class BoardUpdate(PatchModel):
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    labels: LabelRenames | SkipJsonSchema[None] = None
    columns: ColumnUpdates | SkipJsonSchema[None] = None


class _BoardFields(ApiModel):
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


_COLUMNS_DOC = Field(description="The four columns in board order, with names and WIP limits")


class BoardEventOut(_BoardFields):
    """The board as every member sees it: the data of a `board.updated` event, which goes
    to all members alike, so it carries no one's role."""

    columns: list[ColumnOut] = _COLUMNS_DOC


def board_entity_tag(version: int, role: Role, *, invited: bool) -> str:
    """The board's ETag for one caller, unquoted: `3-editor`, or `3-editor-invited`
    while the caller's membership is an invitation.

    BoardOut shows the caller's role and whether they were only invited, so the tag
    names both: a member whose role changed, or who accepted, gets a new tag (not a
    304 for a stale body), and an owner and an editor never share a tag for their
    different bodies.
    """
    return f"{version}-{role.value}" + ("-invited" if invited else "")


class BoardOut(_BoardFields):
    """The board as the caller sees it."""

    # The caller's role: the same board reads differently to each member.
    role: Role
    # After `role`: fields added since the seed's contract follow its fields.
    columns: list[ColumnOut] = _COLUMNS_DOC
    invited: bool = Field(
        description="true while the caller's membership is an invitation they have not "
        "accepted (POST /api/invitations/{board_id}/accept): the role applies already, but "
        "the board is not in their GET /api/boards",
    )

    @property
    def entity_tag(self) -> str:
        return board_entity_tag(self.version, self.role, invited=self.invited)

    @classmethod
    def of(cls, board: Board, role: Role, *, invited: bool) -> Self:
        caller = {"role": role, "invited": invited}
        fields = {name: getattr(board, name) for name in cls.model_fields if name not in caller}
        return cls.model_validate({**fields, **caller})
