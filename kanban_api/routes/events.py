from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request, status
from pydantic.json_schema import SkipJsonSchema
from sse_starlette import EventSourceResponse

from kanban_api.access import Principal
from kanban_api.dependencies import SessionDep, SettingsDep, StreamBoard, ViewBoard, reads_only
from kanban_api.errors import InvalidInputError
from kanban_api.events import feed as event_service
from kanban_api.events import tickets as ticket_service
from kanban_api.events.stream import SEPARATOR, BoardStream, Viewer
from kanban_api.routes.responses import NOT_A_MEMBER, NOT_AUTHENTICATED, Responses
from kanban_api.schemas.event import EventOut, TicketOut
from kanban_api.state import app_state
from kanban_api.validation import StrictQueryRoute

router = APIRouter(
    route_class=StrictQueryRoute,
    prefix="/boards/{board_id}/events",
    tags=["events"],
    responses=NOT_AUTHENTICATED,
)

MAX_SEQ = 2**31 - 1
MAX_EVENTS_PER_PAGE = 1000
# How long open streams get to end by themselves when the server stops.
SHUTDOWN_GRACE_SECONDS = 5

GONE: Responses = {
    410: {"description": "Events after `after` were pruned (or never existed): reload the board"}
}
STREAM: Responses = {
    200: {
        "description": "Server-sent events: `id` is the seq, `event` the type, `data` the "
        "EventOut JSON; first a `ready` event once caught up, then `: ping` comments",
        "content": {"text/event-stream": {}},
    },
    401: {"description": "No valid bearer token or ticket"},
}

After = Annotated[
    int,
    Query(ge=0, le=MAX_SEQ, description="Answer events with a larger seq than this"),
]


# The HTML standard's EventSource sends the last `id` it saw, or an empty value when
# the stream reset it: both are well-formed, and empty means "no id".
LastEventId = Annotated[
    str | SkipJsonSchema[None],
    Header(
        alias="Last-Event-ID",
        pattern="^[0-9]{0,10}$",
        description="Sent by EventSource on reconnect: the last seq seen (0 to 2147483647), "
        "or empty for none; wins over `after`",
    ),
]


def last_event_seq(header: str | None) -> int | None:
    """The seq a `Last-Event-ID` header names; None when absent or empty; 422 past MAX_SEQ."""
    if not header:
        return None
    seq = int(header)
    if seq > MAX_SEQ:
        raise InvalidInputError(("header", "Last-Event-ID"), f"must be at most {MAX_SEQ}")
    return seq


@router.get("", responses={**NOT_A_MEMBER, **GONE})
async def list_events(
    session: SessionDep,
    access: ViewBoard,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS_PER_PAGE)] = 100,
) -> list[EventOut]:
    """The board's change log, oldest first: page with `after` = the last seq you have."""
    rows = await event_service.list_events(
        session, board_id=access.board.id, after=after, limit=limit
    )
    return [EventOut.model_validate(row) for row in rows]


@router.post("/tickets", status_code=status.HTTP_201_CREATED, responses=NOT_A_MEMBER)
@reads_only
async def create_ticket(session: SessionDep, access: ViewBoard) -> TicketOut:
    """A single-use ticket to open this board's stream as `?ticket=`, valid for 60 seconds."""
    ticket = await ticket_service.issue_ticket(session, user=access.user, board=access.board)
    return TicketOut(ticket=ticket, expires_in=ticket_service.TICKET_SECONDS)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={**STREAM, **NOT_A_MEMBER, **GONE},
)
async def stream_events(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    access: StreamBoard,
    after: After | None = None,
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    """Live events of the board. Missed events (after `Last-Event-ID` or `after`) come first;
    without either, the stream starts at the board's latest event."""
    board, user = access.board, access.user
    last_seq = last_event_seq(last_event_id)
    resume_from = last_seq if last_seq is not None else after
    if resume_from is None:
        resume_from = board.event_seq
    else:
        # Answer 410 now, while a status can still be sent, if the gap cannot be filled.
        await event_service.list_events(session, board_id=board.id, after=resume_from, limit=1)
    state = app_state(request)
    stream = BoardStream(
        hub=state.events,
        sessionmaker=state.database.sessionmaker,
        viewer=Viewer(board.id, Principal(user.id, user.credentials_version)),
        after=resume_from,
        heartbeat_seconds=settings.stream_heartbeat_seconds,
    )
    shutdown = anyio.Event()
    # Pings come from the stream itself, which re-checks access with each one. On shutdown
    # the library sets `shutdown`; `end_on` (run beside the stream) then ends it cleanly.
    return EventSourceResponse(
        stream.messages(),
        ping=0,
        sep=SEPARATOR,
        send_timeout=settings.stream_send_timeout_seconds,
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
        data_sender_callable=partial(stream.end_on, shutdown),
    )
