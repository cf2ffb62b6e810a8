#!/usr/bin/env bash
# Installs missing system packages, builds aftersaled (release) and starts it on its embedded
# default: 127.0.0.1:7400, data in ./data. Extra arguments go to aftersaled (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product aftersaled
exec "$(swift build -c release --show-bin-path)/aftersaled" "$@"
