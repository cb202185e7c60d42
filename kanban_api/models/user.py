from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kanban_api.limits import EMAIL_MAX
from kanban_api.models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from kanban_api.models.board import Membership


class User(TimestampMixin, Base):
    __tablename__ = "user"
    __table_args__ = (CheckConstraint(f"length(email) <= {EMAIL_MAX}", name="email_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    hashed_password: Mapped[str] = mapped_column(String(255))
    # Bumped on every password or email change; tokens carry it, so older ones stop working.
    credentials_version: Mapped[int] = mapped_column(default=0)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


# Emails are unique regardless of case but shown as the user typed them.
Index("uq_user_email_lower", func.lower(User.email), unique=True)
