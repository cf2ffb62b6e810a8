#!/usr/bin/env bash
# Runs the lifecycle scenarios (create, get, list) against aftersaled on a fresh copy of a seeded
# data directory, and prints one Markdown row per run with calls/s, latency and the CPU left idle.
#
#   scripts/bench/lifecycle.sh SEEDED_DIR "create:16x1 get:16x1 list:16x1" [BIN_DIR] [LABEL]
#
# SEEDED_DIR comes from aftersale-seed (see docs/PERFORMANCE.md); each scenario list runs on one
# copy, so earlier runs' writes are in later runs' database, as in a real server's life.
# BIN_DIR defaults to the project's release build; LABEL names the build in the rows.
# Env: T (seconds per run, default 10), CASES (the seeded case count, default 1000000),
#      FRESH (the seeded fresh orders, default 60000), PORT (default 17600).
set -euo pipefail
seeded=$1; runs=$2
bin=${3:-$(cd "$(dirname "$0")/../.." && swift build -c release --show-bin-path)}
label=${4:-$(basename "$(dirname "$(dirname "$bin")")")}
T=${T:-10}; CASES=${CASES:-1000000}; FRESH=${FRESH:-60000}; PORT=${PORT:-17600}
copy=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-bench.XXXXXX")
cp -r "$seeded/." "$copy/"
"$bin/aftersaled" --data-dir "$copy" --listen 127.0.0.1:$PORT --log-level warning >"$copy/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$copy"' EXIT
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done
cpu() { awk '/^cpu / {print $2+$3+$4+$5+$6+$7+$8+$9, $5, $9}' /proc/stat; }
for run in $runs; do
  scenario=${run%%:*}; setting=${run#*:}
  read -r total0 idle0 steal0 <<<"$(cpu)"
  line=$("$bin/aftersale-bench" --server 127.0.0.1:$PORT --data-dir "$copy" --scenario "$scenario" --connections "${setting%x*}" \
         --inflight "${setting#*x}" --duration "$T" --cases "$CASES" --fresh-orders "$FRESH" 2>&1 | tail -1)
  read -r total1 idle1 steal1 <<<"$(cpu)"
  fig() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$line"; }
  share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d%%", (b > 0 ? 100 * a / b : 0) }'; }
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$label" "$scenario" "$setting" "$(fig 'calls\/s')" \
    "$(fig p50_us)" "$(fig p99_us)" "$(fig p999_us)" "$(fig errors)" \
    "$(share $((idle1 - idle0)) $((total1 - total0)))" "$(share $((steal1 - steal0)) $((total1 - total0)))"
done
