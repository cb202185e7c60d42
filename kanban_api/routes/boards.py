from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from kanban_api.dependencies import (
    BoardCreator,
    IfNoneMatch,
    ListBoards,
    ManageBoard,
    SessionDep,
    SettingsDep,
    UpdateBoard,
    ViewBoard,
)
from kanban_api.models import Role
from kanban_api.permissions import board_update_actions
from kanban_api.reads import boards as board_reads
from kanban_api.routes.responses import (
    BOARD_FULL,
    NOT_A_MEMBER,
    NOT_AUTHENTICATED,
    ROLE_REQUIRED,
    JsonBytes,
    conditional_read,
    conditional_write,
    etag_answers,
)
from kanban_api.schemas.board import BoardCreate, BoardOut, BoardUpdate
from kanban_api.schemas.conditional import BoardPreconditionFailed
from kanban_api.schemas.transfer import BoardDocument, ImportBody, TrelloImport
from kanban_api.services import boards as board_service
from kanban_api.services import transfer, trello
from kanban_api.services import trash as trash_service
from kanban_api.services.card_caps import CardCaps
from kanban_api.utils.etag import check_if_none_match, with_etag
from kanban_api.validation import StrictQueryRoute

router = APIRouter(
    route_class=StrictQueryRoute, prefix="/boards", tags=["boards"], responses=NOT_AUTHENTICATED
)


@router.get("", response_model=list[BoardOut])
async def list_boards(read: ListBoards) -> Response:
    """The boards the caller is a member of, each with the caller's role."""
    async with read.database.reading() as connection:
        boards = await board_reads.list_boards(connection, access=read.access)
    return JsonBytes(boards)


@router.post("", status_code=status.HTTP_201_CREATED, responses=etag_answers(201))
async def create_board(
    session: SessionDep, user: BoardCreator, body: BoardCreate, response: Response
) -> BoardOut:
    """Create a board with its seven unnamed labels; the caller becomes its owner."""
    board = await board_service.create_board(
        session, user=user, title=body.title, description=body.description
    )
    return with_etag(response, BoardOut.of(board, Role.OWNER, invited=False))


@router.post(
    "/import", status_code=status.HTTP_201_CREATED, responses={**etag_answers(201), **BOARD_FULL}
)
async def import_board(
    session: SessionDep,
    settings: SettingsDep,
    user: BoardCreator,
    body: Annotated[ImportBody, Body()],
    response: Response,
) -> BoardOut:
    """A new board, owned by the caller, from a `kanban-api/1` document (as
    `GET /api/boards/{id}/export` answers), a Trello board export, or
    `{"trello": <export>, "listMapping": {"<list id>": "<column>"}}`. A 422's `loc` names
    the kind of document recognised (`kanban`, `trello`, `mapped`), then the place in it."""
    loc: tuple[str, ...]
    if isinstance(body, BoardDocument):
        document, loc = body, ("body", "kanban")
    elif isinstance(body, TrelloImport):
        loc = ("body", "mapped", "trello")
        document = trello.to_document(body.trello, list_mapping=body.list_mapping, loc=loc)
    else:
        loc = ("body", "trello")
        document = trello.to_document(body, loc=loc)
    board = await transfer.import_board(
        session, user=user, document=document, caps=CardCaps.from_settings(settings), loc=loc
    )
    return with_etag(response, BoardOut.of(board, Role.OWNER, invited=False))


@router.get("/{board_id}/export", responses=NOT_A_MEMBER, response_model=BoardDocument)
async def export_board(session: SessionDep, access: ViewBoard) -> JsonBytes:
    """The whole board as one `kanban-api/1` document, to import elsewhere: columns,
    labels, members and cards (board order) with their labels, assignees and comment
    authors by email, checklists, due dates and archived state."""
    return JsonBytes(
        await transfer.export_board(session, board=access.board, user_id=access.user.id)
    )


@router.get("/{board_id}", responses={**NOT_A_MEMBER, **conditional_read()})
async def read_board(
    access: ViewBoard, response: Response, if_none_match: IfNoneMatch = None
) -> BoardOut:
    board = BoardOut.of(access.board, access.role, invited=access.invited)
    check_if_none_match(if_none_match, tag=board.entity_tag)
    return with_etag(response, board)


@router.patch(
    "/{board_id}", responses={**ROLE_REQUIRED, **conditional_write(BoardPreconditionFailed)}
)
async def update_board(
    session: SessionDep, access: UpdateBoard, body: BoardUpdate, response: Response
) -> BoardOut:
    """Rename the board (owners) or its labels, matched by colour (owners and editors)."""
    for action in board_update_actions(body.model_fields_set):
        access.require(action)
    board = await board_service.update_board(session, board=access.board, update=body)
    return with_etag(response, BoardOut.of(board, access.role, invited=access.invited))


@router.delete(
    "/{board_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ROLE_REQUIRED, **conditional_write(BoardPreconditionFailed, 204)},
)
async def delete_board(session: SessionDep, access: ManageBoard) -> Response:
    """Move the board, with everything on it, to the trash (restorable by its owners from
    /api/trash until KANBAN_TRASH_RETENTION_DAYS have passed); it answers 404 meanwhile."""
    await trash_service.trash_board(session, board=access.board, user=access.user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
