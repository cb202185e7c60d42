from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kanban_api.models.base import Base, UTCDateTime


class LoginThrottle(Base):
    """Failed logins counted per account or client address within a fixed window.

    The key is a hash, so attempted emails (often typos of real ones) are not
    stored, and a row's size does not depend on what a client sends.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
