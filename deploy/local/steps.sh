#!/usr/bin/env bash
# One line per set-up step: "✓ what happened" when it worked; when it did not, "✗ what failed",
# the last lines of the log that says why, and the command to run next (exit 1). Everything
# else goes to log files under .local/logs/: installers' output (apt-get, pip, uv, Maven) to
# setup.log, each server's and service's own log beside it.
#
# The other scripts here source this file. Run directly, it wraps one command for the Makefile:
#
#   deploy/local/steps.sh run "<what>" "<next command>" [--last | --summary] -- <command> [args...]
#
# The command's output goes to .local/logs/setup.log. On success: "✓ <what>"; with --last,
# followed by the last line the command printed (mypy's "Success: no issues found in 312 source
# files"); with --summary, that line alone (`keepword db migrate --quiet`'s). On failure:
# "✗ <what>", the command's output (its last 60 lines) and "next: <next command>".
#
# Environment: KEEPWORD_LOCAL_DIR (state folder, default <repo>/.local), and the ports the
# addresses below are derived from: KEEPWORD_KAFKA_PORT (9092), KEEPWORD_POSTGRES_PORT (5432;
# KEEPWORD_PG_PORT, its older name, wins when both are set).

STEPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STEPS_LOCAL=${KEEPWORD_LOCAL_DIR:-$STEPS_ROOT/.local}
[[ $STEPS_LOCAL == /* ]] || STEPS_LOCAL=$PWD/$STEPS_LOCAL
SETUP_LOG=$STEPS_LOCAL/logs/setup.log

# A path as the reader would type it: relative when inside the repository.
shown() {
  local path=$1
  [[ $path == "$STEPS_ROOT"/* ]] && path=${path#"$STEPS_ROOT"/}
  printf '%s' "$path"
}

step_ok() { printf '✓ %s\n' "$*"; }

# step_fail WHAT LOG NEXT: what failed, the log's last lines (or its path), the next command.
step_fail() {
  local what=$1 log=${2:-} next=${3:-}
  {
    printf '✗ %s\n' "$what"
    if [[ -n $log && -s $log ]]; then
      printf '  last lines of %s:\n' "$(shown "$log")"
      tail -n "${STEPS_TAIL_LINES:-15}" -- "$log" | sed 's/^/  | /'
    elif [[ -n $log ]]; then
      printf '  log: %s\n' "$(shown "$log")"
    fi
    if [[ -n $next ]]; then printf '  next: %s\n' "$next"; fi
  } >&2
  exit 1
}

# logged COMMAND...: runs it with its output appended to setup.log, under a dated header.
logged() {
  mkdir -p -- "${SETUP_LOG%/*}"
  printf '\n== %s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$SETUP_LOG"
  "$@" >>"$SETUP_LOG" 2>&1
}

# note TEXT: a detail worth keeping but not worth a line on the terminal.
note() {
  mkdir -p -- "${SETUP_LOG%/*}"
  printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$SETUP_LOG"
}

# The stack's addresses follow its ports unless they are given outright, so that a second
# stack on other ports (KEEPWORD_KAFKA_PORT, KEEPWORD_POSTGRES_PORT, ...) is used as a whole.
stack_env() {
  local pg_port=${KEEPWORD_PG_PORT:-${KEEPWORD_POSTGRES_PORT:-5432}}
  export KEEPWORD_KAFKA_BOOTSTRAP=${KEEPWORD_KAFKA_BOOTSTRAP:-127.0.0.1:${KEEPWORD_KAFKA_PORT:-9092}}
  export KEEPWORD_DATABASE_URL=${KEEPWORD_DATABASE_URL:-postgresql://keepword@127.0.0.1:$pg_port/keepword}
  export KEEPWORD_ESCALATION_PUBLIC_URL=${KEEPWORD_ESCALATION_PUBLIC_URL:-http://127.0.0.1:${KEEPWORD_ESCALATION_PORT:-8081}}
  export KEEPWORD_INTAKE_PUBLIC_URL=${KEEPWORD_INTAKE_PUBLIC_URL:-http://127.0.0.1:${KEEPWORD_INTAKE_PORT:-8080}}
  export KEEPWORD_INSIGHTS_PUBLIC_URL=${KEEPWORD_INSIGHTS_PUBLIC_URL:-http://127.0.0.1:${KEEPWORD_INSIGHTS_PORT:-8084}}
}

# steps_run WHAT NEXT [--last | --summary] -- COMMAND...: see the header.
steps_run() {
  local what=$1 next=$2 mode=plain output errors errfile status=0
  shift 2
  case ${1:-} in
    --last | --summary)
      mode=${1#--}
      shift
      ;;
  esac
  [[ ${1:-} == -- ]] && shift
  mkdir -p -- "${SETUP_LOG%/*}"
  printf '\n== %s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$SETUP_LOG"
  errfile=$(mktemp)
  output=$("$@" 2>"$errfile") || status=$?
  errors=$(<"$errfile")
  rm -f -- "$errfile"
  printf '%s%s\n' "${errors:+$errors$'\n'}" "$output" >>"$SETUP_LOG"
  if ((status != 0)); then
    {
      printf '✗ %s (exit %s)\n' "$what" "$status"
      printf '%s\n%s\n' "$output" "$errors" | grep -v '^$' | tail -n 60 | sed 's/^/  | /'
      printf '  next: %s\n' "$next"
    } >&2
    exit 1
  fi
  case $mode in
    last) step_ok "$what${output:+: $(tail -n 1 <<<"$output")}" ;;
    summary) step_ok "${output:+$(tail -n 1 <<<"$output")}" ;;
    *) step_ok "$what" ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case ${1:-} in
    run)
      shift
      (($# >= 3)) || { echo "usage: $0 run <what> <next command> [--last|--summary] -- <command>..." >&2; exit 2; }
      steps_run "$@"
      ;;
    *)
      sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0" >&2
      exit 2
      ;;
  esac
fi
