"""kanban-api: a backend for Kanban board applications."""

__version__ = "0.1.0"
