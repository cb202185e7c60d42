from datetime import datetime
from enum import StrEnum
from typing import Any

from kanban_api.schemas.base import ApiModel


class EventType(StrEnum):
    """What changed. `data` is the resource as the API shows it, or `{"id": ...}` when deleted."""

    CARD_CREATED = "card.created"  # CardOut
    CARD_UPDATED = "card.updated"  # CardOut; also each card a column renumbering moved
    CARD_MOVED = "card.moved"  # CardOut: the card moved by POST /api/cards/{id}/move
    CARD_DELETED = "card.deleted"  # {"id"}: moved to the trash, its comments with it
    CARD_RESTORED = "card.restored"  # CardOut: back from the trash, as a new card would be
    BOARD_UPDATED = "board.updated"  # BoardEventOut: title, description or columns
    BOARD_DELETED = "board.deleted"  # {"id"}: moved to the trash; the last event streams send
    BOARD_RESTORED = "board.restored"  # BoardEventOut: back from the trash
    BOARD_IMPORTED = "board.imported"  # BoardEventOut: the board's first event, made by an import
    LABEL_RENAMED = "label.renamed"  # LabelOut, one event per renamed label
    MEMBER_ADDED = "member.added"  # MemberOut: shared with someone introduced, or accepted
    MEMBER_INVITED = "member.invited"  # InvitedMemberOut (no email): invited, or a new role
    MEMBER_UPDATED = "member.updated"  # MemberOut, when a member's role changed
    MEMBER_REMOVED = "member.removed"  # {"id"}: the user's id (removed, left or declined)
    COMMENT_CREATED = "comment.created"  # CommentOut
    COMMENT_UPDATED = "comment.updated"  # CommentOut
    COMMENT_DELETED = "comment.deleted"  # {"id"}
    CHECKLIST_ITEM_CREATED = "checklist.item_created"  # ChecklistItemOut
    CHECKLIST_ITEM_UPDATED = "checklist.item_updated"  # ChecklistItemOut
    CHECKLIST_ITEM_DELETED = "checklist.item_deleted"  # {"id"}


class EventOut(ApiModel):
    seq: int
    type: EventType
    data: dict[str, Any]
    actor_id: int | None
    at: datetime


class TicketOut(ApiModel):
    ticket: str
    expires_in: int
