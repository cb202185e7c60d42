"""The tools `/mcp` offers, with the descriptions a model chooses them by."""

from typing import Any

from kanban_api.mcp_endpoint import arguments as args
from kanban_api.mcp_endpoint import results, tools
from kanban_api.mcp_endpoint.tools import ToolSpec
from kanban_api.schemas.board import BoardOut
from kanban_api.schemas.card import CardOut
from kanban_api.schemas.comment import CommentOut
from kanban_api.schemas.user import UserPublic

INSTRUCTIONS = (
    "A Kanban board service. Every board has four columns, BACKLOG, TODO, DOING and DONE "
    "(each may have a display name and a WIP limit), seven coloured labels and members who "
    "are owners, editors or viewers. Find boards with list_boards and a board's cards with "
    "get_board or list_cards; ids from those answers name boards and cards in every other "
    "tool. You act as the user whose token connected you, with their role on each board: "
    "an error result says what was refused and why."
)

TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        "list_boards",
        "List the boards you are a member of, each with its columns, labels and your role.",
        args.NoArguments,
        results.BoardListOut,
        tools.list_boards,
    ),
    ToolSpec(
        "get_board",
        "Read one board with its cards in board order (column, then position). Takes the "
        "card list's filters (column, label, assignee, text q, dueBefore, archived) and "
        "paging (limit, then cursor = the answer's nextCursor).",
        args.BoardCards,
        results.BoardCardsOut,
        tools.get_board,
    ),
    ToolSpec(
        "create_board",
        "Create a board; you become its owner. It comes with the four columns and seven "
        "unnamed labels.",
        args.CreateBoard,
        BoardOut,
        tools.create_board,
        changes_boards=True,
        writes=True,
    ),
    ToolSpec(
        "update_board",
        "Change a board: title and description (owners), label names by colour and column "
        "names and WIP limits by key (owners and editors). Fields left out stay as they are.",
        args.UpdateBoard,
        BoardOut,
        tools.update_board,
        changes_boards=True,
        writes=True,
    ),
    ToolSpec(
        "delete_board",
        "Delete a board with all its cards, comments and members (owners): it goes to the "
        "trash, from which its owners can restore it (REST: /api/trash) for a while.",
        args.BoardArguments,
        results.Deleted,
        tools.delete_board,
        changes_boards=True,
        writes=True,
        destructive=True,
    ),
    ToolSpec(
        "list_cards",
        "List a board's cards in board order, filtered by column, label, assignee, text "
        "(q, in title or description), due date (dueBefore) or archived; with limit, page "
        "on with cursor = the answer's nextCursor.",
        args.BoardCards,
        results.CardPageOut,
        tools.list_cards,
    ),
    ToolSpec(
        "get_card",
        "Read one card: title, description, column, position, labels, due date, assignees, "
        "checklist counts and version.",
        args.CardArguments,
        CardOut,
        tools.get_card,
    ),
    ToolSpec(
        "create_cards",
        "Create one or more cards on a board, all or none; each goes to the bottom of its "
        "column (BACKLOG unless given).",
        args.CreateCards,
        results.CardListOut,
        tools.create_cards,
        changes_boards=True,
        writes=True,
        body_argument="cards",
    ),
    ToolSpec(
        "update_card",
        "Change a card's fields: title, description, column (to its bottom), labels and "
        "assigneeIds (replacing the sets), dueAt (null clears it), archived. Fields left "
        "out stay as they are. To place a card at a position, use move_card.",
        args.UpdateCard,
        CardOut,
        tools.update_card,
        changes_boards=True,
        writes=True,
    ),
    ToolSpec(
        "move_card",
        "Move a card to a column, right after the card afterId of that column, or to its "
        "top with afterId null.",
        args.MoveCard,
        CardOut,
        tools.move_card,
        changes_boards=True,
        writes=True,
    ),
    ToolSpec(
        "delete_card",
        "Delete a card and its comments: it goes to the trash, from which editors can "
        "restore it (REST: /api/trash) for a while. To keep it out of sight instead, archive "
        "it with update_card.",
        args.CardArguments,
        results.Deleted,
        tools.delete_card,
        changes_boards=True,
        writes=True,
        destructive=True,
    ),
    ToolSpec(
        "list_comments",
        "List a card's comments, oldest first.",
        args.CardArguments,
        results.CommentListOut,
        tools.list_comments,
    ),
    ToolSpec(
        "add_comment",
        "Comment on a card, as yourself.",
        args.AddComment,
        CommentOut,
        tools.add_comment,
        changes_boards=True,
        writes=True,
    ),
    ToolSpec(
        "list_members",
        "List a board's members with their emails and roles.",
        args.BoardArguments,
        results.MemberListOut,
        tools.list_members,
    ),
    ToolSpec(
        "find_user",
        "Find a user by their exact email address, to share a board with them.",
        args.FindUser,
        UserPublic,
        tools.find_user,
        writes=True,
    ),
    ToolSpec(
        "share_board",
        "Make a user a member of a board, or change a member's role (owners). A user found "
        "with find_user or already sharing a board with you joins at once (status member); "
        "anyone else is invited (status invited, no email) until they accept. Without a "
        "role a new member joins as an editor.",
        args.ShareBoard,
        results.SharedOut,
        tools.share_board,
        changes_boards=True,
        writes=True,
    ),
    ToolSpec(
        "board_activity",
        "What changed on a board: its change feed, oldest first, after event seq `after` "
        "(0 for the start). Each event has a type such as card.moved, the data, the actor "
        "and the time.",
        args.BoardActivity,
        results.EventListOut,
        tools.board_activity,
    ),
)
