from fastapi import APIRouter, Request, status

from kanban_api.access import current_user
from kanban_api.dependencies import (
    CurrentUser,
    DatabaseDep,
    LoginPrincipal,
    SessionDep,
    SettingsDep,
    reads_only,
)
from kanban_api.routes.responses import (
    EMAIL_TAKEN,
    NOT_AUTHENTICATED,
    REAUTH_REQUIRED,
    TOO_MANY_ATTEMPTS,
    USER_NOT_FOUND,
)
from kanban_api.schemas.user import UserCreate, UserOut, UserPublic, UserSearch, UserUpdate
from kanban_api.services import contacts
from kanban_api.services import users as user_service
from kanban_api.services.login_limits import LoginLimits
from kanban_api.services.reauth import require_proof
from kanban_api.utils.password import hash_password
from kanban_api.validation import StrictQueryRoute

router = APIRouter(route_class=StrictQueryRoute, prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=EMAIL_TAKEN)
async def create_user(session: SessionDep, body: UserCreate) -> UserOut:
    """Sign up. Emails are unique however they are spelled: surrounding spaces, letter
    case and Unicode forms aside (NFKC, case-folded)."""
    user = await user_service.create_user(session, email=body.email, password=body.password)
    return UserOut.model_validate(user)


@router.get("/me", responses=NOT_AUTHENTICATED)
async def read_me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch(
    "/me", responses={**NOT_AUTHENTICATED, **EMAIL_TAKEN, **REAUTH_REQUIRED, **TOO_MANY_ATTEMPTS}
)
async def update_me(
    request: Request,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    principal: LoginPrincipal,
    body: UserUpdate,
) -> UserOut:
    """Change email or password. A new password retires tokens issued before it; a new
    email keeps them.

    Either change needs `currentPassword`, unless the token comes from a login within
    the last KANBAN_REAUTH_MINUTES (403 otherwise, or if it is wrong).
    """
    # Proof and hashing come before the user is loaded, so that no transaction (no
    # pooled connection, no SQLite write lock) is held while they wait for a thread.
    if body.password is not None or (body.email is not None and body.email != principal.email):
        await require_proof(
            database,
            principal=principal,
            current_password=body.current_password,
            reauth_minutes=settings.reauth_minutes,
            address=request.client.host if request.client else None,
            limits=LoginLimits.from_settings(settings),
        )
    hashed_password = None if body.password is None else await hash_password(body.password)
    user = await current_user(session, principal=principal)
    updated = await user_service.update_user(
        session, user=user, email=body.email, hashed_password=hashed_password
    )
    return UserOut.model_validate(updated)


@router.post("/search", responses={**NOT_AUTHENTICATED, **USER_NOT_FOUND})
@reads_only
async def search_user(session: SessionDep, caller: CurrentUser, body: UserSearch) -> UserPublic:
    """Find a user by email, however it is spelled (as at sign-up), to share a board with them.

    Sharing by id works only with users found this way (or already sharing a board
    with the caller), so the email must be known first.
    """
    user = await contacts.find_by_email(session, user_id=caller.id, email=body.email)
    return UserPublic.model_validate(user)
