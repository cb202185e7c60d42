from datetime import datetime
from enum import StrEnum

from pydantic import Field

from kanban_api.schemas.base import ApiModel


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
