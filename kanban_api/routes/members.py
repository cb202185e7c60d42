from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from kanban_api.dependencies import MemberBoard, SessionDep
from kanban_api.routes.responses import NOT_A_MEMBER, NOT_AUTHENTICATED
from kanban_api.schemas.fields import Id
from kanban_api.schemas.user import UserPublic
from kanban_api.services import boards as board_service

router = APIRouter(prefix="/boards/{board_id}/users", tags=["members"], responses=NOT_AUTHENTICATED)

UserId = Annotated[Id, Path()]


@router.get("", responses=NOT_A_MEMBER)
async def list_members(session: SessionDep, board: MemberBoard) -> list[UserPublic]:
    members = await board_service.list_members(session, board=board)
    return [UserPublic.model_validate(user) for user in members]


@router.put("/{user_id}", responses=NOT_A_MEMBER)
async def share_board(session: SessionDep, board: MemberBoard, user_id: UserId) -> UserPublic:
    """Make the user a member; sharing again changes nothing."""
    user = await board_service.add_member(session, board=board, user_id=user_id)
    return UserPublic.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_A_MEMBER,
)
async def unshare_board(session: SessionDep, board: MemberBoard, user_id: UserId) -> Response:
    await board_service.remove_member(session, board=board, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
