#!/usr/bin/env bash
# Stops the PostgreSQL server started by tests/pg/start.sh (same
# INVITELINK_PG_DIR); `--clean` also deletes its data. Idempotent.
set -euo pipefail

dir="${INVITELINK_PG_DIR:-/tmp/invitelink-pg}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
as_owner=()
[ "$(id -u)" -eq 0 ] && as_owner=(runuser -u postgres --)

if [ -n "$bin" ] && [ -f "$dir/data/PG_VERSION" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
fi
if [ "${1:-}" = "--clean" ]; then
  rm -rf "$dir"
fi
