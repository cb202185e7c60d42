from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from kanban_api.dependencies import ManageWebhooks, SessionDep, SettingsDep, ViewWebhooks
from kanban_api.routes.events import GONE
from kanban_api.routes.responses import NOT_AUTHENTICATED, ROLE_REQUIRED, TOO_MANY_WEBHOOKS
from kanban_api.schemas.fields import Id
from kanban_api.schemas.webhook import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookReplay,
    WebhookUpdate,
)
from kanban_api.services import webhooks as webhook_service
from kanban_api.validation import StrictQueryRoute
from kanban_api.webhooks.targets import TargetPolicy

router = APIRouter(
    route_class=StrictQueryRoute,
    prefix="/boards/{board_id}/webhooks",
    tags=["webhooks"],
    responses={**NOT_AUTHENTICATED, **ROLE_REQUIRED},
)

WebhookId = Annotated[Id, Path()]
MAX_DELIVERIES_PER_PAGE = 100


@router.post("", status_code=status.HTTP_201_CREATED, responses=TOO_MANY_WEBHOOKS)
async def create_webhook(
    session: SessionDep, settings: SettingsDep, access: ManageWebhooks, body: WebhookCreate
) -> WebhookCreated:
    """Send the board's events from now on to `url`, signed with the `secret` answered
    here only (docs/webhooks.md). 422 for a URL whose host is not a public address."""
    webhook = await webhook_service.create_webhook(
        session,
        board=access.board,
        owner_id=access.user.id,
        data=body,
        policy=TargetPolicy.from_settings(settings),
    )
    return WebhookCreated.model_validate(webhook)


@router.get("")
async def list_webhooks(session: SessionDep, access: ViewWebhooks) -> list[WebhookOut]:
    rows = await webhook_service.list_webhooks(session, board_id=access.board.id)
    return [WebhookOut.model_validate(row) for row in rows]


@router.get("/{webhook_id}")
async def get_webhook(
    session: SessionDep, access: ViewWebhooks, webhook_id: WebhookId
) -> WebhookOut:
    webhook = await webhook_service.get_webhook(
        session, board_id=access.board.id, webhook_id=webhook_id
    )
    return WebhookOut.model_validate(webhook)


@router.patch("/{webhook_id}")
async def update_webhook(
    session: SessionDep,
    settings: SettingsDep,
    access: ManageWebhooks,
    webhook_id: WebhookId,
    body: WebhookUpdate,
) -> WebhookOut:
    """Change it; `active: true` resumes from the first event not yet acknowledged."""
    webhook = await webhook_service.get_webhook(
        session, board_id=access.board.id, webhook_id=webhook_id
    )
    webhook = await webhook_service.update_webhook(
        session,
        webhook=webhook,
        owner_id=access.user.id,
        changes=body,
        policy=TargetPolicy.from_settings(settings),
    )
    return WebhookOut.model_validate(webhook)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    session: SessionDep, access: ManageWebhooks, webhook_id: WebhookId
) -> Response:
    webhook = await webhook_service.get_webhook(
        session, board_id=access.board.id, webhook_id=webhook_id
    )
    await webhook_service.delete_webhook(session, webhook=webhook)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
async def list_deliveries(
    session: SessionDep,
    access: ViewWebhooks,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_PER_PAGE)] = 20,
) -> list[DeliveryOut]:
    """The latest delivery attempts, newest first."""
    webhook = await webhook_service.get_webhook(
        session, board_id=access.board.id, webhook_id=webhook_id
    )
    rows = await webhook_service.list_deliveries(session, webhook_id=webhook.id, limit=limit)
    return [DeliveryOut.model_validate(row) for row in rows]


@router.post(
    "/{webhook_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses={**GONE, 202: {"description": "Accepted: delivery goes on from there"}},
)
async def replay(
    session: SessionDep, access: ManageWebhooks, webhook_id: WebhookId, body: WebhookReplay
) -> Response:
    """Make the first event after `afterSeq` the next one delivered (410 if it was pruned)."""
    webhook = await webhook_service.get_webhook(
        session, board_id=access.board.id, webhook_id=webhook_id
    )
    await webhook_service.replay(session, webhook=webhook, after_seq=body.after_seq)
    return Response(status_code=status.HTTP_202_ACCEPTED)
