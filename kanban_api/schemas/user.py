from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.fields import Email, LoginPassword, LoginUsername, Password


class UserCreate(InputModel):
    email: Email
    password: Password


class UserUpdate(PatchModel):
    email: Email | SkipJsonSchema[None] = None
    password: Password | SkipJsonSchema[None] = None
    current_password: LoginPassword | SkipJsonSchema[None] = Field(
        default=None,
        description="The account's password now: needed to change `email` or `password` "
        "unless the token comes from a login within the last KANBAN_REAUTH_MINUTES",
    )


class UserSearch(InputModel):
    email: Email


class UserPublic(ApiModel):
    id: int
    email: str


class UserOut(UserPublic):
    created_at: datetime
    updated_at: datetime


class LoginForm(BaseModel):
    """The OAuth2 password flow's form; its other fields (`grant_type`, `scope`) are ignored."""

    username: LoginUsername
    password: LoginPassword


class Token(BaseModel):
    """OAuth2 field names, as the password flow requires (RFC 6749 section 5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires")
