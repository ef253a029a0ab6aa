#!/usr/bin/env bash
# Start and stop a throwaway MariaDB source with a GTID replica for the test
# suite.
#
#   scripts/mariadb-replica.sh start [DIR]   start both with their data in
#                                             DIR (default: a new mktemp -d
#                                             under /tmp); prints the path of
#                                             DIR/env as the last (and only)
#                                             line of stdout
#   scripts/mariadb-replica.sh stop DIR      stop the replica, then the
#                                             source, by PID and remove DIR
#   scripts/mariadb-replica.sh status DIR    tell whether the servers of DIR
#                                             run
#
# DIR/env holds `export` lines for SOFT_DELETE_TEST_MYSQL_SOURCE_URL,
# SOFT_DELETE_TEST_MYSQL_REPLICA_URL, SOFT_DELETE_MYSQL_REPLICA_DIR,
# SOFT_DELETE_MYSQL_SOURCE_PID, SOFT_DELETE_MYSQL_REPLICA_PID (and the
# ports, SOFT_DELETE_MYSQL_SOURCE_PORT / SOFT_DELETE_MYSQL_REPLICA_PORT), so
# a caller does:
#
#   envfile=$(scripts/mariadb-replica.sh start) && . "$envfile"
#   trap 'scripts/mariadb-replica.sh stop "$SOFT_DELETE_MYSQL_REPLICA_DIR"' EXIT
#
# The source writes a binary log (binlog_format = ROW, server_id 1,
# gtid_strict_mode on); the replica (server_id 2, read_only on, no binary
# log, relay log in its data directory) replicates from it with
# MASTER_USE_GTID = slave_pos as the login soft_delete_repl (REPLICATION
# SLAVE on the source only), MASTER_CONNECT_RETRY 1 s. Both are initialised
# from one mariadb-install-db; the logins are created on each server with
# the binary log off for that session, so nothing of the set-up is
# replicated. Both listen on 127.0.0.1 only, on free ports chosen at start;
# the URLs log in as soft_delete/soft_delete, which has all privileges on
# both (so it may write on the replica despite read_only, and may run
# STOP SLAVE / START SLAVE / CHANGE MASTER there, e.g. for
# `STOP SLAVE SQL_THREAD` or `CHANGE MASTER TO MASTER_DELAY = n`). Start
# returns once the replica's IO and SQL threads both run. Sockets, pid files
# and logs are in DIR/source and DIR/replica; nothing is started through
# systemd or init scripts and nothing outside DIR is written (apart from
# installing the Debian package mariadb-server when missing, and creating
# the `postgres` / `mysql` system users when running as root and they do
# not exist).
#
# Knobs (environment): DB_START_TIMEOUT (s, default 120), DB_STOP_TIMEOUT
# (s per server, default 20), MYSQL_OS_USER (default mysql).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# db-servers.sh resets these knobs when sourced: keep the caller's.
os_users=("${PG_OS_USER:-}" "${MYSQL_OS_USER:-}")
# shellcheck source-path=SCRIPTDIR source=db-servers.sh
. "$SCRIPT_DIR/db-servers.sh"
PG_OS_USER=${os_users[0]}
MYSQL_OS_USER=${os_users[1]}

LOG_NAME=mariadb-replica
readonly MYREPLICA_MARKER=.soft-delete-mariadb-replica
START_TIMEOUT=${DB_START_TIMEOUT:-120}
readonly REPL_USER=soft_delete_repl
readonly REPL_PASSWORD=soft_delete_repl
readonly SERVERS=(source replica)

ensure_mysql_binaries() {
  find_mysql && return 0
  install_packages mariadb-server
  find_mysql || die "MariaDB binaries still missing after install (mariadbd, mariadb-install-db, mariadb, mariadb-admin)"
}

# ----------------------------------------------------------------- servers --

# Per server (source, replica): port, mariadbd PID, poll state (0 =
# starting, 1 = ready, 2 = failed to bind: retry on another port, 3 =
# failed), launch count, error log size at launch.
declare -A PORT=([source]="" [replica]="")
declare -A PID=([source]="" [replica]="")
declare -A STATE=([source]=0 [replica]=0)
declare -A TRIES=([source]=0 [replica]=0)
declare -A LOG_OFFSET=([source]=0 [replica]=0)

server_pids() {
  local dir=$1 name=$2
  { pid_from_file "$dir/$name.pid"; pid_from_file "$dir/$name/mariadbd.pid"; } | sort -u
}

# write_cnf NAME: DIR/NAME/my.cnf, with the port of NAME.
write_cnf() {
  local name=$1 d=$DIR/$1
  {
    cat <<EOF
# soft-delete test MariaDB $name (scripts/mariadb-replica.sh)
[mysqld]
datadir = $d/data
tmpdir = $d/tmp
socket = $d/sock
pid-file = $d/mariadbd.pid
log-error = $d/error.log
port = ${PORT[$name]}
bind-address = 127.0.0.1
skip-name-resolve
max_connections = 300
max_allowed_packet = 64M
innodb_buffer_pool_size = 128M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
performance_schema = OFF
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
EOF
    if [[ $name == source ]]; then
      cat <<EOF
server_id = 1
log_bin = $d/data/source-bin
binlog_format = ROW
sync_binlog = 0
gtid_strict_mode = ON
EOF
    else
      cat <<EOF
server_id = 2
skip-log-bin
read_only = ON
relay_log = $d/data/relay-bin
relay_log_index = $d/data/relay-bin.index
report_host = 127.0.0.1
EOF
    fi
  } >"$d/my.cnf"
  [[ $EUID -eq 0 ]] && chown "$MYSQL_OS_USER:" "$d/my.cnf"
  return 0
}

# launch NAME: start server NAME on a free port (does not wait), in its own
# session, output to files.
launch() {
  local name=$1 d=$DIR/$1 other
  [[ $name == source ]] && other=replica || other=source
  PORT[$name]=$(free_port) || die "could not find a free TCP port"
  while [[ ${PORT[$name]} == "${PORT[$other]}" ]]; do PORT[$name]=$(free_port); done
  write_cnf "$name"
  local -a args=(--defaults-file="$d/my.cnf")
  [[ $EUID -eq 0 ]] && args+=(--user="$MYSQL_OS_USER")
  LOG_OFFSET[$name]=$(file_size "$d/error.log")
  STATE[$name]=0
  TRIES[$name]=$((TRIES[$name] + 1))
  log "starting the $name ($MYSQLD) on 127.0.0.1:${PORT[$name]}"
  setsid "$MYSQLD" "${args[@]}" </dev/null >>"$d/stdout.log" 2>&1 &
  PID[$name]=$!
  disown "${PID[$name]}" 2>/dev/null || true # no "Killed" job notices from bash
  printf '%s\n' "${PID[$name]}" >"$DIR/$name.pid"
}

# root_socket NAME ARG...: the client as root (as the caller when not root)
# over the socket of server NAME.
root_socket() {
  local name=$1 u=root
  shift
  [[ $EUID -eq 0 ]] || u=$(id -un)
  "$MYSQL_CLIENT" --no-defaults --protocol=socket --socket="$DIR/$name/sock" \
    --connect-timeout=2 -u "$u" "$@"
}

# tcp NAME ARG...: the client over TCP with the password login to server NAME.
tcp() {
  local name=$1
  shift
  MYSQL_PWD=$DB_PASSWORD "$MYSQL_CLIENT" --no-defaults --protocol=tcp --connect-timeout=5 \
    -h 127.0.0.1 -P "${PORT[$name]}" -u "$DB_USER" "$@"
}

# setup_sql NAME: the logins of server NAME, with the binary log off for the
# session so that none of it reaches the replica.
setup_sql() {
  cat <<EOF
SET SESSION sql_log_bin = 0;
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
EOF
  if [[ $1 == source ]]; then
    cat <<EOF
CREATE USER IF NOT EXISTS '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$REPL_PASSWORD';
GRANT REPLICATION SLAVE ON *.* TO '$REPL_USER'@'127.0.0.1';
EOF
  fi
}

# poll NAME: updates STATE[NAME]. Server NAME is ready once its logins exist
# (made over its socket as root) and the password login works over TCP.
poll() {
  local name=$1 d=$DIR/$1 p u=root
  if ! launched_alive "${PID[$name]}" "$DIR"; then
    if bind_failed "$d/error.log" "${LOG_OFFSET[$name]}" && ((TRIES[$name] < MAX_TRIES)); then
      STATE[$name]=2
    else
      STATE[$name]=3
    fi
    return 0
  fi
  [[ $EUID -eq 0 ]] || u=$(id -un)
  "$MYSQL_ADMIN" --no-defaults --protocol=socket --socket="$d/sock" \
    --connect-timeout=2 -u "$u" ping >/dev/null 2>&1 || return 0
  setup_sql "$name" | root_socket "$name" --batch >>"$d/setup.log" 2>&1 || return 0
  tcp "$name" -NBe 'SELECT 1' >>"$d/setup.log" 2>&1 || return 0
  STATE[$name]=1
  p=$(pid_from_file "$d/mariadbd.pid")
  if [[ -n $p && $p != "${PID[$name]}" ]] && is_ours "$p" "$DIR"; then
    PID[$name]=$p
    printf '%s\n' "$p" >"$DIR/$name.pid"
  fi
  log "the $name is ready on 127.0.0.1:${PORT[$name]} (pid ${PID[$name]}) after $((SECONDS - T0))s"
}

DEADLINE=0
T0=0

# wait_servers: polls both servers until ready, relaunching one that could
# not bind its port on another one.
wait_servers() {
  local name all
  while :; do
    all=1
    for name in "${SERVERS[@]}"; do
      ((STATE[$name] == 0)) && poll "$name"
      case ${STATE[$name]} in
        1) ;;
        2)
          all=0
          log "the $name could not bind port ${PORT[$name]}; retrying on another port"
          launch "$name"
          ;;
        3)
          log_tail "$DIR/$name/error.log" "$DIR/$name/stdout.log" "$DIR/$name/setup.log"
          die "the $name exited during start-up (log: $DIR/$name/error.log)"
          ;;
        *) all=0 ;;
      esac
    done
    ((all)) && return 0
    if ((SECONDS >= DEADLINE)); then
      for name in "${SERVERS[@]}"; do
        ((STATE[$name] == 1)) ||
          log_tail "$DIR/$name/error.log" "$DIR/$name/stdout.log" "$DIR/$name/setup.log"
      done
      die "servers not accepting password logins on 127.0.0.1 after ${START_TIMEOUT}s" \
        "(source: $( ((STATE[source] == 1)) && echo ready || echo not ready)," \
        "replica: $( ((STATE[replica] == 1)) && echo ready || echo not ready))"
    fi
    sleep 0.2
  done
}

start_replication() {
  log "replica: CHANGE MASTER TO 127.0.0.1:${PORT[source]} as $REPL_USER, MASTER_USE_GTID = slave_pos; START SLAVE"
  if ! root_socket replica --batch >>"$DIR/replica/setup.log" 2>&1 <<EOF; then
CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${PORT[source]},
  MASTER_USER = '$REPL_USER', MASTER_PASSWORD = '$REPL_PASSWORD',
  MASTER_CONNECT_RETRY = 1, MASTER_USE_GTID = slave_pos;
START SLAVE;
EOF
    log_tail "$DIR/replica/setup.log"
    die "CHANGE MASTER / START SLAVE on the replica failed"
  fi
}

# replica_threads: "IO SQL IO_ERRNO SQL_ERRNO" from the replica's SHOW
# REPLICA STATUS, e.g. "Yes Yes 0 0".
replica_threads() {
  tcp replica -E -e 'SHOW REPLICA STATUS' |
    awk '{ i = index($0, ":"); if (i == 0) next
        k = substr($0, 1, i - 1); gsub(/ /, "", k)
        v = substr($0, i + 1); sub(/^ /, "", v); s[k] = v }
      END { print s["Slave_IO_Running"], s["Slave_SQL_Running"], s["Last_IO_Errno"] + 0,
        s["Last_SQL_Errno"] + 0 }'
}

# Polls the replica until its IO and SQL threads both run; a thread that
# stopped with an error fails the start at once.
wait_replicating() {
  local st io sql ioe sqle name
  while :; do
    for name in "${SERVERS[@]}"; do
      if ! is_ours "${PID[$name]}" "$DIR"; then
        log_tail "$DIR/$name/error.log"
        die "the $name exited while the replica was connecting"
      fi
    done
    if st=$(replica_threads 2>>"$DIR/replica/setup.log"); then
      read -r io sql ioe sqle <<<"$st"
      if [[ $io == Yes && $sql == Yes ]]; then
        log "the replica replicates (IO and SQL threads running) after $((SECONDS - T0))s"
        return 0
      fi
      if [[ $io == No && $ioe != 0 ]] || [[ $sql == No && $sqle != 0 ]]; then
        tcp replica -E -e 'SHOW REPLICA STATUS' >&2 || true
        log_tail "$DIR/replica/error.log"
        die "replication failed (IO thread: $io, error $ioe; SQL thread: $sql, error $sqle)"
      fi
    fi
    if ((SECONDS >= DEADLINE)); then
      tcp replica -E -e 'SHOW REPLICA STATUS' >&2 || true
      log_tail "$DIR/replica/error.log" "$DIR/source/error.log"
      die "the replica's IO and SQL threads were not both running after ${START_TIMEOUT}s (${st:-no status})"
    fi
    sleep 0.2
  done
}

STOPPED_PIDS=()

# stop_server DIR NAME: SIGTERM (MariaDB's clean shutdown) and wait for the
# exit, SIGKILL after STOP_TIMEOUT. A server that never became ready gets
# SIGKILL at once (see stop_servers in db-servers.sh). Its PID goes to
# STOPPED_PIDS, for await_reaped.
stop_server() {
  local dir=$1 name=$2 p
  local -a signalled=()
  for p in $(server_pids "$dir" "$name"); do
    is_ours "$p" "$dir" || continue
    signalled+=("$p" "the $name")
    STOPPED_PIDS+=("$p")
    if mariadb_log_says_ready "$dir/$name/error.log" "$p"; then
      log "stopping the $name (pid $p)"
      kill -TERM "$p" 2>/dev/null || true
    else
      log "stopping the $name (pid $p, never became ready): SIGKILL"
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  await_gone "$dir" "${signalled[@]}"
}

# The source is stopped once the replica has exited (its <defunct> entry
# may linger until PID 1 reaps it; that is waited for at the end).
stop_pair() {
  STOPPED_PIDS=()
  stop_server "$1" replica
  stop_server "$1" source
  await_reaped "${STOPPED_PIDS[@]}"
}

# ------------------------------------------------------------------- start --

setup_myreplica_dir() {
  claim_dir "${1:-}" "$MYREPLICA_MARKER" /tmp/soft-delete-mariadb-replica.XXXXXX
  local name
  for name in "${SERVERS[@]}"; do
    mkdir -p "$DIR/$name/tmp"
    [[ $EUID -eq 0 ]] && chown -R "$MYSQL_OS_USER:" "$DIR/$name"
    chmod 700 "$DIR/$name"
  done
  as_mysql_user test -w "$DIR/source" ||
    die "user $MYSQL_OS_USER cannot write $DIR/source (is a parent directory closed to others?); use a directory under /tmp"
}

install_db_logged() {
  "$MYSQL_INSTALL_DB" "$@" </dev/null >"$DIR/source/install-db.log" 2>&1
}

# One mariadb-install-db for the source; its data directory (shut down
# cleanly by the bootstrap) is copied for the replica, which has no server
# UUID or binary log of its own to differ in.
install_data() {
  local -a args=(--no-defaults --datadir="$DIR/source/data" --skip-test-db --skip-name-resolve
    --auth-root-authentication-method=socket)
  if [[ $EUID -eq 0 ]]; then
    args+=(--user="$MYSQL_OS_USER")
  else
    args+=(--auth-root-socket-user="$(id -un)")
  fi
  log "$(basename "$MYSQL_INSTALL_DB") in $DIR/source/data"
  # The output is redirected inside run_killable's background job, so that
  # the messages of a start interrupted meanwhile still go to stderr.
  if ! run_killable install_db_logged "${args[@]}"; then
    log_tail "$DIR/source/install-db.log"
    die "$(basename "$MYSQL_INSTALL_DB") failed"
  fi
  cp -a "$DIR/source/data" "$DIR/replica/data"
  log "copied the data directory to $DIR/replica/data"
}

write_myreplica_env() {
  local tmp=$DIR/env.tmp
  {
    printf '# written by scripts/mariadb-replica.sh start; stop with: scripts/mariadb-replica.sh stop %s\n' "$DIR"
    printf 'export SOFT_DELETE_TEST_MYSQL_SOURCE_URL=%s\n' \
      "mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:${PORT[source]}/mysql"
    printf 'export SOFT_DELETE_TEST_MYSQL_REPLICA_URL=%s\n' \
      "mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:${PORT[replica]}/mysql"
    printf 'export SOFT_DELETE_MYSQL_REPLICA_DIR=%s\n' "$DIR"
    printf 'export SOFT_DELETE_MYSQL_SOURCE_PID=%s\n' "${PID[source]}"
    printf 'export SOFT_DELETE_MYSQL_REPLICA_PID=%s\n' "${PID[replica]}"
    printf 'export SOFT_DELETE_MYSQL_SOURCE_PORT=%s\n' "${PORT[source]}"
    printf 'export SOFT_DELETE_MYSQL_REPLICA_PORT=%s\n' "${PORT[replica]}"
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

myreplica_start_cmd() {
  (($# <= 1)) || die "usage: $0 start [DIR]"
  T0=$SECONDS
  trap 'cleanup_failed_start "$MYREPLICA_MARKER" stop_pair' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_mysql_binaries
  setup_users
  setup_myreplica_dir "${1:-}"
  log "data directory: $DIR"
  install_data
  DEADLINE=$((SECONDS + START_TIMEOUT))
  launch source
  launch replica
  wait_servers
  start_replication
  wait_replicating
  write_myreplica_env
  START_OK=1
  log "source and replica up in $((SECONDS - T0))s; env file: $DIR/env"
  log "stop them with: $0 stop $DIR"
}

# ------------------------------------------------------------ stop, status --

myreplica_status_cmd() { status_dir server server_pids "${SERVERS[@]}" -- "$@"; }

myreplica_stop_cmd() { stop_dir "$MYREPLICA_MARKER" stop_pair "$@"; }

dispatch myreplica_start_cmd myreplica_stop_cmd myreplica_status_cmd "$@"
