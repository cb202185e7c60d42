from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from kanban_api.limits import WEBHOOK_DESCRIPTION_MAX, WEBHOOK_URL_MAX
from kanban_api.schemas.base import ApiModel, InputModel, PatchModel
from kanban_api.schemas.event import EventType
from kanban_api.schemas.fields import BodyFlag, BodySeq

# Only `https` (and `http` when private targets are allowed); the server resolves the
# host and refuses non-public addresses with 422 (docs/webhooks.md).
WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=WEBHOOK_URL_MAX, pattern="^[A-Za-z]+://[^\\s]+$"),
]
WebhookDescription = Annotated[
    str, StringConstraints(max_length=WEBHOOK_DESCRIPTION_MAX, pattern="^[^\\u0000]*$")
]


def _distinct(types: list[EventType] | None) -> list[EventType] | None:
    if types is not None and len(set(types)) != len(types):
        raise ValueError("must name each event type once")
    return types


# The event types to send; null: every type, including ones added later.
EventTypes = Annotated[
    list[EventType] | None,
    Field(min_length=1, max_length=len(EventType), json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]


class WebhookCreate(InputModel):
    url: WebhookUrl
    events: EventTypes = None
    description: WebhookDescription = ""


class WebhookUpdate(PatchModel):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"events"})

    url: WebhookUrl | SkipJsonSchema[None] = None
    events: EventTypes = None
    description: WebhookDescription | SkipJsonSchema[None] = None
    # true resumes delivery from the first event not yet acknowledged.
    active: BodyFlag | SkipJsonSchema[None] = None


class WebhookOut(ApiModel):
    id: int
    url: str
    events: list[EventType] | None
    description: str
    active: bool
    created_at: datetime
    # Why the server turned it off (null while active or turned off by an owner).
    disabled_reason: str | None
    # The last event the receiver acknowledged; delivery goes on after it.
    last_delivered_seq: int = Field(validation_alias="last_seq")


class WebhookCreated(WebhookOut):
    """The answer to creating a webhook: the only one that shows its secret."""

    secret: str


class WebhookReplay(InputModel):
    after_seq: Annotated[BodySeq, Field(description="Send again every event after this seq")]


class DeliveryOut(ApiModel):
    seq: int
    event_type: str
    attempt: int
    status: Literal["delivered", "failed", "pending"]
    response_status: int | None
    error: str | None
    duration_ms: int | None
    at: datetime
