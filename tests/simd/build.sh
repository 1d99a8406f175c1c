#!/usr/bin/env bash
# Rebuilds tests/simd/simd_kernels.wasm from tests/simd/kernels/ with SIMD enabled
# (`-C target-feature=+simd128`). Needs the wasm32-unknown-unknown target
# (`rustup target add wasm32-unknown-unknown`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target=wasm32-unknown-unknown
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
# SIMD on; keep this machine's paths out of the module.
export RUSTFLAGS="-C target-feature=+simd128 --remap-path-prefix=$here=/simd"

rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"
cargo build --release --target "$target" --manifest-path "$here/kernels/Cargo.toml"
cp "$CARGO_TARGET_DIR/$target/release/wasmguard_simd_kernels.wasm" "$here/simd_kernels.wasm"
ls -l "$here/simd_kernels.wasm"
