"""The app instance servers import (`uvicorn kanban_api.main:app`, `kanban-api serve`).

What importing and building the app makes (modules, classes, schemas, mappers: most of
a worker's objects) lives as long as the process, so it is frozen out of the garbage
collector's reach (`gc.freeze`): otherwise every full collection, which the many objects
a large answer leaves behind trigger now and then, scans all of it again. Tests build
their apps with `create_app` and collect as usual. docs/performance.md has the saving.
"""

import gc

from kanban_api.app import create_app

app = create_app()
gc.collect()
gc.freeze()
