from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kanban_api.limits import DESCRIPTION_MAX, TITLE_MAX
from kanban_api.models.base import Base, OrdinalEnum, TimestampMixin
from kanban_api.models.enums import CardColumn

if TYPE_CHECKING:
    from kanban_api.models.board import Board, Label


class Card(TimestampMixin, Base):
    __tablename__ = "card"
    # Serves the board's card list in board order and lookups by board_id.
    __table_args__ = (
        Index("ix_card_board_id_column", "board_id", "column"),
        CheckConstraint(f'"column" BETWEEN 0 AND {len(CardColumn) - 1}', name="column_known"),
        CheckConstraint(f"length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
        CheckConstraint(f"length(description) <= {DESCRIPTION_MAX}", name="description_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    column: Mapped[CardColumn] = mapped_column(OrdinalEnum(CardColumn), default=CardColumn.BACKLOG)

    board: Mapped["Board"] = relationship(back_populates="cards", lazy="raise")
    card_labels: Mapped[list["CardLabel"]] = relationship(
        back_populates="card", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    # Read side of card_labels, in colour order; writes go through CardLabel rows.
    labels: Mapped[list["Label"]] = relationship(
        secondary="card_label", viewonly=True, lazy="raise", order_by="Label.color"
    )


class CardLabel(TimestampMixin, Base):
    __tablename__ = "card_label"

    # The primary key (card_id, label_id) also serves lookups by card_id.
    card_id: Mapped[int] = mapped_column(
        ForeignKey("card.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("label.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    card: Mapped[Card] = relationship(back_populates="card_labels", lazy="raise")
    label: Mapped["Label"] = relationship(lazy="raise")
