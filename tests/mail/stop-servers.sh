#!/usr/bin/env bash
# Stops the mail servers that start-servers.sh started. With --clean, also
# removes their state (mail, queues, logs, certificates).
set -uo pipefail

STATE="${INVITELINK_MAIL_STATE:-${TMPDIR:-/tmp}/invitelink-mail}"
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -n env "INVITELINK_MAIL_STATE=$STATE" bash "$0" "$@"
fi

if [ -f "$STATE/postfix/conf/main.cf" ]; then
  postfix -c "$STATE/postfix/conf" stop >/dev/null 2>&1 || true
fi
if [ -f "$STATE/dovecot/dovecot.conf" ]; then
  doveadm -c "$STATE/dovecot/dovecot.conf" stop >/dev/null 2>&1 || true
fi
# Wait (bounded) for the listeners to close.
for _ in $(seq 1 50); do
  if ! (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/1143) 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ "${1:-}" = "--clean" ]; then
  rm -rf "$STATE"
fi
echo "mail servers stopped"
