#!/usr/bin/env bash
# Starts the mail servers of the mail tests on loopback, installing them from
# Debian's packages when missing:
#   - Dovecot: IMAP on 127.0.0.1:1143 (STARTTLS offered), IMAPS on 1993,
#     LMTP on 2424, SASL for the MTA on 2426; mailboxes in tests/mail/users.
#   - Postfix: SMTP on 127.0.0.1:2525 (STARTTLS and AUTH offered), which hands
#     every message for crm.example and customer.example to Dovecot's LMTP.
# A test CA and a certificate for 127.0.0.1 / localhost are made on first
# start; tests trust $STATE/tls/ca.pem.
#
# Idempotent: servers already up are left alone. State (mail, queues, logs,
# certificates) lives in $INVITELINK_MAIL_STATE (default
# ${TMPDIR:-/tmp}/invitelink-mail). Stop with stop-servers.sh.
#
# Needs root (Postfix's master runs as root; both drop privileges), or sudo.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${INVITELINK_MAIL_STATE:-${TMPDIR:-/tmp}/invitelink-mail}"
IMAP_PORT=1143
IMAPS_PORT=1993
LMTP_PORT=2424
AUTH_PORT=2426
SMTP_PORT=2525

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n env "INVITELINK_MAIL_STATE=$STATE" bash "$0" "$@"
  fi
  echo "start-servers.sh: Postfix must be started as root (run as root or with passwordless sudo)" >&2
  exit 2
fi

log() { echo "start-servers.sh: $*" >&2; }

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_port() {
  local port=$1 what=$2
  for _ in $(seq 1 100); do
    port_open "$port" && return 0
    sleep 0.1
  done
  log "$what did not open 127.0.0.1:$port; its log:"
  tail -n 40 "$STATE/log/$what.log" >&2 2>/dev/null || true
  return 1
}

install_packages() {
  local need=()
  command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
  command -v postfix >/dev/null 2>&1 || need+=(postfix)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  [ "${#need[@]}" -eq 0 ] && return 0
  log "installing ${need[*]}"
  # "No configuration": the package neither writes /etc/postfix/main.cf nor
  # starts a system-wide Postfix; ours runs from its own configuration.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >/dev/null
}

make_certificates() {
  local tls="$STATE/tls"
  [ -s "$tls/server.pem" ] && [ -s "$tls/ca.pem" ] && return 0
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=invitelink test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 3650 \
    -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
  chmod 0644 "$tls/ca.pem" "$tls/server.pem"
  chmod 0600 "$tls/ca.key" "$tls/server.key"
}

render() {
  sed -e "s|@STATE@|$STATE|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
    -e "s|@LMTP_PORT@|$LMTP_PORT|g" -e "s|@AUTH_PORT@|$AUTH_PORT|g" -e "s|@SMTP_PORT@|$SMTP_PORT|g" \
    -e "s|@MAIL_UID@|$MAIL_UID|g" -e "s|@MAIL_GID@|$MAIL_GID|g" "$1"
}

start_dovecot() {
  if port_open "$IMAP_PORT" && port_open "$LMTP_PORT" && port_open "$AUTH_PORT" && port_open "$IMAPS_PORT"; then
    return 0
  fi
  mkdir -p "$STATE/dovecot/run" "$STATE/dovecot/lib" "$STATE/mail" "$STATE/home"
  render "$HERE/dovecot.conf.in" >"$STATE/dovecot/dovecot.conf"
  grep -v '^#' "$HERE/users" | awk 'NF == 2 { print $1 ":" $2 }' | sed 's/:/:{PLAIN}/' >"$STATE/dovecot/users"
  chmod 0640 "$STATE/dovecot/users"
  chown "root:dovecot" "$STATE/dovecot/users"
  chown "$MAIL_UID:$MAIL_GID" "$STATE/mail" "$STATE/home"
  dovecot -c "$STATE/dovecot/dovecot.conf" </dev/null >>"$STATE/log/dovecot.log" 2>&1 9>&-
  wait_for_port "$IMAP_PORT" dovecot
  wait_for_port "$LMTP_PORT" dovecot
  wait_for_port "$AUTH_PORT" dovecot
}

start_postfix() {
  port_open "$SMTP_PORT" && return 0
  local conf="$STATE/postfix/conf"
  mkdir -p "$conf" "$STATE/postfix/queue" "$STATE/postfix/data"
  render "$HERE/main.cf.in" >"$conf/main.cf"
  render "$HERE/master.cf.in" >"$conf/master.cf"
  grep -v '^#' "$HERE/users" | awk 'NF == 2 { print $1 " ok" }' >"$STATE/postfix/mailboxes"
  chown postfix "$STATE/postfix/data"
  # A stale master.pid from a killed run would stop `postfix start`.
  rm -f "$STATE/postfix/queue/pid/master.pid"
  postfix -c "$conf" check >>"$STATE/log/postfix.log" 2>&1 || true
  if ! postfix -c "$conf" start </dev/null >>"$STATE/log/postfix.log" 2>&1 9>&-; then
    # Postfix writes its fatal errors to a terminal only: show them through one.
    script -qec "postfix -c '$conf' start" /dev/null >&2 9>&- || true
    return 1
  fi
  wait_for_port "$SMTP_PORT" postfix
}

install_packages
mkdir -p "$STATE/log"
chmod 0755 "$STATE"
MAIL_UID="$(id -u nobody)"
MAIL_GID="$(id -g nobody)"
exec 9>"$STATE/.lock"
flock 9
# Servers started from other settings (the users or a configuration changed
# since, or started by an older version of this script) are stopped first
# and started again from these.
FINGERPRINT="$(cat "$HERE/users" "$HERE/dovecot.conf.in" "$HERE/main.cf.in" "$HERE/master.cf.in" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STATE/.fingerprint" 2>/dev/null)" != "$FINGERPRINT" ] && { port_open "$IMAP_PORT" || port_open "$SMTP_PORT"; }; then
  log "the settings changed: restarting the servers"
  bash "$HERE/stop-servers.sh" >&2 9>&-
fi
echo "$FINGERPRINT" >"$STATE/.fingerprint"
make_certificates
start_dovecot
start_postfix
echo "IMAP 127.0.0.1:$IMAP_PORT (IMAPS $IMAPS_PORT), SMTP 127.0.0.1:$SMTP_PORT, state $STATE"
