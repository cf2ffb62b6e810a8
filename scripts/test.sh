#!/usr/bin/env bash
# Runs every test: installs missing system packages, builds all products (the integration tests
# launch aftersaled and aftersalectl), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
swift test
