from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status

from kanban_api.dependencies import (
    ChangeMembers,
    ManageMembers,
    SessionDep,
    ViewBoard,
    ViewInvitations,
)
from kanban_api.permissions import Action
from kanban_api.routes.responses import (
    LAST_OWNER,
    NOT_A_MEMBER,
    NOT_AUTHENTICATED,
    ROLE_REQUIRED,
    JsonBytes,
    Responses,
)
from kanban_api.schemas.fields import Id
from kanban_api.schemas.member import (
    BoardInvitationOut,
    InvitedMemberOut,
    MemberOut,
    MemberShare,
)
from kanban_api.services import boards as board_service
from kanban_api.validation import StrictQueryRoute

router = APIRouter(
    route_class=StrictQueryRoute,
    prefix="/boards/{board_id}",
    tags=["members"],
    responses=NOT_AUTHENTICATED,
)

UserId = Annotated[Id, Path()]

INVITED: Responses = {
    202: {
        "model": InvitedMemberOut,
        "description": "The user was invited: they have the role's access to the board by "
        "its id, and join (their board list, the member list) once they accept",
    }
}


@router.get("/users", responses=NOT_A_MEMBER)
async def list_members(session: SessionDep, access: ViewBoard) -> list[MemberOut]:
    """The members who joined; invitations not yet accepted are not listed."""
    rows = await board_service.list_members(session, board=access.board)
    return [MemberOut(id=user.id, email=user.email, role=role) for user, role in rows]


@router.put(
    "/users/{user_id}",
    response_model=MemberOut,
    responses={**ROLE_REQUIRED, **LAST_OWNER, **INVITED},
    response_description="The user is a member, with this role",
)
async def share_board(
    session: SessionDep,
    access: ManageMembers,
    user_id: UserId,
    body: Annotated[MemberShare | None, Body()] = None,
) -> MemberOut | Response:
    """Make the user a member, or change their role.

    A user the caller found by exact email (POST /api/users/search), already shares
    a board with, or the caller themself joins at once: 200. Anyone else is invited
    (202, without their email): the board is not in their list, nor they in its
    member list, until they accept (POST /api/invitations/{board_id}/accept).

    Without a `role`, a new member joins (or is invited) as an editor and an existing
    one keeps their role, so sharing again changes nothing.
    """
    user, membership = await board_service.add_member(
        session,
        board=access.board,
        sharer_id=access.user.id,
        user_id=user_id,
        role=body.role if body else None,
    )
    if membership.pending:
        invited = InvitedMemberOut(id=user.id, role=membership.role, status="invited")
        return JsonBytes(invited.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)
    return MemberOut(id=user.id, email=user.email, role=membership.role)


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ROLE_REQUIRED, **LAST_OWNER},
)
async def unshare_board(session: SessionDep, access: ChangeMembers, user_id: UserId) -> Response:
    """Remove a member or withdraw an invitation (owners), or leave the board (anyone);
    they are unassigned from its cards."""
    access.require(Action.LEAVE if user_id == access.user.id else Action.MANAGE_MEMBERS)
    await board_service.remove_member(session, board=access.board, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/invitations", responses=ROLE_REQUIRED)
async def list_board_invitations(
    session: SessionDep, access: ViewInvitations
) -> list[BoardInvitationOut]:
    """The invitations not yet accepted, oldest first (owners); no emails."""
    return await board_service.list_invitations(session, board=access.board)
