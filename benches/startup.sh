#!/usr/bin/env bash
# Wall time and peak RSS of growing a memory 0 -> 256 MiB one page at a time (`grow.rs`),
# wasmguard next to wasmi: builds the `grow` example in release, runs the two engines
# alternately RUNS times (default 5) under /usr/bin/time, and prints the medians and the
# ratios wasmguard / wasmi. Needs GNU time (`apt-get install -y time`).
#   benches/startup.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs="${1:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../target}"

[[ -x /usr/bin/time ]] || { echo "startup.sh: needs GNU time (apt-get install -y time)" >&2; exit 1; }
cargo build --release --manifest-path "$here/Cargo.toml" --example grow
bin="$CARGO_TARGET_DIR/release/examples/grow"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for ((i = 0; i < runs; i++)); do
    for engine in wasmguard wasmi; do
        # `%e %M`: elapsed seconds, peak resident set in KiB.
        /usr/bin/time -f "$engine %e %M" -a -o "$out" "$bin" "$engine"
    done
done

python3 - "$out" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    engine, wall, rss = line.split()
    rows.setdefault(engine, []).append((float(wall), int(rss) / 1024))
med = {e: (statistics.median(w for w, _ in r), statistics.median(m for _, m in r)) for e, r in rows.items()}
print(f"{'engine':<10} {'runs':>4} {'wall (median)':>14} {'peak RSS (median)':>18}")
for e in ("wasmguard", "wasmi"):
    print(f"{e:<10} {len(rows[e]):>4} {med[e][0]:>12.3f} s {med[e][1]:>14.1f} MiB")
g, w = med["wasmguard"], med["wasmi"]
print(f"wasmguard / wasmi: wall {g[0] / w[0]:.2f}, peak RSS {g[1] / w[1]:.2f}")
PY
