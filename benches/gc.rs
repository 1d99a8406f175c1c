//! wasmguard's GC on binary trees: `cargo bench -p wasmguard-benches --bench gc`.
//!
//! | group | one iteration                                                                  |
//! | ----- | ------------------------------------------------------------------------------ |
//! | `gc`  | `run(DEPTH)` of `wasm/gc/binary_trees.wat` (the Benchmarks Game program, trees |
//! |       | of GC structs), after checking its checksum and a tree's node count            |
//!
//! The checksum is the number of nodes checked, which is the number of structs allocated, so
//! the throughput is in structs allocated (and checked) a second. Depth [`DEPTH`] keeps a
//! sample short (3.2 million structs a call); depth 18 (68 million structs, seconds a call)
//! is measured by a separate long run, not here. The expected checksums of depths 10, 14 and
//! 18 are in the comment at the top of the `.wat` file. Samples are short as in `engines.rs`
//! (10 samples, flat sampling).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// The binary-trees guest: exports `run(depth) -> checksum` and `nodes(depth) -> count`.
const BINARY_TREES_WAT: &str = include_str!("wasm/gc/binary_trees.wat");

/// The max depth of the measured `run`.
const DEPTH: u32 = 14;

/// `run(DEPTH)`: the sum of every item check (wrapping i32), as the `.wat` file lists.
const EXPECTED_RUN: u32 = 3_222_190;

fn binary_trees(c: &mut Criterion) {
    let wasm = wat::parse_str(BINARY_TREES_WAT).expect("binary_trees.wat");
    let engine = wasmguard::Engine::default();
    let module = wasmguard::Module::new(&engine, &wasm)
        .unwrap_or_else(|e| panic!("wasmguard cannot compile binary_trees.wat (GC structs): {e}"));
    let mut store = wasmguard::Store::new(&engine, ());
    let instance = wasmguard::Linker::new(&engine).instantiate(&mut store, &module).expect("wasmguard: instantiate");
    let nodes = instance.get_typed_func::<u32, u32>(&mut store, "nodes").expect("nodes");
    let run = instance.get_typed_func::<u32, u32>(&mut store, "run").expect("run");
    assert_eq!(nodes.call(&mut store, 10).expect("nodes"), 2_047, "nodes(10): wrong node count");
    assert_eq!(run.call(&mut store, DEPTH).expect("run"), EXPECTED_RUN, "run({DEPTH}): wrong checksum");

    let mut group = c.benchmark_group("gc");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(u64::from(EXPECTED_RUN)));
    group.bench_function("wasmguard", |b| b.iter(|| run.call(&mut store, black_box(DEPTH)).expect("run")));
    group.finish();
}

criterion_group! {
    name = gc;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = binary_trees
}
criterion_main!(gc);
