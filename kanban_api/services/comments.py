from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.errors import NotFoundError
from kanban_api.models import Card, Comment, Membership, Role, User
from kanban_api.schemas.comment import CommentUpdate
from kanban_api.services.cards import CARD_NOT_FOUND

COMMENT_NOT_FOUND = "Comment not found"


async def list_comments(session: AsyncSession, *, card: Card) -> Sequence[Comment]:
    """Oldest first; ids grow with creation, and ix_comment_card_id_id serves the order."""
    statement = select(Comment).where(Comment.card_id == card.id).order_by(Comment.id)
    return (await session.scalars(statement)).all()


async def create_comment(session: AsyncSession, *, card: Card, author: User, body: str) -> Comment:
    """404 if the card was deleted since it was read, rather than a foreign key error.

    The card stays share-locked until commit: deleting it concurrently waits, then
    takes the comment along. (SQLite runs one transaction at a time; no lock needed.)
    """
    locked = await session.scalar(
        select(Card.id).where(Card.id == card.id).with_for_update(read=True, key_share=True)
    )
    if locked is None:
        raise NotFoundError(CARD_NOT_FOUND)
    comment = Comment(card_id=card.id, author_id=author.id, body=body)
    session.add(comment)
    await session.flush()
    return comment


async def get_member_comment(
    session: AsyncSession, *, comment_id: int, user: User
) -> tuple[Comment, Role]:
    """The comment and the user's role on its board; 404 for outsiders."""
    statement = (
        select(Comment, Membership.role)
        .join(Card, Card.id == Comment.card_id)
        .join(Membership, Membership.board_id == Card.board_id)
        .where(Comment.id == comment_id, Membership.user_id == user.id)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise NotFoundError(COMMENT_NOT_FOUND)
    found, role = row
    return found, role


async def update_comment(
    session: AsyncSession, *, comment: Comment, update: CommentUpdate
) -> Comment:
    for field, value in update.model_dump(exclude_unset=True, by_alias=False).items():
        setattr(comment, field, value)
    await session.flush()
    return comment


async def delete_comment(session: AsyncSession, *, comment: Comment) -> None:
    await session.execute(delete(Comment).where(Comment.id == comment.id))
