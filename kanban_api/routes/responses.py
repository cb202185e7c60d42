"""Documented error answers shared by several routes (they appear in the OpenAPI schema)."""

from typing import Any

Responses = dict[int | str, dict[str, Any]]

NOT_A_MEMBER: Responses = {404: {"description": "No such board or card, or not a member"}}
# For routes some members may not use; the rules are in permissions.py.
ROLE_REQUIRED: Responses = {
    **NOT_A_MEMBER,
    403: {"description": "A member whose role does not allow this"},
}
LAST_OWNER: Responses = {409: {"description": "It would leave the board without an owner"}}
EMAIL_TAKEN: Responses = {409: {"description": "Email taken (compared case-insensitively)"}}
USER_NOT_FOUND: Responses = {404: {"description": "No user with this email"}}
