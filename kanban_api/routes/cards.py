from fastapi import APIRouter, Response, status

from kanban_api.dependencies import (
    BoardId,
    CardId,
    Claims,
    MemberBoard,
    MemberCard,
    SessionDep,
)
from kanban_api.routes.responses import NOT_A_MEMBER, JsonBytes
from kanban_api.schemas.card import CardBatch, CardOut, CardUpdate
from kanban_api.services import cards as card_service

router = APIRouter(tags=["cards"])


@router.get("/boards/{board_id}/cards", responses=NOT_A_MEMBER, response_model=list[CardOut])
async def list_cards(session: SessionDep, claims: Claims, board_id: BoardId) -> Response:
    """The board's cards, column by column."""
    return JsonBytes(await card_service.list_cards(session, board_id=board_id, claims=claims))


@router.post(
    "/boards/{board_id}/cards", status_code=status.HTTP_201_CREATED, responses=NOT_A_MEMBER
)
async def create_cards(session: SessionDep, board: MemberBoard, body: CardBatch) -> list[CardOut]:
    """Create a batch of cards, answered in request order; if one is invalid, none is created."""
    cards = await card_service.create_cards(session, board=board, cards=body)
    return [CardOut.model_validate(card) for card in cards]


@router.get("/cards/{card_id}", responses=NOT_A_MEMBER, response_model=CardOut)
async def read_card(session: SessionDep, claims: Claims, card_id: CardId) -> Response:
    return JsonBytes(await card_service.read_card(session, card_id=card_id, claims=claims))


@router.patch("/cards/{card_id}", responses=NOT_A_MEMBER)
async def update_card(session: SessionDep, card: MemberCard, body: CardUpdate) -> CardOut:
    """Change some fields; `labels` replaces the card's label set (`[]` clears it)."""
    card = await card_service.update_card(session, card=card, update=body)
    return CardOut.model_validate(card)


@router.delete("/cards/{card_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_A_MEMBER)
async def delete_card(session: SessionDep, card: MemberCard) -> Response:
    await card_service.delete_card(session, card=card)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
