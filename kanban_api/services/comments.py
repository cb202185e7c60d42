from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api.events import feed as events
from kanban_api.models import Card, Comment, User
from kanban_api.schemas.comment import CommentOut, CommentUpdate
from kanban_api.schemas.event import EventType


async def list_comments(session: AsyncSession, *, card: Card) -> Sequence[Comment]:
    """Oldest first; ids grow with creation, and ix_comment_card_id_id serves the order."""
    statement = select(Comment).where(Comment.card_id == card.id).order_by(Comment.id)
    return (await session.scalars(statement)).all()


async def create_comment(session: AsyncSession, *, card: Card, author: User, body: str) -> Comment:
    """Event: `comment.created`.

    The caller holds the board lock and read the card after it (`access.card_access`
    with `for_update`), so the card still exists.
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
