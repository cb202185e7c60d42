"""Bodies of 412 Precondition Failed answers: why, and the resource as it is now."""

from kanban_api.schemas.base import ApiModel
from kanban_api.schemas.board import BoardOut
from kanban_api.schemas.card import CardOut


class BoardPreconditionFailed(ApiModel):
    detail: str
    current: BoardOut


class CardPreconditionFailed(ApiModel):
    detail: str
    current: CardOut
