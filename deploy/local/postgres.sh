#!/usr/bin/env bash
# Local PostgreSQL for Keepword: a real cluster from Debian's packages, kept in
# a project-local folder.
#
# Usage: deploy/local/postgres.sh <command> [args]
#   install   install Debian's `postgresql` package if no server binaries exist
#             (and stop/disable the system cluster Debian creates on our port)
#   start     install if needed, initdb once, start, wait until ready, ensure
#             role + database `keepword` exist; returns at once if running
#   stop      fast shutdown (pg_ctl stop -m fast)
#   restart   stop + start
#   status    exit 0 if the cluster accepts connections, 3 if it is not running
#   kill      SIGKILL the postmaster and all its children (fault tests)
#   logs      print the path of the server log
#   psql      psql as `keepword` on database `keepword`; extra args passed on
#   destroy   stop the cluster and delete its data and log
#
# Environment:
#   KEEPWORD_LOCAL_DIR      state folder (default: <repo>/.local)
#   KEEPWORD_POSTGRES_PORT  TCP port on 127.0.0.1 (default: 5432)
#   KEEPWORD_PG_PORT        its older name; wins when both are set
#   KEEPWORD_PG_TLS_DIR     a folder with server.crt and server.key: TCP clients must then use
#                           TLS and a password (hostssl + scram-sha-256 only; secure_stack.sh)
#   KEEPWORD_PG_PASSWORD_FILE  the password of role `keepword` (set on every start)
#
# Output: one line per command ("✓ PostgreSQL 15 started on 127.0.0.1:5432 ..."); progress
# details and apt-get's output go to logs/setup.log. A failure says what failed, shows the
# end of the log that says why, and exits non-zero.
#
# Layout under $KEEPWORD_LOCAL_DIR:
#   postgres/data       cluster data directory
#   postgres/run        unix socket directory
#   logs/postgres.log   server log (pg_ctl -l)
#   logs/setup.log      what this script did (initdb, installs), shared with the other scripts
#
# Connection URL: postgresql://keepword@127.0.0.1:$KEEPWORD_POSTGRES_PORT/keepword
# (trust authentication, 127.0.0.1 only: local development use only).
#
# Running as root: PostgreSQL refuses to run as root, so the server (initdb,
# pg_ctl) runs as Debian's `postgres` system user via runuser. That user must be
# able to reach the data, socket and log paths, which fails when the repository
# lives below a folder it cannot traverse (e.g. /root, mode 700; CI checks out
# to paths we do not control). We test that for real, as `postgres`
# (runuser -u postgres -- test -w ...). If it fails -- or if the socket path
# would exceed the 107-byte unix socket limit -- the cluster lives in
# /var/lib/postgresql/keepword-local/<hash of the state folder path>/ instead,
# and $KEEPWORD_LOCAL_DIR/postgres and logs/postgres.log become symlinks to it;
# the server is always given the resolved (symlink-free) paths. We prefer that
# over `chmod o+x` on the path's ancestors because it needs no permission
# change outside folders we own (loosening /root or a CI workspace is a
# security-relevant side effect, and every new ancestor would need it again).
# We use /var/lib rather than /var/tmp because systemd-tmpfiles ages out
# /var/tmp files after 30 days, which would silently corrupt an idle cluster.
# `destroy` removes the external folder too. When not run as root, everything
# runs directly as the calling user, in place.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOCAL_DIR=${KEEPWORD_LOCAL_DIR:-$ROOT/.local}
[[ $LOCAL_DIR == /* ]] || LOCAL_DIR=$PWD/$LOCAL_DIR
# The testkit's private clusters set KEEPWORD_PG_PORT: it must beat a KEEPWORD_POSTGRES_PORT
# inherited from the caller's environment.
PORT=${KEEPWORD_PG_PORT:-${KEEPWORD_POSTGRES_PORT:-5432}}
# shellcheck source=deploy/local/steps.sh
source "$ROOT/deploy/local/steps.sh"

PG_DIR=$LOCAL_DIR/postgres
LOG=$LOCAL_DIR/logs/postgres.log
EXTERNAL_BASE=/var/lib/postgresql/keepword-local
PG_OS_USER=postgres
APP_ROLE=keepword
APP_DB=keepword
START_TIMEOUT=60
STOP_TIMEOUT=60

log() { note "postgres.sh: $*"; }
# die MESSAGE [NEXT]: the failure, the end of setup.log (what led to it), the next command.
die() {
	note "postgres.sh: error: $1"
	step_fail "postgres.sh: $1" "" "${2:-"details in $(shown "$SETUP_LOG")"}"
}

if ! [[ $PORT =~ ^[1-9][0-9]{0,4}$ ]] || ((PORT > 65535)); then
	die "KEEPWORD_POSTGRES_PORT (or KEEPWORD_PG_PORT) must be a TCP port number, got '$PORT'"
fi

is_root() { [[ $EUID -eq 0 ]]; }

# Run a command as the OS user that owns the cluster. From `/`, so that tools
# do not warn about a current directory the postgres user cannot enter.
as_pg() {
	if is_root; then
		(cd / && runuser -u "$PG_OS_USER" -- "$@")
	else
		"$@"
	fi
}

# Is $1 a directory holding the server binaries we need?
is_bin_dir() {
	local d=$1 f
	for f in postgres pg_ctl initdb pg_isready psql; do
		[[ -x $d/$f ]] || return 1
	done
}

# Bin dir of the highest installed PostgreSQL major version (Debian layout).
highest_bin_dir() {
	local d v best=""
	for d in /usr/lib/postgresql/*/bin; do
		is_bin_dir "$d" || continue
		v=$(basename "$(dirname "$d")")
		if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1) == "$v" ]]; then
			best=$v
		fi
	done
	[[ -n $best ]] || return 1
	printf '/usr/lib/postgresql/%s/bin\n' "$best"
}

# Sets BIN: the binaries matching an existing cluster's major version (a newer
# major cannot open an older cluster), else the highest installed version.
select_bin() {
	local v
	if [[ -f $S_DATA/PG_VERSION ]]; then
		v=$(<"$S_DATA/PG_VERSION")
		is_bin_dir "/usr/lib/postgresql/$v/bin" ||
			die "cluster in $S_DATA is PostgreSQL $v but /usr/lib/postgresql/$v/bin is missing (install postgresql-$v, or run 'destroy')"
		BIN=/usr/lib/postgresql/$v/bin
	else
		BIN=$(highest_bin_dir) || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; run '$0 install'"
	fi
}

# Server-side (symlink-free) paths. The state folder may not exist yet.
resolve_paths() {
	S_BASE=$(readlink -m -- "$PG_DIR")
	S_DATA=$S_BASE/data
	S_RUN=$S_BASE/run
	S_LOG=$(readlink -m -- "$LOG")
}

# Debian's package creates (and, with systemd, starts) a cluster `main` on
# 5432. Our own cluster must own the port: stop any system cluster on 5432 or
# on $PORT and set it to `manual` in start.conf so the init script / systemd
# do not start it again. Reversible (set it back to `auto`), unlike
# pg_dropcluster, which would delete its data.
disable_system_clusters() {
	if ! is_root || ! command -v pg_lsclusters >/dev/null; then return 0; fi
	local ver name port status _rest conf
	while read -r ver name port status _rest; do
		[[ $port == 5432 || $port == "$PORT" ]] || continue
		if [[ $status == online* ]]; then
			log "stopping Debian system cluster $ver/$name on port $port (our own cluster needs the port)"
			pg_ctlcluster "$ver" "$name" stop || log "warning: could not stop system cluster $ver/$name"
		fi
		conf=/etc/postgresql/$ver/$name/start.conf
		if [[ -f $conf ]] && grep -Eq '^[[:space:]]*auto[[:space:]]*$' "$conf"; then
			sed -i -E 's/^[[:space:]]*auto[[:space:]]*$/manual/' "$conf"
			log "set Debian system cluster $ver/$name to 'manual' start ($conf)"
		fi
	done < <(pg_lsclusters -h 2>/dev/null || true)
}

cmd_install() {
	if ! highest_bin_dir >/dev/null; then
		is_root || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; install Debian's 'postgresql' package (as root: $0 install)"
		log "installing Debian package 'postgresql' (apt-get) ..."
		export DEBIAN_FRONTEND=noninteractive
		logged apt-get update && logged apt-get install -y postgresql ||
			step_fail "apt-get install postgresql failed" "$SETUP_LOG" "apt-get install -y postgresql, then $0 start"
		highest_bin_dir >/dev/null || die "apt-get installed 'postgresql' but no server binaries under /usr/lib/postgresql/*/bin"
	fi
	disable_system_clusters
}

# PID of the running postmaster of our cluster, from postmaster.pid. Only a
# live, non-zombie process named postgres counts.
postmaster_pid() {
	local f=$S_DATA/postmaster.pid pid
	[[ -f $f ]] || return 1
	{ read -r pid; } <"$f" 2>/dev/null || return 1
	[[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
	proc_alive "$pid" || return 1
	case $(cat "/proc/$pid/comm" 2>/dev/null) in
	postgres | postmaster) ;;
	*) return 1 ;;
	esac
	printf '%s\n' "$pid"
}

# Exists and is not a zombie (a SIGKILLed postmaster can stay a zombie if
# nothing reaps it).
proc_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# Port the running cluster listens on (line 4 of postmaster.pid).
running_port() { sed -n 4p "$S_DATA/postmaster.pid" 2>/dev/null; }

# Is anything listening on 127.0.0.1:$PORT?
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

sock_path_ok() { ((${#S_RUN} + ${#PORT} + 10 <= 107)); } # "/.s.PGSQL." is 10 bytes

path_hash() { printf '%s' "$(readlink -m -- "$LOCAL_DIR")" | sha256sum | cut -c1-12; }

# Root + external layout: make sure the folder behind the symlink exists with
# the right owners (it is recreated empty if someone deleted it) and that the
# project-side log path links into it.
ensure_external_dir() {
	local ext=$1 grp
	grp=$(id -gn "$PG_OS_USER")
	install -d -m 0755 "$EXTERNAL_BASE"
	install -d -m 0755 -o "$PG_OS_USER" -g "$grp" "$ext" "$ext/run"
	install -d -m 0700 -o "$PG_OS_USER" -g "$grp" "$ext/data"
	[[ -e $ext/postgres.log ]] || install -m 0640 -o "$PG_OS_USER" -g "$grp" /dev/null "$ext/postgres.log"
	readlink -m -- "$LOCAL_DIR" >"$ext/ORIGIN"
	if [[ ! -L $LOG || $(readlink -- "$LOG") != "$ext/postgres.log" ]]; then
		if [[ -f $LOG && ! -L $LOG ]]; then
			cat "$LOG" >>"$ext/postgres.log"
		fi
		rm -f -- "$LOG"
		ln -s -- "$ext/postgres.log" "$LOG"
	fi
}

# Create the folders and decide where the cluster lives (see header).
prepare_layout() {
	mkdir -p -- "$LOCAL_DIR/logs"
	if ! is_root; then
		mkdir -p -- "$PG_DIR/data" "$PG_DIR/run"
		chmod 0700 "$PG_DIR/data"
		touch -- "$LOG"
		resolve_paths
		sock_path_ok || die "unix socket path $S_RUN/.s.PGSQL.$PORT exceeds 107 bytes; set KEEPWORD_LOCAL_DIR to a shorter path"
		return 0
	fi
	id "$PG_OS_USER" >/dev/null 2>&1 || die "system user '$PG_OS_USER' missing (it comes with Debian's postgresql package)"

	if [[ -L $PG_DIR ]]; then
		resolve_paths
		ensure_external_dir "$S_BASE"
		resolve_paths # the log symlink may just have been (re)made
		return 0
	fi

	local grp reason=""
	grp=$(id -gn "$PG_OS_USER")
	mkdir -p -- "$PG_DIR/data" "$PG_DIR/run"
	[[ -L $LOG ]] && rm -f -- "$LOG"
	touch -- "$LOG"
	chown "$PG_OS_USER:$grp" -- "$PG_DIR" "$PG_DIR/data" "$PG_DIR/run" "$LOG"
	chmod 0700 "$PG_DIR/data"
	chmod 0755 "$PG_DIR" "$PG_DIR/run"
	resolve_paths
	# shellcheck disable=SC2016 # $1..$3 are expanded by the inner sh
	if ! as_pg sh -c 'test -x "$1" && test -w "$1" && test -x "$2" && test -w "$2" && test -w "$3"' \
		sh "$S_DATA" "$S_RUN" "$S_LOG" 2>/dev/null; then
		reason="user '$PG_OS_USER' cannot reach $S_BASE (a parent folder is not traversable for it)"
	elif ! sock_path_ok; then
		reason="socket path under $S_RUN would exceed 107 bytes"
	else
		return 0 # in place
	fi

	local ext
	ext=$EXTERNAL_BASE/$(path_hash)
	log "$reason; keeping the cluster in $ext (symlinked from $PG_DIR)"
	install -d -m 0755 "$EXTERNAL_BASE"
	install -d -m 0755 -o "$PG_OS_USER" -g "$grp" "$ext"
	if [[ -f $PG_DIR/data/PG_VERSION ]]; then # migrate an existing cluster
		[[ ! -e $ext/data ]] || rmdir -- "$ext/data" 2>/dev/null ||
			die "both $PG_DIR/data and $ext/data hold data; remove one"
		log "moving existing cluster $PG_DIR/data to $ext/data"
		mv -- "$PG_DIR/data" "$ext/data"
		chown -R "$PG_OS_USER:$grp" -- "$ext/data"
	fi
	rm -rf -- "$PG_DIR/run"
	[[ ! -d $PG_DIR/data ]] || rmdir -- "$PG_DIR/data" || die "$PG_DIR/data is not empty and not a cluster"
	rmdir -- "$PG_DIR" || die "$PG_DIR has unexpected content; cannot replace it by a symlink"
	ln -s -- "$ext" "$PG_DIR"
	ensure_external_dir "$ext"
	resolve_paths
}

# initdb once. Into a temporary folder renamed at the end, so an interrupted
# initdb never leaves a half-made cluster behind.
ensure_initdb() {
	[[ -f $S_DATA/PG_VERSION ]] && return 0
	[[ -z $(ls -A -- "$S_DATA" 2>/dev/null) ]] ||
		die "$S_DATA is not empty but holds no cluster (no PG_VERSION); remove it or run 'destroy'"
	local loc=C tmp out
	if grep -qiE '^c\.utf-?8$' <<<"$(locale -a 2>/dev/null || true)"; then loc=C.UTF-8; fi
	tmp=$S_BASE/data.initdb-tmp
	as_pg rm -rf -- "$tmp"
	log "initdb (PostgreSQL $(basename "$(dirname "$BIN")"), locale $loc) into $S_DATA"
	if ! out=$(as_pg "$BIN/initdb" -D "$tmp" --auth-local=trust --auth-host=trust -U postgres \
		--encoding=UTF8 --locale="$loc" 2>&1); then
		note "$out"
		as_pg rm -rf -- "$tmp"
		STEPS_TAIL_LINES=30 step_fail "initdb failed" "$SETUP_LOG" "$0 destroy && $0 start"
	fi
	printf "\n# Keepword: listen address, port and socket dir are rewritten on every start.\ninclude_if_exists = 'keepword.conf'\n" |
		as_pg tee -a "$tmp/postgresql.conf" >/dev/null
	as_pg rmdir -- "$S_DATA"
	as_pg mv -- "$tmp" "$S_DATA"
}

write_conf() {
	local q="'"
	# autovacuum_naptime: the services keep prepared statements, whose plans PostgreSQL makes
	# again only once ANALYZE has run on their tables. A fresh database's tables grow from
	# nothing in seconds; with the default 60 s, plans made on near-empty tables (sequential
	# scans) stayed while the tables reached 60,000 rows, and commitments slowed by a third
	# (docs/benchmarks.md). 10 s costs next to nothing on tables that do not change.
	printf "# Written by deploy/local/postgres.sh on every start; do not edit.\nlisten_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nautovacuum_naptime = 10s\n" \
		"$PORT" "${S_RUN//$q/$q$q}" | as_pg tee "$S_DATA/keepword.conf" >/dev/null
	[[ -z ${KEEPWORD_PG_TLS_DIR:-} ]] || write_tls_conf
}

# TLS with a password for every TCP client; the unix socket (in the cluster's own folder) stays
# trusted for `postgres`, which this script uses. The certificate and key are copied next to
# the cluster: the server's user must own the key and may not be able to read the caller's folder.
write_tls_conf() {
	local tls=$S_BASE/tls grp
	grp=$(id -gn "$(stat -c %U "$S_DATA")")
	install -d -m 0700 -o "$(stat -c %U "$S_DATA")" -g "$grp" "$tls"
	install -m 0644 -o "$(stat -c %U "$S_DATA")" -g "$grp" "$KEEPWORD_PG_TLS_DIR/server.crt" "$tls/server.crt"
	install -m 0600 -o "$(stat -c %U "$S_DATA")" -g "$grp" "$KEEPWORD_PG_TLS_DIR/server.key" "$tls/server.key"
	printf 'local all postgres trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n' |
		as_pg tee "$tls/pg_hba.conf" >/dev/null
	printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\nhba_file = '%s'\npassword_encryption = 'scram-sha-256'\n" \
		"$tls/server.crt" "$tls/server.key" "$tls/pg_hba.conf" | as_pg tee -a "$S_DATA/keepword.conf" >/dev/null
}


ensure_role_and_db() {
	"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$S_RUN" -p "$PORT" -U postgres -d postgres >/dev/null <<SQL
SELECT 'CREATE ROLE $APP_ROLE LOGIN SUPERUSER CREATEDB'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE')\gexec
SELECT 'CREATE DATABASE $APP_DB OWNER $APP_ROLE'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$APP_DB')\gexec
SQL
	if [[ -n ${KEEPWORD_PG_PASSWORD_FILE:-} ]]; then
		# psql reads the file itself (never on a command line) and quotes the value.
		"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$S_RUN" -p "$PORT" -U postgres -d postgres >/dev/null <<SQL
\\set password \`cat '$KEEPWORD_PG_PASSWORD_FILE'\`
ALTER ROLE $APP_ROLE PASSWORD :'password';
SQL
	fi
}

# A crash or `kill` leaves postmaster.pid and the socket lock file behind.
# PostgreSQL copes with a dead pid in them, but takes a zombie (a killed
# postmaster that nobody reaped, e.g. in a container whose PID 1 does not reap)
# for a live server and refuses to start. Only called when no live postmaster
# owns the cluster; removes a file only if its pid is gone or a zombie.
remove_stale_lock_files() {
	local f pid
	for f in "$S_DATA/postmaster.pid" "$S_RUN"/.s.PGSQL.*.lock; do
		[[ -f $f ]] || continue
		pid=$(head -n1 -- "$f")
		pid=${pid#-}
		if ! [[ $pid =~ ^[0-9]+$ ]] || proc_alive "$pid"; then continue; fi
		log "removing stale $(basename -- "$f") (pid $pid is not running)"
		rm -f -- "$f"
		[[ $f == *.lock ]] && rm -f -- "${f%.lock}"
	done
	return 0
}

cmd_start() {
	local pid rport t0
	resolve_paths
	if pid=$(postmaster_pid); then
		rport=$(running_port)
		[[ $rport == "$PORT" ]] ||
			die "already running on port $rport, not $PORT (KEEPWORD_POSTGRES_PORT)" "$0 restart"
		step_ok "PostgreSQL $(<"$S_DATA/PG_VERSION") running on 127.0.0.1:$rport ($(shown "$LOG"))"
		return 0
	fi
	t0=${EPOCHREALTIME/./}
	cmd_install
	prepare_layout
	select_bin
	ensure_initdb
	remove_stale_lock_files
	if port_in_use; then
		die "127.0.0.1:$PORT is already in use by another process" "KEEPWORD_POSTGRES_PORT=<a free port> $0 start"
	fi
	write_conf
	# 9>&-: the server must not inherit our lock's fd (it would hold the lock).
	as_pg "$BIN/pg_ctl" -D "$S_DATA" -l "$S_LOG" -W start >/dev/null 9>&-

	local deadline=$((SECONDS + START_TIMEOUT)) began=$SECONDS
	until "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -t 2; do
		if ((SECONDS >= deadline)); then
			step_fail "PostgreSQL did not accept connections within ${START_TIMEOUT}s" "$LOG" "$0 restart"
		fi
		if ((SECONDS - began >= 2)) && ! postmaster_pid >/dev/null; then
			step_fail "PostgreSQL exited during start-up" "$LOG" "$0 start (after fixing what the log says)"
		fi
		sleep 0.1
	done
	ensure_role_and_db
	pid=$(postmaster_pid || echo '?')
	local ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	log "started: PostgreSQL $(<"$S_DATA/PG_VERSION"), pid $pid, data $S_DATA, url postgresql://$APP_ROLE@127.0.0.1:$PORT/$APP_DB"
	step_ok "PostgreSQL $(<"$S_DATA/PG_VERSION") started on 127.0.0.1:$PORT in $((ms / 1000)).$(((ms % 1000) / 100))s ($(shown "$LOG"))"
}

cmd_stop() {
	resolve_paths
	if ! postmaster_pid >/dev/null; then
		step_ok "PostgreSQL not running"
		return 0
	fi
	select_bin
	as_pg "$BIN/pg_ctl" -D "$S_DATA" -m fast -w -t "$STOP_TIMEOUT" stop >/dev/null ||
		step_fail "pg_ctl stop failed" "$LOG" "$0 kill"
	step_ok "PostgreSQL stopped"
}

cmd_status() {
	local pid rport
	resolve_paths
	if ! pid=$(postmaster_pid); then
		echo "not running"
		return 3
	fi
	rport=$(running_port)
	select_bin
	if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$rport" -U postgres -d postgres -t 5; then
		echo "running: pid $pid, postgresql://$APP_ROLE@127.0.0.1:$rport/$APP_DB, data $S_DATA"
		return 0
	fi
	echo "postmaster running (pid $pid, port $rport) but not accepting connections"
	return 1
}

# PIDs whose parent is $1.
children_of() {
	local p stat rest
	for p in /proc/[0-9]*; do
		stat=$(cat "$p/stat" 2>/dev/null) || continue
		rest=${stat##*) } # fields after "(comm) ": state ppid ...
		rest=${rest#* }
		[[ ${rest%% *} == "$1" ]] && printf '%s\n' "${p#/proc/}"
	done
	return 0
}

cmd_kill() {
	local pid kids p i
	resolve_paths
	if ! pid=$(postmaster_pid); then
		step_ok "PostgreSQL not running"
		return 0
	fi
	kill -STOP "$pid" # freeze it so that it cannot fork new children meanwhile
	mapfile -t kids < <(children_of "$pid")
	kill -KILL "$pid" "${kids[@]}" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		proc_alive "$pid" || break
		sleep 0.1
	done
	for p in "${kids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			proc_alive "$p" || break
			sleep 0.1
		done
	done
	step_ok "PostgreSQL killed (postmaster $pid and ${#kids[@]} children, SIGKILL)"
}

cmd_psql() {
	local port=$PORT
	resolve_paths
	if postmaster_pid >/dev/null; then port=$(running_port); fi
	if [[ -f $S_DATA/PG_VERSION ]]; then select_bin; else BIN=$(highest_bin_dir) || BIN=$(dirname "$(command -v psql)"); fi
	exec "$BIN/psql" -h "$S_RUN" -p "$port" -U "$APP_ROLE" -d "$APP_DB" "$@"
}

cmd_destroy() {
	resolve_paths
	if postmaster_pid >/dev/null; then
		cmd_stop || cmd_kill
	fi
	if [[ -L $PG_DIR ]]; then
		[[ $S_BASE == "$EXTERNAL_BASE"/* ]] || die "$PG_DIR points to $S_BASE, outside $EXTERNAL_BASE; not deleting that"
		rm -rf -- "$S_BASE"
	fi
	rm -rf -- "$PG_DIR"
	rm -f -- "$LOG"
	step_ok "PostgreSQL cluster and its log deleted"
}

# Serialize commands that change state (parallel `start`s from test runners).
lock() {
	command -v flock >/dev/null || return 0
	mkdir -p -- "$LOCAL_DIR"
	exec 9>"$LOCAL_DIR/.postgres.lock"
	flock -w 120 9 || die "timed out waiting for $LOCAL_DIR/.postgres.lock"
}

main() {
	local cmd=${1:-}
	[[ $# -gt 0 ]] && shift
	case $cmd in
	install) cmd_install ;;
	start)
		lock
		cmd_start
		;;
	stop)
		lock
		cmd_stop
		;;
	restart)
		lock
		cmd_stop
		cmd_start
		;;
	status) cmd_status ;;
	kill)
		lock
		cmd_kill
		;;
	logs) printf '%s\n' "$LOG" ;;
	psql) cmd_psql "$@" ;;
	destroy)
		lock
		cmd_destroy
		;;
	*)
		sed -n '/^# Usage:/,/^#   KEEPWORD_PG_PORT/{s/^# \{0,1\}//;p}' "$0" >&2
		exit 2
		;;
	esac
}

main "$@"
