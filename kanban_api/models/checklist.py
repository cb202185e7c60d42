from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from kanban_api.limits import CHECKLIST_TEXT_MAX
from kanban_api.models.base import Base, TimestampMixin


class ChecklistItem(TimestampMixin, Base):
    """One line of a card's checklist. The card keeps the counts (`Card.checklist_done`,
    `Card.checklist_total`), so card reads need no join to show them."""

    __tablename__ = "checklist_item"
    __table_args__ = (
        # Serves a card's checklist in order (and lookups by card_id).
        Index("ix_checklist_item_card_id_position", "card_id", "position"),
        CheckConstraint(f"length(text) BETWEEN 1 AND {CHECKLIST_TEXT_MAX}", name="text_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(CHECKLIST_TEXT_MAX))
    done: Mapped[bool] = mapped_column(default=False, server_default=false())
    # 0, 1, 2… in checklist order: a card has at most 100 items, renumbered on each reorder.
    position: Mapped[int]
