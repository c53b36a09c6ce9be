#!/usr/bin/env bash
# `make demo`: plays Keepword's stories through the running services and checks that every
# story's expected emails reached the mail catcher (exit 1 if not).
#
# The stories need SLAs in seconds: when the services run with another configuration (the
# development one `make up` uses), they are restarted with deploy/local/demo.toml, and stay so
# until `deploy/local/services.sh restart` (or `make down && make up`) brings the development
# configuration back.
#
# The services must also be caught up with the topics, or the stories wait behind everything
# else. A broker that has carried tests and benchmarks may hold millions of records the local
# services never read: the demo then stops and says so; KEEPWORD_DEMO_SKIP_BACKLOG=1 moves the
# services' consumer groups to the end of the topics first (what they had not read is skipped).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOCAL="${KEEPWORD_LOCAL_DIR:-$ROOT/.local}"
DEMO_CONFIG="$ROOT/deploy/local/demo.toml"
BIN="$ROOT/.venv/bin"
SERVICES_SH="$ROOT/deploy/local/services.sh"
SERVICE_GROUPS=(keepword-commitments keepword-escalation keepword-notifier)
MAX_BACKLOG="${KEEPWORD_DEMO_MAX_BACKLOG:-20000}"
# shellcheck source=deploy/local/steps.sh
source "$ROOT/deploy/local/steps.sh"
stack_env

export KEEPWORD_CONFIG="$DEMO_CONFIG"
# Escalation emails to one manager within 10 s come as one digest (300 s outside the demo).
export KEEPWORD_NOTIFIER_DIGEST_SECONDS="${KEEPWORD_NOTIFIER_DIGEST_SECONDS:-10}"

backlog() { # total lag of the services' consumer groups
  "$BIN/keepword" lag --group 'keepword-*' --json 2>/dev/null | "$BIN/python" -c '
import json, sys
groups = json.load(sys.stdin)["groups"]
print(sum(g["lag"] for g in groups if g["group"] in sys.argv[1:]))' "${SERVICE_GROUPS[@]}"
}

behind=$(backlog)
restart=no
[[ "$(cat "$LOCAL/run/config" 2>/dev/null || true)" != "$DEMO_CONFIG" ]] && restart=yes
if (( behind > MAX_BACKLOG )); then
  if [[ "${KEEPWORD_DEMO_SKIP_BACKLOG:-}" != 1 ]]; then
    echo "The services are $behind records behind on the topics (records written by tests or" >&2
    echo "benchmarks on this broker): the stories would wait behind them. Either let them catch" >&2
    echo "up (keepword lag), or skip what they have not read:" >&2
    echo "  KEEPWORD_DEMO_SKIP_BACKLOG=1 make demo" >&2
    exit 1
  fi
  echo "Skipping $behind unread records: moving the services' consumer groups to the end."
  "$SERVICES_SH" stop >/dev/null
  for group in "${SERVICE_GROUPS[@]}"; do
    "$BIN/keepword" groups reset "$group" --to latest >/dev/null
  done
  restart=yes
fi
if [[ $restart == yes ]]; then
  echo "Starting the services with deploy/local/demo.toml (SLAs in seconds);"
  echo "'deploy/local/services.sh restart' brings back deploy/local/keepword.toml afterwards."
  "$SERVICES_SH" stop >/dev/null
  "$SERVICES_SH" start
else
  "$SERVICES_SH" start >/dev/null
fi

# A fresh intake API key for the demo (the previous demo's is revoked).
"$BIN/keepword" apikey revoke demo >/dev/null 2>&1 || true
KEEPWORD_DEMO_API_KEY=$("$BIN/keepword" apikey create demo 2>/dev/null)
export KEEPWORD_DEMO_API_KEY

cd "$ROOT"
exec "$BIN/python" -m keepword_testkit.demo --maildir "$LOCAL/mail" "$@"
