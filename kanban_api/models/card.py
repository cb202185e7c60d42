from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # The primary key (card_id, label_id) serves lookups by card_id. This index serves
    # lookups by label_id, and holds card_id too so that the card list's label
    # aggregate (services.cards.select_board_cards) reads the index alone.
    __table_args__ = (Index("ix_card_label_label_id_card_id", "label_id", "card_id"),)

    card_id: Mapped[int] = mapped_column(
        ForeignKey("card.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("label.id", ondelete="CASCADE"), primary_key=True
    )

    card: Mapped[Card] = relationship(back_populates="card_labels", lazy="raise")
    label: Mapped["Label"] = relationship(lazy="raise")
