"""Each tool's arguments: the REST API's request schemas, plus the ids its path carries.

A tool's input schema is its model's JSON Schema, so the limits, enums and
descriptions are the REST API's own. Tools that change a resource subclass its
Create or Update schema and hand the service that schema (`body`), as the route
hands it the request body.
"""

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from kanban_api.routes.events import MAX_EVENTS_PER_PAGE, MAX_SEQ
from kanban_api.schemas.base import InputModel
from kanban_api.schemas.board import BoardCreate, BoardUpdate
from kanban_api.schemas.card import (
    MAX_PAGE_SIZE,
    CardBatch,
    CardListQuery,
    CardMove,
    CardUpdate,
)
from kanban_api.schemas.comment import CommentCreate
from kanban_api.schemas.fields import BodyFlag, BodyId
from kanban_api.schemas.member import MemberShare
from kanban_api.schemas.user import UserSearch

Part = TypeVar("Part", bound=BaseModel)

BoardId = Annotated[BodyId, Field(description="The board's id, as list_boards shows it")]
CardId = Annotated[BodyId, Field(description="The card's id, as get_board or list_cards shows it")]


class NoArguments(InputModel):
    pass


class BoardArguments(InputModel):
    board_id: BoardId


class CardArguments(InputModel):
    card_id: CardId


def body(arguments: BaseModel, schema: type[Part]) -> Part:
    """The REST request body the arguments hold: the fields `schema` has, as given (omitted
    ones stay omitted, so a partial update stays partial)."""
    given: dict[str, Any] = arguments.model_dump(
        mode="json", by_alias=True, exclude_unset=True, include=set(schema.model_fields)
    )
    return schema.model_validate(given)


class CardFilters(CardListQuery):
    """The card list's filters and paging; `archived` is a JSON boolean here, not query text."""

    model_config = ConfigDict(extra="forbid")

    archived: BodyFlag = Field(
        default=False, description="false: cards in play; true: only the archived ones"
    )
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] | None = Field(
        default=None,
        description="Page size; when more cards remain, the answer's nextCursor continues",
    )
    cursor: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Where to continue: a previous answer's nextCursor"
    )


class BoardCards(CardFilters):
    board_id: BoardId


class UpdateBoard(BoardUpdate):
    board_id: BoardId


class CreateCards(InputModel):
    board_id: BoardId
    cards: CardBatch = Field(description="The cards to create, all or none")


class UpdateCard(CardUpdate):
    card_id: CardId


class MoveCard(CardMove):
    card_id: CardId


class AddComment(CommentCreate):
    card_id: CardId


class ShareBoard(MemberShare):
    board_id: BoardId
    user_id: BodyId = Field(description="The user's id, as find_user or list_members shows it")


class BoardActivity(InputModel):
    board_id: BoardId
    after: Annotated[int, Field(ge=0, le=MAX_SEQ)] = Field(
        default=0, description="Answer events with a larger seq than this (0: from the start)"
    )
    limit: Annotated[int, Field(ge=1, le=MAX_EVENTS_PER_PAGE)] = 100


# The REST request schemas used as they are.
CreateBoard = BoardCreate
FindUser = UserSearch


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema MCP clients see: camelCase, as the REST API's bodies."""
    schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    return schema
