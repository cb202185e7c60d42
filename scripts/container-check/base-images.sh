#!/usr/bin/env bash
# Builds the two base images the Dockerfile and compose.yaml name, from Debian's packages, for
# machines that reach Debian's mirror but no container registry:
#   python:3.11-slim-bookworm   Debian 12 with python3 and python3-venv
#   postgres:15-bookworm        Debian 12 with PostgreSQL 15 and an entrypoint that honours
#                               POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB like the real one
# Usage: base-images.sh DOCKER_COMMAND...   (e.g. base-images.sh docker -H unix:///run/x.sock)
# The root filesystems are cached as tarballs in $KANBAN_CHECK_CACHE (a week at most), since
# debootstrap is the slowest step; the images themselves are removed by the caller.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
docker=("$@")
cache=${KANBAN_CHECK_CACHE:-/var/cache/kanban-api-container-check}
# The cache is only reused for the same recipe: any change to this folder rebuilds it.
recipe=$(cat "$here"/base-images.sh "$here"/postgres-entrypoint.sh | sha256sum | cut -c1-12)
mkdir -p "$cache"
find "$cache" -name '*.tar' -mtime +7 -delete

# The mirror apt uses on this machine (deb822 `URIs:` or one-line `deb` sources).
mirror() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null \
    | { awk '/^URIs:/ {print $2} /^deb / {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; break}}' \
    | grep -E '/debian/?$' | head -n 1; } || true
}

in_root() {
  local root=$1
  shift
  chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

# A minimal Debian 12 tree that can install packages: the host's CA certificates (a proxy's
# included) and resolver, no service starts, no valid-until check on a snapshot mirror.
make_root() {
  local root=$1 url
  url=$(mirror)
  [ -n "$url" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; return 1; }
  echo "debootstrap bookworm from $url" >&2
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$url" >&2
  printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' \
    > "$root/etc/apt/apt.conf.d/99container"
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/host.crt"
  in_root "$root" update-ca-certificates >&2
}

finish_root() {
  local root=$1 tarball=$2
  in_root "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root/etc/resolv.conf"
  tar -C "$root" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
}

build_tarballs() {
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  make_root "$work/python"
  cp -a "$work/python" "$work/postgres"

  in_root "$work/python" apt-get install -y -q python3 python3-venv >&2
  in_root "$work/python" ln -sf /usr/bin/python3 /usr/local/bin/python
  finish_root "$work/python" "$cache/python-$recipe.tar"

  mkdir -p "$work/postgres/etc/postgresql-common"
  echo "create_main_cluster = false" > "$work/postgres/etc/postgresql-common/createcluster.conf"
  in_root "$work/postgres" apt-get install -y -q postgresql-15 >&2
  install -m 755 "$here/postgres-entrypoint.sh" "$work/postgres/usr/local/bin/docker-entrypoint.sh"
  finish_root "$work/postgres" "$cache/postgres-$recipe.tar"
}

if [ ! -f "$cache/python-$recipe.tar" ] || [ ! -f "$cache/postgres-$recipe.tar" ]; then
  build_tarballs
else
  echo "base root filesystems from $cache (recipe $recipe)" >&2
fi

"${docker[@]}" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  "$cache/python-$recipe.tar" python:3.11-slim-bookworm
"${docker[@]}" import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  --change 'EXPOSE 5432' \
  "$cache/postgres-$recipe.tar" postgres:15-bookworm
