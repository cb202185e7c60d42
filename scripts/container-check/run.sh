#!/usr/bin/env bash
# The container check: builds the image, brings compose.yaml up and drives one sign-up, login,
# board and card through it, then removes everything it made. Run by `nox -s container`.
#
# It runs when KANBAN_CONTAINER_CHECK=1 or CI is set, and otherwise says loudly that it was
# skipped. Where containers cannot run (not root, no apt-get to install docker.io, a daemon
# that does not start), it is skipped loudly too; a build or a stack that fails, fails.
#
# KANBAN_CONTAINER_BASE=debootstrap (the default) starts a private Docker daemon (Debian's
# docker.io and docker-compose, installed if missing) and builds the base images from Debian's
# packages (base-images.sh), for machines without a container registry. KANBAN_CONTAINER_BASE=pull
# uses the machine's own `docker` and `docker compose` and the registry's images, as on CI hosts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${KANBAN_CONTAINER_BASE:-debootstrap}
project=kanbancheck$$
image=kanban-api:check-$$

banner() {
  printf '\n%s\n%s\n%s\n\n' "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" \
    "$1" "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}
skip() {
  banner "CONTAINER CHECK SKIPPED: $1"
  exit 0
}

if [ "${KANBAN_CONTAINER_CHECK:-}" != 1 ] && [ -z "${CI:-}" ]; then
  skip "set KANBAN_CONTAINER_CHECK=1 to build the image and run compose.yaml (needs root)"
fi
[ "$(uname -s)" = Linux ] || skip "containers are checked on Linux only"

work=$(mktemp -d /tmp/kanban-container-check.XXXXXX)
daemon_pid=
docker=(docker)
compose=(docker compose)

cleanup() {
  set +e
  if [ -n "${compose_ready:-}" ]; then
    stack down --volumes --remove-orphans > "$work/down.log" 2>&1
  fi
  if [ -n "${firewall_rule:-}" ]; then
    iptables -D FORWARD -i kanbancheck0 -o kanbancheck0 -j ACCEPT
  fi
  "${docker[@]}" rmi -f "$image" > /dev/null 2>&1
  if [ -n "$daemon_pid" ]; then
    "${docker[@]}" rmi -f python:3.11-slim-bookworm postgres:15-bookworm > /dev/null 2>&1
    "${docker[@]}" system prune --all --force --volumes > /dev/null 2>&1
    kill "$daemon_pid" 2> /dev/null
    for _ in $(seq 30); do kill -0 "$daemon_pid" 2> /dev/null || break; sleep 1; done
    kill -9 "$daemon_pid" 2> /dev/null
    # What the daemon left mounted (its network namespace, layers), deepest first.
    awk -v work="$work" 'index($2, work) == 1 {print $2}' /proc/mounts | sort -r \
      | while read -r mounted; do umount "$mounted"; done
  fi
  rm -rf "$work" 2> /dev/null || true
}
trap cleanup EXIT

stack() {
  "${compose[@]}" -p "$project" -f "$root/compose.yaml" -f "$here/compose.check.yaml" "$@"
}

# A Docker daemon of our own: its own data, socket and no host firewall or bridge changes;
# builds use the host's network, the stack a network of its own.
start_daemon() {
  if ! command -v dockerd > /dev/null || ! command -v docker-compose > /dev/null \
    || ! command -v debootstrap > /dev/null || ! [ -x /usr/bin/docker ]; then
    command -v apt-get > /dev/null || skip "no apt-get to install docker.io and debootstrap"
    echo "container check: installing docker.io, docker-compose and debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io docker-compose debootstrap \
      > "$work/apt.log" 2>&1 \
      || { apt-get update -q > /dev/null 2>&1 \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io docker-compose \
          debootstrap > "$work/apt.log" 2>&1; } \
      || skip "could not install docker.io: $(tail -n 1 "$work/apt.log")"
  fi
  local socket="unix://$work/docker.sock"
  dockerd --data-root "$work/docker" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
    -H "$socket" --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
    > "$work/dockerd.log" 2>&1 &
  daemon_pid=$!
  # Debian's client, which speaks the daemon's API version, whatever else is on PATH.
  docker=(/usr/bin/docker -H "$socket")
  compose=(env DOCKER_HOST="$socket" docker-compose)
  for _ in $(seq 60); do
    "${docker[@]}" info > /dev/null 2>&1 && return 0
    kill -0 "$daemon_pid" 2> /dev/null || break
    sleep 1
  done
  skip "the Docker daemon did not start: $(tail -n 1 "$work/dockerd.log")"
}

if [ "$mode" = debootstrap ]; then
  [ "$(id -u)" = 0 ] || skip "a private Docker daemon needs root"
  start_daemon
  echo "container check: base images from Debian's packages (debootstrap)"
  bash "$here/base-images.sh" "${docker[@]}" > "$work/base.log" 2>&1 \
    || { tail -n 20 "$work/base.log"; skip "could not build the base images from Debian's mirror"; }
else
  docker info > /dev/null 2>&1 || skip "no Docker daemon answers"
fi

echo "container check: building the image"
"${docker[@]}" build --network host -t "$image" "$root"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export KANBAN_IMAGE="$image" KANBAN_PUBLISH="127.0.0.1:$port" POSTGRES_PASSWORD="check-$$"
echo "container check: starting compose.yaml on 127.0.0.1:$port"
compose_ready=1
# Bridged traffic passes the host's FORWARD chain; some hosts (those with a Docker of their
# own) drop it by default.
if [ "$mode" = debootstrap ] && iptables -S FORWARD 2> /dev/null | grep -q '^-P FORWARD DROP'; then
  iptables -I FORWARD -i kanbancheck0 -o kanbancheck0 -j ACCEPT && firewall_rule=1
fi
stack up -d --no-build

status=starting
for _ in $(seq 90); do
  status=$("${docker[@]}" inspect --format '{{.State.Health.Status}}' "$(stack ps -q api)" \
    2> /dev/null || echo starting)
  [ "$status" = healthy ] && break
  sleep 2
done
if [ "$status" != healthy ]; then
  stack logs --tail 50
  echo "container check FAILED: the api container is $status" >&2
  exit 1
fi

python3 "$here/drive.py" "http://127.0.0.1:$port"
banner "CONTAINER CHECK PASSED: image built, compose.yaml up, sign-up, login, board and card"
