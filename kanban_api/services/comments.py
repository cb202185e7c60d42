from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.errors import NotFoundError
from kanban_api.models import Board, Card, Comment, Membership, Role, User
from kanban_api.schemas.comment import CommentOut, CommentUpdate
from kanban_api.schemas.event import EventType
from kanban_api.services import events

COMMENT_NOT_FOUND = "Comment not found"


async def list_comments(session: AsyncSession, *, card: Card) -> Sequence[Comment]:
    """Oldest first; ids grow with creation, and ix_comment_card_id_id serves the order."""
    statement = select(Comment).where(Comment.card_id == card.id).order_by(Comment.id)
    return (await session.scalars(statement)).all()


async def create_comment(session: AsyncSession, *, card: Card, author: User, body: str) -> Comment:
    """Event: `comment.created`.

    The caller holds the board lock and read the card after it
    (`cards.get_member_card(..., for_update=True)`), so the card still exists.
    """
    comment = Comment(card_id=card.id, author_id=author.id, body=body)
    session.add(comment)
    await session.flush()
    await events.record(
        session,
        board_id=card.board_id,
        type=EventType.COMMENT_CREATED,
        data=CommentOut.model_validate(comment),
    )
    return comment


async def get_member_comment(
    session: AsyncSession, *, comment_id: int, user: User, for_update: bool = False
) -> tuple[Comment, Role, int]:
    """The comment, the user's role on its board and the board's id; 404 for outsiders.

    `for_update` first locks the comment's board (members only), as every writer of
    a board does (see `boards.lock_board`), then reads the comment and the role once
    the lock is granted: read before, either could be stale by then.
    """
    visible = (Comment.id == comment_id, Membership.user_id == user.id)
    if for_update:
        locked = await session.scalar(
            select(Board.id)
            .join(Card, Card.board_id == Board.id)
            .join(Comment, Comment.card_id == Card.id)
            .join(Membership, Membership.board_id == Board.id)
            .where(*visible)
            .with_for_update(of=Board, key_share=True)
        )
        if locked is None:
            raise NotFoundError(COMMENT_NOT_FOUND)
    row = (
        await session.execute(
            select(Comment, Membership.role, Card.board_id)
            .join(Card, Card.id == Comment.card_id)
            .join(Membership, Membership.board_id == Card.board_id)
            .where(*visible)
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(COMMENT_NOT_FOUND)
    found, role, board_id = row
    return found, role, board_id


async def update_comment(
    session: AsyncSession, *, comment: Comment, board_id: int, update: CommentUpdate
) -> Comment:
    """Event: `comment.updated`, if the body changed."""
    changes = update.model_dump(exclude_unset=True, by_alias=False)
    changed = any(getattr(comment, field) != value for field, value in changes.items())
    for field, value in changes.items():
        setattr(comment, field, value)
    await session.flush()
    if changed:
        await events.record(
            session,
            board_id=board_id,
            type=EventType.COMMENT_UPDATED,
            data=CommentOut.model_validate(comment),
        )
    return comment


async def delete_comment(session: AsyncSession, *, comment: Comment, board_id: int) -> None:
    """Event: `comment.deleted`."""
    await session.execute(delete(Comment).where(Comment.id == comment.id))
    await events.record(
        session,
        board_id=board_id,
        type=EventType.COMMENT_DELETED,
        data=events.deleted(comment.id),
    )
