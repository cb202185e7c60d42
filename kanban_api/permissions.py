"""Who may do what on a board: the one table of rules.

Every board-scoped route, reads included, names the action it performs (see
`dependencies.py`), and `access.py` checks it against this table: in Python for
routes that load the resource, inside the SQL of the hot reads. Outsiders never
reach this check: for them the board does not exist (404). A member whose role
lacks the action gets 403.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Final

from kanban_api.errors import ForbiddenError
from kanban_api.models import Role


class Action(StrEnum):
    VIEW = "view the board, its cards, members and comments"
    LEAVE = "leave the board"
    DELETE_OWN_COMMENT = "delete your own comments"
    COMMENT = "comment on cards and edit your own comments"
    EDIT_CARDS = "create, edit, move, archive, delete and restore cards"
    RENAME_LABELS = "rename the board's labels"
    CONFIGURE_COLUMNS = "rename the board's columns and set their WIP limits"
    DELETE_ANY_COMMENT = "delete anyone's comments"
    MANAGE_BOARD = "rename, delete or restore the board"
    MANAGE_MEMBERS = "share the board, remove members and change roles"
    EDIT_OTHERS_COMMENTS = "edit someone else's comment"
    MANAGE_WEBHOOKS = "see and change the board's webhooks and their deliveries"


_EVERYONE = frozenset(Role)
_WRITERS = frozenset({Role.OWNER, Role.EDITOR})
_OWNERS = frozenset({Role.OWNER})

PERMISSIONS: Final[Mapping[Action, frozenset[Role]]] = {
    Action.VIEW: _EVERYONE,
    Action.LEAVE: _EVERYONE,
    Action.DELETE_OWN_COMMENT: _EVERYONE,
    Action.COMMENT: _WRITERS,
    Action.EDIT_CARDS: _WRITERS,
    Action.RENAME_LABELS: _WRITERS,
    Action.CONFIGURE_COLUMNS: _WRITERS,
    Action.DELETE_ANY_COMMENT: _OWNERS,
    Action.MANAGE_BOARD: _OWNERS,
    Action.MANAGE_MEMBERS: _OWNERS,
    # A webhook sends the whole board elsewhere, and its log shows where: owners only.
    Action.MANAGE_WEBHOOKS: _OWNERS,
    # A comment is its author's words: others may delete it, never reword it.
    Action.EDIT_OTHERS_COMMENTS: frozenset(),
}


def can(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]


def require(role: Role, action: Action) -> None:
    """403 unless the role allows the action; the detail says what was refused and why."""
    if not can(role, action):
        raise ForbiddenError(f"Your role on this board ({role}) does not allow: {action.value}")


_BOARD_FIELD_ACTIONS = {"labels": Action.RENAME_LABELS, "columns": Action.CONFIGURE_COLUMNS}


def board_update_actions(fields: Iterable[str]) -> set[Action]:
    """A board update needs RENAME_LABELS for `labels`, CONFIGURE_COLUMNS for `columns` and
    MANAGE_BOARD for anything else."""
    return {_BOARD_FIELD_ACTIONS.get(field, Action.MANAGE_BOARD) for field in fields}
