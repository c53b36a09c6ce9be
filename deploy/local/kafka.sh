#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft) for development and tests, without Docker:
# the jars come from Maven Central (deploy/local/kafka/pom.xml), the JVM is the machine's Java 17.
#
#   deploy/local/kafka.sh install   copy the broker's jars into <local>/kafka/lib (once)
#   deploy/local/kafka.sh start     install if needed, format storage once, start, wait until ready
#   deploy/local/kafka.sh stop      SIGTERM, wait up to 60 s, then SIGKILL
#   deploy/local/kafka.sh restart   stop, then start (data is kept)
#   deploy/local/kafka.sh status    exit 0 if running and ready, 1 otherwise
#   deploy/local/kafka.sh kill      SIGKILL at once (for fault tests)
#   deploy/local/kafka.sh logs      print the path of the broker's log
#
# Environment:
#   KEEPWORD_KAFKA_PORT             client listener on 127.0.0.1 (default 9092)
#   KEEPWORD_KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 (default 9093)
#   KEEPWORD_LOCAL_DIR              state, logs and pid file (default <repo>/.local); point it at
#                                   another folder, with other ports, to run a second broker
#   KEEPWORD_KAFKA_START_TIMEOUT    seconds `start` waits for readiness (default 180)
#   KEEPWORD_KAFKA_CONFIG_OVERLAY   a properties file appended to the rendered config (its keys
#                                   win): listeners, TLS, SASL, authorizer (secure_stack.sh)
#   KEEPWORD_KAFKA_FORMAT_ARGS      a file of extra `kafka-storage format` arguments, one a line
#                                   (--add-scram ...: the SCRAM users exist from the first start)
#   KEEPWORD_KAFKA_PROBE_CAFILE     the client port speaks TLS: probe it through openssl with
#                                   this CA
#   KEEPWORD_KAFKA_HEAP             the broker's heap, e.g. 384m (default: 256m to 512m)
#   KEEPWORD_KAFKA_VOTERS           id@host:port,... : this node is one of a fixed controller
#                                   quorum (kafka-cluster.sh), not a quorum of its own; its
#                                   node.id comes from the overlay, and the storage is
#                                   formatted with KEEPWORD_KAFKA_CLUSTER_ID, the same on every
#                                   node
#
# Output: one line per command ("✓ Kafka 4.1.2 started on 127.0.0.1:9092 ..."); progress details
# and the output of apt-get and Maven go to <local>/logs/setup.log. A failure says what failed,
# shows the end of the log that says why, and the command to run next, and exits non-zero.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
SRC_DIR=$SCRIPT_DIR/kafka
POM=$SRC_DIR/pom.xml

PORT=${KEEPWORD_KAFKA_PORT:-9092}
CONTROLLER_PORT=${KEEPWORD_KAFKA_CONTROLLER_PORT:-9093}
START_TIMEOUT=${KEEPWORD_KAFKA_START_TIMEOUT:-180}
STOP_TIMEOUT=60
LOCAL_DIR=${KEEPWORD_LOCAL_DIR:-$ROOT/.local}
[[ $LOCAL_DIR == /* ]] || LOCAL_DIR=$PWD/$LOCAL_DIR

KAFKA_HOME=$LOCAL_DIR/kafka
LIB_DIR=$KAFKA_HOME/lib
LIB_STAMP=$LIB_DIR/.pom.sha256
DATA_DIR=$KAFKA_HOME/data
CONFIG_DIR=$KAFKA_HOME/config
CONFIG_FILE=$CONFIG_DIR/server.properties
TMP_DIR=$KAFKA_HOME/tmp
RUN_DIR=$LOCAL_DIR/run
PID_FILE=$RUN_DIR/kafka.pid
LOCK_FILE=$RUN_DIR/kafka.lock
LOG_DIR=$LOCAL_DIR/logs
STDOUT_LOG=$LOG_DIR/kafka.log          # JVM stdout/stderr of this run: warnings, errors, "started"
SERVER_LOG=$LOG_DIR/kafka-server.log   # log4j2 file appender: the full INFO log

JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
READY_LINE="Kafka Server started"

# shellcheck source=deploy/local/steps.sh
source "$SCRIPT_DIR/steps.sh"
say() { note "kafka.sh: $*"; }
# die MESSAGE [LOG [NEXT]]: the failure, the end of the log that says why, the next command.
die() {
  note "kafka.sh: error: $1"
  step_fail "kafka.sh: $1" "${2:-}" "${3:-"details in $(shown "$SETUP_LOG")"}"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

check_config() {
  local p
  for p in "$PORT" "$CONTROLLER_PORT" "$START_TIMEOUT"; do
    [[ $p =~ ^[0-9]+$ ]] || die "not a number: '$p' (check the KEEPWORD_KAFKA_* variables)"
  done
  [[ $PORT != "$CONTROLLER_PORT" ]] || die "client and controller ports must differ ($PORT)"
}

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM"
}

# Serialises install/start/stop/kill, so two test runners starting the broker at the same time
# get one broker. The broker itself must not inherit the lock's file descriptor (see launch).
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$LOCK_FILE"
  flock -w 300 9 || die "another kafka.sh holds $LOCK_FILE" "" "$0 status"
}

# --- install -------------------------------------------------------------------------------

java_major() {
  local version
  version=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
  version=${version#1.}          # "1.8.0_402" -> "8.0_402"
  printf '%s\n' "${version%%[._-]*}"
}

# Installs Java 17 and/or Maven from Debian packages, only those that are missing.
ensure_tools() {
  local need_mvn=$1 packages=() sudo=()
  command -v "$JAVA" >/dev/null || packages+=(openjdk-17-jre-headless)
  if [[ $need_mvn == yes ]] && ! command -v mvn >/dev/null; then packages+=(maven); fi
  if ((${#packages[@]})); then
    say "installing ${packages[*]} with apt-get"
    if ((EUID != 0)); then
      command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${packages[*]}" "" \
        "sudo apt-get install ${packages[*]}, then $0 start"
      sudo=(sudo)
    fi
    logged "${sudo[@]}" apt-get update &&
      logged "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}" ||
      die "apt-get install ${packages[*]} failed" "$SETUP_LOG" "apt-get install ${packages[*]}, then $0 start"
  fi
  local major
  major=$(java_major)
  if [[ ! $major =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "Kafka $(kafka_version) needs Java 17 or newer; '$JAVA' is version '$major'" "" \
      "JAVA_HOME=<a Java 17+> $0 start"
  fi
}

installed() {
  [[ -f $LIB_STAMP && $(<"$LIB_STAMP") == "$(sha256sum <"$POM" | cut -d' ' -f1)" ]]
}

install() {
  if installed; then
    ensure_tools no
    return
  fi
  ensure_tools yes
  local staging=$KAFKA_HOME/lib.partial mvn_log=$KAFKA_HOME/maven.log
  say "installing Kafka $(kafka_version) jars from Maven Central into $LIB_DIR"
  mkdir -p "$KAFKA_HOME"
  rm -rf "$staging"
  # Copy into a staging folder and swap it in whole: a pom change must not leave jars of two
  # Kafka versions side by side on the classpath, and an interrupted copy must not count.
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies -Dkafka.lib.dir="$staging" \
      >"$mvn_log" 2>&1; then
    cat "$mvn_log" >>"$SETUP_LOG"
    die "Maven could not fetch the broker's jars" "$mvn_log" "$0 install"
  fi
  sha256sum <"$POM" | cut -d' ' -f1 >"$staging/.pom.sha256"
  rm -rf "$LIB_DIR"
  mv "$staging" "$LIB_DIR"
  say "installed $(find "$LIB_DIR" -name '*.jar' | wc -l) jars"
}

# --- process state -------------------------------------------------------------------------

# Sets PID when the pid file names a live broker started with *this* config file; a stale pid
# file, a reused pid or another folder's broker do not count. A zombie has an empty cmdline.
running() {
  PID=
  [[ -f $PID_FILE ]] || return 1
  local pid cmdline
  pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *" kafka.Kafka $CONFIG_FILE"* ]] || return 1
  PID=$pid
}

port_open() {
  # shellcheck disable=SC2016  # $1 is expanded by the inner shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# Sends an ApiVersions request (key 18, version 0, correlation id 1, empty client id) and
# expects a reply carrying correlation id 1. Stricter than a TCP connect, which the kernel
# accepts even for a broker that is frozen (SIGSTOP, swapping) and would never answer.
kafka_answers() {
  local reply
  if [[ -n ${KEEPWORD_KAFKA_PROBE_CAFILE:-} ]]; then
    # The same request inside TLS (a SASL listener answers ApiVersions before the login).
    # shellcheck disable=SC2016  # $1 and $2 are expanded by the inner shell
    reply=$(timeout 5 bash -c '
      { printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00"; sleep 2; } |
        openssl s_client -quiet -no_ign_eof -verify_return_error -CAfile "$2" \
          -connect "127.0.0.1:$1" 2>/dev/null | head -c 8 | od -An -tx1' _ "$1" \
      "$KEEPWORD_KAFKA_PROBE_CAFILE" 2>/dev/null) || true
    reply=${reply//[[:space:]]/}
    [[ ${#reply} == 16 && ${reply:8} == 00000001 ]]
    return
  fi
  # shellcheck disable=SC2016  # $1 is expanded by the inner shell
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00" >&3
    head -c 8 <&3 | od -An -tx1' _ "$1" 2>/dev/null) || return 1
  reply=${reply//[[:space:]]/}
  [[ ${#reply} == 16 && ${reply:8} == 00000001 ]]
}

# Ready: our process is alive, the "started" line is in this run's kafka.log (it is started
# afresh by every `start`, so a line from an earlier run cannot match), and it answers.
ready() {
  running && grep -qF "$READY_LINE" "$STDOUT_LOG" 2>/dev/null && kafka_answers "$PORT"
}

# The run's own log says why a broker died (stdout/stderr of the JVM); the server log has more.
failed_start() {
  local what=$1 next=$2 log=$STDOUT_LOG
  [[ -s $log ]] || log=$SERVER_LOG
  note "kafka.sh: error: $what"
  step_fail "kafka.sh: $what (server log: $(shown "$SERVER_LOG"))" "$log" "$next"
}

# --- start ---------------------------------------------------------------------------------

render_config() {
  local text
  text=$(<"$SRC_DIR/server.properties.template")
  text=${text//@PORT@/$PORT}
  text=${text//@CONTROLLER_PORT@/$CONTROLLER_PORT}
  text=${text//@DATA_DIR@/$DATA_DIR}
  if [[ -n ${KEEPWORD_KAFKA_VOTERS:-} ]]; then
    # A fixed quorum names its voters; a dynamic one's bootstrap line must not stay beside it.
    text=$(sed '/^controller\.quorum\.bootstrap\.servers=/d' <<<"$text")
    text+=$'\n'"controller.quorum.voters=$KEEPWORD_KAFKA_VOTERS"
  fi
  mkdir -p "$CONFIG_DIR"
  printf '%s\n' "$text" >"$CONFIG_FILE"
  if [[ -n ${KEEPWORD_KAFKA_CONFIG_OVERLAY:-} ]]; then
    printf '\n# --- overlay: %s\n' "$KEEPWORD_KAFKA_CONFIG_OVERLAY" >>"$CONFIG_FILE"
    cat "$KEEPWORD_KAFKA_CONFIG_OVERLAY" >>"$CONFIG_FILE"
  fi
}

run_java_tool() {
  "$JAVA" -Xmx256m -cp "$LIB_DIR/*" \
    -Djava.io.tmpdir="$TMP_DIR" \
    -Dlog4j2.configurationFile="$SRC_DIR/log4j2.properties" -Dkafka.logs.dir="$LOG_DIR" \
    "$@"
}

format_storage() {
  [[ -f $DATA_DIR/meta.properties ]] && return
  local out cluster_id
  if [[ -n ${KEEPWORD_KAFKA_VOTERS:-} ]]; then
    # One of a fixed quorum: every node formatted with the cluster's id, none standalone.
    cluster_id=${KEEPWORD_KAFKA_CLUSTER_ID:-}
    [[ -n $cluster_id ]] || die "KEEPWORD_KAFKA_VOTERS needs KEEPWORD_KAFKA_CLUSTER_ID"
    say "formatting $DATA_DIR (cluster id $cluster_id, voters $KEEPWORD_KAFKA_VOTERS)"
    out=$(run_java_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG_FILE" \
      --ignore-formatted 2>&1) || { note "$out"; die "formatting storage failed" "$SETUP_LOG"; }
    return
  fi
  out=$(run_java_tool kafka.tools.StorageTool random-uuid 2>&1) || { note "$out"; die "random-uuid failed" "$SETUP_LOG"; }
  cluster_id=$(grep -E '^[A-Za-z0-9_-]{22}$' <<<"$out" | tail -n 1) || true
  [[ -n $cluster_id ]] || { note "$out"; die "random-uuid printed no cluster id" "$SETUP_LOG"; }
  say "formatting $DATA_DIR (cluster id $cluster_id)"
  local extra=()
  [[ -z ${KEEPWORD_KAFKA_FORMAT_ARGS:-} ]] || mapfile -t extra <"$KEEPWORD_KAFKA_FORMAT_ARGS"
  # --standalone: this node alone is the controller quorum (no controller.quorum.voters).
  out=$(run_java_tool kafka.tools.StorageTool format --standalone -t "$cluster_id" \
    -c "$CONFIG_FILE" --ignore-formatted "${extra[@]}" 2>&1) || { note "$out"; die "formatting storage failed" "$SETUP_LOG"; }
}

launch() {
  local heap=(-Xms256m -Xmx512m)
  [[ -z ${KEEPWORD_KAFKA_HEAP:-} ]] || heap=("-Xms$KEEPWORD_KAFKA_HEAP" "-Xmx$KEEPWORD_KAFKA_HEAP")
  local jvm_opts=(
    "${heap[@]}"
    # Kafka's own GC settings (kafka-run-class.sh).
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent
    # Out of heap, die visibly instead of limping on.
    -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    # zstd/snappy unpack native libraries here; /tmp may be mounted noexec.
    -Djava.io.tmpdir="$TMP_DIR"
    -Dlog4j2.configurationFile="$SRC_DIR/log4j2.properties"
    -Dkafka.logs.dir="$LOG_DIR"
  )
  # One log file per run; the previous run's is kept for post-mortems (e.g. after `kill`).
  [[ -f $STDOUT_LOG ]] && mv -f "$STDOUT_LOG" "$STDOUT_LOG.1"
  rm -f "$PID_FILE"
  # setsid: own session, so the broker outlives this shell and its terminal (no SIGHUP).
  # The inner shell writes its own pid and execs java, so the pid file names the JVM itself.
  # 9>&- : the broker must not hold the lock of this script.
  # shellcheck disable=SC2016  # $$, $1 and $@ are the inner shell's
  setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' kafka-launch "$PID_FILE" \
    "$JAVA" "${jvm_opts[@]}" -cp "$LIB_DIR/*" kafka.Kafka "$CONFIG_FILE" \
    </dev/null >>"$STDOUT_LOG" 2>&1 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $PID_FILE ]] && return
    sleep 0.1
  done
  failed_start "the broker did not start (no pid file)" "$0 start"
}

wait_ready() {
  local started=$SECONDS
  until ready; do
    if ! running; then
      failed_start "the broker exited during start-up" "$0 start (after fixing what the log says)"
    fi
    if ((SECONDS - started >= START_TIMEOUT)); then
      failed_start "the broker (pid $PID) was not ready after ${START_TIMEOUT}s; it is left running" \
        "$0 restart"
    fi
    sleep 0.5
  done
  say "ready on 127.0.0.1:$PORT (pid $PID, $((SECONDS - started))s)"
}

start() {
  take_lock
  if running; then
    installed || printf '! kafka.sh: %s changed since this broker started; restart it to use it\n' "$(shown "$POM")"
    if ready; then
      step_ok "Kafka $(kafka_version) running on 127.0.0.1:$PORT ($(shown "$SERVER_LOG"))"
      return
    fi
    say "already running (pid $PID), not ready yet; waiting"
    wait_ready
    step_ok "Kafka $(kafka_version) ready on 127.0.0.1:$PORT ($(shown "$SERVER_LOG"))"
    return
  fi
  # A broker killed a moment ago (by `kill -9`, not by this script) may still hold its ports.
  local p i
  for p in "$PORT" "$CONTROLLER_PORT"; do
    for ((i = 0; i < 10; i++)); do
      port_open "$p" || continue 2
      sleep 0.5
    done
    die "port $p on 127.0.0.1 is taken by another process (another broker?)" "" \
      "KEEPWORD_KAFKA_PORT=<free port> KEEPWORD_KAFKA_CONTROLLER_PORT=<another> $0 start"
  done
  local began=$SECONDS
  install
  # Native libraries left behind by a killed broker are of no use to the next one.
  rm -rf "$TMP_DIR"
  mkdir -p "$DATA_DIR" "$TMP_DIR" "$LOG_DIR"
  render_config
  format_storage
  say "starting Kafka $(kafka_version) on 127.0.0.1:$PORT (log: $SERVER_LOG)"
  launch
  wait_ready
  step_ok "Kafka $(kafka_version) started on 127.0.0.1:$PORT in $((SECONDS - began))s ($(shown "$SERVER_LOG"))"
}

# --- stop ----------------------------------------------------------------------------------

# True while the process exists and is not yet a zombie. The broker's cmdline (see running)
# empties before the kernel has closed its sockets; only a zombie is sure to hold no port.
alive() {
  local stat
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  stat=${stat##*) }             # the state follows the command name, which may hold spaces
  [[ ${stat%% *} != [ZX] ]]
}

# Waits up to $2 seconds for pid $1 to exit; fails if it is still alive.
wait_exit() {
  local deadline=$((SECONDS + $2))
  while alive "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

stop() {
  take_lock
  if ! running; then
    step_ok "Kafka not running"
    rm -f "$PID_FILE"
    return
  fi
  local pid=$PID
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_exit "$pid" "$STOP_TIMEOUT"; then
    say "pid $pid still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || die "pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE"
  step_ok "Kafka stopped"
}

kill_broker() {
  take_lock
  if ! running; then
    step_ok "Kafka not running"
    rm -f "$PID_FILE"
    return
  fi
  local pid=$PID
  kill -KILL "$pid" 2>/dev/null || true
  wait_exit "$pid" 10 || die "pid $pid survived SIGKILL"
  rm -f "$PID_FILE"
  step_ok "Kafka killed (pid $pid, SIGKILL)"
}

status() {
  if ready; then
    echo "kafka.sh: running on 127.0.0.1:$PORT (pid $PID), ready"
  elif running; then
    echo "kafka.sh: running (pid $PID), not ready"
    return 1
  else
    echo "kafka.sh: not running"
    return 1
  fi
}

main() {
  check_config
  case ${1:-} in
    install)
      take_lock
      if installed; then
        step_ok "Kafka $(kafka_version) is installed in $(shown "$LIB_DIR")"
      elif running; then
        die "the broker (pid $PID) runs from $LIB_DIR; stop it before re-installing" "" "$0 stop"
      fi
      install
      ;;
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status) status ;;
    kill) kill_broker ;;
    logs) printf '%s\n' "$SERVER_LOG" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
