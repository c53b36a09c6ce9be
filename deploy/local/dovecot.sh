#!/usr/bin/env bash
# Local Dovecot (IMAP + LMTP) for Keepword's mailbox connector: a real mail server from Debian's
# packages, one private instance per state folder, for `make up` and the tests.
#
# Usage: deploy/local/dovecot.sh <command> [args]
#   install             install Debian's dovecot-imapd and dovecot-lmtpd if missing
#   start DIR PORT      install if needed; make a CA and a server certificate (once), the
#                       mailbox's user and password (once), then start the instance and wait
#                       until it answers. IMAP over TLS on PORT, IMAP with STARTTLS (required
#                       before login) on PORT+1, LMTP on the unix socket DIR/run/lmtp.
#                       Returns at once if it is already running.
#   stop DIR            stop the instance (the mail is kept) and wait until it is gone
#   status DIR          exit 0 when running, 3 when not
#   deliver DIR FILE [FOLDER]  deliver one RFC 5322 message into the user's INBOX (or FOLDER,
#                       made when missing), as an MTA does (dovecot-lda); FILE "-" reads stdin.
#                       Over LMTP, the recipient USER+FOLDER@domain does the same.
#   doveadm DIR ARGS    doveadm against this instance (e.g. `mailbox status -u USER all INBOX`)
#   destroy DIR         stop it and delete its mail, certificates and password
#
# Environment:
#   KEEPWORD_DOVECOT_USER      the mailbox's login (default support@brightline.example, the
#                              development configuration's support address)
#   KEEPWORD_DOVECOT_PASSWORD  its password (default: a random one made on first start)
#
# Files under DIR (what clients need): tls/ca.crt (the CA to trust), user, password,
# dovecot.log. Run as root, the instance's mail processes run as Debian's `dovecot` user (mail is
# never accessed as root); that user must reach the state folder, so when it cannot (a folder
# below /root, a private temporary folder) or the socket paths would be too long, the state
# lives in /var/lib/keepword-dovecot/<hash of DIR>/ and DIR/state links to it.
# Run as another user, everything runs as that user, in place.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=deploy/local/steps.sh
source "$ROOT/deploy/local/steps.sh"

EXTERNAL_BASE=/var/lib/keepword-dovecot
MAIL_OS_USER=dovecot
START_TIMEOUT=30

die() {
  note "dovecot.sh: error: $1"
  step_fail "dovecot.sh: $1" "${2:-}" "${3:-"details in $(shown "$SETUP_LOG")"}"
}

is_root() { [[ $EUID -eq 0 ]]; }

installed() { [[ -x /usr/sbin/dovecot && -x /usr/lib/dovecot/imap && -x /usr/lib/dovecot/lmtp ]]; }

install() {
  installed && return 0
  is_root || die "Dovecot is missing and installing it needs root" "" \
    "sudo apt-get install dovecot-imapd dovecot-lmtpd"
  export DEBIAN_FRONTEND=noninteractive
  logged apt-get install -y dovecot-imapd dovecot-lmtpd ||
    { logged apt-get update && logged apt-get install -y dovecot-imapd dovecot-lmtpd; } ||
    die "apt-get install dovecot-imapd dovecot-lmtpd failed" "$SETUP_LOG"
  # Debian's own instance (ports 143/993) is not ours: keep it from running.
  if [[ -d /run/systemd/system ]]; then
    logged systemctl disable --now dovecot.service dovecot.socket || true
  fi
  step_ok "Dovecot installed ($(dovecot --version | cut -d' ' -f1))"
}

# The folder that holds the instance's files (see the header).
state_dir() {
  local dir=$1 resolved
  mkdir -p -- "$dir"
  resolved=$(cd "$dir" && pwd -P)
  if [[ -L $dir/state ]]; then
    readlink -f -- "$dir/state"
    return
  fi
  if is_root && { ! runuser -u "$MAIL_OS_USER" -- test -x "$resolved" ||
    ((${#resolved} > 60)); }; then
    local external
    external=$EXTERNAL_BASE/$(printf '%s' "$resolved" | sha256sum | cut -c1-16)
    mkdir -p -m 0755 -- "$EXTERNAL_BASE" "$external"
    ln -sfn -- "$external" "$dir/state"
    printf '%s\n' "$external"
    return
  fi
  printf '%s\n' "$resolved"
}

make_certificates() {
  local tls=$1
  [[ -s $tls/server.crt && -s $tls/ca.crt ]] && return 0
  mkdir -p -m 0755 -- "$tls"
  logged openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Keepword local CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" || die "openssl could not make the CA"
  logged openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" || die "openssl could not make a key"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tls/ext"
  logged openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 3650 -extfile "$tls/ext" -out "$tls/server.crt" ||
    die "openssl could not sign the server certificate"
  chmod 0600 -- "$tls/ca.key" "$tls/server.key"
}

write_config() {
  local state=$1 port=$2 user=$3 starttls_port=$(($2 + 1)) identity
  local first_uid
  if is_root; then
    identity="uid=$MAIL_OS_USER gid=$MAIL_OS_USER "
    first_uid=$(id -u "$MAIL_OS_USER")
  else
    identity=""
    first_uid=$(id -u)
  fi
  {
    printf '# Written by deploy/local/dovecot.sh on every start: edit the script, not this.\n'
    printf 'base_dir = %s/run\n' "$state"
    printf 'instance_name = keepword-%s\n' "$(printf '%s' "$state" | sha256sum | cut -c1-8)"
    printf 'state_dir = %s/lib\n' "$state"
    printf 'log_path = %s/dovecot.log\n' "$state"
    printf 'protocols = imap lmtp\nlisten = 127.0.0.1\n'
    printf 'ssl = required\nssl_cert = <%s/tls/server.crt\nssl_key = <%s/tls/server.key\n' \
      "$state" "$state"
    printf 'ssl_min_protocol = TLSv1.2\nauth_mechanisms = plain login\n'
    printf 'passdb {\n  driver = passwd-file\n  args = scheme=SHA512-CRYPT %s/passwd\n}\n' "$state"
    printf 'userdb {\n  driver = static\n  args = %shome=%s/mail/%%u\n}\n' "$identity" "$state"
    printf 'first_valid_uid = %s\nmail_location = maildir:~/Maildir\n' "$first_uid"
    printf 'namespace inbox {\n  inbox = yes\n  separator = /\n'
    printf '  mailbox Sent {\n    auto = subscribe\n    special_use = \\Sent\n  }\n}\n'
    printf 'service imap-login {\n'
    printf '  inet_listener imap {\n    port = %s\n  }\n' "$starttls_port"
    printf '  inet_listener imaps {\n    port = %s\n    ssl = yes\n  }\n' "$port"
    is_root || printf '  chroot =\n'
    printf '}\n'
    printf 'service lmtp {\n  unix_listener lmtp {\n    mode = 0666\n  }\n}\n'
    if ! is_root; then
      printf 'default_internal_user = %s\ndefault_login_user = %s\n' "$(id -un)" "$(id -un)"
      printf 'service anvil {\n  chroot =\n}\n'
    fi
    # USER+Folder@domain delivers into Folder (made when missing): tests keep apart that way.
    printf 'lmtp_save_to_detail_mailbox = yes\nrecipient_delimiter = +\nlda_mailbox_autocreate = yes\n'
    printf '# mail for %s only\n' "$user"
  } >"$state/dovecot.conf"
}

running() {
  local state=$1 pid
  [[ -s $state/run/master.pid ]] || return 1
  pid=$(<"$state/run/master.pid")
  kill -0 "$pid" 2>/dev/null
}

start() {
  local dir=${1:?usage: dovecot.sh start DIR PORT} port=${2:?usage: dovecot.sh start DIR PORT}
  [[ $port =~ ^[1-9][0-9]{0,4}$ ]] && ((port < 65535)) || die "PORT must be a TCP port, got '$port'"
  install
  local state user password
  state=$(state_dir "$dir")
  if running "$state"; then
    step_ok "Dovecot already running ($(shown "$dir"))"
    return 0
  fi
  user=${KEEPWORD_DOVECOT_USER:-$(cat "$state/user" 2>/dev/null || echo support@brightline.example)}
  if [[ -n ${KEEPWORD_DOVECOT_PASSWORD:-} ]]; then
    password=$KEEPWORD_DOVECOT_PASSWORD
  elif [[ -s $state/password ]]; then
    password=$(<"$state/password")
  else
    password=$(openssl rand -hex 16)
  fi
  mkdir -p -m 0755 -- "$state/run" "$state/lib" "$state/mail"
  (umask 077 && printf '%s' "$password" >"$state/password" && printf '%s' "$user" >"$state/user")
  printf '%s:%s\n' "$user" "$(doveadm pw -s SHA512-CRYPT -p "$password")" >"$state/passwd"
  make_certificates "$state/tls"
  write_config "$state" "$port" "$user"
  if is_root; then
    chown -- "$MAIL_OS_USER:$MAIL_OS_USER" "$state/mail"
    chown -- "root:$MAIL_OS_USER" "$state/passwd"
    chmod 0640 -- "$state/passwd"
  fi
  if [[ $state != "$(cd "$dir" && pwd -P)" ]]; then
    ln -sfn -- "$state/tls" "$dir/tls"
    ln -sfn -- "$state/password" "$dir/password"
    ln -sfn -- "$state/user" "$dir/user"
    ln -sfn -- "$state/dovecot.log" "$dir/dovecot.log"
  fi
  logged dovecot -c "$state/dovecot.conf" ||
    die "dovecot did not start" "$state/dovecot.log"
  local waited=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [[ -S $state/run/lmtp ]]; do
    sleep 0.1
    waited=$((waited + 1))
    running "$state" || die "dovecot exited while starting" "$state/dovecot.log"
    ((waited < START_TIMEOUT * 10)) || die "dovecot did not answer on $port" "$state/dovecot.log"
  done
  step_ok "Dovecot started: IMAPS 127.0.0.1:$port, STARTTLS $((port + 1)), user $user ($(shown "$dir"))"
}

stop() {
  local dir=${1:?usage: dovecot.sh stop DIR} state pid waited=0
  [[ -d $dir ]] || return 0
  state=$(state_dir "$dir")
  running "$state" || return 0
  pid=$(<"$state/run/master.pid")
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
    waited=$((waited + 1))
    if ((waited > 300)); then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
  done
  # The master is gone; its children follow it within moments, and a new master can start.
  step_ok "Dovecot stopped ($(shown "$dir"))"
}

deliver() {
  local dir=${1:?usage: dovecot.sh deliver DIR FILE} file=${2:?usage: dovecot.sh deliver DIR FILE}
  local state folder=${3:-INBOX}
  state=$(state_dir "$dir")
  [[ -s $state/dovecot.conf ]] || die "no instance in $(shown "$dir"): run start first"
  [[ $file == - ]] && file=/dev/stdin
  /usr/lib/dovecot/dovecot-lda -c "$state/dovecot.conf" -d "$(<"$state/user")" -m "$folder" \
    -o lda_mailbox_autocreate=yes <"$file"
}

case ${1:-} in
  install) installed && step_ok "Dovecot ready ($(dovecot --version | cut -d' ' -f1))" || install ;;
  start) start "${2:-}" "${3:-}" ;;
  stop) stop "${2:?usage: dovecot.sh stop DIR}" ;;
  status)
    [[ -d ${2:?usage: dovecot.sh status DIR} ]] || exit 3
    running "$(state_dir "$2")" || exit 3
    ;;
  deliver) deliver "${2:-}" "${3:-}" "${4:-}" ;;
  doveadm)
    dir=${2:?usage: dovecot.sh doveadm DIR ARGS}
    shift 2
    exec doveadm -c "$(state_dir "$dir")/dovecot.conf" "$@"
    ;;
  destroy)
    dir=${2:?usage: dovecot.sh destroy DIR}
    [[ -d $dir ]] || exit 0
    stop "$dir" >/dev/null
    state=$(state_dir "$dir")
    [[ $state == "$EXTERNAL_BASE"/* ]] && rm -rf -- "$state"
    rm -rf -- "$dir"
    ;;
  *)
    echo "usage: $0 install | start DIR PORT | stop DIR | status DIR | deliver DIR FILE | doveadm DIR ARGS | destroy DIR" >&2
    exit 2
    ;;
esac
