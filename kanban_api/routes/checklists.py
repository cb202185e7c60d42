from fastapi import APIRouter, Response, status

from kanban_api.dependencies import EditChecklist, EditChecklistItem, SessionDep, ViewCard
from kanban_api.routes.responses import (
    CHECKLIST_FULL,
    NOT_A_MEMBER,
    NOT_AUTHENTICATED,
    ROLE_REQUIRED,
)
from kanban_api.schemas.checklist import ChecklistItemCreate, ChecklistItemOut, ChecklistItemUpdate
from kanban_api.services import checklists as checklist_service
from kanban_api.validation import StrictQueryRoute

router = APIRouter(route_class=StrictQueryRoute, tags=["checklists"], responses=NOT_AUTHENTICATED)


@router.get("/cards/{card_id}/checklist", responses=NOT_A_MEMBER)
async def list_checklist(session: SessionDep, access: ViewCard) -> list[ChecklistItemOut]:
    """The card's checklist items, in order."""
    items = await checklist_service.list_items(session, card_id=access.card.id)
    return [ChecklistItemOut.model_validate(item) for item in items]


@router.post(
    "/cards/{card_id}/checklist",
    status_code=status.HTTP_201_CREATED,
    responses={**ROLE_REQUIRED, **CHECKLIST_FULL},
)
async def add_checklist_item(
    session: SessionDep, access: EditChecklist, body: ChecklistItemCreate
) -> ChecklistItemOut:
    """Add an item: after item `afterId`, first when it is null, at the end when omitted."""
    after_id = body.after_id if "after_id" in body.model_fields_set else checklist_service.LAST
    item = await checklist_service.add_item(
        session, card=access.card, text=body.text, after_id=after_id
    )
    return ChecklistItemOut.model_validate(item)


@router.patch("/checklist-items/{item_id}", responses=ROLE_REQUIRED)
async def update_checklist_item(
    session: SessionDep, access: EditChecklistItem, body: ChecklistItemUpdate
) -> ChecklistItemOut:
    """Reword, tick (`done`) or move (`afterId`: after that item, or first when null)."""
    item = await checklist_service.update_item(
        session, card=access.card, item=access.item, update=body
    )
    return ChecklistItemOut.model_validate(item)


@router.delete(
    "/checklist-items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ROLE_REQUIRED
)
async def delete_checklist_item(session: SessionDep, access: EditChecklistItem) -> Response:
    await checklist_service.delete_item(session, card=access.card, item=access.item)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
