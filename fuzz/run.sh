#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, one after the other, on one core.
#   fuzz/run.sh SECONDS
# The working corpus of target T is target/corpus/T (grown by the run, not committed),
# seeded from the committed corpus/T. A crash leaves its input in artifacts/T/ and makes
# the script exit non-zero (after the remaining targets have run).
set -uo pipefail
secs=${1:?usage: fuzz/run.sh SECONDS}
cd "$(dirname "$0")"
here=$(pwd)
failed=()
for target in $(cargo +nightly fuzz list); do
    mkdir -p "corpus/$target" "target/corpus/$target"
    echo "== $target: ${secs}s"
    if ! nice -n 10 cargo +nightly fuzz run "$target" "$here/target/corpus/$target" "$here/corpus/$target" -- \
        -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1; then
        failed+=("$target")
    fi
done
if ((${#failed[@]})); then
    echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "no crash"
