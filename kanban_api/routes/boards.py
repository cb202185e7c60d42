from fastapi import APIRouter, Response, status

from kanban_api.dependencies import (
    CurrentUser,
    IfNoneMatch,
    MemberBoard,
    MemberBoardForUpdate,
    SessionDep,
)
from kanban_api.routes.responses import (
    NOT_A_MEMBER,
    conditional_read,
    conditional_write,
    etag_answers,
)
from kanban_api.schemas.board import BoardCreate, BoardOut, BoardUpdate
from kanban_api.schemas.conditional import BoardPreconditionFailed
from kanban_api.services import boards as board_service
from kanban_api.utils.etag import check_if_none_match, with_etag

router = APIRouter(prefix="/boards", tags=["boards"])


@router.get("")
async def list_boards(session: SessionDep, user: CurrentUser) -> list[BoardOut]:
    """The boards the caller is a member of."""
    boards = await board_service.list_boards(session, user=user)
    return [BoardOut.model_validate(board) for board in boards]


@router.post("", status_code=status.HTTP_201_CREATED, responses=etag_answers(201))
async def create_board(
    session: SessionDep, user: CurrentUser, body: BoardCreate, response: Response
) -> BoardOut:
    """Create a board with its seven unnamed labels; the caller becomes a member."""
    board = await board_service.create_board(
        session, user=user, title=body.title, description=body.description
    )
    return with_etag(response, BoardOut.model_validate(board))


@router.get("/{board_id}", responses={**NOT_A_MEMBER, **conditional_read()})
async def read_board(
    board: MemberBoard, response: Response, if_none_match: IfNoneMatch = None
) -> BoardOut:
    check_if_none_match(if_none_match, version=board.version)
    return with_etag(response, BoardOut.model_validate(board))


@router.patch(
    "/{board_id}", responses={**NOT_A_MEMBER, **conditional_write(BoardPreconditionFailed)}
)
async def update_board(
    session: SessionDep, board: MemberBoardForUpdate, body: BoardUpdate, response: Response
) -> BoardOut:
    """Rename the board or its labels; labels are matched by colour."""
    board = await board_service.update_board(session, board=board, update=body)
    return with_etag(response, BoardOut.model_validate(board))


@router.delete(
    "/{board_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_A_MEMBER, **conditional_write(BoardPreconditionFailed, 204)},
)
async def delete_board(session: SessionDep, board: MemberBoardForUpdate) -> Response:
    """Delete the board with its cards, labels and memberships."""
    await board_service.delete_board(session, board=board)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
