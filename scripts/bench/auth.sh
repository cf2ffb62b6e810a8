#!/usr/bin/env bash
# What authenticating a caller costs (docs/PERFORMANCE.md, "Authentication"):
#
#   swift build -c release
#   scripts/bench/auth.sh [ROUNDS]
#
# One aftersaled on a fresh SQLite data directory with --insecure-dev-principals, so that it takes
# both a stated identity (x-caller-role/x-caller-id: no signature) and a development token (a
# PASETO v4.public signature, verified on its first use and then served from the verified-token
# cache). aftersale-bench calls GetReasonCatalog (served from the catalog cache: no storage, so
# the identity is most of the work) at 16×32 and 16×1 for T seconds (default 5) each way, ROUNDS
# times (default 2), alternating, plus Health/Check with no identity at all as the floor.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}; T=${T:-5}
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-auth.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$bin/aftersaled" --data-dir "$work/data" --listen 127.0.0.1:0 --insecure-dev-principals --log-level warning > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "aftersaled ready" "$work/out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/out" | head -1)
[ -n "$port" ] || { cat "$work/out" >&2; exit 1; }
method=aftersale.v1.AfterSaleService/GetReasonCatalog
run() {  # label C D extra-args...
  local label=$1 c=$2 d=$3; shift 3
  local line
  line=$("$bin/aftersale-bench" --server "127.0.0.1:$port" --connections "$c" --inflight "$d" --duration "$T" --data-dir "$work/data" "$@" | tail -1)
  echo "$label ${c}x${d} $line"
}
for round in $(seq 1 "$ROUNDS"); do
  for cd in "16 32" "16 1"; do
    set -- $cd
    run "round=$round health-no-identity" "$1" "$2"
    run "round=$round stated" "$1" "$2" --method "$method" --identity stated --as buyer:b-1
    run "round=$round token" "$1" "$2" --method "$method" --identity token --as buyer:b-1
  done
done
