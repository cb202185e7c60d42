from fastapi import APIRouter, Response, status

from kanban_api.dependencies import (
    BoardCreator,
    DatabaseDep,
    IfNoneMatch,
    ListBoards,
    ManageBoard,
    SessionDep,
    UpdateBoard,
    ViewBoard,
)
from kanban_api.models import Role
from kanban_api.permissions import board_update_actions
from kanban_api.reads import boards as board_reads
from kanban_api.routes.responses import (
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
from kanban_api.services import boards as board_service
from kanban_api.utils.etag import check_if_none_match, with_etag

router = APIRouter(prefix="/boards", tags=["boards"], responses=NOT_AUTHENTICATED)


@router.get("", response_model=list[BoardOut])
async def list_boards(database: DatabaseDep, access: ListBoards) -> Response:
    """The boards the caller is a member of, each with the caller's role."""
    async with database.reading() as connection:
        boards = await board_reads.list_boards(connection, access=access)
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
    """Delete the board with its cards, labels and memberships."""
    await board_service.delete_board(session, board=access.board)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
