#!/usr/bin/env bash
# A local three-broker Kafka cluster (KRaft), laid out as production runs one: every node is
# broker and controller of a three-voter quorum, topics get three replicas and a write needs two
# of them (min.insync.replicas=2), so one node can die without losing a record or a write. Each
# node is a kafka.sh broker with its own ports, data folder, log and pid file; the jars are the
# single broker's (kafka.sh install).
#
#   deploy/local/kafka-cluster.sh start       install if needed, format once, start the three
#                                             nodes, wait until every one is ready
#   deploy/local/kafka-cluster.sh stop        stop every node (SIGTERM, then SIGKILL)
#   deploy/local/kafka-cluster.sh status      exit 0 if every node is running and ready
#   deploy/local/kafka-cluster.sh kill N      SIGKILL node N (1-3) at once (for fault tests)
#   deploy/local/kafka-cluster.sh start-node N / stop-node N   one node only
#   deploy/local/kafka-cluster.sh bootstrap   print the bootstrap list (KEEPWORD_KAFKA_BOOTSTRAP)
#   deploy/local/kafka-cluster.sh destroy     stop every node and delete the cluster's folder
#
# Environment:
#   KEEPWORD_KAFKA_CLUSTER_DIR               state of the nodes (default <repo>/.local/cluster)
#   KEEPWORD_KAFKA_CLUSTER_PORTS             client ports of nodes 1,2,3 (default 19092,19093,19094)
#   KEEPWORD_KAFKA_CLUSTER_CONTROLLER_PORTS  controller ports (default 19192,19193,19194)
#   KEEPWORD_KAFKA_CLUSTER_HEAP              each node's heap (default 384m)
#   KEEPWORD_LOCAL_DIR                       where kafka.sh keeps the jars (default <repo>/.local)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
KAFKA_SH=$SCRIPT_DIR/kafka.sh
SHARED_LOCAL=${KEEPWORD_LOCAL_DIR:-$ROOT/.local}
[[ $SHARED_LOCAL == /* ]] || SHARED_LOCAL=$PWD/$SHARED_LOCAL
CLUSTER_DIR=${KEEPWORD_KAFKA_CLUSTER_DIR:-$SHARED_LOCAL/cluster}
[[ $CLUSTER_DIR == /* ]] || CLUSTER_DIR=$PWD/$CLUSTER_DIR
IFS=, read -r -a PORTS <<<"${KEEPWORD_KAFKA_CLUSTER_PORTS:-19092,19093,19094}"
IFS=, read -r -a CONTROLLER_PORTS <<<"${KEEPWORD_KAFKA_CLUSTER_CONTROLLER_PORTS:-19192,19193,19194}"
HEAP=${KEEPWORD_KAFKA_CLUSTER_HEAP:-384m}
NODES=(1 2 3)

# shellcheck source=deploy/local/steps.sh
source "$SCRIPT_DIR/steps.sh"
die() { step_fail "kafka-cluster.sh: $1" "${2:-}" "${3:-}"; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

check_config() {
  ((${#PORTS[@]} == 3 && ${#CONTROLLER_PORTS[@]} == 3)) ||
    die "three client and three controller ports are needed (KEEPWORD_KAFKA_CLUSTER_*PORTS)"
  local p
  for p in "${PORTS[@]}" "${CONTROLLER_PORTS[@]}"; do
    [[ $p =~ ^[0-9]+$ ]] || die "not a port: '$p' (check KEEPWORD_KAFKA_CLUSTER_*PORTS)"
  done
}

node_number() {
  [[ ${1:-} =~ ^[123]$ ]] || die "which node? 1, 2 or 3 (got '${1:-}')"
  printf '%s' "$1"
}

bootstrap() {
  local n list=()
  for n in "${NODES[@]}"; do list+=("127.0.0.1:${PORTS[n - 1]}"); done
  (IFS=,; printf '%s\n' "${list[*]}")
}

voters() {
  local n list=()
  for n in "${NODES[@]}"; do list+=("$n@127.0.0.1:${CONTROLLER_PORTS[n - 1]}"); done
  (IFS=,; printf '%s' "${list[*]}")
}

# A KRaft cluster id: 16 random bytes, base64url without padding; Kafka's own never begin with
# '-' (a command line would take it for an option).
new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
    [[ $id == -* ]] || break
  done
  printf '%s' "$id"
}

# The lines of node N's config that differ from the single broker's (kafka.sh appends them to
# its rendered template, so they win).
write_overlay() {
  local n=$1 file=$2
  cat >"$file" <<EOF
node.id=$n
# Three replicas; a write (acks=all) needs two in sync: one node may be lost at any time.
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
# Replicas follow leaders over loopback: a lagging one drops out of the ISR after 10 s.
replica.lag.time.max.ms=10000
EOF
}

# Runs kafka.sh COMMAND as node N: its own folder, ports, overlay and heap; the shared jars.
node_run() {
  local n=$1 command=$2 dir=$CLUSTER_DIR/node$1
  mkdir -p "$dir/kafka"
  [[ -e $dir/kafka/lib ]] || ln -s "$SHARED_LOCAL/kafka/lib" "$dir/kafka/lib"
  write_overlay "$n" "$dir/cluster.properties"
  KEEPWORD_LOCAL_DIR=$dir \
    KEEPWORD_KAFKA_PORT=${PORTS[n - 1]} \
    KEEPWORD_KAFKA_CONTROLLER_PORT=${CONTROLLER_PORTS[n - 1]} \
    KEEPWORD_KAFKA_CONFIG_OVERLAY=$dir/cluster.properties \
    KEEPWORD_KAFKA_VOTERS=$(voters) \
    KEEPWORD_KAFKA_CLUSTER_ID=$(cat "$CLUSTER_DIR/cluster.id" 2>/dev/null) \
    KEEPWORD_KAFKA_HEAP=$HEAP \
    "$KAFKA_SH" "$command"
}

install_jars() {
  # The jars go where the single broker keeps them; kafka.sh install is quick once they are.
  KEEPWORD_LOCAL_DIR=$SHARED_LOCAL "$KAFKA_SH" install >/dev/null
}

# Starts the given nodes at once: a node is ready only once a majority of the quorum is up.
start_nodes() {
  local n pids=() failed=()
  mkdir -p "$CLUSTER_DIR"
  # Made once, before the nodes start side by side: every node must be formatted with it.
  [[ -s $CLUSTER_DIR/cluster.id ]] || new_cluster_id >"$CLUSTER_DIR/cluster.id"
  for n in "$@"; do
    node_run "$n" start >"$CLUSTER_DIR/start-node$n.out" 2>&1 &
    pids+=($!)
  done
  local i
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || failed+=("$(("$i" + 1))")
  done
  if ((${#failed[@]})); then
    for n in "$@"; do cat "$CLUSTER_DIR/start-node$n.out" >&2; done
    die "node(s) ${failed[*]} did not start" "" "$0 status; logs under $(shown "$CLUSTER_DIR")"
  fi
}

start() {
  install_jars
  start_nodes "${NODES[@]}"
  step_ok "Kafka cluster of 3 ready: $(bootstrap) ($(shown "$CLUSTER_DIR"))"
}

stop() {
  local n
  for n in "${NODES[@]}"; do
    [[ -d $CLUSTER_DIR/node$n ]] || continue
    node_run "$n" stop >/dev/null
  done
  step_ok "Kafka cluster stopped"
}

status() {
  local n code=0
  for n in "${NODES[@]}"; do
    printf 'node %s: ' "$n"
    if [[ -d $CLUSTER_DIR/node$n ]]; then
      node_run "$n" status || code=1
    else
      echo "never started"
      code=1
    fi
  done
  return "$code"
}

main() {
  check_config
  case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    kill) node_run "$(node_number "${2:-}")" kill ;;
    start-node)
      install_jars
      start_nodes "$(node_number "${2:-}")"
      step_ok "Kafka cluster node $2 ready on 127.0.0.1:${PORTS[$2 - 1]}"
      ;;
    stop-node) node_run "$(node_number "${2:-}")" stop ;;
    bootstrap) bootstrap ;;
    destroy)
      stop
      rm -rf "$CLUSTER_DIR"
      step_ok "deleted $(shown "$CLUSTER_DIR")"
      ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
