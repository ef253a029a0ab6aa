#!/usr/bin/env bash
# Start and stop a throwaway PostgreSQL primary with a streaming hot standby
# for the test suite.
#
#   scripts/pg-replica.sh start [DIR]   start both with their data in DIR
#                                        (default: a new mktemp -d under
#                                        /tmp); prints the path of DIR/env
#                                        as the last (and only) line of
#                                        stdout
#   scripts/pg-replica.sh stop DIR      stop the standby, then the primary,
#                                        by PID and remove DIR
#   scripts/pg-replica.sh status DIR    tell whether the servers of DIR run
#
# DIR/env holds `export` lines for SOFT_DELETE_TEST_PG_PRIMARY_URL,
# SOFT_DELETE_TEST_PG_REPLICA_URL, SOFT_DELETE_PG_REPLICA_DIR,
# SOFT_DELETE_PG_PRIMARY_PID, SOFT_DELETE_PG_REPLICA_PID (and the ports,
# SOFT_DELETE_PG_PRIMARY_PORT / SOFT_DELETE_PG_REPLICA_PORT), so a caller
# does:
#
#   envfile=$(scripts/pg-replica.sh start) && . "$envfile"
#   trap 'scripts/pg-replica.sh stop "$SOFT_DELETE_PG_REPLICA_DIR"' EXIT
#
# The primary has its own initdb (wal_level = replica, fsync and
# synchronous_commit off); the standby is a `pg_basebackup -R` of it with a
# physical replication slot (soft_delete_replica), hot_standby on,
# hot_standby_feedback on and wal_receiver_status_interval = 1s, so the
# primary's pg_stat_replication shows it (application_name
# soft_delete_replica) with replay positions at most a second old. Both
# listen on 127.0.0.1 only, on free ports chosen at start; the URLs log in
# as soft_delete/soft_delete (SUPERUSER REPLICATION), e.g. for
# `SELECT pg_wal_replay_pause()` on the standby. Start returns once the
# standby streams from the primary. Sockets, pid files and logs are in
# DIR/primary and DIR/replica; nothing is started through systemd or init
# scripts and nothing outside DIR is written (apart from installing the
# Debian package postgresql when missing, and creating the `postgres` /
# `mysql` system users when running as root and they do not exist).
#
# Knobs (environment): DB_START_TIMEOUT (s, default 120), DB_STOP_TIMEOUT
# (s per server, default 20), PG_BINDIR (default /usr/lib/postgresql/15/bin,
# else the newest /usr/lib/postgresql/*/bin), PG_OS_USER (default postgres).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# db-servers.sh resets these knobs when sourced: keep the caller's.
os_users=("${PG_OS_USER:-}" "${MYSQL_OS_USER:-}")
# shellcheck source-path=SCRIPTDIR source=db-servers.sh
. "$SCRIPT_DIR/db-servers.sh"
PG_OS_USER=${os_users[0]}
MYSQL_OS_USER=${os_users[1]}

LOG_NAME=pg-replica
readonly REPLICA_MARKER=.soft-delete-pg-replica
START_TIMEOUT=${DB_START_TIMEOUT:-120}
readonly SLOT=soft_delete_replica

ensure_pg_binaries() {
  if ! find_pg || [[ ! -x $PG_BINDIR_FOUND/pg_basebackup ]]; then
    install_packages postgresql
  fi
  find_pg || die "PostgreSQL server binaries still missing after install (looked in /usr/lib/postgresql/*/bin)"
  [[ -x $PG_BINDIR_FOUND/pg_basebackup ]] || die "no pg_basebackup in $PG_BINDIR_FOUND"
}

# ----------------------------------------------------------------- servers --

# Per server (primary, replica): port, postmaster PID, poll state (0 =
# starting, 1 = ready, 2 = failed to bind: retry on another port, 3 =
# failed), launch count, log size at launch.
declare -A PORT=([primary]="" [replica]="")
declare -A PID=([primary]="" [replica]="")
declare -A STATE=([primary]=0 [replica]=0)
declare -A TRIES=([primary]=0 [replica]=0)
declare -A LOG_OFFSET=([primary]=0 [replica]=0)

server_pids() {
  local dir=$1 name=$2
  { pid_from_file "$dir/$name.pid"; pid_from_file "$dir/$name/data/postmaster.pid"; } | sort -u
}

# launch NAME: start server NAME on a free port (does not wait). pg_ctl puts
# the postmaster in its own session with its output on the log file.
launch() {
  local name=$1 d=$DIR/$1 other
  [[ $name == primary ]] && other=replica || other=primary
  PORT[$name]=$(free_port) || die "could not find a free TCP port"
  while [[ ${PORT[$name]} == "${PORT[$other]}" ]]; do PORT[$name]=$(free_port); done
  PID[$name]=""
  STATE[$name]=0
  TRIES[$name]=$((TRIES[$name] + 1))
  rm -f "$DIR/$name.pid"
  LOG_OFFSET[$name]=$(file_size "$d/postgres.log")
  log "starting the $name on 127.0.0.1:${PORT[$name]}"
  as_pg "$PG_BINDIR_FOUND/pg_ctl" -D "$d/data" -l "$d/postgres.log" \
    -o "-p ${PORT[$name]}" -W start </dev/null >&2 ||
    die "pg_ctl start of the $name failed"
}

# psql_to NAME ARG...: psql over TCP with the password login to server NAME.
psql_to() {
  local name=$1
  shift
  PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 "$PG_BINDIR_FOUND/psql" -X -w -q \
    -h 127.0.0.1 -p "${PORT[$name]}" -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1 "$@"
}

# poll NAME: updates STATE[NAME]. The primary is ready once the login
# exists and works over TCP; the standby once it works over TCP, is in
# recovery with its WAL receiver streaming, and the primary's
# pg_stat_replication shows it streaming.
poll() {
  local name=$1 d=$DIR/$1 pidfile=$DIR/$1/data/postmaster.pid status st
  if [[ -z ${PID[$name]} && -r $pidfile ]]; then
    PID[$name]=$(pid_from_file "$pidfile")
    [[ -n ${PID[$name]} ]] && printf '%s\n' "${PID[$name]}" >"$DIR/$name.pid"
  fi
  # postmaster.pid line 8 turns to "ready" once connections are accepted
  # (for a hot standby: once it reached a consistent state).
  status=$(sed -n 8p "$pidfile" 2>/dev/null | tr -d ' ') || true
  if [[ -n ${PID[$name]} && $status == ready ]] && is_ours "${PID[$name]}" "$DIR"; then
    if [[ $name == primary ]]; then
      "$PG_BINDIR_FOUND/psql" -X -w -q -h "$d/run" -p "${PORT[$name]}" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 >>"$d/setup.log" 2>&1 <<EOF || return 0
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN SUPERUSER CREATEDB CREATEROLE REPLICATION PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
EOF
      psql_to primary -Atc 'SELECT 1' >>"$d/setup.log" 2>&1 || return 0
      log "primary ready on 127.0.0.1:${PORT[$name]} (pid ${PID[$name]}) after $((SECONDS - T0))s"
    else
      st=$(psql_to replica -Atc "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver)" \
        2>>"$d/setup.log") || return 0
      [[ $st == "t|streaming" ]] || return 0
      st=$(psql_to primary -Atc "SELECT state FROM pg_stat_replication
        WHERE application_name = '$SLOT'" 2>>"$d/setup.log") || return 0
      [[ $st == streaming ]] || return 0
      log "standby ready on 127.0.0.1:${PORT[$name]} (pid ${PID[$name]}), streaming," \
        "after $((SECONDS - T0))s"
    fi
    STATE[$name]=1
    return 0
  fi
  # Not ready: has it died? (The pid file appears only after the bind.)
  local alive=0
  if [[ -n ${PID[$name]} ]] && is_ours "${PID[$name]}" "$DIR"; then
    alive=1
  elif [[ -z ${PID[$name]} ]] && pgrep -f -- "-D $d/data" >/dev/null 2>&1; then
    alive=1
  fi
  if ((!alive)); then
    if bind_failed "$d/postgres.log" "${LOG_OFFSET[$name]}" && ((TRIES[$name] < MAX_TRIES)); then
      STATE[$name]=2
    else
      STATE[$name]=3
    fi
  fi
  return 0
}

DEADLINE=0
T0=0

# wait_ready NAME: polls server NAME until ready, relaunching it on another
# port when it could not bind its port.
wait_ready() {
  local name=$1 d=$DIR/$1
  while :; do
    poll "$name"
    case ${STATE[$name]} in
      1) return 0 ;;
      2)
        log "the $name could not bind port ${PORT[$name]}; retrying on another port"
        launch "$name"
        ;;
      3)
        log_tail "$d/postgres.log" "$d/setup.log"
        die "the $name exited during start-up (log: $d/postgres.log)"
        ;;
    esac
    if ((SECONDS >= DEADLINE)); then
      log_tail "$d/postgres.log" "$d/setup.log"
      die "the $name was not ready after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

STOPPED_PIDS=()

# stop_server DIR NAME: SIGINT (PostgreSQL's "fast" shutdown) and wait for
# the exit, SIGKILL after STOP_TIMEOUT (see stop_servers in db-servers.sh).
# Its PID goes to STOPPED_PIDS, for await_reaped.
stop_server() {
  local dir=$1 name=$2 p
  local -a signalled=()
  for p in $(server_pids "$dir" "$name"); do
    is_ours "$p" "$dir" || continue
    signalled+=("$p" "the $name")
    STOPPED_PIDS+=("$p")
    log "stopping the $name (pid $p)"
    kill -INT "$p" 2>/dev/null || true
  done
  await_gone "$dir" "${signalled[@]}"
}

# The primary is stopped once the standby has exited (its <defunct> entry
# may linger until PID 1 reaps it; that is waited for at the end).
stop_pair() {
  STOPPED_PIDS=()
  stop_server "$1" replica
  stop_server "$1" primary
  await_reaped "${STOPPED_PIDS[@]}"
}

# ------------------------------------------------------------------- start --

setup_replica_dir() {
  claim_dir "${1:-}" "$REPLICA_MARKER" /tmp/soft-delete-pg-replica.XXXXXX
  local name
  for name in primary replica; do
    mkdir -p "$DIR/$name/run"
    [[ $EUID -eq 0 ]] && chown -R "$PG_OS_USER:" "$DIR/$name"
    chmod 700 "$DIR/$name"
  done
  as_pg test -w "$DIR/primary" ||
    die "user $PG_OS_USER cannot write $DIR/primary (is a parent directory closed to others?); use a directory under /tmp"
}

init_primary() {
  local d=$DIR/primary
  log "initdb ($PG_BINDIR_FOUND) in $d/data"
  if ! run_killable as_pg "$PG_BINDIR_FOUND/initdb" -D "$d/data" -U postgres \
    --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    </dev/null >"$d/initdb.log" 2>&1; then
    log_tail "$d/initdb.log"
    die "initdb failed"
  fi
  # The standby's copy of these files says the same, with the lines of
  # init_replica appended.
  cat >>"$d/data/postgresql.conf" <<EOF

# ---- soft-delete test primary (scripts/pg-replica.sh) ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d/run'
cluster_name = 'soft_delete_primary'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
checkpoint_timeout = 30min
max_wal_size = 2GB
logging_collector = off
log_min_messages = warning
EOF
  cat >"$d/data/pg_hba.conf" <<EOF
# soft-delete test primary (scripts/pg-replica.sh)
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
EOF
}

# The standby: a base backup of the running primary over a TCP replication
# connection with the password login, -R (standby.signal, primary_conninfo
# and primary_slot_name in postgresql.auto.conf), -C -S (a new physical
# slot), WAL streamed alongside, checkpoint forced at once.
init_replica() {
  local d=$DIR/replica
  log "pg_basebackup from the primary into $d/data (slot $SLOT)"
  if ! run_killable as_pg env PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=10 \
    "$PG_BINDIR_FOUND/pg_basebackup" -h 127.0.0.1 -p "${PORT[primary]}" -U "$DB_USER" -w \
    -D "$d/data" -R -C -S "$SLOT" -X stream -c fast --no-sync \
    </dev/null >"$d/basebackup.log" 2>&1; then
    log_tail "$d/basebackup.log" "$DIR/primary/postgres.log"
    die "pg_basebackup failed"
  fi
  cat >>"$d/data/postgresql.conf" <<EOF

# ---- soft-delete test standby (scripts/pg-replica.sh) ----
unix_socket_directories = '$d/run'
cluster_name = '$SLOT'
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
EOF
}

write_replica_env() {
  local tmp=$DIR/env.tmp
  {
    printf '# written by scripts/pg-replica.sh start; stop with: scripts/pg-replica.sh stop %s\n' "$DIR"
    printf 'export SOFT_DELETE_TEST_PG_PRIMARY_URL=%s\n' \
      "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:${PORT[primary]}/postgres"
    printf 'export SOFT_DELETE_TEST_PG_REPLICA_URL=%s\n' \
      "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:${PORT[replica]}/postgres"
    printf 'export SOFT_DELETE_PG_REPLICA_DIR=%s\n' "$DIR"
    printf 'export SOFT_DELETE_PG_PRIMARY_PID=%s\n' "${PID[primary]}"
    printf 'export SOFT_DELETE_PG_REPLICA_PID=%s\n' "${PID[replica]}"
    printf 'export SOFT_DELETE_PG_PRIMARY_PORT=%s\n' "${PORT[primary]}"
    printf 'export SOFT_DELETE_PG_REPLICA_PORT=%s\n' "${PORT[replica]}"
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

replica_start_cmd() {
  (($# <= 1)) || die "usage: $0 start [DIR]"
  T0=$SECONDS
  trap 'cleanup_failed_start "$REPLICA_MARKER" stop_pair' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_pg_binaries
  setup_users
  setup_replica_dir "${1:-}"
  log "data directory: $DIR"
  init_primary
  DEADLINE=$((SECONDS + START_TIMEOUT))
  launch primary
  wait_ready primary
  init_replica
  launch replica
  wait_ready replica
  write_replica_env
  START_OK=1
  log "primary and standby up in $((SECONDS - T0))s; env file: $DIR/env"
  log "stop them with: $0 stop $DIR"
}

# ------------------------------------------------------------ stop, status --

replica_status_cmd() { status_dir server server_pids primary replica -- "$@"; }

replica_stop_cmd() { stop_dir "$REPLICA_MARKER" stop_pair "$@"; }

dispatch replica_start_cmd replica_stop_cmd replica_status_cmd "$@"
