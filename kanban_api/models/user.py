from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from kanban_api.limits import EMAIL_MAX
from kanban_api.models.base import Base, TimestampMixin
from kanban_api.utils.emails import email_key

if TYPE_CHECKING:
    from kanban_api.models.board import Membership


class User(TimestampMixin, Base):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(f"length(email) <= {EMAIL_MAX}", name="email_length"),
        CheckConstraint(f"length(email_key) <= {EMAIL_MAX}", name="email_key_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown as the user typed it (trimmed); accounts are found and unique by `email_key`.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    email_key: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    # Bumped on every password change; tokens carry it, so older ones stop working.
    credentials_version: Mapped[int] = mapped_column(default=0)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("email")
    def _keep_key(self, _: str, email: str) -> str:
        """The key follows the email, so no code path can store one without the other."""
        self.email_key = email_key(email)
        return email
