#!/usr/bin/env bash
# Start and stop a throwaway PostgreSQL high-availability cluster for the
# test suite: one etcd, two Patroni nodes with a synchronous standby, and
# HAProxy in front of the current leader.
#
#   scripts/pg-ha.sh start [DIR]         start the cluster with its data in DIR
#                                         (default: a new mktemp -d under
#                                         /tmp); prints the path of DIR/env as
#                                         the last (and only) line of stdout
#   scripts/pg-ha.sh stop DIR            stop HAProxy, both Patroni, their
#                                         PostgreSQL (fast shutdown) and etcd,
#                                         by PID, and remove DIR
#   scripts/pg-ha.sh status DIR          tell which processes of DIR run, and
#                                         show `patronictl list`
#   scripts/pg-ha.sh leader DIR          print the leader's node number (1 or
#                                         2); fails when no node is primary
#   scripts/pg-ha.sh kill-leader DIR     SIGKILL the leader's Patroni and all
#                                         its PostgreSQL processes, print the
#                                         node number; does not wait for the
#                                         failover
#   scripts/pg-ha.sh restart-node DIR N  start node N's Patroni again (after
#                                         kill-leader) once the other node is
#                                         the leader; it rejoins as a replica
#                                         (pg_rewind, else a new base backup);
#                                         returns once its REST API answers
#   scripts/pg-ha.sh wait-healthy DIR [TIMEOUT]
#                                        wait (default 60 s) for a leader, a
#                                         streaming synchronous standby and
#                                         HAProxy routing to the leader; print
#                                         the leader's node number
#   scripts/pg-ha.sh switchover DIR      planned switchover to the other node
#                                         (patronictl switchover --force);
#                                         returns when the cluster is healthy
#                                         again; prints the new leader
#
# DIR/env holds `export` lines for SOFT_DELETE_TEST_PG_HA_URL (through
# HAProxy, always the leader), SOFT_DELETE_TEST_PG_HA_NODE_URLS (the two
# nodes' direct URLs, space separated, node 1 first), SOFT_DELETE_PG_HA_DIR,
# SOFT_DELETE_PG_HA_PORT (HAProxy), SOFT_DELETE_PG_HA_NODE_PORTS,
# SOFT_DELETE_PG_HA_REST_PORTS (the Patroni REST APIs, node 1 first),
# SOFT_DELETE_PG_HA_ETCD_URL, SOFT_DELETE_PG_HA_PATRONICTL_CONFIG (for
# `patronictl -c`) and SOFT_DELETE_PG_HA_SCRIPT (this script), so a caller
# does:
#
#   envfile=$(scripts/pg-ha.sh start) && . "$envfile"
#   trap 'scripts/pg-ha.sh stop "$SOFT_DELETE_PG_HA_DIR"' EXIT
#   node=$("$SOFT_DELETE_PG_HA_SCRIPT" kill-leader "$SOFT_DELETE_PG_HA_DIR")
#
# Node 1 bootstraps the cluster (initdb with data checksums), node 2 joins
# by a base backup and becomes the synchronous standby (synchronous_mode:
# true, synchronous_commit = on, so a commit that returned is on both
# nodes). The Patroni timings are short for the tests (ttl 10, loop_wait 1,
# the shortest as Patroni counts whole seconds, retry_timeout 5; Patroni
# advises ttl >= loop_wait + 2 * retry_timeout, which only matters when etcd
# is slow to answer): after kill-leader the leader key expires and the
# standby is promoted some 10 s later; the first write through HAProxy
# succeeds about 10.5 s after it. HAProxy sends its client port to the node
# whose Patroni answers 200 to /primary (asked with OPTIONS, which Patroni
# answers like GET but without a body; checked every second, down after 2
# failures, up after 1 success; the sessions of a node marked down are cut).
# Everything listens on 127.0.0.1 only, on free ports chosen at start; the
# URLs log in as soft_delete/soft_delete (SUPERUSER), password
# authentication (scram-sha-256) over TCP. Data, sockets, configuration and
# logs are in DIR (etcd/, haproxy/, n1/, n2/; PostgreSQL logs into its
# Patroni's log, n1/patroni.log); nothing is started through systemd or init
# scripts and nothing outside DIR is written (apart from installing the
# Debian packages postgresql, etcd-server, patroni and haproxy when missing,
# and creating the `postgres` / `mysql` system users when running as root
# and they do not exist). As root, every process runs as the postgres user.
#
# Knobs (environment): DB_START_TIMEOUT (s, default 120), DB_STOP_TIMEOUT
# (s per process, default 20), PG_BINDIR (default /usr/lib/postgresql/15/bin,
# else the newest /usr/lib/postgresql/*/bin), PG_OS_USER (default postgres).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# db-servers.sh resets these knobs when sourced: keep the caller's.
os_users=("${PG_OS_USER:-}" "${MYSQL_OS_USER:-}")
# shellcheck source-path=SCRIPTDIR source=db-servers.sh
. "$SCRIPT_DIR/db-servers.sh"
PG_OS_USER=${os_users[0]}
MYSQL_OS_USER=${os_users[1]}

LOG_NAME=pg-ha
readonly HA_MARKER=.soft-delete-pg-ha
START_TIMEOUT=${DB_START_TIMEOUT:-120}
readonly NODES=(1 2)
readonly ETCD=/usr/bin/etcd
readonly PATRONI=/usr/bin/patroni
readonly PATRONICTL=/usr/bin/patronictl
readonly HAPROXY=/usr/sbin/haproxy
readonly PYTHON=/usr/bin/python3
# Patroni's own login (local connections, pg_rewind) and its replication
# login; only the configuration files in DIR know their passwords.
readonly PG_SUPERUSER=postgres
readonly PG_REPLICATOR=replicator

# ---------------------------------------------------------------- binaries --

# ha_packages_missing: the Debian packages whose files are missing.
ha_packages_missing() {
  local -a pkgs=()
  find_pg >/dev/null || pkgs+=(postgresql)
  [[ -x $ETCD ]] || pkgs+=(etcd-server)
  # Patroni's etcd3 module imports python-etcd (its exceptions), which the
  # Debian package pulls in as the first of its DCS alternatives.
  if [[ ! -x $PATRONI || ! -x $PATRONICTL || ! -x $PYTHON ]] ||
    ! "$PYTHON" -c 'import etcd, psycopg2' >/dev/null 2>&1; then
    pkgs+=(patroni python3-etcd)
  fi
  [[ -x $HAPROXY ]] || pkgs+=(haproxy)
  ((${#pkgs[@]} == 0)) || printf '%s\n' "${pkgs[@]}"
}

ensure_ha_binaries() {
  local -a missing
  mapfile -t missing < <(ha_packages_missing)
  if ((${#missing[@]} == 0)); then
    find_pg
    return
  fi
  install_packages "${missing[@]}"
  mapfile -t missing < <(ha_packages_missing)
  ((${#missing[@]} == 0)) ||
    die "still missing after install: ${missing[*]} (PostgreSQL in /usr/lib/postgresql/*/bin, $ETCD," \
      "$PATRONI, $PATRONICTL, python3 modules etcd and psycopg2, $HAPROXY)"
  find_pg
}

# ------------------------------------------------------------------ layout --

# Ports: etcd client and peer, HAProxy, and per node PostgreSQL and REST.
ETCD_PORT=""
ETCD_PEER_PORT=""
HA_PORT=""
PG_PORT=()
REST_PORT=()
# The Patroni scope (cluster name, the key prefix in etcd); a start that
# has to bootstrap node 1 again takes a new one (see relaunch_node).
SCOPE=soft-delete

# new_port: a free port distinct from all ports chosen so far.
new_port() {
  local p q taken
  while :; do
    p=$(free_port) || die "could not find a free TCP port"
    taken=0
    for q in "$ETCD_PORT" "$ETCD_PEER_PORT" "$HA_PORT" "${PG_PORT[@]}" "${REST_PORT[@]}"; do
      [[ $p == "$q" ]] && taken=1
    done
    ((taken)) || break
  done
  printf '%s\n' "$p"
}

# read_state DIR: the ports and scope of a running cluster, from DIR/state.
read_state() {
  local f=$1/state key value
  [[ -r $f ]] || return 1
  while read -r key value; do
    case $key in
      etcd_port) ETCD_PORT=$value ;;
      etcd_peer_port) ETCD_PEER_PORT=$value ;;
      haproxy_port) HA_PORT=$value ;;
      pg_port1) PG_PORT[1]=$value ;;
      pg_port2) PG_PORT[2]=$value ;;
      rest_port1) REST_PORT[1]=$value ;;
      rest_port2) REST_PORT[2]=$value ;;
      scope) SCOPE=$value ;;
    esac
  done <"$f"
  [[ -n $HA_PORT && -n ${REST_PORT[1]:-} && -n ${REST_PORT[2]:-} ]]
}

write_state() {
  {
    printf 'etcd_port %s\netcd_peer_port %s\nhaproxy_port %s\n' "$ETCD_PORT" "$ETCD_PEER_PORT" "$HA_PORT"
    printf 'pg_port1 %s\npg_port2 %s\n' "${PG_PORT[1]}" "${PG_PORT[2]}"
    printf 'rest_port1 %s\nrest_port2 %s\nscope %s\n' "${REST_PORT[1]}" "${REST_PORT[2]}" "$SCOPE"
  } >"$DIR/state.tmp"
  mv -f "$DIR/state.tmp" "$DIR/state"
}

# open_dir ARG: DIR of a command other than start; it must have the marker.
open_dir() {
  [[ -n ${1:-} ]] || die "no DIR given"
  [[ -d $1 ]] || die "$1 does not exist"
  DIR=$(cd -- "$1" && pwd -P)
  [[ -e $DIR/$HA_MARKER ]] || die "$DIR was not made by '$0 start' (no $HA_MARKER in it)"
  read_state "$DIR" || die "$DIR/state is missing or incomplete (did its start fail?)"
  find_pg || die "PostgreSQL binaries not found"
  if [[ $EUID -eq 0 ]]; then PG_OS_USER=${PG_OS_USER:-postgres}; else PG_OS_USER=$(id -un); fi
}

# --------------------------------------------------------------- processes --

# The PIDs recorded for component NAME of DIR: etcd, haproxy, patroni1,
# patroni2, postgres1, postgres2 (a postmaster: from its pid file).
component_pids() {
  local dir=$1 name=$2
  case $name in
    postgres[12]) pid_from_file "$dir/n${name#postgres}/data/postmaster.pid" ;;
    *) pid_from_file "$dir/$name.pid" ;;
  esac
}

# launch NAME LOG CMD...: starts CMD (a daemon staying in the foreground) in
# its own session, as PG_OS_USER, stdin from /dev/null and output appended
# to LOG; does not wait. Its PID goes to DIR/NAME.pid and LAUNCHED_PID.
LAUNCHED_PID=""
launch() {
  local name=$1 logf=$2
  shift 2
  local -a as=()
  local home
  home=$(dirname -- "$logf")
  # setpriv execs (runuser would stay as the parent): the PID is the daemon's.
  [[ $EUID -eq 0 ]] && as=(setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups --)
  # From the daemon's own folder: it may not be allowed into the caller's (HAProxy changes
  # back to its start folder after reading its configuration, and fails there).
  (cd "$home" && exec setsid "${as[@]}" env HOME="$home" "$@" </dev/null >>"$logf" 2>&1) &
  LAUNCHED_PID=$!
  disown "$LAUNCHED_PID" 2>/dev/null || true
  printf '%s\n' "$LAUNCHED_PID" >"$DIR/$name.pid"
}

# probe COMMAND ARG...: HTTP probes of etcd and the Patroni REST APIs, and
# HAProxy's view of its servers (over its stats socket), in Python (which
# Patroni brings along; curl need not be installed):
#   up PORT                     exit 0 when anything answers HTTP on PORT
#   etcd PORT                   exit 0 when etcd's /health says true
#   primaries PORT...           the (1-based) numbers of the nodes whose
#                               GET /primary answers 200
#   healthy SOCKET PORT...      "ok LEADER STANDBY" when exactly one node is
#                               primary, the other is its synchronous
#                               standby, streaming with lag 0, and HAProxy
#                               has only the leader up; else "wait REASON"
probe() {
  "$PYTHON" - "$@" <<'PY'
import http.client, json, socket, sys

def get(port, path):
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=2)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body
    except Exception:
        return 0, b""

def primaries(ports):
    return [i + 1 for i, p in enumerate(ports) if get(p, "/primary")[0] == 200]

def haproxy(sock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(sock)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    lines = data.decode().splitlines()
    head = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row.get("svname", "").startswith("n"):
            out[row["svname"]] = row.get("status", "")
    return out

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "up":
    sys.exit(0 if get(args[0], "/patroni")[0] else 1)
elif cmd == "etcd":
    st, body = get(args[0], "/health")
    try:
        ok = st == 200 and json.loads(body).get("health") in ("true", True)
    except ValueError:
        ok = False
    sys.exit(0 if ok else 1)
elif cmd == "primaries":
    print(" ".join(map(str, primaries(args))))
elif cmd == "healthy":
    sock, ports = args[0], args[1:]
    p = primaries(ports)
    if len(p) != 1:
        print("wait: primary nodes: %s" % (p or "none"))
        sys.exit(1)
    leader = p[0]
    standby = 3 - leader
    st, body = get(ports[leader - 1], "/cluster")
    members = {m.get("name"): m for m in json.loads(body).get("members", [])} if st == 200 else {}
    m = members.get("n%d" % standby, {})
    role, state, lag = m.get("role"), m.get("state"), m.get("lag")
    if role != "sync_standby" or state not in ("running", "streaming") or lag != 0:
        print("wait: leader n%d, n%d is role=%s state=%s lag=%s" % (leader, standby, role, state, lag))
        sys.exit(1)
    try:
        ha = haproxy(sock)
    except OSError as e:
        print("wait: HAProxy stats: %s" % e)
        sys.exit(1)
    if not ha.get("n%d" % leader, "").startswith("UP") or ha.get("n%d" % standby, "").startswith("UP"):
        print("wait: leader n%d, HAProxy servers %s" % (leader, ha))
        sys.exit(1)
    print("ok %d %d" % (leader, standby))
else:
    sys.exit("unknown command " + cmd)
PY
}

# psql_port PORT ARG...: psql over TCP with the password login.
psql_port() {
  local port=$1
  shift
  PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=3 "$PG_BINDIR_FOUND/psql" -X -w -q \
    -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1 "$@"
}

patronictl_dir() {
  "$PATRONICTL" -c "$DIR/n1/patroni.yml" "$@"
}

# healthy: prints "LEADER STANDBY" when the cluster is healthy: Patroni and
# HAProxy agree (see probe healthy), the leader's pg_stat_replication has the
# standby streaming as its synchronous standby, and a login through HAProxy
# lands on a primary. Else prints why not and fails.
healthy() {
  local out leader standby st
  out=$(probe healthy "$DIR/haproxy/stats.sock" "${REST_PORT[@]}") || {
    printf '%s\n' "$out"
    return 1
  }
  read -r _ leader standby <<<"$out"
  st=$(psql_port "${PG_PORT[leader]}" -Atc "SELECT count(*) FROM pg_stat_replication
    WHERE application_name = 'n$standby' AND state = 'streaming' AND sync_state = 'sync'" 2>&1) ||
    st="error: $st"
  if [[ $st != 1 ]]; then
    printf 'wait: n%s pg_stat_replication for n%s: %s\n' "$leader" "$standby" "${st:-none}"
    return 1
  fi
  st=$(psql_port "$HA_PORT" -Atc 'SELECT pg_is_in_recovery()' 2>&1) || st="error: $st"
  if [[ $st != f ]]; then
    printf 'wait: through HAProxy pg_is_in_recovery: %s\n' "$st"
    return 1
  fi
  printf '%s %s\n' "$leader" "$standby"
}

# leader_node: the node number of the primary (GET /primary 200), or fails.
leader_node() {
  local p
  p=$(probe primaries "${REST_PORT[@]}")
  [[ $p =~ ^[12]$ ]] || return 1
  printf '%s\n' "$p"
}

# kill_node DIR I: SIGKILL node I's Patroni (with its children, e.g. a
# pg_rewind) and its postmaster with all the postmaster's children (each
# backend is a session of its own, so the postmaster's process group is not
# enough), then wait (at most 5 s) for them to be gone.
kill_node() {
  local dir=$1 i=$2 p
  local -a roots=() tree=()
  for p in $(component_pids "$dir" "patroni$i") $(component_pids "$dir" "postgres$i"); do
    is_ours "$p" "$dir" && roots+=("$p")
  done
  ((${#roots[@]})) || return 0
  mapfile -t tree < <(process_tree "${roots[@]}")
  kill -KILL "${tree[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + 5))
  for p in "${tree[@]}"; do
    while [[ -r /proc/$p/cmdline && -n $(tr -d '\0' <"/proc/$p/cmdline" 2>/dev/null) ]] &&
      ((SECONDS < deadline)); do
      sleep 0.05
    done
  done
}

STOPPED_PIDS=()

# stop_components DIR SIGNAL NAME...: signal the processes of the NAMEs
# and wait for them (SIGKILL after STOP_TIMEOUT, see await_gone in
# db-servers.sh).
stop_components() {
  local dir=$1 sig=$2 name p
  shift 2
  local -a signalled=()
  for name in "$@"; do
    for p in $(component_pids "$dir" "$name"); do
      is_ours "$p" "$dir" || continue
      signalled+=("$p" "$name")
      STOPPED_PIDS+=("$p")
      log "stopping $name (pid $p)"
      kill "-$sig" "$p" 2>/dev/null || true
    done
  done
  await_gone "$dir" "${signalled[@]}"
}

# stop_cluster DIR: HAProxy (SIGTERM); both Patroni with their children
# (SIGKILL); both postmasters at once (SIGINT, PostgreSQL's fast shutdown;
# SIGKILL for the process trees after STOP_TIMEOUT); etcd (SIGTERM).
#
# Patroni gets no SIGTERM: it would stop its PostgreSQL itself, but a
# synchronous standby first waits 2 s for the leader to release it, and the
# leader, once its PostgreSQL is down, waits 3 s for the standby's REST API
# (gone by then), where the cluster and its etcd are thrown away anyway.
# Stopped so, nothing of Patroni's can act on a PostgreSQL in between (a
# leader stopped before the standby would hand it the leader key).
stop_cluster() {
  local dir=$1 i p c
  local -a roots=() tree=() signalled=() children=()
  STOPPED_PIDS=()
  stop_components "$dir" TERM haproxy
  for i in "${NODES[@]}"; do
    for p in $(component_pids "$dir" "patroni$i"); do
      is_ours "$p" "$dir" || continue
      log "stopping patroni$i (pid $p)"
      roots+=("$p")
      signalled+=("$p" "patroni$i")
    done
  done
  if ((${#roots[@]})); then
    mapfile -t tree < <(process_tree "${roots[@]}")
    STOPPED_PIDS+=("${roots[@]}")
    kill -KILL "${tree[@]}" 2>/dev/null || true
    await_gone "$dir" "${signalled[@]}"
  fi
  signalled=()
  for i in "${NODES[@]}"; do
    p=$(component_pids "$dir" "postgres$i")
    if [[ -z $p ]] || ! is_ours "$p" "$dir"; then continue; fi
    mapfile -t tree < <(process_tree "$p")
    children+=("${tree[@]:1}")
    signalled+=("$p" "postgres$i")
    STOPPED_PIDS+=("$p")
    log "stopping PostgreSQL of node $i (pid $p)"
    kill -INT "$p" 2>/dev/null || true
  done
  await_gone "$dir" "${signalled[@]}"
  # Children of a postmaster that had to be killed (each is a session of
  # its own, so they were not in its process group).
  for c in "${children[@]}"; do
    [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$c/cmdline") == postgres:* ]] && kill -KILL "$c" 2>/dev/null
  done
  stop_components "$dir" TERM etcd
  await_reaped "${STOPPED_PIDS[@]}"
}

# ------------------------------------------------------------------- start --

setup_ha_dir() {
  claim_dir "${1:-}" "$HA_MARKER" /tmp/soft-delete-pg-ha.XXXXXX
  local d
  for d in etcd haproxy n1 n2; do
    mkdir -p "$DIR/$d"
    [[ $d == n? ]] && mkdir -p "$DIR/$d/run"
    [[ $EUID -eq 0 ]] && chown -R "$PG_OS_USER:" "$DIR/$d"
    chmod 700 "$DIR/$d"
  done
  as_pg test -w "$DIR/n1" ||
    die "user $PG_OS_USER cannot write $DIR/n1 (is a parent directory closed to others?); use a directory under /tmp"
}

# as_pg_write FILE: stdin to FILE, readable by PG_OS_USER only.
as_pg_write() {
  cat >"$1"
  chmod 600 "$1"
  [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$1"
  return 0
}

SUPERUSER_PASSWORD=""
REPLICATOR_PASSWORD=""

random_password() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# The script Patroni runs once after node 1's initdb (as the superuser, over
# the socket, with a connection string as its argument): the test login.
write_post_bootstrap() {
  cat >"$DIR/post-bootstrap.sh" <<EOF
#!/bin/sh
# soft-delete test cluster (scripts/pg-ha.sh): run by Patroni after the bootstrap
exec "$PG_BINDIR_FOUND/psql" -X -w -q -v ON_ERROR_STOP=1 -d "\$1" \\
  -c "CREATE ROLE $DB_USER LOGIN SUPERUSER CREATEDB CREATEROLE REPLICATION PASSWORD '$DB_PASSWORD'"
EOF
  chmod 755 "$DIR/post-bootstrap.sh"
}

write_patroni_config() {
  local i=$1 d=$DIR/n$1
  as_pg_write "$d/patroni.yml" <<EOF
# soft-delete test cluster node $i (scripts/pg-ha.sh)
scope: $SCOPE
namespace: /soft-delete-test/
name: n$i
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${REST_PORT[i]}
  connect_address: 127.0.0.1:${REST_PORT[i]}
etcd3:
  hosts: ['127.0.0.1:$ETCD_PORT']
  protocol: http
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: false
    synchronous_node_count: 1
    postgresql:
      use_pg_rewind: true
      use_slots: true
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      parameters:
        max_connections: 100
        shared_buffers: 64MB
        synchronous_commit: 'on'
        wal_level: replica
        wal_log_hints: 'on'
        hot_standby: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        max_wal_size: 1GB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
    - auth-local: trust
    - auth-host: scram-sha-256
  post_bootstrap: $DIR/post-bootstrap.sh
postgresql:
  listen: 127.0.0.1:${PG_PORT[i]}
  connect_address: 127.0.0.1:${PG_PORT[i]}
  data_dir: $d/data
  bin_dir: $PG_BINDIR_FOUND
  pgpass: $d/pgpass
  use_unix_socket: true
  authentication:
    superuser:
      username: $PG_SUPERUSER
      password: '$SUPERUSER_PASSWORD'
    replication:
      username: $PG_REPLICATOR
      password: '$REPLICATOR_PASSWORD'
  basebackup:
    - checkpoint: fast
  parameters:
    unix_socket_directories: '$d/run'
    password_encryption: scram-sha-256
    logging_collector: 'off'
    log_min_messages: warning
    wal_receiver_status_interval: 1s
  pg_hba:
    - local all all trust
    - local replication all trust
    - host all all 127.0.0.1/32 scram-sha-256
    - host replication all 127.0.0.1/32 scram-sha-256
watchdog:
  mode: 'off'
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

write_haproxy_config() {
  local i
  {
    cat <<EOF
# soft-delete test cluster (scripts/pg-ha.sh): the client port goes to the
# node whose Patroni answers 200 to /primary. The check asks with OPTIONS:
# Patroni answers it like GET (same handler) but with the status line only;
# to a GET it also writes a body, and HAProxy, which closes a check
# connection once it has the status, makes Patroni log a
# ConnectionResetError traceback every few seconds. State changes go to
# haproxy.log (HAProxy runs in the foreground, -db).
global
    maxconn 200
    stats socket $DIR/haproxy/stats.sock mode 600 level admin

defaults
    mode tcp
    option log-health-checks
    retries 2
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout check 1s

listen postgres_primary
    bind 127.0.0.1:$HA_PORT
    option httpchk OPTIONS /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
EOF
    for i in "${NODES[@]}"; do
      printf '    server n%s 127.0.0.1:%s maxconn 100 check port %s\n' "$i" "${PG_PORT[i]}" "${REST_PORT[i]}"
    done
  } | as_pg_write "$DIR/haproxy/haproxy.cfg"
}

# Per component (etcd, haproxy, n1, n2) of a start: launch count, log size
# at launch, PID; per node whether it is ready (leader, or synchronous
# standby), after which a failed bind in its log is no longer its own.
declare -A TRIES=([etcd]=0 [haproxy]=0 [n1]=0 [n2]=0)
declare -A LOG_OFFSET=([etcd]=0 [haproxy]=0 [n1]=0 [n2]=0)
declare -A PID_OF=([etcd]="" [haproxy]="" [n1]="" [n2]="")
declare -A READY=([n1]=0 [n2]=0)

launch_etcd() {
  ETCD_PORT=""
  ETCD_PEER_PORT=""
  ETCD_PORT=$(new_port)
  ETCD_PEER_PORT=$(new_port)
  local logf=$DIR/etcd/etcd.log
  LOG_OFFSET[etcd]=$(file_size "$logf")
  TRIES[etcd]=$((TRIES[etcd] + 1))
  log "starting etcd on 127.0.0.1:$ETCD_PORT (peer $ETCD_PEER_PORT)"
  launch etcd "$logf" "$ETCD" --name soft-delete-etcd --data-dir "$DIR/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "soft-delete-etcd=http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster-state new --initial-cluster-token "soft-delete-$$" \
    --logger zap --log-outputs stderr --log-level warn
  PID_OF[etcd]=$LAUNCHED_PID
}

launch_haproxy() {
  local logf=$DIR/haproxy/haproxy.log
  write_haproxy_config
  "$HAPROXY" -c -q -f "$DIR/haproxy/haproxy.cfg" >>"$logf" 2>&1 || {
    log_tail "$logf"
    die "HAProxy rejects $DIR/haproxy/haproxy.cfg"
  }
  LOG_OFFSET[haproxy]=$(file_size "$logf")
  TRIES[haproxy]=$((TRIES[haproxy] + 1))
  log "starting HAProxy on 127.0.0.1:$HA_PORT"
  launch haproxy "$logf" "$HAPROXY" -db -f "$DIR/haproxy/haproxy.cfg"
  PID_OF[haproxy]=$LAUNCHED_PID
}

launch_node() {
  local i=$1 name=n$1 logf=$DIR/n$1/patroni.log
  LOG_OFFSET[$name]=$(file_size "$logf")
  TRIES[$name]=$((TRIES[$name] + 1))
  READY[$name]=0
  log "starting Patroni node $i (PostgreSQL 127.0.0.1:${PG_PORT[i]}, REST 127.0.0.1:${REST_PORT[i]})"
  launch "patroni$i" "$logf" "$PATRONI" "$DIR/n$i/patroni.yml"
  PID_OF[n$i]=$LAUNCHED_PID
}

# relaunch_node I: node I could not bind one of its ports: kill it, wipe
# its data directory and start it on other ports (and HAProxy with them).
# Node 1 bootstraps again under a new scope (its attempt left keys in etcd).
relaunch_node() {
  local i=$1
  log "node $i could not bind one of its ports; retrying on other ports"
  kill_node "$DIR" "$i"
  rm -rf "${DIR:?}/n$i/data" "${DIR:?}/n$i/data.failed"
  PG_PORT[i]=""
  REST_PORT[i]=""
  PG_PORT[i]=$(new_port)
  REST_PORT[i]=$(new_port)
  ((i == 1)) && SCOPE=soft-delete-${TRIES[n1]}
  write_patroni_config "$i"
  launch_node "$i"
  stop_components "$DIR" TERM haproxy
  launch_haproxy
}

# port_taken LOG OFFSET: did the component log a failed bind after OFFSET?
# (bind_failed of db-servers.sh, for these programs' wordings: etcd "bind:
# address already in use", HAProxy "cannot bind socket", Patroni's REST API
# "[Errno 98] Address already in use", PostgreSQL "could not bind".)
port_taken() {
  tail -c "+$(($2 + 1))" "$1" 2>/dev/null |
    grep -qiE 'address already in use|could not bind|cannot bind'
}

# check_alive NAME: the launched component NAME must still run; one that
# exited (or, for a node, whose PostgreSQL) could not bind its port is
# relaunched on another (at most MAX_TRIES launches); else die with its log.
check_alive() {
  local name=$1 logf
  case $name in
    etcd) logf=$DIR/etcd/etcd.log ;;
    haproxy) logf=$DIR/haproxy/haproxy.log ;;
    *) logf=$DIR/$name/patroni.log ;;
  esac
  if launched_alive "${PID_OF[$name]}" "$DIR"; then
    # Patroni keeps running when its PostgreSQL cannot bind.
    [[ $name == n? ]] && ((!READY[$name])) && port_taken "$logf" "${LOG_OFFSET[$name]}" &&
      ((TRIES[$name] < MAX_TRIES)) && relaunch_node "${name#n}"
    return 0
  fi
  if port_taken "$logf" "${LOG_OFFSET[$name]}" && ((TRIES[$name] < MAX_TRIES)); then
    case $name in
      etcd)
        ((READY[n1] || TRIES[n1])) && die "etcd exited (log: $logf)"
        log "etcd could not bind its ports; retrying on other ports"
        launch_etcd
        ;;
      haproxy)
        log "HAProxy could not bind port $HA_PORT; retrying on another port"
        HA_PORT=""
        HA_PORT=$(new_port)
        launch_haproxy
        ;;
      *) relaunch_node "${name#n}" ;;
    esac
    return 0
  fi
  log_tail "$logf"
  die "$name exited during start-up (log: $logf)"
}

DEADLINE=0
T0=0

# wait_until WHAT COMPONENT... -- CHECK...: polls CHECK (a command) every
# 0.2 s until it succeeds, checking that the COMPONENTs still run; dies
# after DEADLINE with their logs.
wait_until() {
  local what=$1 c out=""
  shift
  local -a comps=()
  while [[ $1 != -- ]]; do
    comps+=("$1")
    shift
  done
  shift
  while :; do
    for c in "${comps[@]}"; do check_alive "$c"; done
    out=$("$@" 2>&1) && return 0
    if ((SECONDS >= DEADLINE)); then
      log_tail "$DIR/etcd/etcd.log" "$DIR/n1/patroni.log" "$DIR/n2/patroni.log" "$DIR/haproxy/haproxy.log"
      [[ -n $out ]] && log "last check: $out"
      die "$what not reached after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

etcd_ready() { probe etcd "$ETCD_PORT"; }

node1_leader() { [[ $(probe primaries "${REST_PORT[1]}") == 1 ]]; }

write_ha_env() {
  local tmp=$DIR/env.tmp i urls="" ports=""
  for i in "${NODES[@]}"; do
    urls+="${urls:+ }postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:${PG_PORT[i]}/postgres"
    ports+="${ports:+ }${PG_PORT[i]}"
  done
  {
    printf '# written by scripts/pg-ha.sh start; stop with: scripts/pg-ha.sh stop %s\n' "$DIR"
    printf 'export SOFT_DELETE_TEST_PG_HA_URL=%s\n' \
      "postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$HA_PORT/postgres"
    printf 'export SOFT_DELETE_TEST_PG_HA_NODE_URLS="%s"\n' "$urls"
    printf 'export SOFT_DELETE_PG_HA_DIR=%s\n' "$DIR"
    printf 'export SOFT_DELETE_PG_HA_PORT=%s\n' "$HA_PORT"
    printf 'export SOFT_DELETE_PG_HA_NODE_PORTS="%s"\n' "$ports"
    printf 'export SOFT_DELETE_PG_HA_REST_PORTS="%s %s"\n' "${REST_PORT[1]}" "${REST_PORT[2]}"
    printf 'export SOFT_DELETE_PG_HA_ETCD_URL=%s\n' "http://127.0.0.1:$ETCD_PORT"
    printf 'export SOFT_DELETE_PG_HA_PATRONICTL_CONFIG=%s\n' "$DIR/n1/patroni.yml"
    printf 'export SOFT_DELETE_PG_HA_SCRIPT=%s\n' "$SCRIPT_DIR/pg-ha.sh"
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

ha_start_cmd() {
  (($# <= 1)) || die "usage: $0 start [DIR]"
  T0=$SECONDS
  trap 'cleanup_failed_start "$HA_MARKER" stop_cluster' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_ha_binaries
  setup_users
  setup_ha_dir "${1:-}"
  log "data directory: $DIR (PostgreSQL $PG_BINDIR_FOUND)"
  SUPERUSER_PASSWORD=$(random_password)
  REPLICATOR_PASSWORD=$(random_password)
  write_post_bootstrap
  DEADLINE=$((SECONDS + START_TIMEOUT))

  launch_etcd
  HA_PORT=$(new_port)
  local i
  for i in "${NODES[@]}"; do
    PG_PORT[i]=$(new_port)
    REST_PORT[i]=$(new_port)
  done
  write_state
  launch_haproxy
  wait_until "etcd ready" etcd haproxy -- etcd_ready
  log "etcd ready after $((SECONDS - T0))s"

  # Node 1 alone bootstraps (initdb, the login) and takes the leader key;
  # node 2 then clones it.
  write_patroni_config 1
  launch_node 1
  wait_until "node 1 as leader" etcd haproxy n1 -- node1_leader
  READY[n1]=1
  log "node 1 is the leader after $((SECONDS - T0))s"
  write_patroni_config 2 # after node 1's scope is settled
  launch_node 2
  wait_until "a healthy cluster" etcd haproxy n1 n2 -- healthy
  READY[n2]=1
  write_state
  write_ha_env
  START_OK=1
  log "cluster up in $((SECONDS - T0))s: leader node 1, synchronous standby node 2," \
    "HAProxy on 127.0.0.1:$HA_PORT; env file: $DIR/env"
  patronictl_dir list >&2 2>/dev/null || true
  log "stop it with: $0 stop $DIR"
}

# --------------------------------------------------- the other commands --

ha_stop_cmd() { stop_dir "$HA_MARKER" stop_cluster "$@"; }

# component_pids_by_name DIR "NAME": status_dir's names to component_pids'.
component_pids_by_name() {
  case $2 in
    "node "?" patroni") component_pids "$1" "patroni${2:5:1}" ;;
    "node "?" postgres") component_pids "$1" "postgres${2:5:1}" ;;
    *) component_pids "$1" "$2" ;;
  esac
}

ha_status_cmd() {
  status_dir process component_pids_by_name etcd haproxy "node 1 patroni" "node 1 postgres" \
    "node 2 patroni" "node 2 postgres" -- "$@"
  open_dir "$1"
  local p
  if ! probe etcd "$ETCD_PORT"; then
    echo "etcd does not answer: no patronictl list"
    return 0
  fi
  if p=$(leader_node); then echo "leader: node $p"; else echo "leader: none"; fi
  patronictl_dir list 2>&1 || true
}

leader_cmd() {
  (($# == 1)) || die "usage: $0 leader DIR"
  open_dir "$1"
  leader_node || die "no node of $DIR is primary (GET /primary)"
}

kill_leader_cmd() {
  (($# == 1)) || die "usage: $0 kill-leader DIR"
  open_dir "$1"
  local i
  i=$(leader_node) || die "no node of $DIR is primary (GET /primary): nothing to kill"
  log "killing node $i (Patroni and PostgreSQL, SIGKILL)"
  kill_node "$DIR" "$i"
  printf '%s\n' "$i"
}

restart_node_cmd() {
  if (($# != 2)) || [[ ! $2 =~ ^[12]$ ]]; then die "usage: $0 restart-node DIR 1|2"; fi
  open_dir "$1"
  local i=$2 p
  for p in $(component_pids "$DIR" "patroni$i") $(component_pids "$DIR" "postgres$i"); do
    is_ours "$p" "$DIR" && die "node $i is running (pid $p)"
  done
  # Started while its leader key is still valid (kill-leader less than ttl
  # ago), the node would take up its old role again: first let the other
  # node, if it runs, be promoted.
  local other=$((3 - i)) running=0 deadline=$((SECONDS + START_TIMEOUT))
  for p in $(component_pids "$DIR" "patroni$other"); do
    is_ours "$p" "$DIR" && running=1
  done
  if ((running)) && [[ $(probe primaries "${REST_PORT[other]}") != 1 ]]; then
    log "waiting for node $other to be promoted before node $i starts again"
    until [[ $(probe primaries "${REST_PORT[other]}") == 1 ]]; do
      ((SECONDS < deadline)) || die "node $other is not the leader after ${START_TIMEOUT}s; node $i not started"
      sleep 0.2
    done
  fi
  launch_node "$i"
  deadline=$((SECONDS + START_TIMEOUT))
  until probe up "${REST_PORT[i]}"; do
    if ! launched_alive "$LAUNCHED_PID" "$DIR"; then
      log_tail "$DIR/n$i/patroni.log"
      die "Patroni of node $i exited (log: $DIR/n$i/patroni.log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$DIR/n$i/patroni.log"
      die "Patroni of node $i does not answer on 127.0.0.1:${REST_PORT[i]} after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  log "node $i restarted (Patroni pid $LAUNCHED_PID); it rejoins as a replica"
}

# wait_healthy TIMEOUT: waits for healthy; prints the leader's node number.
wait_healthy() {
  local timeout=$1 t0=$SECONDS out
  while :; do
    if out=$(healthy); then
      log "healthy after $((SECONDS - t0))s: leader node ${out% *}, synchronous standby node ${out#* }"
      printf '%s\n' "${out% *}"
      return 0
    fi
    if ((SECONDS - t0 >= timeout)); then
      log "not healthy after ${timeout}s: $out"
      ha_status_cmd "$DIR" >&2 || true
      log_tail "$DIR/n1/patroni.log" "$DIR/n2/patroni.log" "$DIR/haproxy/haproxy.log"
      return 1
    fi
    sleep 0.2
  done
}

wait_healthy_cmd() {
  (($# == 1 || $# == 2)) || die "usage: $0 wait-healthy DIR [TIMEOUT]"
  [[ ${2:-60} =~ ^[0-9]+$ ]] || die "TIMEOUT must be a number of seconds"
  open_dir "$1"
  wait_healthy "${2:-60}" || die "the cluster of $DIR is not healthy"
}

switchover_cmd() {
  (($# == 1)) || die "usage: $0 switchover DIR"
  open_dir "$1"
  local from to
  # Waited for, not asked once: under a test's writes the standby's replay lag is
  # often a few hundred kB for a moment, and healthy wants it at 0.
  from=$(wait_healthy 30) || die "the cluster is not healthy; no switchover"
  to=$((3 - from))
  log "switchover from node $from to node $to"
  patronictl_dir switchover --leader "n$from" --candidate "n$to" --force >&2 ||
    die "patronictl switchover failed"
  wait_healthy "${START_TIMEOUT}" >/dev/null || die "the cluster is not healthy after the switchover"
  [[ $(leader_node) == "$to" ]] || die "node $to is not the leader after the switchover"
  printf '%s\n' "$to"
}

case ${1:-} in
  start | stop | status | -h | --help | help) dispatch ha_start_cmd ha_stop_cmd ha_status_cmd "$@" ;;
  leader) shift && leader_cmd "$@" ;;
  kill-leader) shift && kill_leader_cmd "$@" ;;
  restart-node) shift && restart_node_cmd "$@" ;;
  wait-healthy) shift && wait_healthy_cmd "$@" ;;
  switchover) shift && switchover_cmd "$@" ;;
  *)
    usage
    exit 2
    ;;
esac
