#!/usr/bin/env bash
# Kafka and PostgreSQL with locked doors, for trying the production security set-up locally:
# a broker whose only client listener is SASL_SSL (SCRAM-SHA-512) with ACLs per service
# principal (keepword_platform/kafka_acls.py) and a PostgreSQL cluster that takes only TLS with
# a scram-sha-256 password. Certificates (a local CA, openssl) and random passwords are made
# once under STATE_DIR (default <repo>/.local/secure); kafka.sh and postgres.sh run the servers.
#
#   deploy/local/secure_stack.sh start [STATE_DIR]   start both, then topics, ACLs, migrations
#   deploy/local/secure_stack.sh stop [STATE_DIR]    stop both (data, certificates kept)
#   eval "$(deploy/local/secure_stack.sh env [STATE_DIR] [--user intake])"
#                                                    KEEPWORD_KAFKA_* and KEEPWORD_DATABASE_URL
#                                                    of one principal (default keepword-admin)
#
# Ports: KEEPWORD_SECURE_KAFKA_PORT (9192), KEEPWORD_SECURE_CONTROLLER_PORT (9193),
# KEEPWORD_SECURE_PG_PORT (5532): apart from the plain local stack, so both can run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command=${1:-}
[[ $command == start || $command == stop || $command == env ]] || {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}
shift
state=$ROOT/.local/secure
if [[ $# -gt 0 && $1 != --* ]]; then
  state=$1
  shift
fi
exec "$ROOT/.venv/bin/python" -m keepword_testkit.secure_stack "$command" "$state" "$@"
