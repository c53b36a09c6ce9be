#!/usr/bin/env bash
# `make provision`: the catalog's Kafka topics, then every service's migrations, one line each
# ("✓ topics: 10 ready (nothing new)", "✓ migrated 28 in 5 schemas (nothing new)"). The
# commands' logs go to .local/logs/setup.log; a failure shows what they said.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=deploy/local/steps.sh
source "$ROOT/deploy/local/steps.sh"
stack_env
KEEPWORD=$ROOT/.venv/bin/keepword

[[ -x $KEEPWORD ]] || step_fail "no keepword command in $(shown "$ROOT/.venv")" "" "make deps"
database=${KEEPWORD_DATABASE_URL%%\?*}

steps_run "topics not created (Kafka at $KEEPWORD_KAFKA_BOOTSTRAP)" \
  "deploy/local/kafka.sh start, then make provision" --summary -- "$KEEPWORD" topics create --quiet
# Only what follows any user:password@ is shown.
steps_run "migrations not applied (PostgreSQL at ${database#*@})" \
  "deploy/local/postgres.sh start, then make provision" --summary -- "$KEEPWORD" db migrate --quiet
