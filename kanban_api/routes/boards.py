from fastapi import APIRouter, Response, status

from kanban_api.dependencies import Claims, CurrentUser, MemberBoard, SessionDep
from kanban_api.routes.responses import NOT_A_MEMBER, JsonBytes
from kanban_api.schemas.board import BoardCreate, BoardOut, BoardUpdate
from kanban_api.services import boards as board_service

router = APIRouter(prefix="/boards", tags=["boards"])


@router.get("", response_model=list[BoardOut])
async def list_boards(session: SessionDep, claims: Claims) -> Response:
    """The boards the caller is a member of."""
    return JsonBytes(await board_service.list_boards(session, claims=claims))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_board(session: SessionDep, user: CurrentUser, body: BoardCreate) -> BoardOut:
    """Create a board with its seven unnamed labels; the caller becomes a member."""
    board = await board_service.create_board(
        session, user=user, title=body.title, description=body.description
    )
    return BoardOut.model_validate(board)


@router.get("/{board_id}", responses=NOT_A_MEMBER)
async def read_board(board: MemberBoard) -> BoardOut:
    return BoardOut.model_validate(board)


@router.patch("/{board_id}", responses=NOT_A_MEMBER)
async def update_board(session: SessionDep, board: MemberBoard, body: BoardUpdate) -> BoardOut:
    """Rename the board or its labels; labels are matched by colour."""
    board = await board_service.update_board(session, board=board, update=body)
    return BoardOut.model_validate(board)


@router.delete(
    "/{board_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_A_MEMBER,
)
async def delete_board(session: SessionDep, board: MemberBoard) -> Response:
    """Delete the board with its cards, labels and memberships."""
    await board_service.delete_board(session, board=board)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
