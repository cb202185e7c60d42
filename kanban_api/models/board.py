from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kanban_api.limits import DESCRIPTION_MAX, LABEL_NAME_MAX, TITLE_MAX
from kanban_api.models.base import Base, OrdinalEnum, TimestampMixin, UTCDateTime
from kanban_api.models.enums import CardColumn, LabelColor, Role

if TYPE_CHECKING:
    from kanban_api.models.card import Card
    from kanban_api.models.user import User

DEFAULT_COLUMN_NAMES = {
    CardColumn.BACKLOG: "Backlog",
    CardColumn.TODO: "To do",
    CardColumn.DOING: "Doing",
    CardColumn.DONE: "Done",
}


def board_columns(stored: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A board's columns as the wire shows them, `[{key, name, wipLimit}]` in board order,
    from what `Board.column_settings` stores (None or a column missing: the defaults)."""
    by_key = {entry["key"]: entry for entry in stored or ()}
    return [
        {
            "key": key,
            "name": by_key.get(key, {}).get("name", DEFAULT_COLUMN_NAMES[key]),
            "wipLimit": by_key.get(key, {}).get("wipLimit"),
        }
        for key in CardColumn
    ]


class Board(TimestampMixin, Base):
    __tablename__ = "board"
    # The schemas' limits again, so no code path can store what the API would refuse.
    __table_args__ = (
        CheckConstraint(f"length(title) BETWEEN 1 AND {TITLE_MAX}", name="title_length"),
        CheckConstraint(f"length(description) <= {DESCRIPTION_MAX}", name="description_length"),
        # The trash (services/trash.py): its listing, and the purge of old entries.
        Index(
            "ix_board_deleted_at",
            "deleted_at",
            postgresql_where=text("deleted_at IS NOT NULL"),
            sqlite_where=text("deleted_at IS NOT NULL"),
        ),
        Index(
            "ix_board_deleted_by",
            "deleted_by",
            postgresql_where=text("deleted_by IS NOT NULL"),
            sqlite_where=text("deleted_by IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Grows with every UPDATE of the row (a label rename touches it too); the ETag.
    version: Mapped[int] = mapped_column(server_default=text("1"))
    # The seq of the board's latest event; bumped (and so row-locked) by each writer until commit.
    event_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # How many times a column of the board was renumbered (services/ordering.py): a card
    # list's cursor records it, so the next page can tell positions it has not seen.
    renumber_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The columns' names and WIP limits, `[{key, name, wipLimit}]` (see `board_columns`);
    # NULL until first changed. A document rather than rows: it is read with the board's
    # row by every board read and WIP check, and written only under the board lock.
    column_settings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    # Set while the board is in the trash: then it, its cards and everything on them are
    # invisible to every request (access.py's conditions say so), until restored or purged.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    labels: Mapped[list["Label"]] = relationship(
        back_populates="board",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Label.color",
    )
    cards: Mapped[list["Card"]] = relationship(
        back_populates="board", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="board", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def columns(self) -> list[dict[str, Any]]:
        return board_columns(self.column_settings)

    __mapper_args__ = {"version_id_col": version}


class Membership(TimestampMixin, Base):
    """The seed's UserBoard: who may see a board, and in which role.

    A membership made by sharing with someone the sharer was never introduced to
    (services/contacts.py) is an invitation until its user accepts it: `accepted_at`
    NULL. It gives the role's access to the board addressed by id, but the board is
    not in its user's board list, and the user is in no list other members read.
    """

    __tablename__ = "user_board"
    __table_args__ = (CheckConstraint(f"role BETWEEN 0 AND {len(Role) - 1}", name="role_known"),)

    # The primary key (user_id, board_id) also serves lookups by user_id.
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    board_id: Mapped[int] = mapped_column(
        ForeignKey("board.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(OrdinalEnum(Role))
    # When the user joined; NULL while the membership is an invitation (`created_at`
    # is then when they were invited). No default: every writer says which it makes.
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped["User"] = relationship(back_populates="memberships", lazy="raise")
    board: Mapped[Board] = relationship(back_populates="memberships", lazy="raise")

    @property
    def pending(self) -> bool:
        """An invitation its user has not accepted."""
        return self.accepted_at is None


class Label(TimestampMixin, Base):
    __tablename__ = "label"
    # The unique (board_id, color) index also serves lookups by board_id.
    __table_args__ = (
        UniqueConstraint("board_id", "color"),
        CheckConstraint(f"color BETWEEN 0 AND {len(LabelColor) - 1}", name="color_known"),
        CheckConstraint(f"length(name) <= {LABEL_NAME_MAX}", name="name_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    color: Mapped[LabelColor] = mapped_column(OrdinalEnum(LabelColor))
    name: Mapped[str] = mapped_column(String(200), default="")

    board: Mapped[Board] = relationship(back_populates="labels", lazy="raise")
