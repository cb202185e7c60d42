"""The invitee's side of invitations: a board shared with them by someone who had not
found them by email (see services/contacts.py) waits here until they answer."""

from fastapi import APIRouter, Response, status

from kanban_api.dependencies import AnswerInvitation, ListInvitations, SessionDep
from kanban_api.errors import NotFoundError
from kanban_api.permissions import Action
from kanban_api.reads import boards as board_reads
from kanban_api.routes.responses import (
    NO_INVITATION,
    NOT_A_MEMBER,
    NOT_AUTHENTICATED,
    etag_answers,
)
from kanban_api.schemas.board import BoardOut
from kanban_api.schemas.member import InvitationOut
from kanban_api.services import boards as board_service
from kanban_api.utils.etag import with_etag
from kanban_api.validation import StrictQueryRoute

INVITATION_NOT_FOUND = "No invitation to this board is waiting for your answer"

router = APIRouter(
    route_class=StrictQueryRoute,
    prefix="/invitations",
    tags=["invitations"],
    responses=NOT_AUTHENTICATED,
)


@router.get("")
async def list_invitations(read: ListInvitations) -> list[InvitationOut]:
    """The boards you were invited to and have not answered, oldest invitation first."""
    async with read.database.reading() as connection:
        return await board_reads.list_invitations(connection, access=read.access)


@router.post("/{board_id}/accept", responses={**NOT_A_MEMBER, **etag_answers()})
async def accept_invitation(
    session: SessionDep, access: AnswerInvitation, response: Response
) -> BoardOut:
    """Join the board: it enters your GET /api/boards, and you (with your email) its
    member list. Accepting a board you joined already changes nothing."""
    if access.invited:
        await board_service.accept_invitation(session, board=access.board, user=access.user)
    return with_etag(response, BoardOut.of(access.board, access.role, invited=False))


@router.delete(
    "/{board_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NO_INVITATION,
)
async def decline_invitation(session: SessionDep, access: AnswerInvitation) -> Response:
    """Decline: the membership the invitation gave is removed. A board you joined is
    left with DELETE /api/boards/{board_id}/users/{your id} instead (404 here)."""
    if not access.invited:
        raise NotFoundError(INVITATION_NOT_FOUND)
    access.require(Action.LEAVE)
    await board_service.remove_member(session, board=access.board, user_id=access.user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
