"""ORM models; importing this package registers every table on `Base.metadata`."""

from kanban_api.models.base import Base
from kanban_api.models.board import Board, Label, Membership
from kanban_api.models.card import Card, CardLabel
from kanban_api.models.enums import CardColumn, LabelColor
from kanban_api.models.login_throttle import LoginThrottle
from kanban_api.models.user import User

__all__ = [
    "Base",
    "Board",
    "Card",
    "CardColumn",
    "CardLabel",
    "Label",
    "LabelColor",
    "LoginThrottle",
    "Membership",
    "User",
]
