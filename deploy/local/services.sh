#!/usr/bin/env bash
# Runs Keepword's four services and a local SMTP catcher as background processes.
#
#   deploy/local/services.sh start|stop|restart|status
#
# Each process writes its log to .local/logs/<name>.log and its pid to .local/run/<name>.pid.
# `start` is idempotent: a process that is already running is left alone, and the command
# returns once every service answers 200 on /healthz, printing one line per process ("✓ intake
# healthy on :8080 (.local/logs/intake.log)"); one that does not comes with its log's last
# lines. Ports: KEEPWORD_INTAKE_PORT, _ESCALATION_PORT, _COMMITMENTS_PORT, _NOTIFIER_PORT
# (8080-8083), KEEPWORD_SMTP_PORT (the mail catcher, 1025); Kafka and PostgreSQL are found on
# KEEPWORD_KAFKA_PORT and KEEPWORD_POSTGRES_PORT unless KEEPWORD_KAFKA_BOOTSTRAP and
# KEEPWORD_DATABASE_URL say otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=deploy/local/steps.sh
source "$ROOT/deploy/local/steps.sh"
stack_env
LOCAL="${KEEPWORD_LOCAL_DIR:-$ROOT/.local}"
RUN="$LOCAL/run"
LOGS="$LOCAL/logs"
MAIL="$LOCAL/mail"
PY="$ROOT/.venv/bin/python"

export KEEPWORD_CONFIG="${KEEPWORD_CONFIG:-$ROOT/deploy/local/keepword.toml}"
export KEEPWORD_LOG_FORMAT="${KEEPWORD_LOG_FORMAT:-json}"
# A development stack: the development link secret, http:// links and a plain-text database are
# allowed only when this says so (a service refuses them in production, the default).
export KEEPWORD_ENV="${KEEPWORD_ENV:-development}"
# Staff emails count only when proven: the demo's people log in to intake's SMTP listener with
# test passwords (keepword_testkit.stories.smtp_logins), in plain text from this machine only.
if [[ -z "${KEEPWORD_INTAKE_SMTP_USERS:-}" ]]; then
  KEEPWORD_INTAKE_SMTP_USERS=$("$PY" -c 'import sys; from pathlib import Path
from keepword_testkit.stories.smtp_logins import smtp_login_env
print(smtp_login_env(Path(sys.argv[1]))["KEEPWORD_INTAKE_SMTP_USERS"])' "$KEEPWORD_CONFIG")
  export KEEPWORD_INTAKE_SMTP_USERS
  export KEEPWORD_INTAKE_SMTP_AUTH_PLAINTEXT_LOCALHOST=true
fi

# KEEPWORD_MAILBOX=1: intake also reads a local Dovecot's mailbox over IMAP (deploy/local/dovecot.sh,
# IMAPS on KEEPWORD_IMAP_PORT, 9993), as it would a company's: the configuration gets a
# [[mailbox]] table (a copy under .local/), the password comes from the Dovecot state folder.
mailbox_config() {
  local dir="$LOCAL/dovecot" port="${KEEPWORD_IMAP_PORT:-9993}" config="$LOCAL/keepword-mailbox.toml"
  bash "$ROOT/deploy/local/dovecot.sh" start "$dir" "$port" >>"$LOGS/setup.log" 2>&1 ||
    step_fail "Dovecot did not start on :$port" "$LOGS/setup.log" "bash deploy/local/dovecot.sh start $dir $port"
  if [[ "$KEEPWORD_CONFIG" != "$config" ]]; then
    { cat "$KEEPWORD_CONFIG"; printf '\n[[mailbox]]\nname = "support"\nhost = "127.0.0.1"\nport = %s\nca_file = "%s"\nusername = "%s"\npassword_env = "KEEPWORD_MAILBOX_PASSWORD"\n' \
      "$port" "$dir/tls/ca.crt" "$(cat "$dir/user")"; } >"$config"
    KEEPWORD_CONFIG="$config"
  fi
  KEEPWORD_MAILBOX_PASSWORD=$(cat "$dir/password")
  export KEEPWORD_MAILBOX_PASSWORD
  step_ok "Dovecot mailbox $(cat "$dir/user") on :$port, read by intake (deliver: bash deploy/local/dovecot.sh deliver $(shown "$dir") FILE)"
}

# name:port — the HTTP port each service answers /healthz on.
SERVICES=(
  "intake:${KEEPWORD_INTAKE_PORT:-8080}"
  "escalation:${KEEPWORD_ESCALATION_PORT:-8081}"
  "commitments:${KEEPWORD_COMMITMENTS_PORT:-8082}"
  "notifier:${KEEPWORD_NOTIFIER_PORT:-8083}"
  "insights:${KEEPWORD_INSIGHTS_PORT:-8084}"
)
SMTP_PORT="${KEEPWORD_SMTP_PORT:-1025}"

alive() { # pid -> 0 if it runs; a zombie does not count (PID 1 may never reap it here)
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z ]]
}

running() { # name -> 0 if its pid file names a live process
  local pidfile="$RUN/$1.pid"
  [[ -f "$pidfile" ]] && alive "$(cat "$pidfile")"
}

launch() { # name command...
  local name=$1; shift
  if running "$name"; then
    note "services.sh: $name already running (pid $(cat "$RUN/$name.pid"))"
    return
  fi
  setsid nohup "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/$name.pid"
  note "services.sh: $name started (pid $!, log $LOGS/$name.log)"
}

healthy() { # port -> 0 if /healthz answers 200
  "$PY" - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

listening() { # port -> 0 if something accepts TCP connections there
  "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1" 2>/dev/null
}

wait_ready() {
  local deadline=$((SECONDS + ${KEEPWORD_START_TIMEOUT:-120}))
  local pending
  while :; do
    pending=()
    listening "$SMTP_PORT" || pending+=("mailcatcher")
    for entry in "${SERVICES[@]}"; do
      healthy "${entry#*:}" || pending+=("${entry%%:*}")
    done
    [[ ${#pending[@]} -eq 0 ]] && return 0
    if (( SECONDS >= deadline )); then
      for name in "${pending[@]:1}"; do
        note "services.sh: $name not healthy in time; last lines of $LOGS/$name.log:"
        note "$(tail -n 20 "$LOGS/$name.log" 2>/dev/null)"
      done
      step_fail "${pending[*]} not healthy after ${KEEPWORD_START_TIMEOUT:-120}s" \
        "$LOGS/${pending[0]}.log" "$0 restart (logs: $(shown "$LOGS")/)"
    fi
    for name in "${pending[@]}"; do
      if ! running "$name"; then
        STEPS_TAIL_LINES=30 step_fail "$name exited during start-up" "$LOGS/$name.log" \
          "$0 start (after fixing what the log says)"
      fi
    done
    sleep 0.5
  done
}

report_healthy() {
  local entry
  step_ok "mail catcher on :$SMTP_PORT (mail in $(shown "$MAIL")/new/)"
  for entry in "${SERVICES[@]}"; do
    step_ok "${entry%%:*} healthy on :${entry#*:} ($(shown "$LOGS/${entry%%:*}.log"))"
  done
}

any_running() {
  local entry
  for entry in "${SERVICES[@]}"; do running "${entry%%:*}" && return 0; done
  return 1
}

start() {
  mkdir -p "$RUN" "$LOGS" "$MAIL"/{tmp,new,cur}
  [[ -x "$PY" ]] || step_fail "no virtualenv at $(shown "$ROOT/.venv")" "" "make up"
  if [[ "${KEEPWORD_MAILBOX:-0}" == 1 ]]; then mailbox_config; fi
  # The configuration the services run with is recorded, so that `make demo` (and you) can tell
  # the development one (deploy/local/keepword.toml) from the demo's (SLAs in seconds).
  local recorded
  recorded=$(cat "$RUN/config" 2>/dev/null || true)
  if any_running; then
    if [[ -n "$recorded" && "$recorded" != "$KEEPWORD_CONFIG" ]]; then
      echo "! the running services use $(shown "$recorded"), not $(shown "$KEEPWORD_CONFIG");" \
        "'$0 restart' switches them"
    fi
  else
    echo "$KEEPWORD_CONFIG" >"$RUN/config"
  fi
  # The catcher keeps every email as a file in a Maildir: .local/mail/new/
  launch mailcatcher "$PY" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAIL"
  # intake answers HTTP with one worker process per core unless told otherwise.
  export KEEPWORD_INTAKE_WORKERS="${KEEPWORD_INTAKE_WORKERS:-$(nproc)}"
  for entry in "${SERVICES[@]}"; do
    launch "${entry%%:*}" "$PY" -m "keepword_${entry%%:*}"
  done
  wait_ready
  report_healthy
}

stop_one() {
  local name=$1 pidfile="$RUN/$1.pid" pid
  running "$name" || { rm -f "$pidfile"; return; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    alive "$pid" || break
    sleep 0.2
  done
  if alive "$pid"; then
    echo "! $name did not stop in 20 s; killed it (SIGKILL)" >&2
    # Its whole process group (launched with setsid): intake's workers go with their supervisor.
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  STOPPED+=("$name")
}

stop() {
  STOPPED=()
  for entry in "${SERVICES[@]}"; do stop_one "${entry%%:*}"; done
  stop_one mailcatcher
  if [[ -d "$LOCAL/dovecot" ]] && bash "$ROOT/deploy/local/dovecot.sh" status "$LOCAL/dovecot" >/dev/null 2>&1; then
    bash "$ROOT/deploy/local/dovecot.sh" stop "$LOCAL/dovecot" >/dev/null && STOPPED+=(dovecot)
  fi
  rm -f "$RUN/config"
  if ((${#STOPPED[@]})); then step_ok "stopped ${STOPPED[*]}"; else step_ok "services not running"; fi
}

status() {
  local rc=0 name port config_note=""
  [[ -f "$RUN/config" ]] && config_note=" ($(basename "$(cat "$RUN/config")"))"
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}; port=${entry#*:}
    if healthy "$port"; then echo "$name: healthy on :$port${config_note:-}"
    elif running "$name"; then echo "$name: running, not healthy"; rc=1
    else echo "$name: stopped"; rc=1; fi
  done
  if listening "$SMTP_PORT"; then echo "mailcatcher: listening on :$SMTP_PORT (mail in $MAIL/new)"
  else echo "mailcatcher: stopped"; rc=1; fi
  return $rc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
