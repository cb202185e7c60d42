"""The MCP tools: each one the twin of a REST route, running the same access check and the
same service or read function, with the route's request schema as its arguments.

A tool returns the REST answer's JSON (lists under a key, since MCP's structured
content is an object) and a one-line summary; `Deleted` stands for a 204.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from kanban_api import access
from kanban_api.access import Principal, ReadAccess
from kanban_api.config import Settings
from kanban_api.database import Database
from kanban_api.events import feed as event_service
from kanban_api.mcp_endpoint import arguments as args
from kanban_api.mcp_endpoint.arguments import body
from kanban_api.mcp_endpoint.results import (
    CardListOut,
    CommentListOut,
    Deleted,
    EventListOut,
    MemberListOut,
    SharedOut,
)
from kanban_api.models import Role
from kanban_api.permissions import Action, board_update_actions
from kanban_api.reads import boards as board_reads
from kanban_api.reads import cards as card_reads
from kanban_api.schemas.board import BoardOut, BoardUpdate
from kanban_api.schemas.card import CardMove, CardOut, CardUpdate
from kanban_api.schemas.comment import CommentOut
from kanban_api.schemas.event import EventOut
from kanban_api.schemas.member import MemberOut, MemberShare
from kanban_api.schemas.user import UserPublic
from kanban_api.services import boards as board_service
from kanban_api.services import cards as card_service
from kanban_api.services import comments as comment_service
from kanban_api.services import contacts
from kanban_api.services import trash as trash_service
from kanban_api.services.card_caps import CardCaps

Arguments = TypeVar("Arguments", bound=BaseModel)


# The ASGI scope key under which the principal endpoint.py authenticated travels to
# the tool calls (server.py).
PRINCIPAL = "kanban.principal"


@dataclass(frozen=True)
class Call:
    """One tool call: who makes it, and the session of its one transaction (a read-only
    session for the tools that only read)."""

    principal: Principal
    session: AsyncSession
    database: Database
    settings: Settings


@dataclass(frozen=True)
class Answer:
    # The REST answer's JSON: a pydantic model, or the hot reads' dicts inside one.
    content: Any
    summary: str


@dataclass(frozen=True)
class ToolSpec(Generic[Arguments]):
    name: str
    description: str
    arguments: type[Arguments]
    result: type[BaseModel]
    run: Callable[[Call, Arguments], Awaitable[Answer]]
    # Changes a board: refused to read-only access tokens, as REST writes are.
    changes_boards: bool = False
    # Runs in a transaction (writes something), not in a read-only session.
    writes: bool = False
    destructive: bool = False
    # The argument holding the REST request body whole (create_cards' `cards`), which an
    # InvalidInputError's `body` location names; None: the body's fields are arguments.
    body_argument: str | None = None


def _reading(principal: Principal) -> ReadAccess:
    return ReadAccess(principal, Action.VIEW)


async def _board(
    call: Call, board_id: int, action: Action, *, for_update: bool = False
) -> access.BoardAccess:
    return await access.board_access(
        call.session,
        principal=call.principal,
        board_id=board_id,
        action=action,
        for_update=for_update,
    )


async def _card(
    call: Call, card_id: int, action: Action, *, for_update: bool = False
) -> access.CardAccess:
    return await access.card_access(
        call.session,
        principal=call.principal,
        card_id=card_id,
        action=action,
        for_update=for_update,
    )


async def _card_page(call: Call, board_id: int, filters: args.CardFilters) -> dict[str, Any]:
    """A page of the card list, as CardPageOut's JSON."""
    async with call.database.reading() as connection:
        page = await card_reads.list_cards(
            connection,
            board_id=board_id,
            access=_reading(call.principal),
            query=filters,
        )
    return {
        "cards": [card_reads.card_json(row) for row in page.rows],
        "nextCursor": page.next_cursor,
    }


def _counted(page: dict[str, Any], what: str) -> str:
    more = "; more with nextCursor" if page["nextCursor"] else ""
    return f"{len(page['cards'])} cards {what}{more}"


# --- Boards -------------------------------------------------------------------------------


async def list_boards(call: Call, _: args.NoArguments) -> Answer:
    async with call.database.reading() as connection:
        boards = await board_reads.list_boards(connection, access=_reading(call.principal))
    titles = ", ".join(f"{board['title']} (#{board['id']}, {board['role']})" for board in boards)
    return Answer({"boards": boards}, f"{len(boards)} boards: {titles}")


async def get_board(call: Call, arguments: args.BoardCards) -> Answer:
    found = await _board(call, arguments.board_id, Action.VIEW)
    page = await _card_page(call, arguments.board_id, arguments)
    board = BoardOut.of(found.board, found.role, invited=found.invited)
    summary = f"Board #{board.id} {board.title!r} ({board.role}): " + _counted(page, "shown")
    return Answer({"board": board, **page}, summary)


async def create_board(call: Call, arguments: args.CreateBoard) -> Answer:
    access.require_all_boards(call.principal)
    user = await access.current_user(call.session, principal=call.principal)
    board = await board_service.create_board(
        call.session, user=user, title=arguments.title, description=arguments.description
    )
    return Answer(
        BoardOut.of(board, Role.OWNER, invited=False), f"Created board #{board.id} {board.title!r}"
    )


async def update_board(call: Call, arguments: args.UpdateBoard) -> Answer:
    update = body(arguments, BoardUpdate)
    found = await _board(call, arguments.board_id, Action.VIEW, for_update=True)
    for action in board_update_actions(update.model_fields_set):
        found.require(action)
    board = await board_service.update_board(call.session, board=found.board, update=update)
    return Answer(
        BoardOut.of(board, found.role, invited=found.invited),
        f"Updated board #{board.id} {board.title!r}",
    )


async def delete_board(call: Call, arguments: args.BoardArguments) -> Answer:
    found = await _board(call, arguments.board_id, Action.MANAGE_BOARD, for_update=True)
    await trash_service.trash_board(call.session, board=found.board, user=found.user)
    return Answer(Deleted(id=arguments.board_id), f"Deleted board #{arguments.board_id}")


# --- Cards --------------------------------------------------------------------------------


async def list_cards(call: Call, arguments: args.BoardCards) -> Answer:
    page = await _card_page(call, arguments.board_id, arguments)
    return Answer(page, _counted(page, f"of board #{arguments.board_id}"))


async def get_card(call: Call, arguments: args.CardArguments) -> Answer:
    async with call.database.reading() as connection:
        card = await card_reads.read_card(
            connection, card_id=arguments.card_id, access=_reading(call.principal)
        )
    return Answer(card, f"Card #{card['id']} {card['title']!r} in {card['column']}")


async def create_cards(call: Call, arguments: args.CreateCards) -> Answer:
    found = await _board(call, arguments.board_id, Action.EDIT_CARDS, for_update=True)
    cards = await card_service.create_cards(
        call.session,
        board=found.board,
        cards=arguments.cards,
        caps=CardCaps.from_settings(call.settings),
    )
    outs = [CardOut.model_validate(card) for card in cards]
    ids = ", ".join(f"#{card.id}" for card in outs)
    return Answer(CardListOut(cards=outs), f"Created {len(outs)} cards: {ids}")


async def update_card(call: Call, arguments: args.UpdateCard) -> Answer:
    update = body(arguments, CardUpdate)
    found = await _card(call, arguments.card_id, Action.EDIT_CARDS, for_update=True)
    card = await card_service.update_card(
        call.session, card=found.card, update=update, caps=CardCaps.from_settings(call.settings)
    )
    return Answer(card, f"Updated card #{card.id} {card.title!r}")


async def move_card(call: Call, arguments: args.MoveCard) -> Answer:
    move = body(arguments, CardMove)
    found = await _card(call, arguments.card_id, Action.EDIT_CARDS, for_update=True)
    card = await card_service.move_card(
        call.session, card=found.card, column=move.column, after_id=move.after_id
    )
    place = "at the top" if move.after_id is None else f"after card #{move.after_id}"
    return Answer(card, f"Moved card #{card.id} to {card.column} {place}")


async def delete_card(call: Call, arguments: args.CardArguments) -> Answer:
    found = await _card(call, arguments.card_id, Action.EDIT_CARDS, for_update=True)
    await trash_service.trash_card(call.session, card=found.card, user=found.user)
    return Answer(Deleted(id=arguments.card_id), f"Deleted card #{arguments.card_id}")


# --- Comments, members, users, activity ---------------------------------------------------


async def list_comments(call: Call, arguments: args.CardArguments) -> Answer:
    found = await _card(call, arguments.card_id, Action.VIEW)
    comments = await comment_service.list_comments(call.session, card=found.card)
    outs = [CommentOut.model_validate(comment) for comment in comments]
    return Answer(CommentListOut(comments=outs), f"{len(outs)} comments on card #{found.card.id}")


async def add_comment(call: Call, arguments: args.AddComment) -> Answer:
    found = await _card(call, arguments.card_id, Action.COMMENT, for_update=True)
    comment = await comment_service.create_comment(
        call.session, card=found.card, author=found.user, body=arguments.body
    )
    return Answer(CommentOut.model_validate(comment), f"Commented on card #{found.card.id}")


async def list_members(call: Call, arguments: args.BoardArguments) -> Answer:
    found = await _board(call, arguments.board_id, Action.VIEW)
    rows = await board_service.list_members(call.session, board=found.board)
    members = [MemberOut(id=user.id, email=user.email, role=role) for user, role in rows]
    listed = ", ".join(f"{member.email} ({member.role})" for member in members)
    return Answer(MemberListOut(members=members), f"{len(members)} members: {listed}")


async def find_user(call: Call, arguments: args.FindUser) -> Answer:
    caller = await access.current_user(call.session, principal=call.principal)
    user = await contacts.find_by_email(call.session, user_id=caller.id, email=arguments.email)
    return Answer(UserPublic.model_validate(user), f"User #{user.id} is {user.email}")


async def share_board(call: Call, arguments: args.ShareBoard) -> Answer:
    share = body(arguments, MemberShare)
    found = await _board(call, arguments.board_id, Action.MANAGE_MEMBERS, for_update=True)
    user, membership = await board_service.add_member(
        call.session,
        board=found.board,
        sharer_id=found.user.id,
        user_id=arguments.user_id,
        role=share.role,
    )
    if membership.pending:
        invited = SharedOut(id=user.id, role=membership.role, status="invited", email=None)
        summary = f"User #{user.id} is invited to board #{arguments.board_id} as {invited.role}"
        return Answer(invited, summary)
    member = SharedOut(id=user.id, role=membership.role, status="member", email=user.email)
    return Answer(member, f"{member.email} is {member.role} of board #{arguments.board_id}")


async def board_activity(call: Call, arguments: args.BoardActivity) -> Answer:
    found = await _board(call, arguments.board_id, Action.VIEW)
    rows = await event_service.list_events(
        call.session, board_id=found.board.id, after=arguments.after, limit=arguments.limit
    )
    events = [EventOut.model_validate(row) for row in rows]
    last = f"; the last is seq {events[-1].seq}" if events else ""
    return Answer(
        EventListOut(events=events), f"{len(events)} events after {arguments.after}{last}"
    )
