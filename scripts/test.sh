#!/usr/bin/env bash
# Runs every test: installs missing system packages, builds all products (the integration tests
# launch aftersaled and aftersalectl), runs the whole suite beside a throwaway PostgreSQL server
# (the PostgreSQL tests fail without one; see scripts/with-postgres.sh), then the README's
# walk-through (scripts/walkthrough.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
scripts/with-postgres.sh swift test "$@"
# The README's walk-through against a fresh server, every answer checked (skipped when the caller
# asked for a subset of the tests).
if [ $# -eq 0 ]; then scripts/walkthrough.sh; fi
