//! What the accessor framework costs over raw slices: `cargo bench -p wasmguard-benches --bench access`.
//!
//! - `u32 read x4096`: `WasmPtr<u32>::read` through a `MemoryView` at 4096 pseudo-random
//!   (mostly unaligned) addresses, against `u32::from_le_bytes(data[a..a + 4])` on the
//!   memory's `&[u8]` at the same addresses. Goal: at most 1.2x the raw time.
//! - `copy out 1 MiB`: `WasmSlice<u8>::read_to_vec` against a plain `memcpy` into a new
//!   `Vec` (`extend_from_slice`), and into an existing buffer (`copy_from_slice`). Goal: at
//!   least 80% of the `extend_from_slice` throughput. `zero-fill + memcpy` shows the cost of
//!   filling the new `Vec` before copying into it.
//! - `copy out 256 Ki u32`: `WasmSlice<u32>::read_to_vec` against decoding the bytes with
//!   `u32::from_le_bytes` into a new `Vec`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wasmguard::{Engine, Memory, MemoryType, Store, WasmPtr, WasmSlice};

const MIB: usize = 1 << 20;

/// A memory of `pages` pages filled with pseudo-random bytes.
fn memory(pages: u32) -> (Store<()>, Memory) {
    let mut store = Store::new(&Engine::default(), ());
    let memory = Memory::new(&mut store, MemoryType::new(pages, None)).expect("memory");
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    for b in memory.data_mut(&mut store) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    (store, memory)
}

/// 4096 pseudo-random addresses of a `u32` inside the first 64 KiB (cache-resident, so the
/// benchmark measures the access path, not cache misses).
fn addresses() -> Vec<u32> {
    let mut x = 12345_u32;
    (0..4096)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 8) % (65_536 - 4)
        })
        .collect()
}

fn ptr_read(c: &mut Criterion) {
    let (store, memory) = memory(1);
    let addrs = addresses();
    let mut group = c.benchmark_group("u32 read x4096");
    group.throughput(Throughput::Elements(addrs.len() as u64));
    group.bench_function("WasmPtr::read", |b| {
        let view = memory.view(&store);
        b.iter(|| {
            let mut sum = 0_u32;
            for &a in black_box(&addrs) {
                sum = sum.wrapping_add(WasmPtr::<u32>::new(a).read(&view).unwrap());
            }
            black_box(sum)
        });
    });
    group.bench_function("raw slice", |b| {
        let data = memory.data(&store);
        b.iter(|| {
            let mut sum = 0_u32;
            for &a in black_box(&addrs) {
                let a = a as usize;
                sum = sum.wrapping_add(u32::from_le_bytes(data[a..a + 4].try_into().unwrap()));
            }
            black_box(sum)
        });
    });
    group.finish();
}

fn copy_bytes(c: &mut Criterion) {
    let (store, memory) = memory(17);
    let mut group = c.benchmark_group("copy out 1 MiB");
    group.throughput(Throughput::Bytes(MIB as u64));
    group.bench_function("WasmSlice<u8>::read_to_vec", |b| {
        let view = memory.view(&store);
        let slice = WasmSlice::new(WasmPtr::<u8>::new(black_box(16)), MIB as u32);
        b.iter(|| black_box(slice.read_to_vec(&view).unwrap()));
    });
    group.bench_function("memcpy: extend_from_slice", |b| {
        let data = memory.data(&store);
        b.iter(|| {
            let mut out = Vec::with_capacity(MIB);
            out.extend_from_slice(&data[black_box(16)..][..MIB]);
            black_box(out)
        });
    });
    // What `read_to_vec` does today (through `GuestType::read_many`): zero-fill, then copy.
    group.bench_function("zero-fill + memcpy", |b| {
        let data = memory.data(&store);
        #[expect(clippy::slow_vector_initialization, reason = "measures exactly this pattern")]
        b.iter(|| {
            let mut out = Vec::with_capacity(MIB);
            out.resize(MIB, 0_u8);
            out.copy_from_slice(&data[black_box(16)..][..MIB]);
            black_box(out)
        });
    });
    group.bench_function("memcpy: copy_from_slice (no alloc)", |b| {
        let data = memory.data(&store);
        let mut out = vec![0_u8; MIB];
        b.iter(|| {
            out.copy_from_slice(&data[black_box(16)..][..MIB]);
            black_box(&mut out);
        });
    });
    group.finish();
}

fn copy_u32s(c: &mut Criterion) {
    const N: usize = 256 * 1024;
    let (store, memory) = memory(17);
    let mut group = c.benchmark_group("copy out 256 Ki u32");
    group.throughput(Throughput::Bytes((N * 4) as u64));
    group.bench_function("WasmSlice<u32>::read_to_vec", |b| {
        let view = memory.view(&store);
        let slice = WasmSlice::new(WasmPtr::<u32>::new(black_box(16)), N as u32);
        b.iter(|| black_box(slice.read_to_vec(&view).unwrap()));
    });
    group.bench_function("from_le_bytes loop", |b| {
        let data = memory.data(&store);
        b.iter(|| {
            let bytes = &data[black_box(16)..][..N * 4];
            let out: Vec<u32> = bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
            black_box(out)
        });
    });
    group.finish();
}

criterion_group!(benches, ptr_read, copy_bytes, copy_u32s);
criterion_main!(benches);
