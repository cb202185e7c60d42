"""The board list, a hot read: one statement whatever the number of boards, each board's
labels aggregated into its row, mapped to BoardOut's wire shape (see reads/cards.py)."""

import functools
from typing import Any

import orjson
from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kanban_api.access import ReadAccess, caller_membership, check_credential
from kanban_api.direct import fetch_all
from kanban_api.models import Board, Label, LabelColor, Membership
from kanban_api.models.board import board_columns
from kanban_api.permissions import Action
from kanban_api.reads.cards import (
    WireField,
    ordinal_members,
    row_mapper,
    select_fields,
    undecorated,
)
from kanban_api.schemas.member import InvitationOut
from kanban_api.utils.sql import DialectFunction


class _LabelPairs(DialectFunction):
    """A board's labels as JSON text, `[[colour position, name], ...]`, in no order.

    Aggregated in the database so that the board list is one statement, and a
    board one row; sorted in Python, since SQLite before 3.44 has no ordered
    aggregates. NULL for a board without labels. Cast to text on PostgreSQL: the
    driver would otherwise decode the json with the standard library.
    """

    inherit_cache = True
    templates = {
        "postgresql": "CAST(json_agg(json_build_array({})) AS TEXT)",
        "sqlite": "json_group_array(json_array({}))",
    }


_LABEL_COLORS = tuple(LabelColor)


@functools.lru_cache(maxsize=1024)
def _labels(pairs: str | None) -> list[dict[str, Any]]:
    """The board's labels, in colour order, from `_LabelPairs`'s text.

    Cached, as `_columns` is and for the same reasons: most boards keep the same label
    names (at first all empty), while parsing, sorting and shaping each board's labels
    was the largest part of the board list's own work. The lists are only encoded.
    """
    return [
        {"color": _LABEL_COLORS[position], "name": name}
        for position, name in sorted(orjson.loads(pairs or "[]"))
    ]


@functools.lru_cache(maxsize=1024)
def _columns(stored: str | None) -> list[dict[str, Any]]:
    """The board's columns (models.board.board_columns) from the stored JSON's text.

    Cached: most boards store nothing (the defaults) and the rest share a few column
    sets, while a board list would otherwise build every board's columns anew. The
    lists are only encoded, never changed.
    """
    return board_columns(orjson.loads(stored) if stored else None)


# BoardOut's fields, in its wire order.
BOARD_FIELDS = (
    WireField("id", Board.id),
    WireField("title", Board.title),
    WireField("description", Board.description),
    WireField("labels", None, _labels, "labels"),
    WireField("createdAt", undecorated(Board.created_at)),
    WireField("updatedAt", undecorated(Board.updated_at)),
    WireField("version", Board.version),
    WireField("role", undecorated(Membership.role), ordinal_members(Membership.role)),
    WireField("columns", cast(Board.column_settings, String), _columns),
    # Always false here (the list holds accepted memberships only); SQLite answers 0.
    WireField("invited", Membership.accepted_at.is_(None), bool),
)
_board_json = row_mapper(BOARD_FIELDS)

_label_pairs = (
    _LabelPairs(Label.color, Label.name)
    .select()
    .where(Label.board_id == Board.id)
    .scalar_subquery()
)
# One statement per action, built once.
_MY_BOARDS = {
    action: select_fields(BOARD_FIELDS, {"labels": _label_pairs})
    .join(Membership, Membership.board_id == Board.id)
    .where(*caller_membership(action), Membership.accepted_at.is_not(None))
    .order_by(Board.id)
    for action in Action
}


async def list_boards(connection: AsyncConnection, *, access: ReadAccess) -> list[dict[str, Any]]:
    """The boards the principal joined (invitations not accepted are left out: see
    models.board.Membership) and may perform the action on, in BoardOut's wire shape,
    each with the principal's role: one statement, however many. Rows, not entities,
    from a statement built once; each board's labels aggregated into its row (see
    `_LabelPairs`) rather than read by a second statement or as a row per label."""
    rows = await fetch_all(connection, _MY_BOARDS[access.action], access.principal.params())
    if not rows:
        # No boards, or a stale credential?
        await check_credential(connection, principal=access.principal)
    return [_board_json(row) for row in rows]


_MY_INVITATIONS = (
    select(Board.id, Board.title, Membership.role, Membership.created_at)
    .join(Membership, Membership.board_id == Board.id)
    .where(*caller_membership(Action.VIEW), Membership.accepted_at.is_(None))
    .order_by(Membership.created_at, Board.id)
)


async def list_invitations(
    connection: AsyncConnection, *, access: ReadAccess
) -> list[InvitationOut]:
    """The principal's invitations not yet accepted, oldest first: one statement."""
    rows = (await connection.execute(_MY_INVITATIONS, access.principal.params())).all()
    if not rows:
        await check_credential(connection, principal=access.principal)
    return [
        InvitationOut(board_id=board_id, title=title, role=role, invited_at=invited_at)
        for board_id, title, role, invited_at in rows
    ]
