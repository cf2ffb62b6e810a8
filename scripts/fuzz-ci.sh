#!/usr/bin/env bash
# The bounded fuzz run that scripts/test.sh (and so CI) ends with: every fuzz target for SECONDS
# (default 25) from the committed corpus, with a fixed seed, under AddressSanitizer. A crash, a leak
# or a broken invariant fails the run and leaves the input in Tests/FuzzCorpus/crashers/TARGET/:
# fix the bug, commit the input (the tests replay it from then on).
#
#   scripts/fuzz-ci.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-25}
for target in frame envelope request json token; do
  scripts/fuzz.sh "$target" "$seconds" -- -seed=1 -print_final_stats=1 2>&1 \
    | grep -E "^(fuzzing|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|INFO: (Running|A corpus))|Done [0-9]+ runs" || true
  # grep only trims the output; the fuzzer's own status decides.
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz-ci: $target failed: see Tests/FuzzCorpus/crashers/$target/" >&2; exit 1; }
done
echo "fuzz-ci: every target ran ${seconds}s without a crash" >&2
