#!/usr/bin/env bash
# Starts two aftersaled replicas on one PostgreSQL: RPC on 127.0.0.1:7400 and 127.0.0.1:7401,
# metrics and probes on 127.0.0.1:9400 and 127.0.0.1:9401. Ctrl-C stops both.
#
#   scripts/start-replicas.sh                 # a throwaway local PostgreSQL (deleted on exit)
#   AFTERSALE_DATABASE=postgresql://... scripts/start-replicas.sh   # your own database (kept)
#
# Call them through either address, or both: aftersalectl --server 127.0.0.1:7400,127.0.0.1:7401 --as ROLE:ID ...
# Both trust the development token key pair in ./data/dev-keys (made by whichever starts first)
# unless --token-keys FILE is given.
# Extra arguments go to both replicas (see aftersaled --help).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${AFTERSALE_DATABASE:-}" ] && [ -z "${AFTERSALE_TEST_DATABASE:-}" ]; then
  scripts/install-deps.sh
  swift build -c release --product aftersaled
  # Re-run this script beside a throwaway server (it exports AFTERSALE_TEST_DATABASE).
  exec scripts/with-postgres.sh "$0" "$@"
fi
database="${AFTERSALE_DATABASE:-$AFTERSALE_TEST_DATABASE}"
[ -n "${AFTERSALE_DATABASE:-}" ] && { scripts/install-deps.sh; swift build -c release --product aftersaled; }
bin="$(swift build -c release --show-bin-path)/aftersaled"

pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for i in 0 1; do
  "$bin" --database "$database" --listen "127.0.0.1:$((7400 + i))" --metrics-listen "127.0.0.1:$((9400 + i))" "$@" &
  pids+=($!)
done
echo "start-replicas: two replicas on 127.0.0.1:7400 and 127.0.0.1:7401; Ctrl-C stops them" >&2
# Exits when either replica exits (the trap stops the other).
wait -n "${pids[@]}"
