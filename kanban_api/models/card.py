from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kanban_api.limits import DESCRIPTION_MAX, TITLE_MAX
from kanban_api.models.base import Base, OrdinalEnum, TimestampMixin, UTCDateTime, utcnow
from kanban_api.models.enums import CardColumn

if TYPE_CHECKING:
    from kanban_api.models.board import Board, Label


class Card(TimestampMixin, Base):
    __tablename__ = "card"
    __table_args__ = (
        # No two cards share a place; also serves the board's card list in board order
        # and lookups by board_id. A unique index rather than a constraint, so SQLite
        # can add it without rebuilding the table.
        # Cards in the trash keep their place but hold nobody else's: a restored card whose
        # place was taken goes to the bottom of its column (services/trash.py).
        Index(
            "uq_card_board_id_column_position",
            "board_id",
            "column",
            "position",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        # The trash's card entries by board, newest first, and the purge of old ones.
        Index(
            "ix_card_board_id_deleted_at",
            "board_id",
            "deleted_at",
            postgresql_where=text("deleted_at IS NOT NULL"),
            sqlite_where=text("deleted_at IS NOT NULL"),
        ),
        Index(
            "ix_card_deleted_by",
            "deleted_by",
            postgresql_where=text("deleted_by IS NOT NULL"),
            sqlite_where=text("deleted_by IS NOT NULL"),
        ),
        # Serves the card list's dueBefore filter as a range scan within the board.
        Index("ix_card_board_id_due_at", "board_id", "due_at"),
        CheckConstraint(f'"column" BETWEEN 0 AND {len(CardColumn) - 1}', name="column_known"),
        CheckConstraint(f"length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
        CheckConstraint(f"length(description) <= {DESCRIPTION_MAX}", name="description_length"),
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
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The checklist's counts, kept by services/checklists.py, so that every card read shows
    # them without a join; a change bumps `version`, as the card reads differently.
    checklist_done: Mapped[int] = mapped_column(default=0, server_default="0")
    checklist_total: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set while the card is in the trash (see Board.deleted_at): every read and count of
    # the board's cards leaves it out (`Card.in_play`).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    board: Mapped["Board"] = relationship(back_populates="cards", lazy="raise")
    card_labels: Mapped[list["CardLabel"]] = relationship(
        back_populates="card", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    # Read side of card_labels, in colour order; writes go through CardLabel rows.
    labels: Mapped[list["Label"]] = relationship(
        secondary="card_label", viewonly=True, lazy="raise", order_by="Label.color"
    )
    assignees: Mapped[list["CardAssignee"]] = relationship(
        back_populates="card",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CardAssignee.user_id",
    )

    @property
    def assignee_ids(self) -> list[int]:
        return [assignee.user_id for assignee in self.assignees]

    @property
    def checklist(self) -> dict[str, int]:
        return {"done": self.checklist_done, "total": self.checklist_total}

    __mapper_args__ = {"version_id_col": version}


class CardLabel(TimestampMixin, Base):
    __tablename__ = "card_label"
    # The primary key (card_id, label_id) serves lookups by card_id. This index serves
    # lookups by label_id, and holds card_id too so that the card list's label
    # aggregate (reads.cards._board_cards) reads the index alone.
    __table_args__ = (Index("ix_card_label_label_id_card_id", "label_id", "card_id"),)

    card_id: Mapped[int] = mapped_column(
        ForeignKey("card.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("label.id", ondelete="CASCADE"), primary_key=True
    )

    card: Mapped[Card] = relationship(back_populates="card_labels", lazy="raise")
    label: Mapped["Label"] = relationship(lazy="raise")


class CardAssignee(TimestampMixin, Base):
    """A member assigned to a card.

    The row points at the membership, not just the user: when a member leaves or
    is removed, the database unassigns them from the board's cards in the same
    statement, and nobody can be assigned who is not a member.
    """

    __tablename__ = "card_assignee"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "board_id"],
            ["user_board.user_id", "user_board.board_id"],
            ondelete="CASCADE",
        ),
        # Serves that cascade and the card list's assignee filter (a user's cards on a board).
        Index("ix_card_assignee_user_id_board_id", "user_id", "board_id"),
    )

    # The primary key (card_id, user_id) also serves loading a card's assignees.
    card_id: Mapped[int] = mapped_column(
        ForeignKey("card.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(primary_key=True)
    # Always the card's board; it is here so the key can reference the membership.
    board_id: Mapped[int]

    card: Mapped[Card] = relationship(back_populates="assignees", lazy="raise")


class CardRenumbering(Base):
    """A card's position before a renumbering of its column moved it (services/ordering.py):
    where a card list page saw it, for the next page of a walk begun before (reads/cards.py).
    `renumbering` is the board's `renumber_count` that renumbering made. Pruned with the
    events (events/retention.py)."""

    __tablename__ = "card_renumbering"

    card_id: Mapped[int] = mapped_column(
        ForeignKey("card.id", ondelete="CASCADE"), primary_key=True
    )
    renumbering: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
