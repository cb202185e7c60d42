#!/bin/sh
# The stand-in postgres image's entrypoint: on an empty PGDATA, creates the cluster with
# POSTGRES_USER (default postgres), POSTGRES_PASSWORD (scram-sha-256 over the network) and
# POSTGRES_DB, as the official image does for the variables compose.yaml sets; then runs
# the server as the postgres user, listening on every address.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" > /tmp/pwfile
  chown postgres /tmp/pwfile
  su postgres -c "initdb -D '$PGDATA' -U '$POSTGRES_USER' --pwfile=/tmp/pwfile \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8" > /dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  su postgres -c "pg_ctl -D '$PGDATA' -o '-c listen_addresses=' -w start" > /dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    su postgres -c "psql -q -U '$POSTGRES_USER' -d postgres -c 'CREATE DATABASE \"$POSTGRES_DB\"'"
  fi
  su postgres -c "pg_ctl -D '$PGDATA' -m fast -w stop" > /dev/null
fi
if [ "$1" = postgres ]; then
  shift
  exec su postgres -c "exec postgres -D '$PGDATA' -c listen_addresses='*' $*"
fi
exec "$@"
