from fastapi import APIRouter, status

from kanban_api import errors
from kanban_api.dependencies import CurrentUser, SessionDep
from kanban_api.models import User
from kanban_api.routes.responses import EMAIL_TAKEN, NOT_AUTHENTICATED, USER_NOT_FOUND
from kanban_api.schemas.user import UserCreate, UserOut, UserPublic, UserSearch, UserUpdate
from kanban_api.services import users as user_service

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=EMAIL_TAKEN)
async def create_user(session: SessionDep, body: UserCreate) -> UserOut:
    """Sign up. Emails are unique regardless of case."""
    user = await user_service.create_user(session, email=body.email, password=body.password)
    return UserOut.model_validate(user)


@router.get("/me", responses=NOT_AUTHENTICATED)
async def read_me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch("/me", responses={**NOT_AUTHENTICATED, **EMAIL_TAKEN})
async def update_me(session: SessionDep, user: CurrentUser, body: UserUpdate) -> UserOut:
    """Change email or password; tokens issued before the change stop working."""
    updated = await user_service.update_user(
        session, user=user, email=body.email, password=body.password
    )
    return UserOut.model_validate(updated)


@router.post("/search", responses={**NOT_AUTHENTICATED, **USER_NOT_FOUND})
async def search_user(session: SessionDep, _: CurrentUser, body: UserSearch) -> UserPublic:
    """Find a user by exact email (case-insensitive), to share a board with them."""
    user: User | None = await user_service.get_by_email(session, email=body.email)
    if user is None:
        raise errors.NotFoundError(errors.USER_NOT_FOUND)
    return UserPublic.model_validate(user)
