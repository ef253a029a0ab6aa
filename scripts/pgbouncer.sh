#!/usr/bin/env bash
# Start and stop a throwaway PgBouncer in front of a PostgreSQL server for the
# test suite, in session pooling and in transaction pooling.
#
#   scripts/pgbouncer.sh start [DIR] [POSTGRES_URL]
#                                    start PgBouncer in front of the server
#                                    POSTGRES_URL names (default:
#                                    $SOFT_DELETE_TEST_POSTGRES_URL, from
#                                    scripts/db-servers.sh), with its files
#                                    in DIR (default: a new mktemp -d under
#                                    /tmp); prints the path of DIR/env as
#                                    the last (and only) line of stdout
#   scripts/pgbouncer.sh stop DIR    stop PgBouncer by PID and remove DIR
#   scripts/pgbouncer.sh status DIR  tell whether the PgBouncers of DIR run
#
# DIR/env holds `export` lines for SOFT_DELETE_TEST_PGBOUNCER_SESSION_URL,
# SOFT_DELETE_TEST_PGBOUNCER_TX_URL, SOFT_DELETE_PGBOUNCER_DIR,
# SOFT_DELETE_PGBOUNCER_SESSION_PID, SOFT_DELETE_PGBOUNCER_TX_PID (and the
# ports, SOFT_DELETE_PGBOUNCER_SESSION_PORT / SOFT_DELETE_PGBOUNCER_TX_PORT),
# so a caller does:
#
#   envfile=$(scripts/db-servers.sh start) && . "$envfile"
#   envfile=$(scripts/pgbouncer.sh start "" "$SOFT_DELETE_TEST_POSTGRES_URL") && . "$envfile"
#   trap 'scripts/pgbouncer.sh stop "$SOFT_DELETE_PGBOUNCER_DIR"' EXIT
#
# Two PgBouncer processes, one per pool mode (a database entry could carry
# its own pool_mode, but the suite creates a database per test, so each
# process has one wildcard entry `* = host=... port=...` that reaches every
# database of the server, existing or created later): one in session
# pooling, one in transaction pooling. Both listen on 127.0.0.1 only, on
# free ports chosen at start, and take the URL's user and password (the
# password is in DIR/userlist.txt in plain text, so PgBouncer can log in to
# the server with SCRAM or md5, whatever the server asks; clients log in
# with SCRAM). Other logins (roles a test creates WITH PASSWORD and connects
# as) are looked up on the server: auth_user is the URL's user (which must
# be allowed to read pg_shadow: a superuser, as scripts/db-servers.sh's
# soft_delete is), with PgBouncer's default auth_query, and their SCRAM
# secret is passed through. The URLs in DIR/env are the given one with host
# and port replaced. max_client_conn is 200; ignore_startup_parameters =
# extra_float_digits (sqlx sends it). The user is also PgBouncer's admin:
# `SHOW POOLS` etc. on the database `pgbouncer` of either port (simple query
# protocol only, e.g. psql; sqlx's prepared statements are refused there).
#
# The suite makes a database per test, and PgBouncer a pool per database:
# the server connections a test leaves idle would stay open for
# server_idle_timeout (600 s by default) and fill the server's
# max_connections (300 with scripts/db-servers.sh: "sorry, too many clients
# already" after ~100 tests). So idle server connections close after
# PGBOUNCER_IDLE_TIMEOUT (default 5) seconds, and each of the two PgBouncers
# opens at most PGBOUNCER_MAX_SERVER_CONNECTIONS (default 120) server
# connections for the URL's user (max_user_connections; a client that finds
# none free waits until one is idle long enough to be closed). Pools of
# databases nobody used for 60 s are dropped (autodb_idle_timeout).
#
# Session pooling: a client keeps its server connection until it
# disconnects, so a pool (database and user) serves at most
# default_pool_size clients at once, and the next one waits, up to
# query_wait_timeout (120 s), for one to disconnect: a test whose connection
# pools hold more connections than that would stall (a reserve pool opened
# after a wait of 1 s made a test with a 1 s query timeout fail). So
# default_pool_size is PGBOUNCER_SESSION_POOL_SIZE (default 20) here.
#
# Transaction pooling: default_pool_size is PGBOUNCER_POOL_SIZE (default 4);
# many clients share those few server connections, one transaction at a
# time.
#
# Prepared statements in transaction pooling (PgBouncer < 1.21 has no
# max_prepared_statements): server_reset_query = DEALLOCATE ALL with
# server_reset_query_always = 1, so a transaction never sees prepared
# statements of another client. A client must then (measured with sqlx
# 0.9.0 and 0.9.1, 8 tasks on a pool of 4 and 32 tasks on a pool of 16,
# against default_pool_size 4):
#
#   * disable sqlx's statement cache: URL option statement-cache-capacity=0,
#     which SOFT_DELETE_TEST_PGBOUNCER_TX_URL carries (added unless the
#     given URL sets it). With the cache, a statement prepared in one
#     transaction is gone in the next ("prepared statement "sqlx_s_1" does
#     not exist").
#   * run every prepared statement inside BEGIN ... COMMIT (a SeaORM
#     transaction). sqlx prepares every query that goes through
#     sqlx::query / query_with, with or without bound values, and SeaORM
#     sends all but execute_unprepared that way (query_one, query_all,
#     execute with a Statement, every entity query). Outside a transaction
#     sqlx parses (Parse, Sync) and binds (Bind, Execute, Sync) in two round
#     trips, and PgBouncer releases the server connection in between; the
#     reset then makes every such query fail, at once and every time
#     ("unnamed prepared statement does not exist" with sqlx 0.9.1,
#     "prepared statement "sqlx_s_N" does not exist" with 0.9.0). Without
#     the reset it fails by chance and quietly: the Bind lands on whatever
#     server connection is free and runs the statement ANOTHER client
#     parsed there last, returning its rows (seen on about half of the
#     queries). execute_unprepared (the simple query protocol) works
#     anywhere.
#
# Without the reset, sqlx 0.9.0 fails inside transactions too ("prepared
# statement "sqlx_s_1" already exists": with statement-cache-capacity=0 it
# still names its statements, and never closes them); sqlx >= 0.9.1 names
# none when the cache is off. PGBOUNCER_TX_RESET=0 starts transaction
# pooling without the reset (and SOFT_DELETE_TEST_PGBOUNCER_TX_URL without
# statement-cache-capacity=0), to show those failures.
#
# Sockets (for the admin console), pid files and logs are in DIR/session and
# DIR/transaction; nothing is started through systemd or init scripts and
# nothing outside DIR is written (apart from installing the Debian packages
# pgbouncer / postgresql when pgbouncer or psql is missing, and creating the
# `postgres` / `mysql` system users when running as root and they do not
# exist). As root, PgBouncer (which refuses to run as root) runs as
# PG_OS_USER.
#
# Knobs (environment): DB_START_TIMEOUT (s, default 60), DB_STOP_TIMEOUT
# (s, default 20), PGBOUNCER_POOL_SIZE (transaction pooling, default 4),
# PGBOUNCER_SESSION_POOL_SIZE (default 20), PGBOUNCER_MAX_SERVER_CONNECTIONS
# (per PgBouncer, default 120),
# PGBOUNCER_IDLE_TIMEOUT (s, default 5), PGBOUNCER_TX_RESET (1 or 0, default
# 1), PG_BINDIR (for psql,
# default /usr/lib/postgresql/15/bin, else the newest
# /usr/lib/postgresql/*/bin, else psql on PATH), PG_OS_USER (default
# postgres).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# db-servers.sh resets these knobs when sourced: keep the caller's.
os_users=("${PG_OS_USER:-}" "${MYSQL_OS_USER:-}")
# shellcheck source-path=SCRIPTDIR source=db-servers.sh
. "$SCRIPT_DIR/db-servers.sh"
PG_OS_USER=${os_users[0]}
MYSQL_OS_USER=${os_users[1]}

LOG_NAME=pgbouncer
readonly PGBOUNCER_MARKER=.soft-delete-pgbouncer
START_TIMEOUT=${DB_START_TIMEOUT:-60}
readonly MODES=(session transaction)
POOL_SIZE=${PGBOUNCER_POOL_SIZE:-4}
SESSION_POOL_SIZE=${PGBOUNCER_SESSION_POOL_SIZE:-20}
TX_RESET=${PGBOUNCER_TX_RESET:-1}
MAX_SERVER_CONNECTIONS=${PGBOUNCER_MAX_SERVER_CONNECTIONS:-120}
IDLE_TIMEOUT=${PGBOUNCER_IDLE_TIMEOUT:-5}

# ---------------------------------------------------------------- binaries --

PGBOUNCER=""
PSQL=""

find_pgbouncer() { PGBOUNCER=$(first_executable /usr/sbin/pgbouncer pgbouncer); }

find_psql() {
  if find_pg; then
    PSQL=$PG_BINDIR_FOUND/psql
  else
    PSQL=$(first_executable psql)
  fi
}

ensure_pgbouncer_binaries() {
  find_pgbouncer || install_packages pgbouncer
  find_pgbouncer || die "pgbouncer still missing after install"
  find_psql || install_packages postgresql
  find_psql || die "psql still missing after install"
}

# PgBouncer >= 1.23 shuts down at once on SIGQUIT and waits for its clients
# on SIGTERM; older ones (Debian 12 has 1.18) shut down at once on SIGTERM.
stop_signal() {
  local v
  v=$("$PGBOUNCER" --version 2>/dev/null | sed -n '1s/^PgBouncer \([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || true
  # shellcheck disable=SC2086 # "major minor"
  set -- $v
  if (($# == 2)) && (($1 > 1 || ($1 == 1 && $2 >= 23))); then
    echo QUIT
  else
    echo TERM
  fi
}

# --------------------------------------------------------------------- url --

# The parts of the POSTGRES_URL: user and password as written (percent
# encoded) and decoded, host, port, database, query (without the `?`).
URL_USER=""
URL_PASSWORD=""
USER_DECODED=""
PASSWORD_DECODED=""
URL_HOST=""
URL_PORT=""
URL_DB=""
URL_QUERY=""
URL_SCHEME=""

url_decode() {
  local s=$1
  printf '%b' "${s//%/\\x}"
}

parse_url() {
  local url=$1
  local re='^(postgres|postgresql)://([^:@/?]+)(:([^@/?]*))?@(\[[^]/]+\]|[^:/?]+)(:([0-9]+))?(/([^?]*))?(\?(.*))?$'
  [[ $url =~ $re ]] ||
    die "POSTGRES_URL must look like postgres://USER:PASSWORD@HOST[:PORT][/DATABASE][?...], got '$url'"
  URL_SCHEME=${BASH_REMATCH[1]}
  URL_USER=${BASH_REMATCH[2]}
  URL_PASSWORD=${BASH_REMATCH[4]}
  URL_HOST=${BASH_REMATCH[5]}
  URL_PORT=${BASH_REMATCH[7]:-5432}
  URL_DB=${BASH_REMATCH[9]}
  URL_QUERY=${BASH_REMATCH[11]}
  [[ -n ${BASH_REMATCH[3]} && -n $URL_PASSWORD ]] ||
    die "POSTGRES_URL has no password: PgBouncer needs the login's password for its auth_file"
  USER_DECODED=$(url_decode "$URL_USER")
  PASSWORD_DECODED=$(url_decode "$URL_PASSWORD")
  URL_DB=${URL_DB:-$URL_USER}
  URL_HOST=${URL_HOST#[}
  URL_HOST=${URL_HOST%]}
  [[ $USER_DECODED =~ ^[A-Za-z0-9_.-]+$ ]] ||
    die "user '$USER_DECODED' of POSTGRES_URL: only letters, digits and _ . - are supported"
}

# psql_through PORT DB ARG...: psql over TCP with the password login to
# 127.0.0.1:PORT, or to the server itself when PORT is empty.
psql_through() {
  local port=$1 db=$2 host=127.0.0.1
  shift 2
  if [[ -z $port ]]; then
    host=$URL_HOST
    port=$URL_PORT
  fi
  PGPASSWORD=$PASSWORD_DECODED PGCONNECT_TIMEOUT=5 "$PSQL" -X -w -q \
    -h "$host" -p "$port" -U "$USER_DECODED" -d "$(url_decode "$db")" -v ON_ERROR_STOP=1 "$@"
}

# ------------------------------------------------------------------ bouncers --

# Per mode (session, transaction): port, PID, poll state (0 = starting, 1 =
# ready, 2 = failed to bind: retry on another port, 3 = failed), launch
# count, log size at launch.
declare -A PORT=([session]="" [transaction]="")
declare -A PID=([session]="" [transaction]="")
declare -A STATE=([session]=0 [transaction]=0)
declare -A TRIES=([session]=0 [transaction]=0)
declare -A LOG_OFFSET=([session]=0 [transaction]=0)

bouncer_pids() {
  local dir=$1 mode=$2
  { pid_from_file "$dir/$mode.pid"; pid_from_file "$dir/$mode/pgbouncer.pid"; } | sort -u
}

write_userlist() {
  local u=${USER_DECODED//\"/\"\"} p=${PASSWORD_DECODED//\"/\"\"}
  (
    umask 077
    printf '"%s" "%s"\n' "$u" "$p" >"$DIR/userlist.txt"
  )
  [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$DIR/userlist.txt"
  return 0
}

write_ini() {
  local mode=$1 d=$DIR/$1 pool_size=$POOL_SIZE
  [[ $mode == session ]] && pool_size=$SESSION_POOL_SIZE
  {
    cat <<EOF
; soft-delete test PgBouncer, $mode pooling (scripts/pgbouncer.sh)
[databases]
* = host=$URL_HOST port=$URL_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${PORT[$mode]}
unix_socket_dir = $d
pidfile = $d/pgbouncer.pid
auth_type = scram-sha-256
auth_file = $DIR/userlist.txt
auth_user = $USER_DECODED
admin_users = $USER_DECODED
stats_users = $USER_DECODED
pool_mode = $mode
default_pool_size = $pool_size
min_pool_size = 0
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
server_login_retry = 1
server_idle_timeout = $IDLE_TIMEOUT
max_user_connections = $MAX_SERVER_CONNECTIONS
autodb_idle_timeout = 60
log_connections = 0
log_disconnections = 0
EOF
    if [[ $mode == transaction && $TX_RESET == 1 ]]; then
      cat <<EOF
server_reset_query = DEALLOCATE ALL
server_reset_query_always = 1
EOF
    elif [[ $mode == transaction ]]; then
      echo 'server_reset_query ='
    fi
  } >"$d/pgbouncer.ini"
  [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$d/pgbouncer.ini"
  return 0
}

# launch MODE: start the PgBouncer of MODE on a free port (does not wait),
# in its own session, its output (PgBouncer logs to stderr) to its log. As
# root it runs as PG_OS_USER (setpriv execs, so $! is PgBouncer's PID).
launch() {
  local mode=$1 d=$DIR/$1 other
  [[ $mode == session ]] && other=transaction || other=session
  PORT[$mode]=$(free_port) || die "could not find a free TCP port"
  while [[ ${PORT[$mode]} == "${PORT[$other]}" ]]; do PORT[$mode]=$(free_port); done
  STATE[$mode]=0
  TRIES[$mode]=$((TRIES[$mode] + 1))
  rm -f "$DIR/$mode.pid" "$d/pgbouncer.pid"
  write_ini "$mode"
  LOG_OFFSET[$mode]=$(file_size "$d/pgbouncer.log")
  local -a cmd=("$PGBOUNCER" "$d/pgbouncer.ini")
  if [[ $EUID -eq 0 ]]; then
    cmd=(setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- "${cmd[@]}")
  fi
  log "starting PgBouncer ($mode pooling) on 127.0.0.1:${PORT[$mode]}"
  # From its folder: the user it runs as may not be allowed into the caller's.
  (cd "$d" && exec setsid "${cmd[@]}" </dev/null >>"$d/pgbouncer.log" 2>&1) &
  PID[$mode]=$!
  disown "${PID[$mode]}" 2>/dev/null || true
  printf '%s\n' "${PID[$mode]}" >"$DIR/$mode.pid"
}

# poll MODE: updates STATE[MODE]. Ready once a password login through it
# runs a query on the URL's database.
poll() {
  local mode=$1 d=$DIR/$1
  if ! launched_alive "${PID[$mode]}" "$DIR"; then
    if bind_failed "$d/pgbouncer.log" "${LOG_OFFSET[$mode]}" && ((TRIES[$mode] < MAX_TRIES)); then
      STATE[$mode]=2
    else
      STATE[$mode]=3
    fi
    return 0
  fi
  psql_through "${PORT[$mode]}" "$URL_DB" -Atc 'SELECT 1' >>"$d/setup.log" 2>&1 || return 0
  STATE[$mode]=1
  log "PgBouncer ($mode pooling) ready on 127.0.0.1:${PORT[$mode]} (pid ${PID[$mode]})" \
    "after $((SECONDS - T0))s"
}

DEADLINE=0
T0=0

wait_ready() {
  local mode all
  while :; do
    all=1
    for mode in "${MODES[@]}"; do
      ((STATE[$mode] == 0)) && poll "$mode"
      case ${STATE[$mode]} in
        1) ;;
        2)
          all=0
          log "PgBouncer ($mode pooling) could not bind port ${PORT[$mode]}; retrying on another port"
          launch "$mode"
          ;;
        3)
          log_tail "$DIR/$mode/pgbouncer.log" "$DIR/$mode/setup.log"
          die "PgBouncer ($mode pooling) exited during start-up (log: $DIR/$mode/pgbouncer.log)"
          ;;
        *) all=0 ;;
      esac
    done
    ((all)) && return 0
    if ((SECONDS >= DEADLINE)); then
      for mode in "${MODES[@]}"; do
        ((STATE[$mode] == 1)) || log_tail "$DIR/$mode/pgbouncer.log" "$DIR/$mode/setup.log"
      done
      die "PgBouncer not accepting password logins on 127.0.0.1 after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}


# stop_bouncers DIR: both at once, with the signal that shuts PgBouncer down
# without waiting for its clients (see stop_signal), SIGKILL after
# STOP_TIMEOUT.
stop_bouncers() {
  local dir=$1 mode p sig=TERM
  local -a signalled=()
  find_pgbouncer && sig=$(stop_signal)
  for mode in "${MODES[@]}"; do
    for p in $(bouncer_pids "$dir" "$mode"); do
      is_ours "$p" "$dir" || continue
      signalled+=("$p" "PgBouncer ($mode pooling)")
      log "stopping PgBouncer ($mode pooling, pid $p)"
      kill -"$sig" "$p" 2>/dev/null || true
    done
  done
  await_exit "$dir" "${signalled[@]}"
}

# ------------------------------------------------------------------- start --

setup_pgbouncer_dir() {
  claim_dir "${1:-}" "$PGBOUNCER_MARKER" /tmp/soft-delete-pgbouncer.XXXXXX
  local mode
  for mode in "${MODES[@]}"; do
    mkdir -p "$DIR/$mode"
    [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$DIR/$mode"
    chmod 700 "$DIR/$mode"
  done
  as_pg test -w "$DIR/session" ||
    die "user $PG_OS_USER cannot write $DIR/session (is a parent directory closed to others?); use a directory under /tmp"
}

# bouncer_url PORT [EXTRA-QUERY]: the given URL through 127.0.0.1:PORT.
bouncer_url() {
  local port=$1 extra=${2:-} query=$URL_QUERY
  if [[ -n $extra && "&$query&" != *"&${extra%%=*}="* ]]; then
    query+=${query:+&}$extra
  fi
  printf '%s://%s:%s@127.0.0.1:%s/%s%s\n' "$URL_SCHEME" "$URL_USER" "$URL_PASSWORD" "$port" \
    "$URL_DB" "${query:+?$query}"
}

# env_value VALUE: VALUE for the env file, single-quoted unless it is made of
# characters that need no quoting in an assignment.
env_value() {
  if [[ $1 =~ ^[A-Za-z0-9_:/@.?=%+-]*$ ]]; then
    printf '%s\n' "$1"
  else
    printf "'%s'\n" "${1//\'/\'\\\'\'}"
  fi
}

write_pgbouncer_env() {
  local tmp=$DIR/env.tmp tx_extra=""
  [[ $TX_RESET == 1 ]] && tx_extra=statement-cache-capacity=0
  {
    printf '# written by scripts/pgbouncer.sh start; stop with: scripts/pgbouncer.sh stop %s\n' "$DIR"
    printf 'export SOFT_DELETE_TEST_PGBOUNCER_SESSION_URL=%s\n' \
      "$(env_value "$(bouncer_url "${PORT[session]}")")"
    printf 'export SOFT_DELETE_TEST_PGBOUNCER_TX_URL=%s\n' \
      "$(env_value "$(bouncer_url "${PORT[transaction]}" "$tx_extra")")"
    printf 'export SOFT_DELETE_PGBOUNCER_DIR=%s\n' "$DIR"
    printf 'export SOFT_DELETE_PGBOUNCER_SESSION_PID=%s\n' "${PID[session]}"
    printf 'export SOFT_DELETE_PGBOUNCER_TX_PID=%s\n' "${PID[transaction]}"
    printf 'export SOFT_DELETE_PGBOUNCER_SESSION_PORT=%s\n' "${PORT[session]}"
    printf 'export SOFT_DELETE_PGBOUNCER_TX_PORT=%s\n' "${PORT[transaction]}"
  } >"$tmp"
  mv -f "$tmp" "$DIR/env"
}

pgbouncer_start_cmd() {
  local dir="" url=${SOFT_DELETE_TEST_POSTGRES_URL:-}
  case $# in
    0) ;;
    1) if [[ $1 == postgres://* || $1 == postgresql://* ]]; then url=$1; else dir=$1; fi ;;
    2)
      dir=$1
      url=$2
      ;;
    *) die "usage: $0 start [DIR] [POSTGRES_URL]" ;;
  esac
  [[ -n $url ]] ||
    die "no POSTGRES_URL given and SOFT_DELETE_TEST_POSTGRES_URL is not set (source scripts/db-servers.sh's env file)"
  [[ $POOL_SIZE =~ ^[1-9][0-9]*$ ]] || die "PGBOUNCER_POOL_SIZE must be a positive number"
  [[ $SESSION_POOL_SIZE =~ ^[1-9][0-9]*$ ]] || die "PGBOUNCER_SESSION_POOL_SIZE must be a positive number"
  [[ $TX_RESET == [01] ]] || die "PGBOUNCER_TX_RESET must be 0 or 1"
  [[ $MAX_SERVER_CONNECTIONS =~ ^[1-9][0-9]*$ ]] ||
    die "PGBOUNCER_MAX_SERVER_CONNECTIONS must be a positive number"
  [[ $IDLE_TIMEOUT =~ ^[0-9]+$ ]] || die "PGBOUNCER_IDLE_TIMEOUT must be a number of seconds"
  T0=$SECONDS
  parse_url "$url"
  trap 'cleanup_failed_start "$PGBOUNCER_MARKER" stop_bouncers' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ensure_pgbouncer_binaries
  setup_users
  if ! psql_through "" "$URL_DB" -Atc 'SELECT 1' >/dev/null; then
    die "cannot log in to the server of POSTGRES_URL ($URL_HOST:$URL_PORT, database $URL_DB): is it running?"
  fi
  setup_pgbouncer_dir "$dir"
  log "directory: $DIR ($("$PGBOUNCER" --version | head -n 1), server $URL_HOST:$URL_PORT)"
  write_userlist
  DEADLINE=$((SECONDS + START_TIMEOUT))
  local mode
  for mode in "${MODES[@]}"; do launch "$mode"; done
  wait_ready
  write_pgbouncer_env
  START_OK=1
  log "PgBouncer up in $((SECONDS - T0))s (session pooling on 127.0.0.1:${PORT[session]}," \
    "transaction pooling on 127.0.0.1:${PORT[transaction]}); env file: $DIR/env"
  log "stop it with: $0 stop $DIR"
}

# ------------------------------------------------------------ stop, status --

pgbouncer_stop_cmd() { stop_dir "$PGBOUNCER_MARKER" stop_bouncers "$@"; }

# bouncer_pids_by_name DIR "MODE pooling"
bouncer_pids_by_name() { bouncer_pids "$1" "${2% pooling}"; }

pgbouncer_status_cmd() {
  status_dir PgBouncer bouncer_pids_by_name "session pooling" "transaction pooling" -- "$@"
}

dispatch pgbouncer_start_cmd pgbouncer_stop_cmd pgbouncer_status_cmd "$@"
