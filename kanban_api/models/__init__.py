"""ORM models; importing this package registers every table on `Base.metadata`."""

from kanban_api.models.api_token import ApiToken, ApiTokenBoard, IdempotencyKey, RateLimitWindow
from kanban_api.models.base import Base
from kanban_api.models.board import Board, Label, Membership
from kanban_api.models.card import Card, CardAssignee, CardLabel, CardRenumbering
from kanban_api.models.checklist import ChecklistItem
from kanban_api.models.comment import Comment
from kanban_api.models.contact import Contact
from kanban_api.models.enums import CardColumn, LabelColor, Role
from kanban_api.models.event import BoardEvent, EventTicket
from kanban_api.models.login_throttle import LoginThrottle
from kanban_api.models.user import User
from kanban_api.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "ApiTokenBoard",
    "Base",
    "Board",
    "BoardEvent",
    "Card",
    "CardAssignee",
    "CardColumn",
    "CardLabel",
    "CardRenumbering",
    "ChecklistItem",
    "Comment",
    "Contact",
    "EventTicket",
    "IdempotencyKey",
    "Label",
    "LabelColor",
    "LoginThrottle",
    "Membership",
    "RateLimitWindow",
    "Role",
    "User",
    "Webhook",
    "WebhookDelivery",
]
