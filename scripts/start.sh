#!/usr/bin/env bash
# Installs missing system packages, builds aftersaled (release) and starts it on its embedded
# default: 127.0.0.1:7400, data in ./data. Without --token-keys, aftersaled makes a development token
# key pair in ./data/dev-keys on first start and trusts it; `aftersalectl --as ROLE:ID ...` mints
# tokens with it (see README). Extra arguments go to aftersaled (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product aftersaled
exec "$(swift build -c release --show-bin-path)/aftersaled" "$@"
