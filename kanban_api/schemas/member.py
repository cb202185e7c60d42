from datetime import datetime
from typing import Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from kanban_api.models.enums import Role
from kanban_api.schemas.base import ApiModel, PatchModel
from kanban_api.schemas.user import UserPublic


class MemberOut(UserPublic):
    role: Role


class InvitedMemberOut(ApiModel):
    """A share that is an invitation until the user accepts it: the 202 answer of
    PUT /api/boards/{board_id}/users/{user_id} and the data of `member.invited`.
    Without the user's email, which only their acceptance shows to the board."""

    id: int
    role: Role
    status: Literal["invited"]


class MemberShare(PatchModel):
    """Omitting `role` adds a new member as an editor and leaves an existing one's role alone."""

    role: Role | SkipJsonSchema[None] = None


class InvitationOut(ApiModel):
    """An invitation to a board, as its invitee sees it (GET /api/invitations)."""

    board_id: int
    title: str
    role: Role = Field(description="The role accepting it gives (the board grants it already)")
    invited_at: datetime


class BoardInvitationOut(ApiModel):
    """An invitation not yet accepted, as the board's owners see it (no email)."""

    user_id: int
    role: Role
    invited_at: datetime
