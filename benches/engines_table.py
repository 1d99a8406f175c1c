#!/usr/bin/env python3
"""Markdown table of the last `cargo bench -p wasmguard-benches --bench engines` run, from criterion's output.

    python3 benches/engines_table.py [target/criterion]

For each group with `wasmguard` and `wasmi` results: both medians and the ratio
wasmguard / wasmi (above 1 means wasmguard is slower), then the geometric mean of the
ratios of the compute groups (CoreMark and the kernels) and of all execution groups (those,
the host call and memory), and the CoreMark scores (iterations per second, from the median
and the group's element throughput).
"""

import json
import math
import sys
from pathlib import Path

ORDER = [
    "coremark", "fib", "sieve", "matmul", "nbody", "sort", "sha256", "miniz", "json",
    "c_crc32", "c_mandelbrot", "host_call", "memory_fill", "memory_copy", "memory_grow",
    "compile", "instantiate",
]
NOT_EXECUTION = {"compile", "instantiate"}
NOT_COMPUTE = NOT_EXECUTION | {"host_call", "memory_fill", "memory_copy", "memory_grow"}


def fmt_ns(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def load(bench_dir: Path):
    est = json.loads((bench_dir / "new" / "estimates.json").read_text())
    bench = json.loads((bench_dir / "new" / "benchmark.json").read_text())
    return est["median"]["point_estimate"], bench.get("throughput")


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    rows, ratios, compute = [], [], []
    groups = sorted((d for d in root.iterdir() if (d / "wasmguard").is_dir() and (d / "wasmi").is_dir()),
                    key=lambda d: ORDER.index(d.name) if d.name in ORDER else len(ORDER))
    scores = {}
    for g in groups:
        (wg, thr), (wi, _) = load(g / "wasmguard"), load(g / "wasmi")
        ratio = wg / wi
        extra = ""
        if (g / "wasmi (eager)").is_dir():
            extra = f" (wasmi eager: {fmt_ns(load(g / 'wasmi (eager)')[0])})"
        rows.append(f"| {g.name} | {fmt_ns(wg)} | {fmt_ns(wi)}{extra} | {ratio:.2f} |")
        if g.name not in NOT_EXECUTION:
            ratios.append(ratio)
        if g.name not in NOT_COMPUTE:
            compute.append(ratio)
        if g.name == "coremark" and thr and "Elements" in thr:
            iters = thr["Elements"]
            scores = {"wasmguard": iters / wg * 1e9, "wasmi": iters / wi * 1e9}
    print("| benchmark | wasmguard (median) | wasmi (median) | wasmguard / wasmi |")
    print("| --- | ---: | ---: | ---: |")
    print("\n".join(rows))
    def geomean(xs):
        return math.exp(sum(map(math.log, xs)) / len(xs))
    if compute:
        print(f"\nGeometric mean of the {len(compute)} compute ratios (CoreMark and the kernels): "
              f"{geomean(compute):.2f}")
    if ratios:
        print(f"Geometric mean of the {len(ratios)} execution ratios: {geomean(ratios):.2f}")
    if scores:
        print(f"CoreMark (iterations/s, from the medians): wasmguard {scores['wasmguard']:.0f}, "
              f"wasmi {scores['wasmi']:.0f}")


if __name__ == "__main__":
    main()
