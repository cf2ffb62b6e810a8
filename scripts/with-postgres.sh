#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server, then stops the server and deletes its files.
#
#   scripts/with-postgres.sh swift test --filter AfterSalePostgresTests
#
# The server listens on a private Unix-socket directory only (no TCP port), so parallel runs never
# collide. The command sees:
#   PGHOST PGPORT PGUSER PGDATABASE   for libpq and psql
#   AFTERSALE_TEST_DATABASE           a postgresql:// URL for the same database
#   AFTERSALE_PG_BINDIR               the server binaries (pg_ctl, postgres, psql)
#   AFTERSALE_PG_DATADIR              the data directory
#   AFTERSALE_PG_SOCKETDIR            the socket directory (same as PGHOST)
#   AFTERSALE_PG_OPTIONS              the postgres options the server was started with: pass them
#                                     again (pg_ctl start -o "$AFTERSALE_PG_OPTIONS") when restarting
#   AFTERSALE_PG_LOGFILE              the server log
#   AFTERSALE_PG_RUNAS                the user pg_ctl must run as (runuser -u "$AFTERSALE_PG_RUNAS" --),
#                                     empty when the current user runs it
# fsync stays on unless AFTERSALE_PG_FSYNC=off (functional runs only; never for measurements).
# Exits with the command's status; exits non-zero, saying why, when no server can be set up.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

fail() { echo "with-postgres: $*" >&2; exit 1; }

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

find_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
  echo "with-postgres: no PostgreSQL server under /usr/lib/postgresql; installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || fail "apt-get update failed"
  $sudo apt-get install -y -qq postgresql >/dev/null || fail "apt-get install postgresql failed"
  bindir=$(find_bindir)
  [ -n "$bindir" ] || fail "postgresql installed, but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
fi

# initdb and postgres refuse to run as root: hand the work to the postgres user.
runas=""
run=()
if [ "$(id -u)" -eq 0 ]; then
  id -u postgres >/dev/null 2>&1 || fail "running as root, but there is no 'postgres' user to run the server as"
  runas="postgres"
  run=(runuser -u postgres --)
fi

base=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-pg.XXXXXX")
datadir="$base/data"
socketdir="$base/socket"
logfile="$base/server.log"
mkdir -p "$datadir" "$socketdir"
chmod 700 "$base" "$datadir" "$socketdir"
[ -n "$runas" ] && chown -R "$runas" "$base"

started=""
cleanup() {
  local status=$?
  if [ -n "$started" ]; then
    "${run[@]}" "$bindir/pg_ctl" -D "$datadir" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$base"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

user="postgres"
database="aftersale_test"

if ! "${run[@]}" "$bindir/initdb" -D "$datadir" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 \
     >"$base/initdb.log" 2>&1; then
  rm -rf "$datadir" && mkdir -p "$datadir" && chmod 700 "$datadir"
  [ -n "$runas" ] && chown "$runas" "$datadir"
  "${run[@]}" "$bindir/initdb" -D "$datadir" -U "$user" --auth=trust -E UTF8 --locale=C \
     >"$base/initdb.log" 2>&1 || { cat "$base/initdb.log" >&2; fail "initdb failed"; }
fi

port=5432
options="-c listen_addresses='' -k $socketdir -p $port -c shared_buffers=128MB -c max_connections=200"
if [ "${AFTERSALE_PG_FSYNC:-on}" = "off" ]; then
  options="$options -c fsync=off"
fi

started=yes
if ! "${run[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -o "$options" -w -t 60 start >/dev/null 2>&1; then
  tail -n 30 "$logfile" >&2 2>/dev/null || true
  fail "the server did not start"
fi

ready=""
for _ in $(seq 1 100); do
  if "$bindir/pg_isready" -q -h "$socketdir" -p "$port" -U "$user" -d postgres; then ready=yes; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { tail -n 30 "$logfile" >&2 || true; fail "the server did not become ready within 10 s"; }

"$bindir/createdb" -h "$socketdir" -p "$port" -U "$user" "$database" || fail "createdb failed"

export PGHOST="$socketdir" PGPORT="$port" PGUSER="$user" PGDATABASE="$database"
export AFTERSALE_TEST_DATABASE="postgresql:///$database?host=$socketdir&port=$port&user=$user"
export AFTERSALE_PG_BINDIR="$bindir" AFTERSALE_PG_DATADIR="$datadir" AFTERSALE_PG_SOCKETDIR="$socketdir"
export AFTERSALE_PG_OPTIONS="$options" AFTERSALE_PG_LOGFILE="$logfile" AFTERSALE_PG_RUNAS="$runas"

echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $socketdir, database $database" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
