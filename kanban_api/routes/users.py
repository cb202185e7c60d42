from fastapi import APIRouter, status

from kanban_api.dependencies import CurrentUser, SessionDep
from kanban_api.errors import NotFoundError
from kanban_api.models import User
from kanban_api.routes.responses import EMAIL_TAKEN, NOT_AUTHENTICATED, USER_NOT_FOUND
from kanban_api.schemas.user import UserCreate, UserOut, UserPublic, UserSearch, UserUpdate
from kanban_api.services import users as user_service

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=EMAIL_TAKEN)
async def create_user(session: SessionDep, body: UserCreate) -> UserOut:
    """Sign up. Emails are unique however they are spelled: surrounding spaces, letter
    case and Unicode forms aside (NFKC, case-folded)."""
    user = await user_service.create_user(session, email=body.email, password=body.password)
    return UserOut.model_validate(user)


@router.get("/me", responses=NOT_AUTHENTICATED)
async def read_me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch("/me", responses={**NOT_AUTHENTICATED, **EMAIL_TAKEN})
async def update_me(session: SessionDep, user: CurrentUser, body: UserUpdate) -> UserOut:
    """Change email or password. A new password retires tokens issued before it; a new
    email keeps them."""
    updated = await user_service.update_user(
        session, user=user, email=body.email, password=body.password
    )
    return UserOut.model_validate(updated)


@router.post("/search", responses={**NOT_AUTHENTICATED, **USER_NOT_FOUND})
async def search_user(session: SessionDep, _: CurrentUser, body: UserSearch) -> UserPublic:
    """Find a user by email, however it is spelled (as at sign-up), to share a board."""
    user: User | None = await user_service.get_by_email(session, email=body.email)
    if user is None:
        raise NotFoundError("User not found")
    return UserPublic.model_validate(user)
