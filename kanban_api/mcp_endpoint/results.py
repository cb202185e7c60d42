"""What tools answer: the REST answers' schemas, a list under a key (MCP's structured
content is a JSON object), and `Deleted` where REST answers 204. Their JSON Schemas are
the tools' output schemas, which clients check results against."""

from typing import Literal

from pydantic import Field

from kanban_api.models import Role
from kanban_api.schemas.base import ApiModel
from kanban_api.schemas.board import BoardOut
from kanban_api.schemas.card import CardOut
from kanban_api.schemas.comment import CommentOut
from kanban_api.schemas.event import EventOut
from kanban_api.schemas.member import MemberOut

_NEXT_CURSOR = Field(
    description="Pass as `cursor` (same filters) for the next page; null on the last page"
)


class BoardListOut(ApiModel):
    boards: list[BoardOut]


class CardPageOut(ApiModel):
    cards: list[CardOut] = Field(description="In board order: column, then position")
    next_cursor: str | None = _NEXT_CURSOR


class BoardCardsOut(CardPageOut):
    board: BoardOut


class CardListOut(ApiModel):
    cards: list[CardOut]


class CommentListOut(ApiModel):
    comments: list[CommentOut] = Field(description="Oldest first")


class MemberListOut(ApiModel):
    members: list[MemberOut]


class EventListOut(ApiModel):
    events: list[EventOut] = Field(description="Oldest first; continue with `after` = last seq")


class Deleted(ApiModel):
    """The id of what was deleted."""

    id: int


class SharedOut(ApiModel):
    """A share: the user joined (`member`, with their email, as REST's 200 MemberOut) or
    was invited (`invited`, no email until they accept, as REST's 202)."""

    id: int
    role: Role
    status: Literal["member", "invited"]
    email: str | None = Field(description="Null while the user is only invited")
