#!/bin/sh
# The image's entrypoint: `kanban-api ARGS` (default `serve --host 0.0.0.0 --port 8000`).
# - Without KANBAN_SECRET_KEY, the key is read from KANBAN_SECRET_KEY_FILE, which is created
#   with a random key on first start: keep that file on a volume so tokens survive restarts.
# - `serve` first runs `kanban-api migrate` unless KANBAN_MIGRATE_ON_START=0 (set it to 0 when
#   several containers start at once, and run `kanban-api migrate` once before them).
set -eu
if [ -z "${KANBAN_SECRET_KEY:-}" ] && [ -n "${KANBAN_SECRET_KEY_FILE:-}" ]; then
  if [ ! -s "$KANBAN_SECRET_KEY_FILE" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' \
      > "$KANBAN_SECRET_KEY_FILE")
  fi
  KANBAN_SECRET_KEY=$(cat "$KANBAN_SECRET_KEY_FILE")
  export KANBAN_SECRET_KEY
fi
if [ "${1:-}" = serve ] && [ "${KANBAN_MIGRATE_ON_START:-1}" = 1 ]; then
  kanban-api migrate
fi
exec kanban-api "$@"
