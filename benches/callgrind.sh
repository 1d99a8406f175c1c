#!/usr/bin/env bash
# Instruction counts (callgrind `Ir`) of CoreMark in wasmguard: a wall-clock-free figure for
# spotting regressions on a noisy, shared machine.
#
#   benches/callgrind.sh [ITERATIONS]     (default 100)
#
# Builds examples/bench_coremark.rs in release and runs it twice under
# `valgrind --tool=callgrind`: with 1 iteration (compile + instantiate + CoreMark's data
# setup + the first iteration, which translates the functions it calls) and with
# ITERATIONS + 1. Prints both totals and the difference per iteration,
# which is the figure to compare between commits; it is compared with the figure recorded in
# benches/callgrind-baseline.txt (exit status 1 if more than 2% above it). Needs valgrind
# (`apt-get install valgrind`).
set -euo pipefail
cd "$(dirname "$0")/.."
iters="${1:-100}"
out="target/callgrind"
mkdir -p "$out"

command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet --example bench_coremark
bin=target/release/examples/bench_coremark

# Total Ir of one run: the `totals:` line callgrind writes to its output file.
ir() {
    local n="$1" file="$out/callgrind.out.coremark-$1"
    valgrind --tool=callgrind --callgrind-out-file="$file" "$bin" "$n" >"$out/coremark-$n.stdout" 2>"$out/coremark-$n.stderr" ||
        { cat "$out/coremark-$n.stderr" >&2; exit 1; }
    awk '/^totals:/ { print $2 }' "$file"
}

# The base run does one iteration, so that the difference leaves out the translation of
# the functions CoreMark runs (translated on their first call) as well as the setup.
runs=$((iters + 1))
base="$(ir 1)"
total="$(ir "$runs")"
per_iter=$(((total - base) / iters))
grep -h "crcfinal\|validation" "$out/coremark-$runs.stdout" || true
printf 'Ir, %s iterations      : %s\n' "$runs" "$total"
printf 'Ir, 1 iteration (setup) : %s\n' "$base"
printf 'Ir per CoreMark iteration: %s\n' "$per_iter"
echo "(callgrind output in $out/; annotate with callgrind_annotate $out/callgrind.out.coremark-$runs)"

# Compare with the recorded figure: more than 2% above it is a regression (exit status 1).
baseline_file=benches/callgrind-baseline.txt
if [ -f "$baseline_file" ]; then
    baseline="$(tr -dc '0-9' <"$baseline_file")"
    echo "recorded per-iteration Ir: $baseline ($baseline_file)"
    if ((per_iter * 100 > baseline * 102)); then
        echo "REGRESSION: more than 2% above the recorded figure" >&2
        exit 1
    elif ((per_iter * 100 < baseline * 98)); then
        echo "improvement of more than 2%: record the new figure in $baseline_file"
    else
        echo "within 2% of the recorded figure"
    fi
fi
