#!/usr/bin/env bash
# The whole test suite on SQLite, PostgreSQL and MariaDB: what CI runs, for your machine.
#
#   scripts/test-all-backends.sh [-- extra arguments for every `cargo test`]
#
# 1. starts PostgreSQL and MariaDB on free loopback ports with scripts/db-servers.sh
#    (installing them from Debian's packages when they are missing),
# 2. runs the README's test command, `cargo test --workspace` (SQLite), then the integration
#    suite once per server (TEST_BACKEND + DATABASE_URL),
# 3. with BENCH_SMOKE=1, runs the README's example and the benchmark with a small table on
#    every backend (no thresholds: it must finish and agree on row counts),
# 4. stops the servers by PID on exit, whatever happened, and prints one line per step.
#
# BACKENDS="sqlite postgres mysql" (the default) picks the backends; with only sqlite no
# server is started. Exits non-zero if any step failed; every step runs regardless.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backends=${BACKENDS:-sqlite postgres mysql}
extra=()
if [[ ${1:-} == -- ]]; then
  shift
  extra=("$@")
fi

wants() { [[ " $backends " == *" $1 "* ]]; }

servers_dir=""
# shellcheck disable=SC2317 # called by the EXIT trap
stop_servers() {
  if [[ -n $servers_dir ]]; then
    scripts/db-servers.sh stop "$servers_dir" || echo "test-all-backends: stopping the servers failed" >&2
    servers_dir=""
  fi
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if wants postgres || wants mysql; then
  # The directory is made here, so the EXIT trap can stop the servers by the PIDs
  # recorded in it even if db-servers.sh start itself is cut short.
  servers_dir=$(mktemp -d /tmp/soft-delete-db.XXXXXX)
  envfile=$(scripts/db-servers.sh start "$servers_dir")
  # shellcheck disable=SC1090 # written by db-servers.sh
  . "$envfile"
  export SOFT_DELETE_TEST_POSTGRES_URL SOFT_DELETE_TEST_MYSQL_URL
fi

summary=()
failed=0
step() {
  local name=$1 started status
  shift
  echo
  echo "==== $name: $*"
  started=$(date +%s)
  if "$@"; then status=passed; else status=FAILED; failed=1; fi
  summary+=("$(printf '%-22s %-7s %4ss' "$name" "$status" $(($(date +%s) - started)))")
}

# The sqlite step is the README's command; the servers' URLs stay exported, so that the
# servers test checks they answer.
if wants sqlite; then
  step sqlite env -u DATABASE_URL -u TEST_BACKEND cargo test --workspace "${extra[@]}"
fi
if wants postgres; then
  step postgres env TEST_BACKEND=postgres DATABASE_URL="$SOFT_DELETE_TEST_POSTGRES_URL" \
    cargo test -p soft-delete-tests "${extra[@]}"
fi
if wants mysql; then
  step mariadb env TEST_BACKEND=mysql DATABASE_URL="$SOFT_DELETE_TEST_MYSQL_URL" \
    cargo test -p soft-delete-tests "${extra[@]}"
fi

if [[ ${BENCH_SMOKE:-0} == 1 ]]; then
  step build-examples cargo build --release -p soft-delete-examples --examples
  if wants sqlite; then
    step example-sqlite env -u DATABASE_URL cargo run --release -p soft-delete-examples --example bulk_operations
    step bench-sqlite env -u DATABASE_URL target/release/examples/bench \
      --backend sqlite --rows 3000 --rounds 1 --loop-rows 100
  fi
  if wants postgres; then
    step bench-postgres env DATABASE_URL="$SOFT_DELETE_TEST_POSTGRES_URL" target/release/examples/bench \
      --backend postgres --rows 3000 --rounds 1 --loop-rows 100
  fi
  if wants mysql; then
    step bench-mariadb env DATABASE_URL="$SOFT_DELETE_TEST_MYSQL_URL" target/release/examples/bench \
      --backend mysql --rows 3000 --rounds 1 --loop-rows 100
  fi
fi

echo
echo "==== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
