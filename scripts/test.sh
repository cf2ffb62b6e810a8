#!/usr/bin/env bash
# Runs every test: installs missing system packages, builds all products (the integration tests
# launch aftersaled, aftersalectl and aftersale-copy), then, beside a throwaway PostgreSQL server
# (scripts/with-postgres.sh; a run where it cannot start fails):
#   1. the whole suite: unit tests, the storage conformance suite on in-memory, SQLite and
#      PostgreSQL, the PostgreSQL backend's own tests, and the integration tests on SQLite, with the
#      replica tests (several aftersaled on one PostgreSQL) among them;
#   2. the integration tests again with AFTERSALE_TEST_BACKEND=postgres: every story on PostgreSQL;
# then the README's walk-through against a fresh server, every answer checked; and last a bounded
# fuzz run (scripts/fuzz-ci.sh: every libFuzzer target for 25 s under AddressSanitizer).
# With arguments, runs only `swift test ARGS` beside the throwaway server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
if [ $# -gt 0 ]; then
  exec scripts/with-postgres.sh swift test "$@"
fi
scripts/with-postgres.sh bash -c '
  set -e
  swift test
  echo "test.sh: the integration tests again, on PostgreSQL" >&2
  AFTERSALE_TEST_BACKEND=postgres swift test --skip-build --filter IntegrationTests --skip Replicas
'
scripts/walkthrough.sh
scripts/fuzz-ci.sh "${AFTERSALE_FUZZ_SECONDS:-25}"
