from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from kanban_api.models.base import Base, TimestampMixin


class Comment(TimestampMixin, Base):
    __tablename__ = "comment"
    # Serves a card's comments, oldest (lowest id) first.
    __table_args__ = (Index("ix_comment_card_id_id", "card_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id", ondelete="CASCADE"))
    # A deleted account's comments stay, authorless, so the discussion still reads;
    # the index keeps that SET NULL from scanning every comment.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
