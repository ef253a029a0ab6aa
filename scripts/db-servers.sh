#!/usr/bin/env bash
# Start and stop throwaway PostgreSQL and MariaDB servers for the test suite.
#
#   scripts/db-servers.sh start [DIR]   start both servers with their data in DIR
#                                        (default: a new mktemp -d under /tmp);
#                                        prints the path of DIR/env as the last
#                                        (and only) line of stdout
#   scripts/db-servers.sh stop DIR      stop both servers by PID and remove DIR
#   scripts/db-servers.sh status DIR    tell whether the servers of DIR run
#
# DIR/env holds `export` lines for SOFT_DELETE_TEST_POSTGRES_URL,
# SOFT_DELETE_TEST_MYSQL_URL, SOFT_DELETE_DB_DIR, SOFT_DELETE_PG_PID,
# SOFT_DELETE_MYSQL_PID (and the ports), so a caller does:
#
#   envfile=$(scripts/db-servers.sh start) && . "$envfile"
#   trap 'scripts/db-servers.sh stop "$SOFT_DELETE_DB_DIR"' EXIT
#
# Both servers listen on 127.0.0.1 only, on free ports chosen at start, with
# their sockets, pid files and logs inside DIR; nothing is started through
# systemd or init scripts and nothing outside DIR is written (apart from
# installing the Debian packages postgresql / mariadb-server when their
# binaries are missing, and creating the `postgres` / `mysql` system users
# when running as root and they do not exist).
#
# Knobs (environment): DB_START_TIMEOUT (s, default 60), DB_STOP_TIMEOUT
# (s, default 20), PG_BINDIR (default /usr/lib/postgresql/15/bin, else the
# newest /usr/lib/postgresql/*/bin), PG_OS_USER (default postgres),
# MYSQL_OS_USER (default mysql).
#
# scripts/galera.sh and scripts/pg-replica.sh source this file for its
# functions; sourced, it defines them and runs nothing.
set -euo pipefail

readonly DB_USER=soft_delete
readonly DB_PASSWORD=soft_delete
readonly MARKER=.soft-delete-db-servers
START_TIMEOUT=${DB_START_TIMEOUT:-60}
STOP_TIMEOUT=${DB_STOP_TIMEOUT:-20}

# The servers and clients must not pick up a caller's client settings.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE \
  PGSERVICE PGSERVICEFILE PGSSLMODE PGOPTIONS PGDATA MYSQL_HOST MYSQL_TCP_PORT \
  MYSQL_UNIX_PORT MYSQL_PWD || true

# The prefix of log lines; a script that sources this file sets its own.
LOG_NAME=db-servers
log() { printf '%s: %s\n' "$LOG_NAME" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$0" >&2
}

# ---------------------------------------------------------------- binaries --

PG_BINDIR_FOUND=""
MYSQLD=""
MYSQL_INSTALL_DB=""
MYSQL_CLIENT=""
MYSQL_ADMIN=""

pg_bindir_ok() {
  local d=$1 b
  for b in postgres initdb pg_ctl psql; do
    [[ -x $d/$b && ! -d $d/$b ]] || return 1
  done
}

# Debian's real server binaries live in /usr/lib/postgresql/<major>/bin; the
# initdb / pg_ctl / postgres on PATH (/usr/local/bin on these machines are
# symlinks there, /usr/bin/psql is Debian's pg_wrapper) are not used, so a
# dangling symlink on PATH cannot fool the "is it installed" test.
find_pg() {
  PG_BINDIR_FOUND=""
  if [[ -n ${PG_BINDIR:-} ]]; then
    pg_bindir_ok "$PG_BINDIR" && PG_BINDIR_FOUND=$PG_BINDIR
    [[ -n $PG_BINDIR_FOUND ]]
    return
  fi
  local d
  if pg_bindir_ok /usr/lib/postgresql/15/bin; then
    PG_BINDIR_FOUND=/usr/lib/postgresql/15/bin
    return 0
  fi
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if pg_bindir_ok "$d"; then
      PG_BINDIR_FOUND=$d
      return 0
    fi
  done
  return 1
}

first_executable() {
  local c
  for c in "$@"; do
    if [[ $c == */* ]]; then
      [[ -x $c && ! -d $c ]] && { printf '%s\n' "$c"; return 0; }
    elif command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

find_mysql() {
  MYSQLD=$(first_executable /usr/sbin/mariadbd /usr/sbin/mysqld mariadbd) || return 1
  MYSQL_INSTALL_DB=$(first_executable /usr/bin/mariadb-install-db /usr/bin/mysql_install_db \
    mariadb-install-db mysql_install_db) || return 1
  MYSQL_CLIENT=$(first_executable /usr/bin/mariadb /usr/bin/mysql mariadb mysql) || return 1
  MYSQL_ADMIN=$(first_executable /usr/bin/mariadb-admin /usr/bin/mysqladmin \
    mariadb-admin mysqladmin) || return 1
}

run_privileged() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# install_packages PKG...: installs those of the Debian packages postgresql,
# mariadb-server, galera-4, rsync, etcd-server, patroni, python3-etcd,
# haproxy and pgbouncer whose files are missing (other and empty arguments
# are ignored). Concurrent starts are serialised with a lock file
# and re-check after taking it. While apt runs, a policy-rc.d (if none
# exists) stops the packages' maintainer scripts from starting system-wide
# servers on 5432/3306 through invoke-rc.d.
install_packages() {
  command -v apt-get >/dev/null 2>&1 ||
    die "binaries of $* are missing and apt-get is not available"
  local lock=/var/lock/soft-delete-db-servers-apt.lock
  # shellcheck disable=SC2016 # the script expands its own variables
  run_privileged bash -euo pipefail -c '
    lock=$1; shift
    exec 9>"$lock"
    flock -w 900 9
    pkgs=()
    for p in "$@"; do
      case $p in
        postgresql) ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || pkgs+=(postgresql) ;;
        mariadb-server) { [ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ]; } || pkgs+=(mariadb-server) ;;
        galera-4) ls /usr/lib/galera*/libgalera_smm.so >/dev/null 2>&1 || pkgs+=(galera-4) ;;
        rsync) command -v rsync >/dev/null 2>&1 || pkgs+=(rsync) ;;
        etcd-server) [ -x /usr/bin/etcd ] || pkgs+=(etcd-server) ;;
        patroni) { [ -x /usr/bin/patroni ] && [ -x /usr/bin/patronictl ]; } || pkgs+=(patroni) ;;
        python3-etcd) /usr/bin/python3 -c "import etcd" >/dev/null 2>&1 || pkgs+=(python3-etcd) ;;
        haproxy) [ -x /usr/sbin/haproxy ] || pkgs+=(haproxy) ;;
        pgbouncer) [ -x /usr/sbin/pgbouncer ] || pkgs+=(pgbouncer) ;;
      esac
    done
    [ ${#pkgs[@]} -eq 0 ] && exit 0
    echo "db-servers: installing ${pkgs[*]} with apt-get" >&2
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      trap "rm -f /usr/sbin/policy-rc.d" EXIT
    fi
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}"
  ' install-packages "$lock" "$@" >&2 ||
    die "apt-get install failed"
}

# Installs the Debian packages whose binaries are missing.
ensure_binaries() {
  find_pg && find_mysql && return 0
  install_packages "$(find_pg >/dev/null || echo postgresql)" "$(find_mysql >/dev/null || echo mariadb-server)"
  find_pg || die "PostgreSQL server binaries still missing after install (looked in /usr/lib/postgresql/*/bin)"
  find_mysql || die "MariaDB binaries still missing after install (mariadbd, mariadb-install-db, mariadb, mariadb-admin)"
}

# ------------------------------------------------------------------- users --

PG_OS_USER=""
MYSQL_OS_USER=""

ensure_os_user() {
  local u=$1
  getent passwd "$u" >/dev/null 2>&1 && return 0
  log "creating unprivileged system user $u"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$u" ||
    getent passwd "$u" >/dev/null 2>&1 || # lost a race with a concurrent start
    die "could not create system user $u"
}

setup_users() {
  if [[ $EUID -eq 0 ]]; then
    PG_OS_USER=${PG_OS_USER:-postgres}
    MYSQL_OS_USER=${MYSQL_OS_USER:-mysql}
    ensure_os_user "$PG_OS_USER"
    ensure_os_user "$MYSQL_OS_USER"
  else
    PG_OS_USER=$(id -un)
    MYSQL_OS_USER=$(id -un)
  fi
}

# PostgreSQL refuses to run as root: run its programs as PG_OS_USER.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

as_mysql_user() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u "$MYSQL_OS_USER" -- "$@"
  else
    "$@"
  fi
}

# ------------------------------------------------------------------- ports --

# A port nobody listens on, outside the kernel's ephemeral range
# (net.ipv4.ip_local_port_range): the kernel never gives such a port to an
# outgoing connection, so a server started again later on the port it got
# here (a Galera node rejoining on its IST port, a Patroni node) does not
# find it held by one of the clients' connections. Another process could
# still take it before the server binds it; start_* retry on a failed bind.
free_port() {
  local lo=32768 hi=60999 range
  if range=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null); then
    read -r lo hi <<<"$range"
  fi
  # The wider of the two stretches outside [lo, hi], above the privileged
  # ports and 10000 (where well-known services sit).
  local from=10000 to=$((lo - 1))
  if ((65535 - hi > to - from)); then
    from=$((hi + 1))
    to=65535
  fi
  # No room outside it (a range of nearly all ports): any free port, from
  # the kernel.
  ((to - from >= 100)) || from=0 to=0
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null 2>&1; then
      "$py" - "$from" "$to" <<'PY' 2>/dev/null && return 0
import random, socket, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
if hi == 0:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    sys.exit(0)
for port in random.sample(range(lo, hi + 1), min(500, hi - lo + 1)):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
PY
    fi
  done
  local p i
  for ((i = 0; i < 200; i++)); do
    if ((to == 0)); then
      p=$((20000 + RANDOM % 30000))
    else
      p=$((from + (RANDOM * 32768 + RANDOM) % (to - from + 1)))
    fi
    if ! (exec 2>/dev/null && : >"/dev/tcp/127.0.0.1/$p"); then
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

# --------------------------------------------------------------- processes --

# True when PID is alive and is one of DIR's servers (its command line names
# DIR), so a recycled PID is never signalled.
is_ours() {
  local pid=$1 dir=$2 cmd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ -n $cmd && $cmd == *"$dir/"* ]]
}

# True while PID, a server this script has just launched in the background,
# is alive. Until its exec the child is still a copy of this shell, whose
# command line need not name DIR/, so is_ours alone would call it dead.
launched_alive() {
  local pid=$1 dir=$2 state
  is_ours "$pid" "$dir" && return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

pid_from_file() {
  local f=$1 p
  [[ -r $f ]] || return 0
  p=$(head -n 1 "$f" 2>/dev/null | tr -dc '0-9') || true
  [[ -n $p ]] && printf '%s\n' "$p"
  return 0
}

pg_pids() {
  local dir=$1
  { pid_from_file "$dir/pg.pid"; pid_from_file "$dir/pg/data/postmaster.pid"; } | sort -u
}

mysql_pids() {
  local dir=$1
  { pid_from_file "$dir/mysql.pid"; pid_from_file "$dir/mysql/mariadbd.pid"; } | sort -u
}

# mariadb_log_says_ready LOG PID: did the MariaDB process PID log "ready for
# connections" in its error log LOG (after its own "Starting MariaDB ... as
# process PID" line)?
mariadb_log_says_ready() {
  local f=$1 pid=$2
  awk -v pid="$pid" '
    /Starting MariaDB/ { mine = ($NF == pid) }
    mine && /ready for connections/ { found = 1 }
    END { exit !found }' "$f" 2>/dev/null
}

mysql_was_ready() { mariadb_log_says_ready "$1/mysql/error.log" "$2"; }

# stop_servers DIR: PostgreSQL gets SIGINT (its "fast" shutdown: roll back
# open transactions, disconnect clients, checkpoint; SIGTERM would be "smart"
# and wait for every client to leave), MariaDB gets SIGTERM (its normal
# shutdown). Both are waited for up to STOP_TIMEOUT seconds, then the
# survivors' process groups get SIGKILL. (A MariaDB that never became ready
# gets SIGKILL at once, see below.)
stop_servers() {
  local dir=$1 p
  local -a signalled=()
  for p in $(pg_pids "$dir"); do
    if is_ours "$p" "$dir"; then
      signalled+=("$p" PostgreSQL)
      log "stopping PostgreSQL (pid $p)"
      kill -INT "$p" 2>/dev/null || true
    fi
  done
  for p in $(mysql_pids "$dir"); do
    if is_ours "$p" "$dir"; then
      signalled+=("$p" MariaDB)
      if mysql_was_ready "$dir" "$p"; then
        log "stopping MariaDB (pid $p)"
        kill -TERM "$p" 2>/dev/null || true
      else
        # MariaDB 10.11 can hang for good when SIGTERM (or SIGQUIT) lands
        # while it is still starting up (seen here: no "ready for
        # connections", no shutdown, threads parked on futexes). A server
        # that never became ready holds no data worth a clean shutdown.
        log "stopping MariaDB (pid $p, never became ready): SIGKILL"
        kill -KILL "$p" 2>/dev/null || true
      fi
    fi
  done
  await_exit "$dir" "${signalled[@]}"
}

# await_exit DIR [PID NAME]...: waits up to STOP_TIMEOUT seconds for the
# processes PID (already signalled; NAME is for the log) of DIR to end, then
# sends SIGKILL to the survivors and their process groups, and waits for
# them to be gone and reaped.
await_exit() {
  await_gone "$@"
  shift
  local -a pids=()
  while (($# >= 2)); do
    pids+=("$1")
    shift 2
  done
  await_reaped "${pids[@]}"
}

# await_gone DIR [PID NAME]...: await_exit without the wait for reaping.
await_gone() {
  local dir=$1 p name
  shift
  local -a live=() names=()
  while (($# >= 2)); do
    live+=("$1")
    names+=("$2")
    shift 2
  done
  ((${#live[@]})) || return 0
  local deadline=$((SECONDS + STOP_TIMEOUT)) any i
  while :; do
    any=0
    for p in "${live[@]}"; do
      is_ours "$p" "$dir" && any=1
    done
    ((any)) || break
    ((SECONDS < deadline)) || break
    sleep 0.2
  done
  for i in "${!live[@]}"; do
    p=${live[$i]}
    name=${names[$i]}
    if is_ours "$p" "$dir"; then
      log "$name (pid $p) still running after ${STOP_TIMEOUT}s: sending SIGKILL"
      # The servers run in their own session/process group (pg_ctl and
      # setsid), so the group takes their children along.
      if [[ $(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ') == "$p" ]]; then
        kill -KILL -- "-$p" 2>/dev/null || true
      fi
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  deadline=$((SECONDS + 5))
  for p in "${live[@]}"; do
    while is_ours "$p" "$dir" && ((SECONDS < deadline)); do sleep 0.1; done
    if is_ours "$p" "$dir"; then
      log "warning: pid $p is still there after SIGKILL"
    fi
  done
}

# await_reaped PID...: the servers were orphaned to PID 1 when start exited;
# an init that reaps lazily (this machine's reaps within ~1-2 s) leaves them
# as <defunct> for a moment. Wait for that (at most 5 s) so a `ps` right
# after stop shows nothing.
await_reaped() {
  local p deadline=$((SECONDS + 5))
  for p in "$@"; do
    while [[ $(ps -o stat= -p "$p" 2>/dev/null) == Z* ]] && ((SECONDS < deadline)); do
      sleep 0.1
    done
  done
}

log_tail() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    log "---- last lines of $f ----"
    tail -n 40 "$f" >&2 || true
    log "---- end of $f ----"
  done
}

# ------------------------------------------------------------------- start --

DIR=""
START_OK=0

INIT_PIDS=()

# PIDS and all their descendants, parents first.
process_tree() {
  local p
  for p in "$@"; do
    printf '%s\n' "$p"
    # shellcheck disable=SC2046 # one PID per word
    process_tree $(pgrep -P "$p" 2>/dev/null || true)
  done
}

# Ends the trees of INIT_PIDS (background initdb / mariadb-install-db, and
# the bootstrap mariadbd of the latter), for a start that is interrupted
# while they run.
end_init_pids() {
  ((${#INIT_PIDS[@]})) || return 0
  local -a tree
  mapfile -t tree < <(process_tree "${INIT_PIDS[@]}")
  ((${#tree[@]} == 0)) || kill -KILL "${tree[@]}" 2>/dev/null || true
  wait "${INIT_PIDS[@]}" 2>/dev/null || true
  INIT_PIDS=()
}

# run_killable CMD...: runs CMD in the background and waits for it, with its
# PID in INIT_PIDS meanwhile, so that a trapped SIGINT/SIGTERM is handled at
# once and end_init_pids can end it. Returns CMD's exit status.
run_killable() {
  local pid rc=0
  "$@" &
  pid=$!
  INIT_PIDS=("$pid")
  wait "$pid" || rc=$?
  INIT_PIDS=()
  return "$rc"
}

# cleanup_failed_start MARKER STOP_FN: the EXIT trap of every start. Unless
# the start finished, it ends initdb / mariadb-install-db if they still run,
# then stops with STOP_FN DIR whatever was started in DIR (if DIR was claimed,
# which MARKER in it says), keeping the logs.
cleanup_failed_start() {
  local rc=$? marker=$1 stop_fn=$2
  ((START_OK)) && return 0
  end_init_pids
  [[ -n $DIR && -e $DIR/$marker ]] || return 0
  log "start failed (exit $rc): stopping whatever was started in $DIR"
  "$stop_fn" "$DIR" || true
  log "logs are kept in $DIR (remove it with: $0 stop $DIR)"
}

# claim_dir ARG MARKER TEMPLATE: sets DIR to ARG (made if missing; it must
# be empty and never used by a start) or, when ARG is empty, to a new
# `mktemp -d TEMPLATE`, and puts the MARKER file in it.
#
# DIR stays empty until the directory is claimed: the start's EXIT trap
# stops the servers of DIR, and must not stop those of a directory that a
# previous start still uses.
claim_dir() {
  local arg=$1 marker=$2 template=$3 d
  if [[ -n $arg ]]; then
    mkdir -p -- "$arg"
    d=$(cd -- "$arg" && pwd -P)
    if [[ -e $d/$marker ]]; then
      die "$d was already used by a start; run '$0 stop $d' first or pick another directory"
    fi
    if [[ -n $(ls -A -- "$d") ]]; then
      die "$d is not empty; give an empty or new directory"
    fi
  else
    d=$(mktemp -d "$template")
  fi
  # The path goes unquoted into server config files and must leave room for
  # the socket names (Unix sockets allow 107 bytes).
  [[ $d =~ ^/[A-Za-z0-9_./+-]+$ ]] ||
    die "directory path '$d' may only contain letters, digits and _ . / + -"
  ((${#d} <= 80)) || die "directory path '$d' is too long for Unix sockets (max 80 characters)"
  : >"$d/$marker"
  chmod 755 "$d"
  DIR=$d
}

setup_dir() {
  claim_dir "${1:-}" "$MARKER" /tmp/soft-delete-db.XXXXXX
  mkdir -p "$DIR/pg/run" "$DIR/mysql/data" "$DIR/mysql/tmp"
  if [[ $EUID -eq 0 ]]; then
    chown -R "$PG_OS_USER:" "$DIR/pg"
    chown -R "$MYSQL_OS_USER:" "$DIR/mysql"
  fi
  chmod 700 "$DIR/pg" "$DIR/mysql"
  as_pg test -w "$DIR/pg" ||
    die "user $PG_OS_USER cannot write $DIR/pg (is a parent directory closed to others?); use a directory under /tmp"
  as_mysql_user test -w "$DIR/mysql" ||
    die "user $MYSQL_OS_USER cannot write $DIR/mysql (is a parent directory closed to others?); use a directory under /tmp"
}

init_pg() {
  log "initdb ($PG_BINDIR_FOUND) in $DIR/pg/data"
  if ! as_pg "$PG_BINDIR_FOUND/initdb" -D "$DIR/pg/data" -U postgres \
    --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    </dev/null >"$DIR/pg/initdb.log" 2>&1; then
    log_tail "$DIR/pg/initdb.log"
    die "initdb failed"
  fi
  cat >>"$DIR/pg/data/postgresql.conf" <<EOF

# ---- soft-delete test server (scripts/db-servers.sh) ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/pg/run'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = 30min
max_wal_size = 2GB
logging_collector = off
log_min_messages = warning
EOF
}

init_mysql() {
  cat >"$DIR/mysql/my.cnf" <<EOF
# soft-delete test server (scripts/db-servers.sh); the port is given on the
# command line
[mysqld]
datadir = $DIR/mysql/data
tmpdir = $DIR/mysql/tmp
socket = $DIR/mysql/mysqld.sock
pid-file = $DIR/mysql/mariadbd.pid
log-error = $DIR/mysql/error.log
bind-address = 127.0.0.1
skip-name-resolve
max_connections = 500
max_allowed_packet = 64M
innodb_buffer_pool_size = 256M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
skip-log-bin
performance_schema = OFF
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
EOF
  [[ $EUID -eq 0 ]] && chown "$MYSQL_OS_USER:" "$DIR/mysql/my.cnf"
  local -a args=(--defaults-file="$DIR/mysql/my.cnf" --datadir="$DIR/mysql/data"
    --skip-test-db --skip-name-resolve --auth-root-authentication-method=socket)
  if [[ $EUID -eq 0 ]]; then
    args+=(--user="$MYSQL_OS_USER")
  else
    args+=(--auth-root-socket-user="$(id -un)")
  fi
  log "$(basename "$MYSQL_INSTALL_DB") in $DIR/mysql/data"
  if ! "$MYSQL_INSTALL_DB" "${args[@]}" </dev/null >"$DIR/mysql/install-db.log" 2>&1; then
    log_tail "$DIR/mysql/install-db.log" "$DIR/mysql/error.log"
    die "$(basename "$MYSQL_INSTALL_DB") failed"
  fi
}

PG_PORT=""
PG_PID=""
PG_LOG_OFFSET=0
MYSQL_PORT=""
MYSQL_PID=""
MYSQL_LOG_OFFSET=0

# Launch PostgreSQL (does not wait). pg_ctl puts the postmaster in its own
# session with stdin/stdout/stderr on the log file, so it holds none of the
# caller's pipes.
launch_pg() {
  PG_PORT=$(free_port) || die "could not find a free TCP port"
  PG_PID=""
  rm -f "$DIR/pg.pid"
  PG_LOG_OFFSET=$(file_size "$DIR/pg/postgres.log")
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$PG_BINDIR_FOUND/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/postgres.log" \
    -o "-p $PG_PORT" -W start </dev/null >&2 ||
    die "pg_ctl start failed"
}

# Launch MariaDB (does not wait), in its own session, output to files.
launch_mysql() {
  MYSQL_PORT=$(free_port) || die "could not find a free TCP port"
  while [[ $MYSQL_PORT == "$PG_PORT" ]]; do MYSQL_PORT=$(free_port); done
  local -a args=(--defaults-file="$DIR/mysql/my.cnf" --port="$MYSQL_PORT")
  [[ $EUID -eq 0 ]] && args+=(--user="$MYSQL_OS_USER")
  MYSQL_LOG_OFFSET=$(file_size "$DIR/mysql/error.log")
  log "starting MariaDB ($MYSQLD) on 127.0.0.1:$MYSQL_PORT"
  setsid "$MYSQLD" "${args[@]}" </dev/null >>"$DIR/mysql/stdout.log" 2>&1 &
  MYSQL_PID=$!
  disown "$MYSQL_PID" 2>/dev/null || true # no "Killed" job notices from bash
  printf '%s\n' "$MYSQL_PID" >"$DIR/mysql.pid"
}

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# bind_failed FILE OFFSET: did the server log a failed bind after OFFSET?
bind_failed() {
  tail -c "+$(($2 + 1))" "$1" 2>/dev/null |
    grep -qE 'Address already in use|could not bind|Bind on TCP/IP port'
}

# Poll state: 0 = starting, 1 = ready, 2 = failed (retry on another port), 3 = failed.
PG_STATE=0
MYSQL_STATE=0
PG_TRIES=0
MYSQL_TRIES=0
MAX_TRIES=5

psql_tcp() {
  PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 "$PG_BINDIR_FOUND/psql" -X -w -q \
    -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1 "$@"
}

mysql_tcp() {
  MYSQL_PWD=$DB_PASSWORD "$MYSQL_CLIENT" --no-defaults --protocol=tcp --connect-timeout=5 \
    -h 127.0.0.1 -P "$MYSQL_PORT" -u "$DB_USER" "$@"
}

mysql_root_socket() {
  local u=root
  [[ $EUID -eq 0 ]] || u=$(id -un)
  "$MYSQL_CLIENT" --no-defaults --protocol=socket --socket="$DIR/mysql/mysqld.sock" -u "$u" "$@"
}

poll_pg() {
  local pidfile=$DIR/pg/data/postmaster.pid status
  if [[ -z $PG_PID && -r $pidfile ]]; then
    PG_PID=$(pid_from_file "$pidfile")
    [[ -n $PG_PID ]] && printf '%s\n' "$PG_PID" >"$DIR/pg.pid"
  fi
  # postmaster.pid line 8 turns to "ready" once connections are accepted.
  status=$(sed -n 8p "$pidfile" 2>/dev/null | tr -d ' ') || true
  if [[ -n $PG_PID && $status == ready ]] && is_ours "$PG_PID" "$DIR"; then
    if "$PG_BINDIR_FOUND/psql" -X -w -q -h "$DIR/pg/run" -p "$PG_PORT" -U postgres -d postgres \
      -v ON_ERROR_STOP=1 >>"$DIR/pg/setup.log" 2>&1 <<EOF; then
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN SUPERUSER CREATEDB CREATEROLE PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
EOF
      if psql_tcp -Atc 'SELECT 1' >>"$DIR/pg/setup.log" 2>&1; then
        PG_STATE=1
        log "PostgreSQL ready on 127.0.0.1:$PG_PORT (pid $PG_PID)"
        return
      fi
    fi
    return
  fi
  # Not ready: has it died? (The pid file appears only after the bind.)
  local alive=0
  if [[ -n $PG_PID ]] && is_ours "$PG_PID" "$DIR"; then
    alive=1
  elif [[ -z $PG_PID ]] && pgrep -f -- "-D $DIR/pg/data" >/dev/null 2>&1; then
    alive=1
  fi
  if ((!alive)); then
    if bind_failed "$DIR/pg/postgres.log" "$PG_LOG_OFFSET" && ((PG_TRIES < MAX_TRIES)); then
      PG_STATE=2
    else
      PG_STATE=3
    fi
  fi
}

poll_mysql() {
  if ! launched_alive "$MYSQL_PID" "$DIR"; then
    if bind_failed "$DIR/mysql/error.log" "$MYSQL_LOG_OFFSET" && ((MYSQL_TRIES < MAX_TRIES)); then
      MYSQL_STATE=2
    else
      MYSQL_STATE=3
    fi
    return
  fi
  "$MYSQL_ADMIN" --no-defaults --protocol=socket --socket="$DIR/mysql/mysqld.sock" \
    --connect-timeout=2 -u root ping >/dev/null 2>&1 || return 0
  if mysql_root_socket --batch >>"$DIR/mysql/setup.log" 2>&1 <<EOF; then
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
EOF
    if mysql_tcp -NBe 'SELECT 1' >>"$DIR/mysql/setup.log" 2>&1; then
      MYSQL_STATE=1
      local p
      p=$(pid_from_file "$DIR/mysql/mariadbd.pid")
      if [[ -n $p && $p != "$MYSQL_PID" ]] && is_ours "$p" "$DIR"; then
        MYSQL_PID=$p
        printf '%s\n' "$MYSQL_PID" >"$DIR/mysql.pid"
      fi
      log "MariaDB ready on 127.0.0.1:$MYSQL_PORT (pid $MYSQL_PID)"
    fi
  fi
}

write_env() {
  local tmp=$DIR/env.tmp
  {
    printf '# written by scripts/db-servers.sh start; stop with: scripts/db-servers.sh stop %s\n' "$DIR"
    printf 'export SOFT_DELETE_TEST_POSTGRES_URL=%s\n' \
      "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/postgres"
    printf 'export SOFT_DELETE_TEST_MYSQL_URL=%s\n' \
      "mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MYSQL_PORT/mysql"
    printf 'export SOFT_DELETE_DB_DIR=%s\n' "$DIR"
    printf 'export SOFT_DELETE_PG_PID=%s\n' "$PG_PID"
    printf 'export SOFT_DELETE_MYSQL_PID=%s\n' "$MYSQL_PID"
    printf 'export SOFT_DELETE_PG_PORT=%s\n' "$PG_PORT"
    printf 'export SOFT_DELETE_MYSQL_PORT=%s\n' "$MYSQL_PORT"
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

start_cmd() {
  (($# <= 1)) || die "usage: $0 start [DIR]"
  local t0=$SECONDS
  trap 'cleanup_failed_start "$MARKER" stop_servers' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_binaries
  setup_users
  setup_dir "${1:-}"
  log "data directory: $DIR"

  # initdb and mariadb-install-db are independent: run them side by side.
  local ipg imy rc_pg=0 rc_my=0
  (init_pg) &
  ipg=$!
  (init_mysql) &
  imy=$!
  INIT_PIDS=("$ipg" "$imy")
  wait "$ipg" || rc_pg=$?
  wait "$imy" || rc_my=$?
  INIT_PIDS=()
  ((rc_pg == 0 && rc_my == 0)) || die "initialisation failed (initdb exit $rc_pg, install-db exit $rc_my)"

  launch_pg
  PG_TRIES=1
  launch_mysql
  MYSQL_TRIES=1
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((PG_STATE != 1 || MYSQL_STATE != 1)); do
    ((PG_STATE == 0)) && poll_pg
    ((MYSQL_STATE == 0)) && poll_mysql
    if ((PG_STATE == 2)); then
      log "PostgreSQL could not bind port $PG_PORT; retrying on another port"
      PG_STATE=0
      PG_TRIES=$((PG_TRIES + 1))
      launch_pg
    fi
    if ((MYSQL_STATE == 2)); then
      log "MariaDB could not bind port $MYSQL_PORT; retrying on another port"
      MYSQL_STATE=0
      MYSQL_TRIES=$((MYSQL_TRIES + 1))
      launch_mysql
    fi
    if ((PG_STATE == 3)); then
      log_tail "$DIR/pg/postgres.log" "$DIR/pg/setup.log"
      die "PostgreSQL exited during start-up (log: $DIR/pg/postgres.log)"
    fi
    if ((MYSQL_STATE == 3)); then
      log_tail "$DIR/mysql/error.log" "$DIR/mysql/stdout.log" "$DIR/mysql/setup.log"
      die "MariaDB exited during start-up (log: $DIR/mysql/error.log)"
    fi
    ((PG_STATE == 1 && MYSQL_STATE == 1)) && break
    if ((SECONDS >= deadline)); then
      ((PG_STATE == 1)) || log_tail "$DIR/pg/postgres.log" "$DIR/pg/setup.log"
      ((MYSQL_STATE == 1)) || log_tail "$DIR/mysql/error.log" "$DIR/mysql/stdout.log" "$DIR/mysql/setup.log"
      die "servers not accepting password logins on 127.0.0.1 after ${START_TIMEOUT}s" \
        "(PostgreSQL: $( ((PG_STATE == 1)) && echo ready || echo not ready)," \
        "MariaDB: $( ((MYSQL_STATE == 1)) && echo ready || echo not ready))"
    fi
    sleep 0.2
  done

  write_env
  START_OK=1
  log "both servers up in $((SECONDS - t0))s; env file: $DIR/env"
  log "stop them with: $0 stop $DIR"
}

# -------------------------------------------------------------------- stop --

# stop_dir MARKER STOP_FUNCTION ARG: the stop command. Unless ARG is missing
# or empty, checks that ARG was made by a start (has MARKER), runs
# STOP_FUNCTION DIR, and removes DIR.
stop_dir() {
  local marker=$1 stop_fn=$2
  shift 2
  if (($# != 1)) || [[ -z $1 ]]; then die "usage: $0 stop DIR"; fi
  local arg=$1
  if [[ ! -e $arg ]]; then
    log "$arg does not exist: nothing to stop"
    return 0
  fi
  [[ -d $arg ]] || die "$arg is not a directory"
  DIR=$(cd -- "$arg" && pwd -P)
  if [[ ! -e $DIR/$marker && -z $(ls -A -- "$DIR") ]]; then
    # An empty directory handed to a start that failed before using it
    # (e.g. the apt-get install failed).
    rmdir -- "$DIR"
    log "$DIR was empty (start never used it): removed"
    return 0
  fi
  [[ -e $DIR/$marker ]] ||
    die "$DIR was not made by '$0 start' (no $marker in it): not touching it"
  "$stop_fn" "$DIR"
  rm -rf -- "$DIR"
  log "stopped; removed $DIR"
}

stop_cmd() { stop_dir "$MARKER" stop_servers "$@"; }

# status_dir NOUN PIDS_FN NAME... -- DIR: prints which of DIR's servers run,
# NAME by NAME; PIDS_FN DIR NAME lists the PIDs recorded for one of them.
status_dir() {
  local noun=$1 pids_fn=$2
  shift 2
  local -a names=()
  while (($#)) && [[ $1 != -- ]]; do
    names+=("$1")
    shift
  done
  (($#)) && shift
  (($# == 1)) || die "usage: $0 status DIR"
  [[ -d $1 ]] || die "$1 does not exist"
  DIR=$(cd -- "$1" && pwd -P)
  local name p up=0
  for name in "${names[@]}"; do
    for p in $("$pids_fn" "$DIR" "$name"); do
      is_ours "$p" "$DIR" && { echo "$name running, pid $p"; up=1; }
    done
  done
  ((up)) || echo "no $noun of $DIR is running"
}

server_pids_by_name() {
  case $2 in
    PostgreSQL) pg_pids "$1" ;;
    MariaDB) mysql_pids "$1" ;;
  esac
}

status_cmd() { status_dir server server_pids_by_name PostgreSQL MariaDB -- "$@"; }

# dispatch START_FN STOP_FN STATUS_FN ARG...: the command line every script
# here takes (start, stop, status, help). Only start's env file path goes to
# stdout.
dispatch() {
  local start_fn=$1 stop_fn=$2 status_fn=$3
  shift 3
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    start)
      "$start_fn" "$@" >&2
      printf '%s\n' "$DIR/env"
      ;;
    stop) "$stop_fn" "$@" >&2 ;;
    status) "$status_fn" "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main() { dispatch start_cmd stop_cmd status_cmd "$@"; }

# Run only when executed, not when sourced.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
