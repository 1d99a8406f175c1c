#!/usr/bin/env bash
# Rebuilds the checked-in guest modules in this folder from their sources:
#   coremark.wasm   <- coremark/  (crates.io `coremark`, exports `run(iters: u32) -> u32`)
#   kernels.wasm    <- kernels/   (Rust kernels, exports `bench_<name>(n: u32) -> u64`)
#   c_kernels.wasm  <- c/kernels.c (exports `c_<name>(n: u32) -> u64`; needs clang and lld)
#   regex.wasm      <- regex/     (crates.io `regex`, full Unicode tables, exports `run(n: u32) -> u64`)
#   json.wasm       <- json/      (serde + serde_json, derived (de)serializers, exports `run(n: u32) -> u64`)
#   c_program.wasm  <- c/program.c (an expression-language interpreter and string routines,
#                                   exports `p_run(n: u32) -> u64` among all its functions)
# The last three are for start-up benchmarks (`Module::new`), sized like real guests.
# Needs the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`).
# Set SKIP_C=1 to skip the C kernels where clang is not installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target=wasm32-unknown-unknown
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
# Keep this machine's paths out of the panic messages embedded in the modules.
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src=/cargo-registry"

rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"

build_rust() { # crate-dir output-name
    local crate="$1" out="$2" lib
    lib="$(sed -n 's/^name = "\(.*\)"/\1/p' "$here/$crate/Cargo.toml" | head -1 | tr - _)"
    cargo build --locked --release --target "$target" --manifest-path "$here/$crate/Cargo.toml"
    cp "$CARGO_TARGET_DIR/$target/release/$lib.wasm" "$here/$out"
}

build_rust coremark coremark.wasm
build_rust kernels kernels.wasm
build_rust regex regex.wasm
build_rust json json.wasm

if [[ "${SKIP_C:-0}" != 1 ]]; then
    clang --target=wasm32 -nostdlib -O2 -Wl,--no-entry -Wl,--export-all -Wl,--strip-debug \
        -o "$here/c_kernels.wasm" "$here/c/kernels.c"
    clang --target=wasm32 -nostdlib -O2 -Wl,--no-entry -Wl,--export-all -Wl,--strip-debug \
        -o "$here/c_program.wasm" "$here/c/program.c"
fi

ls -l "$here"/*.wasm
