from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from kanban_api.models.base import Base, UTCDateTime, utcnow


class Contact(Base):
    """A user another user has found by exact email (POST /api/users/search).

    Sharing a board by user id is allowed only with such a contact or with someone
    the sharer already shares a board with, so walking ids finds nobody (see
    services/contacts.py and docs/security.md).
    """

    __tablename__ = "user_contact"

    # The primary key (user_id, contact_id) serves the lookup sharing makes.
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
