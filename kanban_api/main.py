"""The app instance servers import (`uvicorn kanban_api.main:app`)."""

from kanban_api.app import create_app

app = create_app()
