#!/usr/bin/env bash
# The PostgreSQL sitting of docs/PERFORMANCE.md, in one run beside a throwaway server:
#
#   swift build -c release
#   scripts/with-postgres.sh scripts/bench/postgres.sh [CASES]
#
# 1. pgbench -N (16 clients, 2 threads, 10 s; then 1 client), the reference;
# 2. CreateAfterSale, 16 callers (16 connections × 1), on one replica, then on two replicas
#    through the client's target list (one against two);
# 3. delivery across replicas: creates on replica A, a subscriber on replica B;
# 4. with CASES complete cases (default 1,000,000, seeded through the real create path): GetAfterSale
#    and a filtered ListAfterSales page of 20, 16×1 and 1×1.
# Every line printed is a figure; the server's fsync stays on (never run with AFTERSALE_PG_FSYNC=off).
# Env: T (seconds per run, default 10), POOL (connections per replica, default 16),
#      PARTS (default "reference creates big": which of the parts above to run),
#      FROM_SQLITE (a data directory aftersale-seed filled with CASES cases: part 4 copies it with
#      aftersale-copy instead of seeding PostgreSQL, which takes a quarter of the time).
set -euo pipefail
cd "$(dirname "$0")/../.."
CASES=${1:-1000000}; T=${T:-10}; POOL=${POOL:-16}; PARTS=${PARTS:-reference creates big}
part() { [[ " $PARTS " == *" $1 "* ]]; }
bin=$(swift build -c release --show-bin-path)
[ -n "${AFTERSALE_PG_BINDIR:-}" ] || { echo "run me through scripts/with-postgres.sh" >&2; exit 2; }
url() { echo "postgresql:///$1?host=$PGHOST&port=$PGPORT&user=$PGUSER"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
start() {  # start DB PORT: a replica on database DB at 127.0.0.1:PORT
  "$bin/aftersaled" --database "$(url "$1")" --database-pool-size "$POOL" --listen "127.0.0.1:$2" --log-level warning &
  pids+=($!)
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$2) 2>/dev/null && return; sleep 0.05; done
  echo "replica on $2 did not start" >&2; exit 1
}
bench() { "$bin/aftersale-bench" --duration "$T" "$@" 2>&1 | tail -2 | sed 's/^/  /'; }

if part reference; then
echo "== pgbench -N, scale 10"
"$AFTERSALE_PG_BINDIR/pgbench" -i -s 10 -q aftersale_test >/dev/null 2>&1
for c in 16 1; do
  printf '  clients=%s ' "$c"; "$AFTERSALE_PG_BINDIR/pgbench" -N -c "$c" -j "$([ "$c" -gt 1 ] && echo 2 || echo 1)" -T 10 aftersale_test 2>/dev/null | grep -E '^tps' | sed 's/ (without.*//'
done

fi

if part creates; then
echo "== CreateAfterSale, 16 callers"
"$AFTERSALE_PG_BINDIR/createdb" creates
"$bin/aftersale-seed" --database "$(url creates)" --cases 0 --fresh-orders 20000 | tail -1 | sed 's/^/  /'
start creates 17700
echo " one replica:"; bench --server 127.0.0.1:17700 --scenario create --fresh-orders 20000 --connections 16 --inflight 1 --warmup 2
start creates 17701
echo " two replicas (targets A,B):"; bench --server 127.0.0.1:17700,127.0.0.1:17701 --scenario create --fresh-orders 20000 --connections 16 --inflight 1 --warmup 2
echo " delivery across replicas (creates on A, subscriber on B):"
bench --server 127.0.0.1:17700 --scenario create --fresh-orders 20000 --connections 16 --inflight 1 --warmup 2 --subscribe true --subscribe-server 127.0.0.1:17701
cleanup; pids=()
fi

if part big; then
echo "== $CASES complete cases"
"$AFTERSALE_PG_BINDIR/createdb" big
if [ -n "${FROM_SQLITE:-}" ]; then
  copy=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-copy.XXXXXX")
  cp -r "$FROM_SQLITE/." "$copy/"
  "$bin/aftersale-copy" --data-dir "$copy" --database "$(url big)" | tail -1 | sed 's/^/  /'
  rm -rf "$copy"
else
  "$bin/aftersale-seed" --database "$(url big)" --cases "$CASES" | tail -1 | sed 's/^/  /'
fi
"$AFTERSALE_PG_BINDIR/psql" -q -d big -c "VACUUM ANALYZE" >/dev/null
"$AFTERSALE_PG_BINDIR/psql" -At -d big -c "SELECT 'database ' || pg_size_pretty(pg_database_size('big'))" | sed 's/^/  /'
start big 17702
for run in get:16x1 get:1x1 list:16x1 list:1x1; do
  scenario=${run%%:*}; setting=${run#*:}
  echo " $scenario ${setting}:"
  bench --server 127.0.0.1:17702 --scenario "$scenario" --cases "$CASES" --connections "${setting%x*}" --inflight "${setting#*x}" --warmup 2
done
fi
