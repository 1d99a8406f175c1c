#!/usr/bin/env bash
# Instruction counts (callgrind `Ir`) of CoreMark in wasmguard: a wall-clock-free figure for
# spotting regressions on a noisy, shared machine.
#
#   benches/callgrind.sh [ITERATIONS]     (default 100)
#
# Builds examples/bench_coremark.rs in release and runs it twice under
# `valgrind --tool=callgrind`: with 0 iterations (compile + instantiate + CoreMark's data
# setup only) and with ITERATIONS. Prints both totals and the difference per iteration,
# which is the figure to compare between commits. Needs valgrind (`apt-get install valgrind`).
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

base="$(ir 0)"
total="$(ir "$iters")"
per_iter=$(((total - base) / iters))
grep -h "crcfinal\|validation" "$out/coremark-$iters.stdout" || true
printf 'Ir, %s iterations      : %s\n' "$iters" "$total"
printf 'Ir, 0 iterations (setup): %s\n' "$base"
printf 'Ir per CoreMark iteration: %s\n' "$per_iter"
echo "(callgrind output in $out/; annotate with callgrind_annotate $out/callgrind.out.coremark-$iters)"
