from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from kanban_api.dependencies import (
    IF_NONE_MATCH_DOCUMENTED,
    BoardId,
    CardId,
    EditCard,
    EditCardsOnBoard,
    ReadCards,
    SessionDep,
    SettingsDep,
)
from kanban_api.reads import cards as card_reads
from kanban_api.routes.responses import (
    BOARD_FULL,
    COLUMN_FULL,
    NEXT_PAGE_LINK,
    NOT_A_MEMBER,
    NOT_AUTHENTICATED,
    ROLE_REQUIRED,
    JsonBytes,
    conditional_read,
    conditional_write,
    json_array,
    next_page_link,
)
from kanban_api.schemas.card import CardBatch, CardListQuery, CardMove, CardOut, CardUpdate
from kanban_api.schemas.conditional import CardPreconditionFailed
from kanban_api.services import cards as card_service
from kanban_api.services import trash as trash_service
from kanban_api.services.card_caps import CardCaps
from kanban_api.utils.etag import check_if_none_match, format_etag
from kanban_api.validation import StrictQueryRoute

router = APIRouter(route_class=StrictQueryRoute, tags=["cards"], responses=NOT_AUTHENTICATED)


@router.get(
    "/boards/{board_id}/cards",
    responses={
        **NOT_A_MEMBER,
        200: {"description": "The cards, in board order", "headers": NEXT_PAGE_LINK},
    },
    response_model=list[CardOut],
)
async def list_cards(
    request: Request,
    read: ReadCards,
    board_id: BoardId,
    query: Annotated[CardListQuery, Query()],
) -> Response:
    """The board's cards that pass every given filter, in board order (column, then position).

    Archived cards only with `archived=true`. With `limit`, the answer is one page;
    the next page's URL (same filters, plus a `cursor`) comes in the `Link` header,
    and no header means this was the last. Without `limit`, the answer is every card
    that passes; a long list is sent in chunks as the client reads.
    """
    async with read.database.reading() as connection:
        page = await card_reads.list_cards(
            connection, board_id=board_id, access=read.access, query=query
        )
    if query.limit is None:
        return json_array(page.rows, card_reads.card_json)
    response = JsonBytes([card_reads.card_json(row) for row in page.rows])
    if page.next_cursor is not None:
        response.headers["Link"] = next_page_link(request, page.next_cursor)
    return response


@router.post(
    "/boards/{board_id}/cards",
    status_code=status.HTTP_201_CREATED,
    responses={**ROLE_REQUIRED, **BOARD_FULL},
)
async def create_cards(
    session: SessionDep, settings: SettingsDep, access: EditCardsOnBoard, body: CardBatch
) -> list[CardOut]:
    """Create a batch of cards, answered in request order; if one is invalid, none is created.

    Each card goes to the bottom of its column, in request order. A board holds at most
    KANBAN_MAX_CARDS_PER_BOARD active and KANBAN_MAX_ARCHIVED_CARDS_PER_BOARD archived
    cards; a batch that would pass either gets 409.
    """
    cards = await card_service.create_cards(
        session, board=access.board, cards=body, caps=CardCaps.from_settings(settings)
    )
    return [CardOut.model_validate(card) for card in cards]


@router.get(
    "/cards/{card_id}",
    responses={**NOT_A_MEMBER, **conditional_read()},
    response_model=CardOut,
    openapi_extra=IF_NONE_MATCH_DOCUMENTED,
)
async def read_card(request: Request, read: ReadCards, card_id: CardId) -> Response:
    # Read here, not as a Header parameter: see IF_NONE_MATCH_DOCUMENTED.
    if_none_match = request.headers.get("if-none-match")
    async with read.database.reading() as connection:
        card = await card_reads.read_card(connection, card_id=card_id, access=read.access)
    check_if_none_match(if_none_match, tag=str(card["version"]))
    return JsonBytes(card, headers={"ETag": format_etag(card["version"])})


@router.patch(
    "/cards/{card_id}",
    responses={**ROLE_REQUIRED, **conditional_write(CardPreconditionFailed), **BOARD_FULL},
    response_model=CardOut,
)
async def update_card(
    session: SessionDep, settings: SettingsDep, access: EditCard, body: CardUpdate
) -> Response:
    """Change some fields; `labels` and `assigneeIds` replace their sets (`[]` clears them).

    A new `column` puts the card at the bottom of that column. (Un)archiving a card
    that would take the board past a cap gets 409.
    """
    card = await card_service.update_card(
        session, card=access.card, update=body, caps=CardCaps.from_settings(settings)
    )
    return card_answer(card)


@router.post(
    "/cards/{card_id}/move",
    responses={**ROLE_REQUIRED, **conditional_write(CardPreconditionFailed), **COLUMN_FULL},
    response_model=CardOut,
)
async def move_card(session: SessionDep, access: EditCard, body: CardMove) -> Response:
    """Put the card right after card `afterId` of `column`, or at its top when `afterId` is null.

    `afterId` must name another card that is in `column` of the same board (else 422).
    Only the moved card changes, except when its new neighbours have no room left
    between them: then the column is renumbered, and those cards' versions grow too.
    """
    card = await card_service.move_card(
        session, card=access.card, column=body.column, after_id=body.after_id
    )
    return card_answer(card)


@router.delete(
    "/cards/{card_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ROLE_REQUIRED, **conditional_write(CardPreconditionFailed, 204)},
)
async def delete_card(session: SessionDep, access: EditCard) -> Response:
    """Move the card to the trash (restorable from /api/trash by the board's owners and
    editors); it answers 404 meanwhile, and its place in the column is free."""
    await trash_service.trash_card(session, card=access.card, user=access.user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def card_answer(card: CardOut) -> Response:
    """A changed card's 200 answer, with its ETag: the model the service built for the
    card's event, encoded as FastAPI encodes a `response_model` (pydantic's JSON), but
    without validating it again first."""
    return Response(
        card.model_dump_json(),
        media_type="application/json",
        headers={"ETag": format_etag(card.entity_tag)},
    )
