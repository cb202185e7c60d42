from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from kanban_api.dependencies import (
    CurrentPrincipal,
    DatabaseDep,
    RestoreBoard,
    RestoreCard,
    SessionDep,
    SettingsDep,
)
from kanban_api.routes.responses import (
    BOARD_FULL,
    NEXT_PAGE_LINK,
    NOT_AUTHENTICATED,
    ROLE_REQUIRED,
    Responses,
    etag_answers,
    next_page_link,
)
from kanban_api.schemas.board import BoardOut
from kanban_api.schemas.card import CardOut
from kanban_api.schemas.trash import TrashItemOut, TrashQuery
from kanban_api.services import trash as trash_service
from kanban_api.services.card_caps import CardCaps
from kanban_api.utils.etag import with_etag
from kanban_api.validation import StrictQueryRoute

router = APIRouter(
    route_class=StrictQueryRoute, prefix="/trash", tags=["trash"], responses=NOT_AUTHENTICATED
)

_NOT_IN_TRASH: Responses = {
    404: {**ROLE_REQUIRED[404], "description": "Not in the trash, or not a member"}
}


@router.get("", responses={200: {"description": "Newest first", "headers": NEXT_PAGE_LINK}})
async def list_trash(
    request: Request,
    response: Response,
    database: DatabaseDep,
    principal: CurrentPrincipal,
    query: Annotated[TrashQuery, Query()],
) -> list[TrashItemOut]:
    """What the caller may restore, newest first: the boards they own and the cards of
    boards where they may edit cards, until purged (KANBAN_TRASH_RETENTION_DAYS).

    With `limit`, the answer is one page; the next page's URL comes in the `Link`
    header, and no header means this was the last.
    """
    async with database.reading() as connection:
        page = await trash_service.list_trash(
            connection, principal=principal, limit=query.limit, cursor=query.cursor
        )
    if page.next_cursor is not None:
        response.headers["Link"] = next_page_link(request, page.next_cursor)
    return [TrashItemOut.model_validate(row._mapping) for row in page.rows]


@router.post(
    "/boards/{board_id}/restore",
    responses={**ROLE_REQUIRED, **_NOT_IN_TRASH, **etag_answers()},
)
async def restore_board(session: SessionDep, access: RestoreBoard, response: Response) -> BoardOut:
    """Bring the board back (owners), with everything that was on it."""
    board = await trash_service.restore_board(session, board=access.board)
    return with_etag(response, BoardOut.of(board, access.role, invited=access.invited))


@router.post(
    "/cards/{card_id}/restore",
    responses={
        **ROLE_REQUIRED,
        **_NOT_IN_TRASH,
        **etag_answers(),
        409: {
            **BOARD_FULL[409],
            "description": "The card's board is in the trash (restore it first), or it would "
            "pass its cap of active or archived cards, or a column its WIP limit",
        },
    },
)
async def restore_card(
    session: SessionDep, settings: SettingsDep, access: RestoreCard, response: Response
) -> CardOut:
    """Bring the card back (owners and editors) with its labels, assignees, comments and
    checklist, where it was, or at the bottom of its column if its place was taken."""
    card = await trash_service.restore_card(
        session, card=access.card, caps=CardCaps.from_settings(settings)
    )
    return with_etag(response, CardOut.model_validate(card))
