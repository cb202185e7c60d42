"""The app instance servers import (`uvicorn kanban_api.main:app`, `kanban-api serve`).

What importing and building the app makes (modules, classes, schemas, mappers: most of
a worker's objects) lives as long as the process, so it is frozen out of the garbage
collector's reach (`gc.freeze`): otherwise every full collection, which the many objects
a large answer leaves behind trigger now and then, scans all of it again. Tests build
their apps with `create_app` and collect as usual. docs/performance.md has the saving.

Log records leave out what no line of the server's shows (cli.log_config: the message and
the level): the calling function's file and line, found by walking the stack, and the
thread's and process's names, as the logging HOWTO's "Optimization" section describes.
The access log writes a record per request, under a deep stack of middleware.
"""

import gc
import logging

from kanban_api.app import create_app

logging._srcfile = None  # the HOWTO's switch, underscore and all
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False

app = create_app()
gc.collect()
gc.freeze()
