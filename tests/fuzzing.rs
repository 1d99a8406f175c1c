//! The `fuzzing` feature: `Arbitrary` for guest types (derived ones included) and the
//! host-call harness, which must find a host function that allocates what the guest asks
//! for, and pass the crate's own WASI functions.
//!
//! Runs with `cargo test --release --features fuzzing --test fuzzing`.
#![cfg(feature = "fuzzing")]

use std::sync::Mutex;

use wasmguard::fuzzing::arbitrary::{Arbitrary, Unstructured};
use wasmguard::fuzzing::{CountingAllocator, HarnessConfig, HostCallHarness, Violation};
use wasmguard::wasi::{self, InputBuffer, OutputBuffer, WasiCtx, WasiCtxBuilder};
use wasmguard::{Caller, Engine, GuestType, Linker, Val, WasmPtr, WasmSlice};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The allocation counts are the program's, so every test runs alone: another test's
/// allocations and frees, in parallel, would move the counts under an assertion.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Deterministic pseudo-random fuzzer inputs (xorshift), `n` of them (a tenth under
/// Miri, which runs each call thousands of times slower).
fn inputs(n: usize, len: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let n = if cfg!(miri) { n.div_ceil(10) } else { n };
    (0..n).map(move |_| {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    })
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
#[guest(arbitrary)]
struct Header {
    tag: u8,
    ok: bool,
    len: u32,
    data: WasmPtr<u8>,
    pair: [u16; 2],
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(u8)]
#[guest(arbitrary)]
enum Kind {
    A = 1,
    B = 5,
    C = 9,
}

#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C, u8)]
#[guest(arbitrary)]
enum Event {
    Tick,
    Read(u32, Kind),
    Write { at: u64, header: Header },
}

/// A value drawn with the derived `Arbitrary` is a valid guest value: it survives a
/// round trip through its guest bytes.
fn round_trips<T: GuestType + for<'a> Arbitrary<'a> + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> T {
    let value = T::arbitrary(&mut Unstructured::new(bytes)).expect("enough bytes");
    let mut guest = vec![0xa5; T::SIZE as usize];
    value.write_to(&mut guest);
    assert_eq!(T::read_from(&guest).as_ref(), Ok(&value));
    value
}

#[test]
fn derived_arbitrary_values_are_valid_and_cover_every_variant() {
    let _serial = serial();
    let mut kinds = Vec::new();
    let mut events = [false; 3];
    for input in inputs(200, 64) {
        round_trips::<Header>(&input);
        kinds.push(round_trips::<Kind>(&input));
        events[match round_trips::<Event>(&input) {
            Event::Tick => 0,
            Event::Read(..) => 1,
            Event::Write { .. } => 2,
        }] = true;
    }
    for kind in [Kind::A, Kind::B, Kind::C] {
        assert!(kinds.contains(&kind), "{kind:?} never drawn");
    }
    assert_eq!(events, [true; 3]);
    // Pointers and slices are guest types with `Arbitrary` too.
    let mut u = Unstructured::new(&[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    assert_eq!(WasmPtr::<u64>::arbitrary(&mut u).unwrap().offset(), 1);
    let slice = WasmSlice::<u8>::arbitrary(&mut u).unwrap();
    assert_eq!((slice.ptr().offset(), slice.len()), (2, 3));
}

#[test]
fn the_counting_allocator_counts() {
    let _serial = serial();
    assert!(CountingAllocator::is_installed());
    // The test harness's own threads still allocate a little (output capture, thread
    // exit) while this runs: the sizes dwarf that, and the bounds leave it room. (Miri,
    // which fills memory thousands of times slower, gets smaller sizes.)
    const SIZE: usize = if cfg!(miri) { 1 << 16 } else { 1 << 20 };
    const SLACK: usize = SIZE / 4;
    CountingAllocator::reset_peak();
    let before = CountingAllocator::current();
    let mut v = vec![0u8; SIZE];
    assert!(CountingAllocator::current() + SLACK >= before + SIZE);
    v.resize(2 * SIZE, 1);
    assert!(CountingAllocator::peak() + SLACK >= before + 2 * SIZE);
    drop(v);
    assert!(CountingAllocator::current() < before + SLACK);
}

/// A host function that allocates as much as the guest asks: the harness must find it.
#[test]
fn an_allocation_the_guest_sizes_is_found() {
    let _serial = serial();
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap("env", "reserve", |n: u32| -> u32 {
            let v: Vec<u8> = Vec::with_capacity(n as usize);
            std::hint::black_box(&v).capacity() as u32
        })
        .unwrap();
    let config = HarnessConfig { allocation_budget: 1 << 20, ..HarnessConfig::default() };
    let harness = HostCallHarness::new(&linker, "env", "reserve").unwrap().with_config(config);
    let found = inputs(500, 32).find_map(|input| harness.run((), &mut Unstructured::new(&input)).err());
    match found {
        Some(Violation::AllocationOverBudget { func, allocated, budget, args }) => {
            assert_eq!(func, "env::reserve");
            assert!(allocated > budget);
            assert!(matches!(args[..], [Val::I32(n)] if n as u32 as usize > budget));
        }
        other => panic!("expected an allocation over budget, got {other:?}"),
    }
}

/// A careful host function passes: its errors are outcomes, not violations.
#[test]
fn a_careful_host_function_passes() {
    let _serial = serial();
    let engine = Engine::default();
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .func_wrap(
            "env",
            "checksum",
            |mut caller: Caller<'_, u32>, buf: WasmSlice<u8>, out: WasmPtr<u32>| -> wasmguard::Result<u32> {
                let memory = caller.memory().ok_or_else(|| wasmguard::Error::msg("no memory"))?;
                let (mut view, calls) = memory.view_and_data_mut(&mut caller);
                *calls += 1;
                let sum = buf.read_to_vec(&view)?.iter().fold(0u32, |s, &b| s.rotate_left(3) ^ u32::from(b));
                out.write(&mut view, sum)?;
                Ok(sum)
            },
        )
        .unwrap();
    let harness = HostCallHarness::new(&linker, "env", "checksum").unwrap();
    assert_eq!(harness.ty().params().len(), 3);
    let (mut ok, mut err) = (0, 0);
    for input in inputs(300, 96) {
        let report = harness.run(0, &mut Unstructured::new(&input)).expect("no violation");
        assert!(report.allocated.is_some());
        if report.result.is_ok() { ok += 1 } else { err += 1 }
    }
    // The hostile arguments reach both outcomes.
    assert!(ok > 0 && err > 0, "{ok} calls succeeded, {err} failed");
}

#[test]
fn an_unknown_function_is_an_error() {
    let _serial = serial();
    let engine = Engine::default();
    let linker = Linker::<()>::new(&engine);
    let error = HostCallHarness::new(&linker, "env", "missing").unwrap_err();
    assert!(error.to_string().contains("env::missing"), "{error}");
}

struct Host {
    wasi: WasiCtx,
}

/// Every WASI function through the harness: no violation, no panic.
#[test]
fn wasi_functions_pass_the_harness() {
    let _serial = serial();
    let engine = Engine::default();
    let mut linker = Linker::<Host>::new(&engine);
    wasi::add_to_linker(&mut linker, |host: &mut Host| &mut host.wasi).unwrap();
    let harnesses = HostCallHarness::for_each_host_func(&linker).unwrap();
    assert!(harnesses.len() > 40, "{} WASI functions", harnesses.len());
    assert!(harnesses.windows(2).all(|w| w[0].func() < w[1].func()), "ordered by name");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.txt"), b"some contents").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let mut succeeded = Vec::new();
    for harness in &harnesses {
        let mut errno_zero = 0;
        for input in inputs(40, 128) {
            let wasi = WasiCtxBuilder::new()
                .arg("prog")
                .env("KEY", "value")
                .stdin(InputBuffer::new(&b"input"[..]))
                .stdout(OutputBuffer::new())
                .stderr(OutputBuffer::new())
                .preopened_dir(dir.path(), "/")
                .unwrap()
                .max_sleep(std::time::Duration::from_millis(1))
                .build();
            match harness.run(Host { wasi }, &mut Unstructured::new(&input)) {
                Ok(report) => errno_zero += usize::from(matches!(report.result.as_deref(), Ok([Val::I32(0)]))),
                Err(violation) => panic!("{violation}"),
            }
        }
        if errno_zero > 0 {
            succeeded.push(harness.func().to_string());
        }
    }
    // The hostile arguments are not all rejected at the door: many functions get as far
    // as succeeding.
    assert!(succeeded.len() >= 15, "{} functions ever succeeded: {succeeded:?}", succeeded.len());
}
