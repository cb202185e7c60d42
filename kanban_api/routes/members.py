from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status

from kanban_api.dependencies import ChangeMembers, ManageMembers, SessionDep, ViewBoard
from kanban_api.permissions import Action
from kanban_api.routes.responses import LAST_OWNER, NOT_A_MEMBER, NOT_AUTHENTICATED, ROLE_REQUIRED
from kanban_api.schemas.fields import Id
from kanban_api.schemas.member import MemberOut, MemberShare
from kanban_api.services import boards as board_service

router = APIRouter(prefix="/boards/{board_id}/users", tags=["members"], responses=NOT_AUTHENTICATED)

UserId = Annotated[Id, Path()]


@router.get("", responses=NOT_A_MEMBER)
async def list_members(session: SessionDep, access: ViewBoard) -> list[MemberOut]:
    rows = await board_service.list_members(session, board=access.board)
    return [MemberOut(id=user.id, email=user.email, role=role) for user, role in rows]


@router.put("/{user_id}", responses={**ROLE_REQUIRED, **LAST_OWNER})
async def share_board(
    session: SessionDep,
    access: ManageMembers,
    user_id: UserId,
    body: Annotated[MemberShare | None, Body()] = None,
) -> MemberOut:
    """Make the user a member, or change their role.

    Only a user the caller found by exact email (POST /api/users/search) or already
    shares a board with; any other id is answered 404, like one that does not exist.

    Without a `role`, a new member joins as an editor and an existing member
    keeps their role, so sharing again changes nothing.
    """
    user, role = await board_service.add_member(
        session,
        board=access.board,
        sharer_id=access.user.id,
        user_id=user_id,
        role=body.role if body else None,
    )
    return MemberOut(id=user.id, email=user.email, role=role)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ROLE_REQUIRED, **LAST_OWNER},
)
async def unshare_board(session: SessionDep, access: ChangeMembers, user_id: UserId) -> Response:
    """Remove a member (owners), or leave the board (anyone); they are unassigned from its cards."""
    access.require(Action.LEAVE if user_id == access.user.id else Action.MANAGE_MEMBERS)
    await board_service.remove_member(session, board=access.board, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
