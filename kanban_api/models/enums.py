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


COLUMN_ORDER = {column: index for index, column in enumerate(CardColumn)}
COLOR_ORDER = {color: index for index, color in enumerate(LabelColor)}
