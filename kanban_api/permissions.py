"""Who may do what on a board: the one table of rules, and the check every route goes through.

Routes name the action they perform (see `dependencies.py`); the rules below
decide which roles may perform it. Outsiders never reach this check: for them
the board does not exist (404). A member whose role lacks the action gets 403.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from kanban_api.errors import ForbiddenError
from kanban_api.models import Board, Card, Comment, Role, User


class Action(StrEnum):
    VIEW = "view the board, its cards, members and comments"
    LEAVE = "leave the board"
    DELETE_OWN_COMMENT = "delete your own comments"
    COMMENT = "comment on cards and edit your own comments"
    EDIT_CARDS = "create, edit, move, archive and delete cards"
    RENAME_LABELS = "rename the board's labels"
    DELETE_ANY_COMMENT = "delete anyone's comments"
    MANAGE_BOARD = "rename or delete the board"
    MANAGE_MEMBERS = "share the board, remove members and change roles"
    EDIT_OTHERS_COMMENTS = "edit someone else's comment"


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
    Action.DELETE_ANY_COMMENT: _OWNERS,
    Action.MANAGE_BOARD: _OWNERS,
    Action.MANAGE_MEMBERS: _OWNERS,
    # A comment is its author's words: others may delete it, never reword it.
    Action.EDIT_OTHERS_COMMENTS: frozenset(),
}


def can(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]


def require(role: Role, action: Action) -> None:
    """403 unless the role allows the action; the detail says what was refused and why."""
    if not can(role, action):
        raise ForbiddenError(f"Your role on this board ({role}) does not allow: {action.value}")


def board_update_actions(fields: Iterable[str]) -> set[Action]:
    """A board update needs RENAME_LABELS for `labels` and MANAGE_BOARD for anything else."""
    return {Action.RENAME_LABELS if field == "labels" else Action.MANAGE_BOARD for field in fields}


@dataclass(frozen=True)
class Access:
    """The caller, reaching something on a board they are a member of, in their role."""

    user: User
    role: Role

    def require(self, action: Action) -> None:
        require(self.role, action)


@dataclass(frozen=True)
class BoardAccess(Access):
    board: Board


@dataclass(frozen=True)
class CardAccess(Access):
    card: Card


@dataclass(frozen=True)
class CommentAccess(Access):
    comment: Comment
    # The board of the comment's card.
    board_id: int

    @property
    def is_author(self) -> bool:
        return self.comment.author_id == self.user.id
