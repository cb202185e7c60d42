from fastapi import APIRouter, Response, status

from kanban_api.dependencies import ChangeComment, CommentOnCard, SessionDep, ViewCard
from kanban_api.permissions import Action
from kanban_api.routes.responses import NOT_A_MEMBER, NOT_AUTHENTICATED, ROLE_REQUIRED
from kanban_api.schemas.comment import CommentCreate, CommentOut, CommentUpdate
from kanban_api.services import comments as comment_service
from kanban_api.validation import StrictQueryRoute

router = APIRouter(route_class=StrictQueryRoute, tags=["comments"], responses=NOT_AUTHENTICATED)


@router.get("/cards/{card_id}/comments", responses=NOT_A_MEMBER)
async def list_comments(session: SessionDep, access: ViewCard) -> list[CommentOut]:
    """The card's comments, oldest first."""
    comments = await comment_service.list_comments(session, card=access.card)
    return [CommentOut.model_validate(comment) for comment in comments]


@router.post(
    "/cards/{card_id}/comments", status_code=status.HTTP_201_CREATED, responses=ROLE_REQUIRED
)
async def create_comment(
    session: SessionDep, access: CommentOnCard, body: CommentCreate
) -> CommentOut:
    comment = await comment_service.create_comment(
        session, card=access.card, author=access.user, body=body.body
    )
    return CommentOut.model_validate(comment)


@router.patch("/comments/{comment_id}", responses=ROLE_REQUIRED)
async def update_comment(
    session: SessionDep, access: ChangeComment, body: CommentUpdate
) -> CommentOut:
    """Reword your own comment."""
    access.require(Action.COMMENT if access.is_author else Action.EDIT_OTHERS_COMMENTS)
    comment = await comment_service.update_comment(
        session, comment=access.comment, board_id=access.board_id, update=body
    )
    return CommentOut.model_validate(comment)


@router.delete(
    "/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE_REQUIRED
)
async def delete_comment(session: SessionDep, access: ChangeComment) -> Response:
    """Delete your own comment, or (owners) anyone's."""
    access.require(Action.DELETE_OWN_COMMENT if access.is_author else Action.DELETE_ANY_COMMENT)
    await comment_service.delete_comment(session, comment=access.comment, board_id=access.board_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
