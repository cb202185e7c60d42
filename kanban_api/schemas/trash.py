from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kanban_api.schemas.base import ApiModel
from kanban_api.schemas.card import MAX_PAGE_SIZE


class TrashedType(StrEnum):
    BOARD = "board"
    CARD = "card"


class TrashItemOut(ApiModel):
    """A board or card in the trash, restorable until it is purged."""

    type: TrashedType
    id: int
    title: str
    board_id: int = Field(description="The card's board; for a board, its own id")
    deleted_at: datetime
    deleted_by: int | None = Field(description="Who deleted it (null once their account is gone)")


class TrashQuery(ApiModel):
    """The trash listing's paging; without `limit`, the whole trash."""

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] | None = Field(
        default=None,
        description="Page size; when more items remain, a Link header with rel=next points on",
    )
    cursor: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Where to continue: taken from the Link header's URL"
    )
