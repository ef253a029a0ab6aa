#!/usr/bin/env bash
# Start and stop a throwaway HAProxy in front of a Galera cluster (started by
# scripts/galera.sh) for the test suite, and fail its active node over.
#
#   scripts/galera-proxy.sh start [DIR] "URL1 URL2 URL3" [GALERA_DIR]
#                              start HAProxy in front of the nodes the URLs
#                              name (default: $SOFT_DELETE_TEST_GALERA_URLS),
#                              with its files in DIR (default: a new mktemp
#                              -d under /tmp); prints the path of DIR/env as
#                              the last (and only) line of stdout.
#                              GALERA_DIR (default: $SOFT_DELETE_GALERA_DIR
#                              when its env file names the same nodes) is
#                              the cluster's directory, for kill-active and
#                              restart-node
#   scripts/galera-proxy.sh stop DIR      stop HAProxy by PID and remove DIR
#                                         (the cluster keeps running)
#   scripts/galera-proxy.sh status DIR    tell whether HAProxy runs, and the
#                                         state of each node as it sees it
#   scripts/galera-proxy.sh active-node DIR
#                              print the number (1..3) of the node a new
#                              connection through the proxy reaches
#   scripts/galera-proxy.sh kill-active DIR
#                              SIGKILL the mariadbd of that node; prints its
#                              number (the proxy moves to another node once
#                              two checks failed)
#   scripts/galera-proxy.sh restart-node DIR|GALERA_DIR N
#                              start node N again with the configuration
#                              scripts/galera.sh wrote in GALERA_DIR/nN, and
#                              wait until it is Synced in a primary component
#                              with every running node (3 when all run) and,
#                              given the proxy's DIR, until HAProxy sees it up
#
# DIR/env holds `export` lines for SOFT_DELETE_TEST_GALERA_PROXY_URL
# (mysql://USER:PASSWORD@127.0.0.1:PORT/DATABASE, user, password and
# database of URL1), SOFT_DELETE_GALERA_PROXY_DIR, SOFT_DELETE_GALERA_PROXY_PID,
# SOFT_DELETE_GALERA_PROXY_PORT, SOFT_DELETE_GALERA_PROXY_ADMIN_PORT and
# SOFT_DELETE_GALERA_PROXY_GALERA_DIR (empty when unknown), so a caller does:
#
#   envfile=$(scripts/galera.sh start) && . "$envfile"
#   envfile=$(scripts/galera-proxy.sh start "" "$SOFT_DELETE_TEST_GALERA_URLS") && . "$envfile"
#   trap 'scripts/galera-proxy.sh stop "$SOFT_DELETE_GALERA_PROXY_DIR";
#     scripts/galera.sh stop "$SOFT_DELETE_GALERA_DIR"' EXIT
#
# HAProxy (TCP mode) listens on 127.0.0.1 only, on a free port chosen at
# start, and sends every client to ONE node: node 1 (URL1) is the active
# server, nodes 2 and 3 are `backup` (only the first backup that is up
# takes traffic). A stick table (one entry, `stick on dst`) keeps all
# clients on the node they were sent to until that node fails: when node 1
# comes back after a failover to node 2, clients stay on node 2 (no second
# switch, and never two nodes written through the proxy at once). To send
# them back to node 1, run `clear table galera` on the admin socket:
#
#   printf 'clear table galera\n' |
#     (exec 3<>"/dev/tcp/127.0.0.1/$SOFT_DELETE_GALERA_PROXY_ADMIN_PORT"; cat >&3; cat <&3)
#
# (`show stat`, `show table galera`, `disable server galera/n1` work the
# same way: HAProxy's admin CLI listens on 127.0.0.1:ADMIN_PORT.)
#
# Health check: every node, every second (inter 1s, fall 2, rise 2), by an
# external check (DIR/check.sh, run by HAProxy, no extra daemon) that logs
# in with the URL's user and password and passes only when wsrep_ready is
# ON, wsrep_local_state_comment is Synced and wsrep_cluster_status is
# Primary; so a node that answers but is a joiner, a donor, or cut off in a
# non-primary component counts as down, not only one that refuses TCP. A
# node marked down gets its sessions shut (on-marked-down shutdown-sessions);
# a connection refused by a node not yet marked down is retried (3 times, 1 s
# apart) and sent to another node once it is (option redispatch 1).
#
# Measured here (new connection and INSERT every 200 ms through the proxy):
# after a SIGKILL of the active node, the first write succeeds 6.0-6.4 s
# later. HAProxy marks the node down within 1-2 s; the rest is Galera: the
# surviving nodes hold every commit until they evict the dead member, after
# evs.suspect_timeout (PT5S in scripts/galera.sh's configuration; a commit
# sent straight to a surviving node took 5.7 s too). With
# `SET GLOBAL wsrep_provider_options = 'evs.suspect_timeout=PT1S'` on every
# node the first write succeeded after 2.0-2.7 s (a node restarted since
# has PT5S again).
#
# Killing and restarting a node by hand: the cluster's env file has the
# PIDs (SOFT_DELETE_GALERA_PID1..3; restart-node updates them there and in
# GALERA_DIR/nN.pid, so scripts/galera.sh stop still finds the node):
#
#   kill -KILL "$SOFT_DELETE_GALERA_PID1"   # or: scripts/galera-proxy.sh kill-active DIR
#   scripts/galera-proxy.sh restart-node "$SOFT_DELETE_GALERA_DIR" 1
#   . "$SOFT_DELETE_GALERA_DIR/env"          # the new SOFT_DELETE_GALERA_PID1
#
# restart-node runs `mariadbd --wsrep-recover` first when the node did not
# stop cleanly (grastate.dat seqno -1), and starts it with the recovered
# --wsrep-start-position, so it gets the missing write-sets by IST from a
# running node (no SST). It needs another node of the cluster running; it
# does not bootstrap a cluster whose nodes are all down. When the node
# cannot bind a port (its IST or SST port taken by another process since the
# cluster started), restart-node writes other IST and SST ports in its
# my.cnf and starts it again, up to 3 tries in all.
#
# HAProxy logs (health changes, failed connections) go to DIR/haproxy.log;
# nothing is started through systemd or init scripts and nothing outside DIR
# is written (apart from installing the Debian packages haproxy /
# mariadb-server when missing, creating the `postgres` / `mysql` system
# users when running as root and they do not exist, and restart-node, which
# writes in GALERA_DIR). As root, HAProxy and its check run as MYSQL_OS_USER.
#
# Knobs (environment): DB_START_TIMEOUT (s, default 120), DB_STOP_TIMEOUT
# (s, default 20), MYSQL_OS_USER (default mysql).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# db-servers.sh resets these knobs when sourced: keep the caller's.
os_users=("${PG_OS_USER:-}" "${MYSQL_OS_USER:-}")
# shellcheck source-path=SCRIPTDIR source=db-servers.sh
. "$SCRIPT_DIR/db-servers.sh"
PG_OS_USER=${os_users[0]}
MYSQL_OS_USER=${os_users[1]}

LOG_NAME=galera-proxy
readonly PROXY_MARKER=.soft-delete-galera-proxy
# scripts/galera.sh's marker
readonly GALERA_MARKER=.soft-delete-galera
START_TIMEOUT=${DB_START_TIMEOUT:-120}
readonly BACKEND=galera

# ---------------------------------------------------------------- binaries --

HAPROXY=""

find_haproxy() { HAPROXY=$(first_executable /usr/sbin/haproxy haproxy); }

ensure_proxy_binaries() {
  find_haproxy || install_packages haproxy
  find_haproxy || die "haproxy still missing after install"
  find_mysql || install_packages mariadb-server
  find_mysql || die "MariaDB binaries still missing after install (mariadbd, mariadb-install-db, mariadb, mariadb-admin)"
}

# -------------------------------------------------------------------- urls --

# From the URLs: per node (1..3) host and port; user, password (decoded)
# and database of URL1, and URL1's user:password as written.
NODE_HOST=()
NODE_PORT=()
URL_USER=""
URL_PASSWORD=""
URL_USERINFO=""
URL_DB=""

url_decode() {
  local s=$1
  printf '%b' "${s//%/\\x}"
}

parse_urls() {
  local -a list
  read -r -a list <<<"$1"
  ((${#list[@]} >= 2)) || die "give the URLs of at least 2 nodes (space separated), got '$1'"
  local re='^(mysql|mariadb)://(([^:@/?]+)(:([^@/?]*))?)@(\[[^]/]+\]|[^:/?]+)(:([0-9]+))?(/([^?]*))?(\?.*)?$'
  local i=0 u
  for u in "${list[@]}"; do
    i=$((i + 1))
    [[ $u =~ $re ]] ||
      die "node URL $i must look like mysql://USER:PASSWORD@HOST[:PORT][/DATABASE], got '$u'"
    NODE_HOST[i]=${BASH_REMATCH[6]}
    NODE_PORT[i]=${BASH_REMATCH[8]:-3306}
    if ((i == 1)); then
      URL_USERINFO=${BASH_REMATCH[2]}
      URL_USER=$(url_decode "${BASH_REMATCH[3]}")
      URL_PASSWORD=$(url_decode "${BASH_REMATCH[5]}")
      URL_DB=${BASH_REMATCH[10]}
    fi
  done
}

# ------------------------------------------------------------------ haproxy --

PORT=""
ADMIN_PORT=""
PROXY_PID=""
TRIES=0
LOG_OFFSET=0
GALERA_DIR=""

proxy_pids() { pid_from_file "$1/haproxy.pid"; }

# haproxy_cli ADMIN_PORT COMMAND: one command on HAProxy's admin CLI.
haproxy_cli() {
  # shellcheck disable=SC2016 # the inner shell expands its own arguments
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\n" "$2" >&3 && cat <&3' \
    haproxy-cli "$1" "$2" 2>/dev/null
}

# server_states ADMIN_PORT: "NAME STATUS CHECK-STATUS" per node, from `show
# stat`.
server_states() {
  haproxy_cli "$1" 'show stat' |
    awk -F, -v b="$BACKEND" '$1 == b && $2 != "FRONTEND" && $2 != "BACKEND" { print $2, $18, $37 }'
}

# The check HAProxy runs per node (arguments: proxy address and port,
# server address and port).
write_check() {
  local u=${URL_USER//\\/\\\\} p=${URL_PASSWORD//\\/\\\\}
  printf '[client]\nuser = "%s"\npassword = "%s"\n' "${u//\"/\\\"}" "${p//\"/\\\"}" >"$DIR/check.cnf"
  chmod 600 "$DIR/check.cnf"
  cat >"$DIR/check.sh" <<EOF
#!/bin/sh
# HAProxy's external check of a Galera node (scripts/galera-proxy.sh): passes
# when the node at \$3:\$4 is ready, Synced, in the primary component.
out=\$($MYSQL_CLIENT --defaults-file=$DIR/check.cnf --protocol=tcp --connect-timeout=1 \\
  -h "\$3" -P "\$4" -NB -e "SHOW GLOBAL STATUS WHERE Variable_name IN
    ('wsrep_ready', 'wsrep_local_state_comment', 'wsrep_cluster_status')" 2>/dev/null) || exit 1
printf '%s\\n' "\$out" | awk '{ v[\$1] = \$2 }
  END { exit !(v["wsrep_ready"] == "ON" && v["wsrep_local_state_comment"] == "Synced" &&
    v["wsrep_cluster_status"] == "Primary") }'
EOF
  chmod 755 "$DIR/check.sh"
}

write_cfg() {
  local i n=${#NODE_PORT[@]} host
  {
    cat <<EOF
# soft-delete test HAProxy in front of a Galera cluster (scripts/galera-proxy.sh)
global
  log stderr format iso local0 info
  # for the external check
  insecure-fork-wanted
  external-check
  stats socket ipv4@127.0.0.1:$ADMIN_PORT level admin

defaults
  mode tcp
  log global
  option tcplog
  option dontlog-normal
  # A refused connection is retried after min(timeout connect, 1s), on
  # another server if the first one is marked down by then.
  timeout connect 1s
  timeout client 1h
  timeout server 1h
  timeout check 2s
  retries 3
  option redispatch 1

listen $BACKEND
  bind 127.0.0.1:$PORT
  option tcpka
  option external-check
  external-check path "/usr/bin:/bin"
  external-check command $DIR/check.sh
  # every client on the node the first one went to, until it fails
  stick-table type ip size 1
  stick on dst
  default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
EOF
    for ((i = 1; i <= n; i++)); do
      host=${NODE_HOST[i]}
      printf '  server n%s %s:%s check%s\n' "$i" "$host" "${NODE_PORT[i]}" \
        "$( ((i > 1)) && echo ' backup')"
    done
  } >"$DIR/haproxy.cfg"
}

# launch: start HAProxy on free ports (does not wait), in the foreground of
# its own session, its log on stderr to DIR/haproxy.log. As root it runs as
# MYSQL_OS_USER (setpriv execs, so $! is HAProxy's PID).
launch() {
  PORT=$(free_port) || die "could not find a free TCP port"
  ADMIN_PORT=$(free_port) || die "could not find a free TCP port"
  while [[ $ADMIN_PORT == "$PORT" ]]; do ADMIN_PORT=$(free_port); done
  TRIES=$((TRIES + 1))
  write_cfg
  [[ $EUID -eq 0 ]] && chown "$MYSQL_OS_USER:" "$DIR"/*
  LOG_OFFSET=$(file_size "$DIR/haproxy.log")
  local -a cmd=("$HAPROXY" -db -f "$DIR/haproxy.cfg")
  if [[ $EUID -eq 0 ]]; then
    cmd=(setpriv --reuid="$MYSQL_OS_USER" --regid="$MYSQL_OS_USER" --init-groups -- "${cmd[@]}")
  fi
  log "starting HAProxy on 127.0.0.1:$PORT (admin CLI on 127.0.0.1:$ADMIN_PORT)"
  # From DIR: HAProxy changes back to its start folder after reading its configuration, and
  # the user it runs as may not be allowed into the caller's.
  (cd "$DIR" && exec setsid "${cmd[@]}" </dev/null >>"$DIR/haproxy.log" 2>&1) &
  PROXY_PID=$!
  disown "$PROXY_PID" 2>/dev/null || true
  printf '%s\n' "$PROXY_PID" >"$DIR/haproxy.pid"
}

proxy_mysql() {
  MYSQL_PWD=$URL_PASSWORD "$MYSQL_CLIENT" --no-defaults --protocol=tcp --connect-timeout=2 \
    -h 127.0.0.1 -P "$1" -u "$URL_USER" "${@:2}"
}

# Poll state: 0 = starting, 1 = ready, 2 = failed to bind (retry), 3 = failed.
STATE=0

# Ready once every node was checked, one is up by its check, and a login
# through the proxy works.
poll_proxy() {
  if ! launched_alive "$PROXY_PID" "$DIR"; then
    if bind_failed "$DIR/haproxy.log" "$LOG_OFFSET" && ((TRIES < MAX_TRIES)); then
      STATE=2
    else
      STATE=3
    fi
    return 0
  fi
  local states node
  states=$(server_states "$ADMIN_PORT") || return 0
  # Every node checked once (no INI), one of them up.
  grep -q ' INI$' <<<"$states" && return 0
  grep -q ' UP PROCOK$' <<<"$states" || return 0
  node=$(proxy_mysql "$PORT" -NBe 'SELECT @@wsrep_node_name' 2>>"$DIR/setup.log") || return 0
  STATE=1
  log "HAProxy ready on 127.0.0.1:$PORT (pid $PROXY_PID) after $((SECONDS - T0))s;" \
    "clients go to node $node; checks: $(tr '\n' ';' <<<"$states" | sed 's/;$//; s/;/, /g')"
}

stop_proxy() {
  local dir=$1 p
  local -a signalled=()
  for p in $(proxy_pids "$dir"); do
    is_ours "$p" "$dir" || continue
    signalled+=("$p" HAProxy)
    log "stopping HAProxy (pid $p)"
    # SIGTERM: HAProxy's hard stop, without waiting for the clients.
    kill -TERM "$p" 2>/dev/null || true
  done
  await_exit "$dir" "${signalled[@]}"
}

# ------------------------------------------------------------------- start --

setup_proxy_dir() {
  claim_dir "${1:-}" "$PROXY_MARKER" /tmp/soft-delete-galera-proxy.XXXXXX
  if [[ $EUID -eq 0 ]]; then
    as_mysql_user test -r "$DIR" ||
      die "user $MYSQL_OS_USER cannot read $DIR (is a parent directory closed to others?); use a directory under /tmp"
  fi
}

# find_galera_dir ARG: GALERA_DIR from ARG, else $SOFT_DELETE_GALERA_DIR when
# its env file names the nodes of the URLs; empty when unknown.
find_galera_dir() {
  local arg=$1 d i
  if [[ -n $arg ]]; then
    [[ -e $arg/$GALERA_MARKER ]] || die "$arg is not a directory of scripts/galera.sh (no $GALERA_MARKER)"
    GALERA_DIR=$(cd -- "$arg" && pwd -P)
    return 0
  fi
  d=${SOFT_DELETE_GALERA_DIR:-}
  [[ -n $d && -e $d/$GALERA_MARKER && -r $d/env ]] || return 0
  for i in "${!NODE_PORT[@]}"; do
    grep -q "^export SOFT_DELETE_GALERA_PORT[0-9]*=${NODE_PORT[i]}\$" "$d/env" || return 0
  done
  GALERA_DIR=$(cd -- "$d" && pwd -P)
}

write_proxy_env() {
  local tmp=$DIR/env.tmp
  {
    printf '# written by scripts/galera-proxy.sh start; stop with: scripts/galera-proxy.sh stop %s\n' "$DIR"
    printf 'export SOFT_DELETE_TEST_GALERA_PROXY_URL=%s\n' \
      "mysql://$URL_USERINFO@127.0.0.1:$PORT/$URL_DB"
    printf 'export SOFT_DELETE_GALERA_PROXY_DIR=%s\n' "$DIR"
    printf 'export SOFT_DELETE_GALERA_PROXY_PID=%s\n' "$PROXY_PID"
    printf 'export SOFT_DELETE_GALERA_PROXY_PORT=%s\n' "$PORT"
    printf 'export SOFT_DELETE_GALERA_PROXY_ADMIN_PORT=%s\n' "$ADMIN_PORT"
    printf 'export SOFT_DELETE_GALERA_PROXY_GALERA_DIR=%s\n' "$GALERA_DIR"
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

T0=0

proxy_start_cmd() {
  local dir="" urls=${SOFT_DELETE_TEST_GALERA_URLS:-} gdir=""
  case $# in
    0) ;;
    1) if [[ $1 == *://* ]]; then urls=$1; else dir=$1; fi ;;
    2 | 3)
      dir=$1
      urls=$2
      gdir=${3:-}
      ;;
    *) die "usage: $0 start [DIR] \"URL1 URL2 URL3\" [GALERA_DIR]" ;;
  esac
  [[ -n $urls ]] ||
    die "no node URLs given and SOFT_DELETE_TEST_GALERA_URLS is not set (source scripts/galera.sh's env file)"
  T0=$SECONDS
  parse_urls "$urls"
  find_galera_dir "$gdir"
  trap 'cleanup_failed_start "$PROXY_MARKER" stop_proxy' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_proxy_binaries
  setup_users
  setup_proxy_dir "$dir"
  log "directory: $DIR ($("$HAPROXY" -v | head -n 1 | cut -d' ' -f1-3))," \
    "cluster directory: ${GALERA_DIR:-unknown}"
  (
    umask 077
    printf '%s\n' "$urls" >"$DIR/node-urls"
  )
  write_check
  local i
  for i in "${!NODE_PORT[@]}"; do
    "$DIR/check.sh" - - "${NODE_HOST[i]}" "${NODE_PORT[i]}" ||
      log "warning: node $i (${NODE_HOST[i]}:${NODE_PORT[i]}) is not Synced in a primary component now"
  done
  launch
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((STATE != 1)); do
    poll_proxy
    case $STATE in
      2)
        log "HAProxy could not bind port $PORT or $ADMIN_PORT; retrying on other ports"
        STATE=0
        launch
        ;;
      3)
        log_tail "$DIR/haproxy.log" "$DIR/setup.log"
        die "HAProxy exited during start-up (log: $DIR/haproxy.log)"
        ;;
    esac
    ((STATE == 1)) && break
    if ((SECONDS >= deadline)); then
      log_tail "$DIR/haproxy.log" "$DIR/setup.log"
      log "checks: $(server_states "$ADMIN_PORT" | tr '\n' ';' || true)"
      die "no node up behind HAProxy, or no login through it, after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  write_proxy_env
  START_OK=1
  log "HAProxy up in $((SECONDS - T0))s; env file: $DIR/env"
  log "stop it with: $0 stop $DIR"
}

# ----------------------------------------------------------- stop, status --

proxy_stop_cmd() { stop_dir "$PROXY_MARKER" stop_proxy "$@"; }

# proxy_dir ARG: DIR (the proxy's), its ports and GALERA_DIR, from its env.
proxy_dir() {
  [[ -n ${1:-} && -d $1 ]] || die "${1:-DIR} is not a directory"
  DIR=$(cd -- "$1" && pwd -P)
  [[ -e $DIR/$PROXY_MARKER && -r $DIR/env ]] ||
    die "$DIR is not a directory of '$0 start' (no $PROXY_MARKER or env in it)"
  PORT=$(sed -n 's/^export SOFT_DELETE_GALERA_PROXY_PORT=//p' "$DIR/env")
  ADMIN_PORT=$(sed -n 's/^export SOFT_DELETE_GALERA_PROXY_ADMIN_PORT=//p' "$DIR/env")
  GALERA_DIR=$(sed -n 's/^export SOFT_DELETE_GALERA_PROXY_GALERA_DIR=//p' "$DIR/env")
  [[ -r $DIR/node-urls ]] || die "no $DIR/node-urls"
  parse_urls "$(cat "$DIR/node-urls")"
}

proxy_status_cmd() {
  (($# == 1)) || die "usage: $0 status DIR"
  status_dir HAProxy proxy_pids_by_name HAProxy -- "$@"
  [[ -r $DIR/env ]] || return 0
  proxy_dir "$DIR"
  local states
  if states=$(server_states "$ADMIN_PORT") && [[ -n $states ]]; then
    echo "nodes (name, state, last check): $(tr '\n' ';' <<<"$states" | sed 's/;$//; s/;/, /g')"
    haproxy_cli "$ADMIN_PORT" "show table $BACKEND" | sed -n 's/.*server_key=\(n[0-9]*\).*/clients stick to \1/p'
  fi
}

proxy_pids_by_name() { proxy_pids "$1"; }

# --------------------------------------------------------------- failover --

# active_node: the node (1..3) a new connection through the proxy reaches,
# by its wsrep_node_name (scripts/galera.sh names them n1..n3).
active_node() {
  local name i
  find_mysql || die "no mariadb client"
  for ((i = 0; i < 10; i++)); do
    if name=$(proxy_mysql "$PORT" -NBe 'SELECT @@wsrep_node_name' 2>/dev/null) &&
      [[ $name =~ ^n([0-9]+)$ ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
    sleep 0.3
  done
  die "no node answers through HAProxy on 127.0.0.1:$PORT (or its wsrep_node_name is not nN)"
}

active_node_cmd() {
  (($# == 1)) || die "usage: $0 active-node DIR"
  proxy_dir "$1"
  active_node
}

# node_pids_of GALERA_DIR N: as scripts/galera.sh records them.
node_pids_of() {
  { pid_from_file "$1/n$2.pid"; pid_from_file "$1/n$2/mariadbd.pid"; } | sort -u
}

kill_active_cmd() {
  (($# == 1)) || die "usage: $0 kill-active DIR"
  proxy_dir "$1"
  [[ -n $GALERA_DIR ]] ||
    die "the cluster's directory is unknown: start the proxy with GALERA_DIR (or with SOFT_DELETE_GALERA_DIR set)"
  local n p killed=0
  n=$(active_node)
  for p in $(node_pids_of "$GALERA_DIR" "$n"); do
    is_ours "$p" "$GALERA_DIR" || continue
    log "SIGKILL to node $n (pid $p), the proxy's active node"
    kill -KILL "$p" 2>/dev/null || true
    killed=1
    while is_ours "$p" "$GALERA_DIR"; do sleep 0.05; done
  done
  ((killed)) || die "node $n answers through the proxy but no mariadbd of $GALERA_DIR/n$n runs"
  printf '%s\n' "$n"
}

# node_status GALERA_DIR N PORT: "ready size state status" of node N, over
# TCP with scripts/galera.sh's login.
node_status() {
  MYSQL_PWD=$DB_PASSWORD "$MYSQL_CLIENT" --no-defaults --protocol=tcp --connect-timeout=2 \
    -h 127.0.0.1 -P "$3" -u "$DB_USER" -NB -e "SHOW GLOBAL STATUS WHERE Variable_name IN
    ('wsrep_ready', 'wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_cluster_status')" |
    awk '{ v[$1] = $2 }
      END { print v["wsrep_ready"], v["wsrep_cluster_size"], v["wsrep_local_state_comment"],
        v["wsrep_cluster_status"] }'
}

# recover_position GALERA_DIR N: after an unclean stop (seqno -1 in
# grastate.dat), the position `mariadbd --wsrep-recover` finds in InnoDB,
# as uuid:seqno; nothing after a clean stop.
recover_position() {
  local g=$1 i=$2 d=$1/n$2 pos
  grep -q '^seqno: *-1' "$d/data/grastate.dat" 2>/dev/null || return 0
  local -a args=(--defaults-file="$d/my.cnf" --wsrep-recover --log-error="$d/recover.log")
  [[ $EUID -eq 0 ]] && args+=(--user="$MYSQL_OS_USER")
  : >"$d/recover.log"
  [[ $EUID -eq 0 ]] && chown "$MYSQL_OS_USER:" "$d/recover.log"
  log "node $i did not stop cleanly: mariadbd --wsrep-recover (log: $d/recover.log)"
  if ! run_killable "$MYSQLD" "${args[@]}" </dev/null >>"$d/stdout.log" 2>&1; then
    log_tail "$d/recover.log"
    die "mariadbd --wsrep-recover of node $i failed"
  fi
  pos=$(sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' "$d/recover.log" |
    tail -n 1)
  [[ -n $pos ]] || log "warning: no recovered position in $d/recover.log; the node may need an SST"
  [[ -n $pos ]] && printf '%s\n' "$pos"
  return 0
}

# rejoin_node GALERA_DIR N PORT RUNNING: start node N of GALERA_DIR (does
# not wait) from its recovered position, in its own session, output to
# files; sets REJOIN_PID, REJOIN_LOG_OFFSET (its error log's size at launch)
# and counts REJOIN_TRIES.
REJOIN_PID=""
REJOIN_LOG_OFFSET=0
REJOIN_TRIES=0
rejoin_node() {
  local g=$1 i=$2 port=$3 running=$4 d=$1/n$2 pos
  pos=$(recover_position "$g" "$i")
  local -a args=(--defaults-file="$d/my.cnf")
  [[ $EUID -eq 0 ]] && args+=(--user="$MYSQL_OS_USER")
  [[ -n $pos ]] && args+=(--wsrep-start-position="$pos")
  REJOIN_LOG_OFFSET=$(file_size "$d/error.log")
  REJOIN_TRIES=$((REJOIN_TRIES + 1))
  log "starting node $i on 127.0.0.1:$port${pos:+ from position $pos} (nodes $running run)"
  setsid "$MYSQLD" "${args[@]}" </dev/null >>"$d/stdout.log" 2>&1 &
  REJOIN_PID=$!
  disown "$REJOIN_PID" 2>/dev/null || true
  printf '%s\n' "$REJOIN_PID" >"$g/n$i.pid"
  # The cluster's env file names the PIDs: keep it right.
  if [[ -w $g/env ]]; then
    sed -i "s/^export SOFT_DELETE_GALERA_PID$i=.*/export SOFT_DELETE_GALERA_PID$i=$REJOIN_PID/" "$g/env"
  fi
}

# new_transfer_ports MY_CNF: free ports for the node's IST listener and SST
# receiver, written into its my.cnf (nobody else names them: a joiner tells
# its donor where to send).
new_transfer_ports() {
  local cnf=$1 ist sst
  ist=$(free_port) || die "could not find a free TCP port"
  sst=$(free_port) || die "could not find a free TCP port"
  while [[ $sst == "$ist" ]]; do sst=$(free_port) || die "could not find a free TCP port"; done
  sed -i -e "s/ist\.recv_addr=127\.0\.0\.1:[0-9]*/ist.recv_addr=127.0.0.1:$ist/" \
    -e "s/^wsrep_sst_receive_address = 127\.0\.0\.1:[0-9]*/wsrep_sst_receive_address = 127.0.0.1:$sst/" "$cnf"
  if [[ $EUID -eq 0 ]]; then chown "$MYSQL_OS_USER:" "$cnf"; fi
  log "IST now on 127.0.0.1:$ist, SST on 127.0.0.1:$sst ($cnf)"
}

restart_node_cmd() {
  (($# == 2)) || die "usage: $0 restart-node DIR|GALERA_DIR N"
  local arg=$1 i=$2 g proxy=0
  [[ -d $arg ]] || die "$arg is not a directory"
  if [[ -e $arg/$PROXY_MARKER ]]; then
    proxy_dir "$arg"
    proxy=1
    [[ -n $GALERA_DIR ]] ||
      die "the cluster's directory is unknown: start the proxy with GALERA_DIR (or with SOFT_DELETE_GALERA_DIR set)"
  elif [[ -e $arg/$GALERA_MARKER ]]; then
    GALERA_DIR=$(cd -- "$arg" && pwd -P)
  else
    die "$arg is neither a directory of '$0 start' nor of scripts/galera.sh start"
  fi
  g=$GALERA_DIR
  [[ $i =~ ^[0-9]+$ && -r $g/n$i/my.cnf ]] || die "no node $i in $g (no $g/n$i/my.cnf)"
  find_mysql || die "MariaDB binaries missing (mariadbd, mariadb-install-db, mariadb, mariadb-admin)"
  setup_users
  local d=$g/n$i port p pid="" running=() j
  port=$(sed -n 's/^port *= *\([0-9]*\).*/\1/p' "$d/my.cnf" | head -n 1)
  [[ -n $port ]] || die "no port in $d/my.cnf"
  for j in "$g"/n[0-9]*; do
    j=${j##*/n}
    [[ $j =~ ^[0-9]+$ && -d $g/n$j ]] || continue
    for p in $(node_pids_of "$g" "$j"); do
      if is_ours "$p" "$g"; then
        running+=("$j")
        [[ $j == "$i" ]] && pid=$p
        break
      fi
    done
  done
  local t0=$SECONDS was_running=0 others=""
  if [[ -n $pid ]]; then
    was_running=1
    log "node $i already runs (pid $pid); waiting until it is synced"
  else
    ((${#running[@]})) ||
      die "no node of $g runs: node $i has no cluster to join (start the cluster again with scripts/galera.sh)"
    others="${running[*]}"
    running+=("$i")
    rejoin_node "$g" "$i" "$port" "$others"
    pid=$REJOIN_PID
  fi
  local want="ON ${#running[@]} Synced Primary" st="" deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! launched_alive "$pid" "$g"; then
      # Its IST or SST port, which only the joiner itself listens on, taken
      # by another process since the cluster started: on other ones.
      if ((!was_running && REJOIN_TRIES < 3)) && bind_failed "$d/error.log" "$REJOIN_LOG_OFFSET"; then
        log "node $i could not bind one of its ports; retrying with other IST and SST ports"
        new_transfer_ports "$d/my.cnf"
        rejoin_node "$g" "$i" "$port" "$others"
        pid=$REJOIN_PID
        continue
      fi
      log_tail "$d/error.log" "$d/stdout.log"
      die "node $i exited while rejoining (log: $d/error.log)"
    fi
    st=$(node_status "$g" "$i" "$port" 2>/dev/null) || st=""
    [[ $st == "$want" ]] && break
    if ((SECONDS >= deadline)); then
      log_tail "$d/error.log"
      die "node $i not '$want' after ${START_TIMEOUT}s (last: ${st:-no answer})"
    fi
    sleep 0.2
  done
  p=$(pid_from_file "$d/mariadbd.pid")
  if [[ -n $p && $p != "$pid" ]] && is_ours "$p" "$g"; then
    pid=$p
    printf '%s\n' "$pid" >"$g/n$i.pid"
  fi
  local how
  how=$(awk -v pid="$pid" '
      /Starting MariaDB/ { mine = ($NF == pid) }
      mine && /SST completed on joiner/ { sst = 1 }
      mine && /Receiving IST: [0-9]+ writesets/ { for (f = 1; f < NF; f++) if ($f == "IST:") ist = $(f + 1) }
      END {
        if (sst) print "after a full state transfer (SST)"
        else if (ist != "") print "after an IST of " ist " write-sets"
      }' "$d/error.log") || how=""
  if ((was_running)); then
    log "node $i is synced ($st), pid $pid"
  else
    log "node $i rejoined ($st), pid $pid, after $((SECONDS - t0))s${how:+ $how}"
  fi
  if ((proxy)); then
    local n=""
    for ((j = 1; j <= ${#NODE_PORT[@]}; j++)); do
      [[ ${NODE_PORT[j]} == "$port" ]] && n=$j
    done
    if [[ -n $n ]]; then
      deadline=$((SECONDS + 30))
      until server_states "$ADMIN_PORT" | grep -q "^n$n UP PROCOK\$"; do
        ((SECONDS < deadline)) || die "HAProxy does not see node $i up after 30s"
        sleep 0.2
      done
      log "HAProxy sees node $i up, after $((SECONDS - t0))s"
    fi
  fi
}

case ${1:-} in
  active-node)
    shift
    active_node_cmd "$@"
    ;;
  kill-active)
    shift
    kill_active_cmd "$@"
    ;;
  restart-node)
    shift
    restart_node_cmd "$@" >&2
    ;;
  *) dispatch proxy_start_cmd proxy_stop_cmd proxy_status_cmd "$@" ;;
esac
