"""Value sets shared by models and schemas; member order is the order clients show them in."""

from enum import StrEnum


class CardColumn(StrEnum):
    BACKLOG = "BACKLOG"
    TODO = "TODO"
    DOING = "DOING"
    DONE = "DONE"


class LabelColor(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    GREEN = "green"
    BLUE = "blue"
    PURPLE = "purple"
    GRAY = "gray"


class Role(StrEnum):
    """A member's role on a board, most powerful first; what each may do is in permissions.py."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


COLOR_ORDER = {color: index for index, color in enumerate(LabelColor)}
