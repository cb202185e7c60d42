"""The Model Context Protocol endpoint, `/mcp` (docs/mcp.md): AI assistants work boards
through tools that are the REST routes' twins, with the caller's own permissions.

endpoint.py authenticates and starts server.py, the official SDK's server, on the first
request; catalog.py lists the tools; tools.py runs them on access.py, services and
reads; arguments.py and results.py are their schemas, built from the REST API's.
"""
