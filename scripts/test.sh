#!/usr/bin/env bash
# Runs every test: installs missing system packages, builds all products (the integration tests
# launch aftersaled and aftersalectl), then runs the whole suite beside a throwaway PostgreSQL server
# (the PostgreSQL tests fail without one; see scripts/with-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
scripts/with-postgres.sh swift test "$@"
