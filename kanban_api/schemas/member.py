from pydantic.json_schema import SkipJsonSchema

from kanban_api.models.enums import Role
from kanban_api.schemas.base import PatchModel
from kanban_api.schemas.user import UserPublic


class MemberOut(UserPublic):
    role: Role


class MemberShare(PatchModel):
    """Omitting `role` adds a new member as an editor and leaves an existing one's role alone."""

    role: Role | SkipJsonSchema[None] = None
