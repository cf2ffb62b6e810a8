#!/usr/bin/env bash
# Dispatch with AGENTS support agents and TICKETS queued tickets (docs/PERFORMANCE.md):
#
#   swift build -c release
#   scripts/bench/dispatch.sh sqlite [AGENTS] [TICKETS]
#   scripts/with-postgres.sh scripts/bench/dispatch.sh postgres [AGENTS] [TICKETS]
#
# aftersale-seed fills a fresh store with the agents (away; capacity: their share of the tickets
# plus 20) and the queued tickets (defaults 1,000 and 100,000); aftersaled starts; aftersale-bench
# --scenario dispatch then (1) brings every agent online at once and times the queue's draining
# (assignments per second), and (2) opens tickets for T seconds (default 10) from C × D callers
# (default 4 × 4) and reports creation to assignment, from the server's timestamps.
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:?usage: dispatch.sh sqlite|postgres [AGENTS] [TICKETS]}
AGENTS=${2:-1000}; TICKETS=${3:-100000}; T=${T:-10}; C=${C:-4}; D=${D:-4}
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-dispatch.XXXXXX")
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
case "$backend" in
  sqlite) store=(--data-dir "$work/data"); keys=() ;;
  postgres)
    [ -n "${AFTERSALE_PG_BINDIR:-}" ] || { echo "run me through scripts/with-postgres.sh" >&2; exit 2; }
    "$AFTERSALE_PG_BINDIR/createdb" dispatch
    # One master key for the seed and the server (the server refuses a store sealed under another).
    store=(--database "postgresql:///dispatch?host=$PGHOST&port=$PGPORT&user=$PGUSER" --master-key-file "$work/master.key")
    keys=(--data-dir "$work/data") ;;
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
echo "== $backend: seeding $AGENTS agents and $TICKETS queued tickets"
"$bin/aftersale-seed" "${store[@]}" --cases 0 --desk-agents "$AGENTS" --desk-tickets "$TICKETS" | tail -1 | sed 's/^/  /'
"$bin/aftersaled" "${store[@]}" "${keys[@]}" --listen 127.0.0.1:17900 --log-level warning &
server=$!
for _ in $(seq 400); do (exec 3<>/dev/tcp/127.0.0.1/17900) 2>/dev/null && break; sleep 0.05; done
echo "== every agent online, then ${C}x${D} callers open tickets for ${T}s"
"$bin/aftersale-bench" --server 127.0.0.1:17900 --data-dir "$work/data" --scenario dispatch --agents "$AGENTS" --cases "$TICKETS" \
  --connections "$C" --inflight "$D" --duration "$T" 2>&1 | tail -3 | sed 's/^/  /'
