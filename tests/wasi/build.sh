#!/usr/bin/env bash
# Rebuilds the WASI test programs (tests/wasi/wasm/*.wasm) from programs/, and records
# the expected output of each run in cases.txt by running the same sources compiled
# natively (expected/<name>.stdout and .status).
#
# Needs (Debian): clang lld wasi-libc libclang-rt-14-dev-wasm32, a native C compiler, and
# `rustup target add wasm32-wasip1`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
CLANG="${CLANG:-clang}"
SYSROOT="${WASI_SYSROOT:-/usr}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p wasm expected "$work/native"

for src in programs/c/*.c; do
    name="$(basename "$src" .c)"
    "$CLANG" --target=wasm32-wasi --sysroot="$SYSROOT" -O2 -Wall -Werror -o "wasm/$name.wasm" "$src"
    cc -O2 -Wall -Werror -o "$work/native/$name" "$src"
done

(cd programs/rust && cargo build --quiet --release --target wasm32-wasip1 --target-dir "$work/rust" \
    && cargo build --quiet --release --target-dir "$work/rust")
for src in programs/rust/src/bin/*.rs; do
    name="$(basename "$src" .rs)"
    cp "$work/rust/wasm32-wasip1/release/$name.wasm" "wasm/$name.wasm"
    cp "$work/rust/release/$name" "$work/native/$name"
done

# The fixture of a run (kept in sync with `fixture` in tests/wasi.rs).
fixture() {
    local root="$1" kind="$2"
    mkdir -p "$root/data/sub/deeper"
    printf 'hello file\nsecond line\n' > "$root/data/in.txt"
    printf 'nested\n' > "$root/data/sub/nested.txt"
    if [ "$kind" = hostile ]; then
        ln -s /etc "$root/data/etc_link"
        ln -s chain2 "$root/data/chain1"
        ln -s .. "$root/data/chain2"
        ln -s loop2 "$root/data/loop1"
        ln -s loop1 "$root/data/loop2"
        printf 'secret\n' > "$root/victim"
        ln -s victim "$root/link"
    fi
}

while IFS='|' read -r -a fields; do
    [ "${#fields[@]}" -eq 0 ] && continue
    case "${fields[0]}" in '#'* | '') continue ;; esac
    name="${fields[0]}" kind="${fields[1]}"
    [ "$kind" = plain ] || continue
    run="$work/run-$name"
    mkdir -p "$run"
    fixture "$run" "$kind"
    status=0
    (cd "$run" && env GREETING="hello world" EMPTY="" TOUR_VAR=tour \
        "$work/native/$name" "${fields[@]:2}" > "$work/$name.stdout" 2> /dev/null) || status=$?
    cp "$work/$name.stdout" "expected/$name.stdout"
    echo "$status" > "expected/$name.status"
    echo "$name: exit $status"
done < cases.txt
