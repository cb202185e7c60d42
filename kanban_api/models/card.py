from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kanban_api.models.base import Base, OrdinalEnum, TimestampMixin
from kanban_api.models.enums import CardColumn

if TYPE_CHECKING:
    from kanban_api.models.board import Board, Label


class Card(TimestampMixin, Base):
    __tablename__ = "card"
    __table_args__ = (
        # No two cards share a place; also serves the board's card list in board order
        # and lookups by board_id. A unique index rather than a constraint, so SQLite
        # can add it without rebuilding the table.
        Index("uq_card_board_id_column_position", "board_id", "column", "position", unique=True),
        CheckConstraint(f'"column" BETWEEN 0 AND {len(CardColumn) - 1}', name="column_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    column: Mapped[CardColumn] = mapped_column(OrdinalEnum(CardColumn), default=CardColumn.BACKLOG)
    # Sort key within the column, assigned by services/ordering.py.
    position: Mapped[int] = mapped_column(BigInteger)
    # Grows with every UPDATE of the row (the ORM adds it to the UPDATE's WHERE); the ETag.
    version: Mapped[int] = mapped_column(server_default=text("1"))

    board: Mapped["Board"] = relationship(back_populates="cards", lazy="raise")
    card_labels: Mapped[list["CardLabel"]] = relationship(
        back_populates="card", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    # Read side of card_labels, in colour order; writes go through CardLabel rows.
    labels: Mapped[list["Label"]] = relationship(
        secondary="card_label", viewonly=True, lazy="raise", order_by="Label.color"
    )

    __mapper_args__ = {"version_id_col": version}


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
