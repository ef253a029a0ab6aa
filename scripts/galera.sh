#!/usr/bin/env bash
# Start and stop a throwaway 3-node MariaDB Galera cluster for the test suite.
#
#   scripts/galera.sh start [DIR]   start the cluster with its data in DIR
#                                    (default: a new mktemp -d under /tmp);
#                                    prints the path of DIR/env as the last
#                                    (and only) line of stdout
#   scripts/galera.sh stop DIR      stop the nodes (3, 2, then 1) by PID and
#                                    remove DIR
#   scripts/galera.sh status DIR    tell which nodes of DIR run
#
# DIR/env holds `export` lines for SOFT_DELETE_TEST_GALERA_URLS (the three
# nodes' URLs, space separated, node 1 first), SOFT_DELETE_GALERA_DIR,
# SOFT_DELETE_GALERA_PID1..3 and SOFT_DELETE_GALERA_PORT1..3, so a caller
# does:
#
#   envfile=$(scripts/galera.sh start) && . "$envfile"
#   trap 'scripts/galera.sh stop "$SOFT_DELETE_GALERA_DIR"' EXIT
#
# The nodes (MariaDB with Debian's galera-4 provider) listen on 127.0.0.1
# only; every port (client, group communication, IST and SST of each node)
# is a free one chosen at start, outside the kernel's ephemeral range, so no
# client connection holds it when a node rejoins later. The URLs log in as
# soft_delete/soft_delete, which has all privileges. No data directory is transferred at start (no
# SST): node 1 is initialised and bootstrapped once (to create the login),
# shut down cleanly, and its data directory is copied to nodes 2 and 3,
# which then join a cluster bootstrapped again from node 1 and get only the
# couple of write-sets since the copy by IST. Sockets, pid files and logs
# are in DIR/n1..n3; nothing is started through systemd or init scripts and
# nothing outside DIR is written (apart from installing the Debian packages
# mariadb-server / galera-4 / rsync when missing, and creating the
# `postgres` / `mysql` system users when running as root and they do not
# exist). Note that Galera sets auto_increment_increment to the cluster
# size, so AUTO_INCREMENT ids go 1, 4, 7, ... on node 1.
#
# Knobs (environment): DB_START_TIMEOUT (s, default 120), DB_STOP_TIMEOUT
# (s per node, default 30), GALERA_PROVIDER (default
# /usr/lib/galera/libgalera_smm.so), MYSQL_OS_USER (default mysql).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# db-servers.sh resets these knobs when sourced: keep the caller's.
os_users=("${PG_OS_USER:-}" "${MYSQL_OS_USER:-}")
# shellcheck source-path=SCRIPTDIR source=db-servers.sh
. "$SCRIPT_DIR/db-servers.sh"
PG_OS_USER=${os_users[0]}
MYSQL_OS_USER=${os_users[1]}

LOG_NAME=galera
readonly GALERA_MARKER=.soft-delete-galera
START_TIMEOUT=${DB_START_TIMEOUT:-120}
STOP_TIMEOUT=${DB_STOP_TIMEOUT:-30}
readonly NODES=(1 2 3)
readonly CLUSTER_NAME=soft-delete-test

# ---------------------------------------------------------------- binaries --

PROVIDER=""

find_provider() {
  PROVIDER=""
  local p
  if [[ -n ${GALERA_PROVIDER:-} ]]; then
    [[ -f $GALERA_PROVIDER ]] && PROVIDER=$GALERA_PROVIDER
    [[ -n $PROVIDER ]]
    return
  fi
  for p in /usr/lib/galera/libgalera_smm.so /usr/lib/galera*/libgalera_smm.so; do
    if [[ -f $p ]]; then
      PROVIDER=$p
      return 0
    fi
  done
  return 1
}

# rsync: a joiner runs the SST script (wsrep_sst_rsync) even when the
# missing write-sets come by IST, which it does here.
ensure_galera_binaries() {
  find_mysql && find_provider && command -v rsync >/dev/null 2>&1 && return 0
  install_packages "$(find_mysql >/dev/null || echo mariadb-server)" \
    "$(find_provider >/dev/null || echo galera-4)" "$(command -v rsync >/dev/null 2>&1 || echo rsync)"
  command -v rsync >/dev/null 2>&1 || die "rsync still missing after install"
  find_mysql || die "MariaDB binaries still missing after install (mariadbd, mariadb-install-db, mariadb, mariadb-admin)"
  find_provider || die "Galera provider still missing after install (${GALERA_PROVIDER:-/usr/lib/galera*/libgalera_smm.so})"
}

# ------------------------------------------------------------------- nodes --

# Per node (index 1..3): ports (client, gmcast, IST, SST), PID, poll state
# (0 = starting, 1 = ready, 2 = failed to bind: retry on other ports, 3 =
# failed), launch count, error log size at launch, extra mariadbd options.
CPORT=()
GPORT=()
IPORT=()
SPORT=()
NODE_PID=()
NODE_STATE=()
NODE_TRIES=()
NODE_LOG_OFFSET=()
NODE_EXTRA=()

# pick_ports I: free ports for node I, distinct from all the others chosen.
pick_ports() {
  local i=$1 p j taken
  local -a got=()
  for _ in 1 2 3 4; do
    while :; do
      p=$(free_port) || die "could not find a free TCP port"
      taken=0
      for j in "${NODES[@]}"; do
        [[ $p == "${CPORT[j]:-}" || $p == "${GPORT[j]:-}" || $p == "${IPORT[j]:-}" ||
          $p == "${SPORT[j]:-}" ]] && taken=1
      done
      for j in "${got[@]}"; do [[ $p == "$j" ]] && taken=1; done
      ((taken)) || break
    done
    got+=("$p")
  done
  CPORT[i]=${got[0]}
  GPORT[i]=${got[1]}
  IPORT[i]=${got[2]}
  SPORT[i]=${got[3]}
}

write_node_cnf() {
  local i=$1 d=$DIR/n$1 j addr=""
  for j in "${NODES[@]}"; do addr+=${addr:+,}127.0.0.1:${GPORT[j]}; done
  cat >"$d/my.cnf" <<EOF
# soft-delete test Galera node $i (scripts/galera.sh)
[mysqld]
datadir = $d/data
tmpdir = $d/tmp
socket = $d/sock
pid-file = $d/mariadbd.pid
log-error = $d/error.log
port = ${CPORT[i]}
bind-address = 127.0.0.1
skip-name-resolve
max_connections = 300
max_allowed_packet = 64M
innodb_buffer_pool_size = 256M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
performance_schema = OFF
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
wsrep_on = ON
wsrep_provider = $PROVIDER
wsrep_cluster_name = $CLUSTER_NAME
wsrep_cluster_address = gcomm://$addr
wsrep_node_name = n$i
wsrep_node_address = 127.0.0.1:${GPORT[i]}
wsrep_node_incoming_address = 127.0.0.1:${CPORT[i]}
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:${GPORT[i]};ist.recv_addr=127.0.0.1:${IPORT[i]};gcache.size=64M"
wsrep_slave_threads = 2
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:${SPORT[i]}
EOF
  [[ $EUID -eq 0 ]] && chown "$MYSQL_OS_USER:" "$d/my.cnf"
  return 0
}

node_pids() {
  local dir=$1 i=$2
  { pid_from_file "$dir/n$i.pid"; pid_from_file "$dir/n$i/mariadbd.pid"; } | sort -u
}

# launch_node I [MARIADBD-OPTION...]: start node I (does not wait), in its
# own session, output to files. The options are kept for a relaunch.
launch_node() {
  local i=$1 d=$DIR/n$1
  shift
  (($#)) && NODE_EXTRA[i]="$*"
  write_node_cnf "$i"
  local -a args=(--defaults-file="$d/my.cnf")
  [[ $EUID -eq 0 ]] && args+=(--user="$MYSQL_OS_USER")
  # shellcheck disable=SC2206 # options without spaces, split on purpose
  [[ -n ${NODE_EXTRA[i]:-} ]] && args+=(${NODE_EXTRA[i]})
  NODE_LOG_OFFSET[i]=$(file_size "$d/error.log")
  NODE_STATE[i]=0
  NODE_TRIES[i]=$((${NODE_TRIES[i]:-0} + 1))
  log "starting node $i on 127.0.0.1:${CPORT[i]} (gmcast ${GPORT[i]}, IST ${IPORT[i]}," \
    "SST ${SPORT[i]})${NODE_EXTRA[i]:+ with ${NODE_EXTRA[i]}}"
  setsid "$MYSQLD" "${args[@]}" </dev/null >>"$d/stdout.log" 2>&1 &
  NODE_PID[i]=$!
  disown "${NODE_PID[i]}" 2>/dev/null || true
  printf '%s\n' "${NODE_PID[i]}" >"$DIR/n$i.pid"
}

node_root_socket() {
  local i=$1 u=root
  shift
  [[ $EUID -eq 0 ]] || u=$(id -un)
  "$MYSQL_CLIENT" --no-defaults --protocol=socket --socket="$DIR/n$i/sock" \
    --connect-timeout=2 -u "$u" "$@"
}

node_tcp() {
  local i=$1
  shift
  MYSQL_PWD=$DB_PASSWORD "$MYSQL_CLIENT" --no-defaults --protocol=tcp --connect-timeout=5 \
    -h 127.0.0.1 -P "${CPORT[i]}" -u "$DB_USER" "$@"
}

# The wsrep status of node I as "ready size state status", e.g. "ON 3 Synced
# Primary"; CLIENT is node_root_socket or node_tcp.
wsrep_status() {
  local client=$1 i=$2
  "$client" "$i" -NB -e "SHOW GLOBAL STATUS WHERE Variable_name IN
    ('wsrep_ready', 'wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_cluster_status')" |
    awk '{ v[$1] = $2 }
      END { print v["wsrep_ready"], v["wsrep_cluster_size"], v["wsrep_local_state_comment"],
        v["wsrep_cluster_status"] }'
}

# poll_node I MODE: updates NODE_STATE[I]. MODE "bootstrap": node I, alone
# in its cluster, gets the login created (over its socket as root); MODE
# "alone" / "cluster": node I must accept the password login over TCP and
# be synced in a primary component of 1 / 3 nodes.
poll_node() {
  local i=$1 mode=$2 d=$DIR/n$1 st p
  if ! launched_alive "${NODE_PID[i]}" "$DIR"; then
    if bind_failed "$d/error.log" "${NODE_LOG_OFFSET[i]}" && ((NODE_TRIES[i] < MAX_TRIES)); then
      NODE_STATE[i]=2
    else
      NODE_STATE[i]=3
    fi
    return 0
  fi
  if [[ $mode == bootstrap ]]; then
    st=$(wsrep_status node_root_socket "$i" 2>/dev/null) || return 0
    [[ $st == "ON 1 Synced Primary" ]] || return 0
    node_root_socket "$i" --batch >>"$d/setup.log" 2>&1 <<EOF || return 0
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
EOF
    node_tcp "$i" -NBe 'SELECT 1' >>"$d/setup.log" 2>&1 || return 0
  else
    st=$(wsrep_status node_tcp "$i" 2>>"$d/setup.log") || return 0
    if [[ $mode == alone ]]; then
      [[ $st == "ON 1 Synced Primary" ]] || return 0
    else
      [[ $st == "ON 3 Synced Primary" ]] || return 0
    fi
  fi
  NODE_STATE[i]=1
  p=$(pid_from_file "$d/mariadbd.pid")
  if [[ -n $p && $p != "${NODE_PID[i]}" ]] && is_ours "$p" "$DIR"; then
    NODE_PID[i]=$p
    printf '%s\n' "$p" >"$DIR/n$i.pid"
  fi
  log "node $i ready ($st) on 127.0.0.1:${CPORT[i]}, pid ${NODE_PID[i]}, after $((SECONDS - T0))s"
}

DEADLINE=0
T0=0

# wait_nodes MODE I...: polls the nodes I until all are ready (see
# poll_node), relaunching one that could not bind its ports on other ones.
wait_nodes() {
  local mode=$1 i all
  shift
  while :; do
    all=1
    for i in "$@"; do
      ((NODE_STATE[i] == 0)) && poll_node "$i" "$mode"
      case ${NODE_STATE[i]} in
        1) ;;
        2)
          all=0
          log "node $i could not bind one of its ports; retrying on other ports"
          pick_ports "$i"
          launch_node "$i"
          ;;
        3)
          log_tail "$DIR/n$i/error.log" "$DIR/n$i/stdout.log" "$DIR/n$i/setup.log"
          die "node $i exited during start-up (log: $DIR/n$i/error.log)"
          ;;
        *) all=0 ;;
      esac
    done
    ((all)) && return 0
    if ((SECONDS >= DEADLINE)); then
      for i in "$@"; do
        ((NODE_STATE[i] == 1)) ||
          log_tail "$DIR/n$i/error.log" "$DIR/n$i/stdout.log" "$DIR/n$i/setup.log"
      done
      die "cluster not ready after ${START_TIMEOUT}s (nodes $*, $mode phase)"
    fi
    sleep 0.2
  done
}

STOPPED_PIDS=()

# stop_node DIR I: SIGTERM (MariaDB's clean shutdown; the node leaves the
# cluster) and wait for the exit, SIGKILL after STOP_TIMEOUT. A node that
# never became ready gets SIGKILL at once (see stop_servers in
# db-servers.sh). Its PID goes to STOPPED_PIDS, for await_reaped.
stop_node() {
  local dir=$1 i=$2 p
  local -a signalled=()
  for p in $(node_pids "$dir" "$i"); do
    is_ours "$p" "$dir" || continue
    signalled+=("$p" "node $i")
    STOPPED_PIDS+=("$p")
    if mariadb_log_says_ready "$dir/n$i/error.log" "$p"; then
      log "stopping node $i (pid $p)"
      kill -TERM "$p" 2>/dev/null || true
    else
      log "stopping node $i (pid $p, never became ready): SIGKILL"
      # With its process group (setsid): a joiner's SST script and rsync daemon go too.
      if [[ $(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ') == "$p" ]]; then
        kill -KILL -- "-$p" 2>/dev/null || true
      fi
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  await_gone "$dir" "${signalled[@]}"
}

# Each node is stopped once the one before has exited (its <defunct> entry
# may linger until PID 1 reaps it; that is waited for at the end).
stop_cluster() {
  local dir=$1 i
  STOPPED_PIDS=()
  for i in 3 2 1; do stop_node "$dir" "$i"; done
  await_reaped "${STOPPED_PIDS[@]}"
}

# ------------------------------------------------------------------- start --

setup_galera_dir() {
  claim_dir "${1:-}" "$GALERA_MARKER" /tmp/soft-delete-galera.XXXXXX
  local i
  for i in "${NODES[@]}"; do
    mkdir -p "$DIR/n$i/tmp"
    [[ $EUID -eq 0 ]] && chown -R "$MYSQL_OS_USER:" "$DIR/n$i"
    chmod 700 "$DIR/n$i"
  done
  as_mysql_user test -w "$DIR/n1" ||
    die "user $MYSQL_OS_USER cannot write $DIR/n1 (is a parent directory closed to others?); use a directory under /tmp"
}

install_node1() {
  local -a args=(--no-defaults --datadir="$DIR/n1/data" --skip-test-db --skip-name-resolve
    --auth-root-authentication-method=socket)
  if [[ $EUID -eq 0 ]]; then
    args+=(--user="$MYSQL_OS_USER")
  else
    args+=(--auth-root-socket-user="$(id -un)")
  fi
  log "$(basename "$MYSQL_INSTALL_DB") in $DIR/n1/data"
  if ! run_killable "$MYSQL_INSTALL_DB" "${args[@]}" </dev/null >"$DIR/n1/install-db.log" 2>&1; then
    log_tail "$DIR/n1/install-db.log"
    die "$(basename "$MYSQL_INSTALL_DB") failed"
  fi
}

# Clean shutdown of the bootstrap node 1, whose data directory is then the
# seed of all three nodes.
shutdown_node1() {
  local p=${NODE_PID[1]} deadline=$((SECONDS + STOP_TIMEOUT))
  log "shutting node 1 down (pid $p) to seed nodes 2 and 3"
  kill -TERM "$p" 2>/dev/null || true
  while is_ours "$p" "$DIR" && ((SECONDS < deadline)); do sleep 0.1; done
  is_ours "$p" "$DIR" && die "node 1 (pid $p) did not shut down within ${STOP_TIMEOUT}s"
  local g=$DIR/n1/data/grastate.dat
  [[ -r $g ]] || die "no $g after the bootstrap"
  if grep -q '^seqno: *-1' "$g"; then
    log_tail "$g" "$DIR/n1/error.log"
    die "node 1 did not shut down cleanly (seqno -1 in $g)"
  fi
}

seed_nodes() {
  local d=$DIR/n1/data i
  sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$d/grastate.dat"
  # galera.cache (the write-set cache) is rebuilt at start.
  rm -f "$d/galera.cache"
  for i in 2 3; do
    cp -a "$d" "$DIR/n$i/data"
    sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 0/' "$DIR/n$i/data/grastate.dat"
  done
  log "copied node 1's data directory to nodes 2 and 3 ($(tr '\n' ' ' <"$d/grastate.dat" |
    sed 's/.*uuid: *\([^ ]*\).*seqno: *\([^ ]*\).*/state \1:\2/'))"
}

write_galera_env() {
  local tmp=$DIR/env.tmp i urls=""
  for i in "${NODES[@]}"; do
    urls+="${urls:+ }mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:${CPORT[i]}/mysql"
  done
  {
    printf '# written by scripts/galera.sh start; stop with: scripts/galera.sh stop %s\n' "$DIR"
    printf 'export SOFT_DELETE_TEST_GALERA_URLS="%s"\n' "$urls"
    printf 'export SOFT_DELETE_GALERA_DIR=%s\n' "$DIR"
    for i in "${NODES[@]}"; do
      printf 'export SOFT_DELETE_GALERA_PID%s=%s\n' "$i" "${NODE_PID[i]}"
    done
    for i in "${NODES[@]}"; do
      printf 'export SOFT_DELETE_GALERA_PORT%s=%s\n' "$i" "${CPORT[i]}"
    done
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

galera_start_cmd() {
  (($# <= 1)) || die "usage: $0 start [DIR]"
  T0=$SECONDS
  trap 'cleanup_failed_start "$GALERA_MARKER" stop_cluster' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_galera_binaries
  setup_users
  setup_galera_dir "${1:-}"
  log "data directory: $DIR (provider $PROVIDER)"
  install_node1
  DEADLINE=$((SECONDS + START_TIMEOUT))
  local i
  for i in "${NODES[@]}"; do pick_ports "$i"; done

  # Bootstrap node 1 alone, create the login, shut it down cleanly and copy
  # its data directory: all nodes then start from the same state (no SST).
  launch_node 1 --wsrep-new-cluster
  wait_nodes bootstrap 1
  shutdown_node1
  seed_nodes

  launch_node 1 --wsrep-new-cluster
  wait_nodes alone 1
  launch_node 2
  launch_node 3
  wait_nodes cluster 1 2 3

  write_galera_env
  START_OK=1
  log "cluster of 3 up in $((SECONDS - T0))s; env file: $DIR/env"
  log "stop it with: $0 stop $DIR"
}

# -------------------------------------------------------------------- stop --

# node_pids_by_name DIR "node I"
node_pids_by_name() { node_pids "$1" "${2#node }"; }

galera_status_cmd() {
  status_dir node node_pids_by_name "node 1" "node 2" "node 3" -- "$@"
}

galera_stop_cmd() { stop_dir "$GALERA_MARKER" stop_cluster "$@"; }

dispatch galera_start_cmd galera_stop_cmd galera_status_cmd "$@"
