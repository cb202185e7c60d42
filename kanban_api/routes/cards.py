from fastapi import APIRouter, Response, status

from kanban_api.dependencies import (
    IfNoneMatch,
    MemberBoard,
    MemberCard,
    MemberCardForUpdate,
    SessionDep,
)
from kanban_api.routes.responses import NOT_A_MEMBER, conditional_read, conditional_write
from kanban_api.schemas.card import CardBatch, CardMove, CardOut, CardUpdate
from kanban_api.schemas.conditional import CardPreconditionFailed
from kanban_api.services import cards as card_service
from kanban_api.utils.etag import check_if_none_match, with_etag

router = APIRouter(tags=["cards"])


@router.get("/boards/{board_id}/cards", responses=NOT_A_MEMBER)
async def list_cards(session: SessionDep, board: MemberBoard) -> list[CardOut]:
    """The board's cards in board order: by column, then by position within the column."""
    cards = await card_service.list_cards(session, board=board)
    return [CardOut.model_validate(card) for card in cards]


@router.post(
    "/boards/{board_id}/cards", status_code=status.HTTP_201_CREATED, responses=NOT_A_MEMBER
)
async def create_cards(session: SessionDep, board: MemberBoard, body: CardBatch) -> list[CardOut]:
    """Create a batch of cards, answered in request order; if one is invalid, none is created.

    Each card goes to the bottom of its column, in request order.
    """
    cards = await card_service.create_cards(session, board=board, cards=body)
    return [CardOut.model_validate(card) for card in cards]


@router.get("/cards/{card_id}", responses={**NOT_A_MEMBER, **conditional_read()})
async def read_card(
    card: MemberCard, response: Response, if_none_match: IfNoneMatch = None
) -> CardOut:
    check_if_none_match(if_none_match, version=card.version)
    return with_etag(response, CardOut.model_validate(card))


@router.patch(
    "/cards/{card_id}", responses={**NOT_A_MEMBER, **conditional_write(CardPreconditionFailed)}
)
async def update_card(
    session: SessionDep, card: MemberCardForUpdate, body: CardUpdate, response: Response
) -> CardOut:
    """Change some fields; `labels` replaces the card's label set (`[]` clears it).

    A new `column` puts the card at the bottom of that column.
    """
    card = await card_service.update_card(session, card=card, update=body)
    return with_etag(response, CardOut.model_validate(card))


@router.post(
    "/cards/{card_id}/move",
    responses={**NOT_A_MEMBER, **conditional_write(CardPreconditionFailed)},
)
async def move_card(
    session: SessionDep, card: MemberCardForUpdate, body: CardMove, response: Response
) -> CardOut:
    """Put the card right after card `afterId` of `column`, or at its top when `afterId` is null.

    `afterId` must name another card that is in `column` of the same board (else 422).
    Only the moved card changes, except when its new neighbours have no room left
    between them: then the column is renumbered, and those cards' versions grow too.
    """
    card = await card_service.move_card(
        session, card=card, column=body.column, after_id=body.after_id
    )
    return with_etag(response, CardOut.model_validate(card))


@router.delete(
    "/cards/{card_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_A_MEMBER, **conditional_write(CardPreconditionFailed, 204)},
)
async def delete_card(session: SessionDep, card: MemberCardForUpdate) -> Response:
    await card_service.delete_card(session, card=card)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
