#!/usr/bin/env bash
# Fuzzes one target with libFuzzer (the toolchain's), from the committed corpus:
#
#   scripts/fuzz.sh frame|envelope|request|json|token [SECONDS] [-- LIBFUZZER_OPTIONS...]
#
# SwiftPM cannot link a -sanitize=fuzzer executable on Linux, so the package is compiled with
# `-sanitize=fuzzer,address` into .build-fuzz (only FuzzHarness and what it needs), and the objects
# are linked here with swiftc, which adds libFuzzer's main. New interesting inputs go to a scratch
# corpus (copy the good ones into Tests/FuzzCorpus/TARGET by hand); an input that crashes or breaks
# an invariant is written to Tests/FuzzCorpus/crashers/TARGET/, which the tests replay once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz.sh frame|envelope|request|json|token [SECONDS]}
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
[ "${1:-}" = "--" ] && shift
case "$target" in frame|envelope|request|json|token) ;; *) echo "unknown target $target" >&2; exit 2 ;; esac
build=.build-fuzz
swift build --build-path "$build" --target FuzzHarness -Xswiftc -sanitize=fuzzer,address >&2
objects=$(find -L "$build/debug" -path '*.build/*.o' -type f | sort)
binary=$build/aftersale-fuzz
swiftc -sanitize=fuzzer,address $objects -lprotobuf-c -lssl -lcrypto -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/aftersale-fuzz-$target.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "Tests/FuzzCorpus/crashers/$target"
echo "fuzzing $target for ${seconds}s" >&2
AFTERSALE_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="Tests/FuzzCorpus/crashers/$target/" "$@" "$scratch" "Tests/FuzzCorpus/$target"
