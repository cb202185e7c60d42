"""Declarative base, the constraint naming convention and the timestamp columns."""

from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

from sqlalchemy import DateTime, MetaData, SmallInteger, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    SQLite has no timezone type and hands back naive values; storing UTC and
    re-attaching the zone on load keeps the API's timestamps identical on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if value.tzinfo is UTC:  # asyncpg's answer: skip a copy per timestamp on big lists
            return value
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


E = TypeVar("E", bound=Enum)


class OrdinalEnum(TypeDecorator[E]):
    """An enum stored as its position in the enum.

    Columns and label colours have a fixed display order; storing the position
    lets an index return cards in board order and keeps the index small.
    """

    impl = SmallInteger
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.members: tuple[E, ...] = tuple(enum)
        self.positions = {member: index for index, member in enumerate(self.members)}

    def process_bind_param(self, value: E | None, dialect: Dialect) -> int | None:
        return None if value is None else self.positions[value]

    def process_result_value(self, value: int | None, dialect: Dialect) -> E | None:
        return None if value is None else self.members[value]
