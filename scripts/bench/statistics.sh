#!/usr/bin/env bash
# GetStatistics latency over rollups of many cases (docs/PERFORMANCE.md, "Statistics"):
#
#   swift build -c release
#   scripts/bench/statistics.sh sqlite [CASES] [DAYS]
#   scripts/with-postgres.sh scripts/bench/statistics.sh postgres [CASES] [DAYS]
#
# 1. aftersale-seed writes the rollups of CASES synthetic cases (default 1,000,000) over the last
#    DAYS days (default 90), through the same recorder the statistics projector uses;
# 2. aftersaled serves them; aftersale-bench calls GetStatistics as the platform over the whole
#    range, grouped by day, kind, reason, category and shop, and for one shop by day, from C
#    connections × D calls in flight (default 4 × 1) for T seconds (default 10) each; or once per
#    setting of SETTINGS (e.g. SETTINGS="1x1 4x1"), on the same seeded store.
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:?usage: statistics.sh sqlite|postgres [CASES] [DAYS]}
CASES=${2:-1000000}; DAYS=${3:-90}; T=${T:-10}; C=${C:-4}; D=${D:-1}; SETTINGS=${SETTINGS:-${C}x${D}}
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-statistics.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
case "$backend" in
  sqlite) store=(--data-dir "$work/data"); keys=() ;;
  postgres)
    [ -n "${AFTERSALE_PG_BINDIR:-}" ] || { echo "run me through scripts/with-postgres.sh" >&2; exit 2; }
    "$AFTERSALE_PG_BINDIR/createdb" statistics
    store=(--database "postgresql:///statistics?host=$PGHOST&port=$PGPORT&user=$PGUSER" --master-key-file "$work/master.key")
    keys=(--data-dir "$work/data") ;;   # where the development token key is made
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
echo "== $backend: rollups of $CASES cases over $DAYS days"
"$bin/aftersale-seed" "${store[@]}" --statistics-cases "$CASES" --statistics-days "$DAYS" 2>&1 | tail -2 | sed 's/^/  /'
"$bin/aftersaled" "${store[@]}" "${keys[@]}" --listen 127.0.0.1:17950 --log-level warning &
pid=$!
for _ in $(seq 400); do (exec 3<>/dev/tcp/127.0.0.1/17950) 2>/dev/null && break; sleep 0.05; done
for setting in $SETTINGS; do
  echo "  -- $setting (connections x calls in flight)"
  for run in "--group-by day" "--group-by kind" "--group-by reason" "--group-by category" "--group-by shop" "--group-by day --shop s-7"; do
    # shellcheck disable=SC2086
    line=$("$bin/aftersale-bench" --server 127.0.0.1:17950 --data-dir "$work/data" --scenario statistics --days "$DAYS" $run \
      --connections "${setting%x*}" --inflight "${setting#*x}" --duration "$T" | tail -1)
    echo "  $run: $line"
  done
done
