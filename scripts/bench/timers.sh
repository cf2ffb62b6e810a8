#!/usr/bin/env bash
# Timer lateness under create load, with PENDING timers already waiting in the store (docs/PERFORMANCE.md):
#
#   swift build -c release
#   scripts/bench/timers.sh sqlite [PENDING]
#   scripts/with-postgres.sh scripts/bench/timers.sh postgres [PENDING]
#
# 1. aftersale-seed fills a fresh store with enough cases that PENDING timers (default 100,000) wait
#    ten years out (--timer-wait 3650d: three cases in four have one);
# 2. aftersaled runs with --timer-merchant-review REVIEW (default 3s), --timer-max-per-second RATE
#    (default 1000) and, for PostgreSQL, REPLICAS
#    replicas (default 1);
# 3. aftersale-bench --scenario timers sends delivered orders and return applications for T seconds
#    (default 20) from C connections × D calls in flight (default 4 × 2), then reads every case back
#    and prints the lateness of its review timer: from the due time to the timer's timeline entry.
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:?usage: timers.sh sqlite|postgres [PENDING]}
PENDING=${2:-100000}; T=${T:-20}; C=${C:-4}; D=${D:-2}; REVIEW=${REVIEW:-3s}; REPLICAS=${REPLICAS:-1}
RATE=${RATE:-1000}
bin=$(swift build -c release --show-bin-path)
cases=$(( (PENDING * 4 + 2) / 3 ))
work=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-timers.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
case "$backend" in
  sqlite) store=(--data-dir "$work/data"); keys=() ;;
  postgres)
    [ -n "${AFTERSALE_PG_BINDIR:-}" ] || { echo "run me through scripts/with-postgres.sh" >&2; exit 2; }
    "$AFTERSALE_PG_BINDIR/createdb" timers
    # One master key for the seed and the server (the server refuses a store sealed under another).
    store=(--database "postgresql:///timers?host=$PGHOST&port=$PGPORT&user=$PGUSER" --master-key-file "$work/master.key")
    keys=(--data-dir "$work/data") ;;   # where the development token key is made
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
echo "== $backend: seeding $cases cases ($PENDING pending timers)"
"$bin/aftersale-seed" "${store[@]}" --cases "$cases" --timer-wait 3650d | tail -1 | sed 's/^/  /'
targets=()
for r in $(seq 0 $((REPLICAS - 1))); do
  port=$((17800 + r))
  "$bin/aftersaled" "${store[@]}" "${keys[@]}" --listen "127.0.0.1:$port" --log-level warning --timer-merchant-review "$REVIEW" \
    --timer-max-per-second "$RATE" &
  pids+=($!)
  for _ in $(seq 400); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
  targets+=("127.0.0.1:$port")
done
echo "== $REPLICAS replica(s), review timer $REVIEW, load ${C}x${D} for ${T}s"
"$bin/aftersale-bench" --server "$(IFS=,; echo "${targets[*]}")" --data-dir "$work/data" --scenario timers --connections "$C" --inflight "$D" \
  --duration "$T" --warmup 0 2>&1 | tail -3 | sed 's/^/  /'
