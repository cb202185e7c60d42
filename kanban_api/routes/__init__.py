"""The HTTP handlers, one module per domain, and the order the app serves them in."""

from fastapi import APIRouter

from kanban_api.routes import (
    api_tokens,
    auth,
    boards,
    cards,
    checklists,
    comments,
    events,
    health,
    invitations,
    members,
    trash,
    users,
    webhooks,
)

# Under /api, in the order FastAPI tries them: it matches a request against the routes
# in the order they were added, so the busiest come first.
API_ROUTERS: tuple[APIRouter, ...] = (
    cards.router,
    boards.router,
    comments.router,
    checklists.router,
    members.router,
    invitations.router,
    events.router,
    webhooks.router,
    trash.router,
    users.router,
    api_tokens.router,
    auth.router,
)
# Outside /api.
OTHER_ROUTERS: tuple[APIRouter, ...] = (health.router,)
# `/`, unless a static client's index page is served there.
HOME_ROUTER = health.home
# The domains in the order the API docs list them.
DOCS_TAGS = (
    "auth",
    "users",
    "boards",
    "members",
    "invitations",
    "cards",
    "comments",
    "checklists",
    "events",
    "webhooks",
    "trash",
    "health",
)
