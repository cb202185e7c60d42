"""A committed event on its way to live streams, and its NOTIFY encoding."""

import json
from dataclasses import dataclass

from kanban_api.schemas.event import EventOut

# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; bigger events travel by reference.
MAX_NOTIFY_BYTES = 7900


@dataclass(frozen=True, slots=True)
class LiveEvent:
    board_id: int
    event: EventOut
    # Serialized once and shared by every stream, however many are open.
    json: str

    @classmethod
    def of(cls, board_id: int, event: EventOut) -> "LiveEvent":
        return cls(board_id, event, event.model_dump_json())

    @property
    def seq(self) -> int:
        return self.event.seq

    def notify_payload(self) -> str:
        """The whole event when it fits, else just where to read it (the listener fetches it)."""
        inline = f'{{"boardId":{self.board_id},"seq":{self.seq},"event":{self.json}}}'
        if len(inline.encode()) <= MAX_NOTIFY_BYTES:
            return inline
        return json.dumps({"boardId": self.board_id, "seq": self.seq})


@dataclass(frozen=True, slots=True)
class Notice:
    """A decoded NOTIFY payload: the event itself, or the reference to fetch it by."""

    board_id: int
    seq: int
    event: LiveEvent | None

    @classmethod
    def parse(cls, payload: str) -> "Notice":
        """Raises ValueError (or pydantic's ValidationError, a ValueError) on a foreign payload."""
        message = json.loads(payload)
        board_id, seq = int(message["boardId"]), int(message["seq"])
        raw = message.get("event")
        event = None if raw is None else LiveEvent.of(board_id, EventOut.model_validate(raw))
        return cls(board_id, seq, event)
