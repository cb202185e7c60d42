"""Board export and import in the `kanban-api/1` document (schemas/transfer.py); a Trello
export is first turned into one (services/trello.py).

People travel by email: an import names only the caller and the users who share a live
board with them (services/contacts.py), so a document cannot reach strangers' accounts.
Members so found join the new board in their exported role; assignees among them stay
assigned; comments keep their author, or, when nobody matches, say who wrote them.
"""

from collections import Counter
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kanban_api.access import card_in_play
from kanban_api.errors import InvalidInputError
from kanban_api.events import feed as events
from kanban_api.limits import COMMENT_BODY_MAX
from kanban_api.models import (
    Board,
    Card,
    CardAssignee,
    CardLabel,
    ChecklistItem,
    Comment,
    Membership,
    User,
)
from kanban_api.models.base import utcnow
from kanban_api.models.board import board_columns
from kanban_api.reads.cards import CARD_ORDER
from kanban_api.schemas.board import BoardEventOut
from kanban_api.schemas.event import EventType
from kanban_api.schemas.transfer import FORMAT, BoardDocument, DocumentCard
from kanban_api.services import boards, card_caps, contacts, ordering
from kanban_api.services.card_caps import CardCaps
from kanban_api.utils.emails import email_key


async def export_board(session: AsyncSession, *, board: Board, user_id: int) -> dict[str, Any]:
    """The board as a `kanban-api/1` document: its columns, labels, members (by email,
    sorted), and cards in board order with labels, assignees, checklist and comments.
    Five statements, whatever the board's size. Invited users who have not accepted are
    left out, and comment authors `user_id` (the exporter) is not introduced to are
    unnamed (docs/api.md, Invitations)."""
    members = (
        await session.execute(
            select(User.id, User.email, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.board_id == board.id, Membership.accepted_at.is_not(None))
            .order_by(User.email_key)
        )
    ).all()
    emails = {member.id: member.email for member in members}
    cards = (
        await session.scalars(
            select(Card)
            .where(Card.board_id == board.id, card_in_play())
            .order_by(*(key.attribute for key in CARD_ORDER))
            .options(selectinload(Card.labels), selectinload(Card.assignees))
        )
    ).all()
    items = await _checklists(session, board_id=board.id)
    comments = await _comments_of(session, board_id=board.id, user_id=user_id)
    document = BoardDocument.model_validate(
        {
            "format": FORMAT,
            "board": {"title": board.title, "description": board.description},
            "columns": board.columns,
            "labels": [{"color": label.color, "name": label.name} for label in board.labels],
            "members": [{"email": member.email, "role": member.role} for member in members],
            "cards": [
                {
                    "title": card.title,
                    "description": card.description,
                    "column": card.column,
                    "labels": [label.color for label in card.labels],
                    "dueAt": card.due_at,
                    "archived": card.archived,
                    "assignees": [emails[user_id] for user_id in card.assignee_ids],
                    "checklist": items.get(card.id, []),
                    "comments": comments.get(card.id, []),
                }
                for card in cards
            ],
        }
    )
    exported: dict[str, Any] = document.model_dump(mode="json", by_alias=True)
    return exported


async def _checklists(session: AsyncSession, *, board_id: int) -> dict[int, list[dict[str, Any]]]:
    """Card id → its checklist items as the document has them, in order."""
    items: dict[int, list[dict[str, Any]]] = {}
    for item in await session.scalars(
        select(ChecklistItem)
        .join(Card, Card.id == ChecklistItem.card_id)
        .where(Card.board_id == board_id, card_in_play())
        .order_by(ChecklistItem.card_id, ChecklistItem.position, ChecklistItem.id)
    ):
        items.setdefault(item.card_id, []).append({"text": item.text, "done": item.done})
    return items


async def _comments_of(
    session: AsyncSession, *, board_id: int, user_id: int
) -> dict[int, list[dict[str, Any]]]:
    """Card id → its comments as the document has them, oldest first; the author by
    email if `user_id` is introduced to them (services/contacts.py), else null as for a
    deleted user: an invitee who commented, then declined or was withdrawn, stays unnamed."""
    author = case((contacts.introduced_to(user_id, User.id), User.email), else_=None)
    comments: dict[int, list[dict[str, Any]]] = {}
    for comment, email in await session.execute(
        select(Comment, author)
        .join(Card, Card.id == Comment.card_id)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Card.board_id == board_id, card_in_play())
        .order_by(Comment.card_id, Comment.id)
    ):
        comments.setdefault(comment.card_id, []).append(
            {"author": email, "body": comment.body, "createdAt": comment.created_at}
        )
    return comments


async def import_board(
    session: AsyncSession,
    *,
    user: User,
    document: BoardDocument,
    caps: CardCaps,
    loc: tuple[str, ...] = ("body",),
) -> Board:
    """A new board owned by `user`, made from the document in the request's transaction.

    Raises ConflictError (409) if its cards would pass a card cap, InvalidInputError
    (422, at `loc` and the place in the document) for a comment that cannot say who wrote
    it within COMMENT_BODY_MAX characters. WIP limits are taken as given, even below a
    column's count (as lowering one is allowed). Event: one `board.imported`, the board
    as `board.updated` carries it.
    """
    board = await boards.create_board(
        session, user=user, title=document.board.title, description=document.board.description
    )
    names = {label.color: label.name for label in document.labels}
    for label in board.labels:
        label.name = names.get(label.color, "")
    if document.columns:
        board.column_settings = board_columns(
            [column.model_dump(by_alias=True) for column in document.columns]
        )
    people = await contacts.co_members_by_email(
        session, user_id=user.id, emails=_emails_named(document)
    )
    members = _add_members(session, board=board, owner=user, document=document, people=people)
    await session.flush()
    archived = sum(card.archived for card in document.cards)
    await card_caps.make_room(
        session,
        board_id=board.id,
        caps=caps,
        active=len(document.cards) - archived,
        archived=archived,
    )
    await _add_cards(
        session, board=board, document=document, people=people, members=members, loc=loc
    )
    await events.record(
        session,
        board_id=board.id,
        type=EventType.BOARD_IMPORTED,
        data=BoardEventOut.model_validate(board),
    )
    return board


def _add_members(
    session: AsyncSession,
    *,
    board: Board,
    owner: User,
    document: BoardDocument,
    people: dict[str, int],
) -> set[int]:
    """Add the document's members who were found (co-members: they join at once, as a
    share with them would); returns the new board's member ids."""
    members = {owner.id}
    for member in document.members:
        found = people.get(email_key(member.email))
        if found is not None and found not in members:
            members.add(found)
            session.add(
                Membership(board_id=board.id, user_id=found, role=member.role, accepted_at=utcnow())
            )
    return members


async def _add_cards(
    session: AsyncSession,
    *,
    board: Board,
    document: BoardDocument,
    people: dict[str, int],
    members: set[int],
    loc: tuple[str, ...],
) -> None:
    """The document's cards, in order at the bottom of their columns, with their labels,
    assignees among `members`, checklists and comments."""
    positions = {
        column: iter(ordering.spaced(count))
        for column, count in Counter(card.column for card in document.cards).items()
    }
    labels = {label.color: label for label in board.labels}
    for index, given in enumerate(document.cards):
        card = Card(
            board_id=board.id,
            title=given.title,
            description=given.description,
            column=given.column,
            position=next(positions[given.column]),
            due_at=given.due_at,
            archived=given.archived,
            checklist_done=sum(item.done for item in given.checklist),
            checklist_total=len(given.checklist),
            assignees=[
                CardAssignee(board_id=board.id, user_id=user_id)
                for user_id in sorted(_assignees(given, people, members))
            ],
        )
        session.add(card)
        await session.flush()
        session.add_all(
            CardLabel(card_id=card.id, label_id=labels[color].id) for color in set(given.labels)
        )
        session.add_all(
            ChecklistItem(card_id=card.id, text=item.text, done=item.done, position=position)
            for position, item in enumerate(given.checklist)
        )
        session.add_all(_comments(card, given, people, (*loc, "cards", index, "comments")))
    await session.flush()


def _emails_named(document: BoardDocument) -> set[str]:
    named = {member.email for member in document.members}
    for card in document.cards:
        named.update(card.assignees)
        named.update(comment.author for comment in card.comments if comment.author is not None)
    return named


def _assignees(card: DocumentCard, people: dict[str, int], members: set[int]) -> set[int]:
    """The card's assignees who are found and members of the new board."""
    found = {people.get(email_key(email)) for email in card.assignees}
    return {user_id for user_id in found if user_id in members}


def _comments(
    card: Card, given: DocumentCard, people: dict[str, int], loc: tuple[str | int, ...]
) -> list[Comment]:
    made = []
    for index, comment in enumerate(given.comments):
        author_id = None if comment.author is None else people.get(email_key(comment.author))
        body = comment.body
        if comment.author is not None and author_id is None:
            body = f"{comment.author}: {body}"
            if len(body) > COMMENT_BODY_MAX:
                raise InvalidInputError(
                    (*loc, index, "body"),
                    f"With its author's email in front (they are not found among your "
                    f"co-members) the comment exceeds {COMMENT_BODY_MAX} characters",
                )
        extra = {} if comment.created_at is None else {"created_at": comment.created_at}
        made.append(Comment(card_id=card.id, author_id=author_id, body=body, **extra))
    return made
