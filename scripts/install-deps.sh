#!/usr/bin/env bash
# Installs the system packages the build and the tests need (Debian/Ubuntu), if any is missing.
# The Swift toolchain itself is expected on PATH.
set -euo pipefail
packages=(libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev libsqlite3-dev libpq-dev libssl-dev openssl postgresql pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
