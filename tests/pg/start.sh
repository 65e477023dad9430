#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the backend's tests and prints its
# server-level URL (for INVITELINK_TEST_DATABASE or `serve --database`).
#
#   tests/pg/start.sh            # data in $INVITELINK_PG_DIR (default /tmp/invitelink-pg)
#   INVITELINK_PG_PORT=55432     # loopback port (default 55432)
#
# Idempotent: when the server of that directory already runs, only prints the
# URL. Needs Debian's `postgresql` package (installed here when missing and
# running as root). As root, the server runs as the `postgres` user. Trust
# authentication on 127.0.0.1 only: for tests, never for production.
set -euo pipefail

dir="${INVITELINK_PG_DIR:-/tmp/invitelink-pg}"
port="${INVITELINK_PG_PORT:-55432}"

bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

bin="$(bindir || true)"
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/pg/start.sh: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
    exit 1
  fi
  echo "tests/pg/start.sh: installing PostgreSQL" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  bin="$(bindir)"
fi

# As root, everything runs as `postgres` (initdb and postgres refuse root).
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  as_owner=(runuser -u postgres --)
fi

url="postgres://postgres@127.0.0.1:${port}/postgres"

mkdir -p "$dir"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    echo "tests/pg/start.sh: the postgres user cannot reach $dir (set INVITELINK_PG_DIR under /tmp)" >&2
    exit 1
  fi
fi
chmod 700 "$dir"

if [ -f "$dir/data/PG_VERSION" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  echo "$url"
  exit 0
fi

if [ ! -f "$dir/data/PG_VERSION" ]; then
  "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${dir}'
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
CONF
else
  # The port may differ from the one of the first start.
  sed -i "s/^port = .*/port = ${port}/" "$dir/data/postgresql.conf"
fi

"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
  || { tail -n 20 "$dir/server.log" >&2; exit 1; }
echo "$url"
