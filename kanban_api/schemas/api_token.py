from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kanban_api.schemas.base import ApiModel, InputModel
from kanban_api.schemas.fields import BodyId, ExpiryDays, Title

Scope = Literal["read", "write"]


class ApiTokenCreate(InputModel):
    name: Title
    scopes: Annotated[
        list[Scope],
        Field(
            min_length=1,
            max_length=2,
            description="`read` reads everything the user may; `write` also changes it",
        ),
    ]
    board_ids: Annotated[
        list[BodyId] | None,
        Field(
            max_length=100,
            description="Limit the token to these boards (the caller must be a member "
            "of each); omitted or null: every board of the user",
        ),
    ] = None
    expires_in_days: Annotated[
        ExpiryDays | None, Field(description="Days until it expires; null: never")
    ] = None


class ApiTokenOut(ApiModel):
    id: int
    name: str
    scopes: list[Scope]
    board_ids: list[int] | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="The secret, `kbp_…`: shown in this answer only")
