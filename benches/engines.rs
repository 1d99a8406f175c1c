//! wasmguard against wasmi 2 on the same guest code: `cargo bench -p wasmguard-benches --bench engines`.
//!
//! Each criterion group runs one call in both engines, `wasmguard` and `wasmi` side by side,
//! after checking that both return the same checksum. The guests are the checked-in modules
//! in `benches/wasm/` (rebuilt by `benches/wasm/build.sh`) and a few wat snippets below.
//!
//! | group          | one iteration                                                          |
//! | -------------- | ---------------------------------------------------------------------- |
//! | `coremark`     | `run(COREMARK_ITERS)` of `coremark.wasm`; throughput = CoreMark iter/s  |
//! | `fib` … `json` | `bench_<name>(n)` of `kernels.wasm`, `n` in [`KERNELS`]                 |
//! | `c_*`          | `c_<name>(n)` of `c_kernels.wasm` (clang), `n` in [`C_KERNELS`]         |
//! | `host_call`    | a wasm loop of [`HOST_CALLS`] calls to a host function that reads a     |
//! |                | `u32` from guest memory through a pointer argument                      |
//! | `tail_call`    | [`CALLS`] mutual tail calls (`return_call`) of two functions            |
//! | `plain_call`   | a loop of [`CALLS`] plain calls of the same two functions' bodies       |
//! | `compile`      | `Module::new` of `kernels.wasm` (wasmi also with eager translation)     |
//! | `module_new`   | `Module::new` of the start-up guests [`STARTUP_MODULES`] (`regex.wasm`, |
//! |                | `json.wasm`, `c_program.wasm`), each engine lazy (default) and eager    |
//! | `instantiate`  | a new `Store` and `Linker::instantiate` of the compiled `kernels.wasm`  |
//! | `memory_grow`  | 1024 × `memory.grow 1` on a fresh 2-page memory (setup not timed)       |
//! | `memory_fill`  | 16 × `memory.fill` of 1 MiB                                             |
//! | `memory_copy`  | 16 × `memory.copy` of 1 MiB                                             |
//! | `exceptions`   | wasmguard only (wasmi has no exception handling), [`THROWS`] each:      |
//! |                | `throw_catch`: a wasm loop calling a function that throws, caught by a  |
//! |                | `try_table` in the loop; `plain_call`: the same loop, the function      |
//! |                | returning instead; `call_only`: that loop without the `try_table`;      |
//! |                | `trap_and_call`: host calls of an export that traps;                    |
//! |                | `throw_uncaught`: host calls of an export whose exception escapes       |
//!
//! Both engines run with their default configuration; wasmi's default translates each
//! function lazily on its first call, which the checksum call before measuring triggers.
//! Samples are kept short (10 samples, about 3 s a function) so the suite runs in a few
//! minutes; treat differences under ~10% as noise on a shared machine, and use
//! `benches/callgrind.sh` (instruction counts) to judge small changes.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const COREMARK_WASM: &[u8] = include_bytes!("wasm/coremark.wasm");
const KERNELS_WASM: &[u8] = include_bytes!("wasm/kernels.wasm");
const C_KERNELS_WASM: &[u8] = include_bytes!("wasm/c_kernels.wasm");

/// Guests of realistic size for the `module_new` group: (name, module, export, argument).
/// Each export `run`s the guest once (`u32 -> u64`), to check that both engines agree.
const STARTUP_MODULES: &[(&str, &[u8], &str, u32)] = &[
    ("regex", include_bytes!("wasm/regex.wasm"), "run", 1),
    ("json", include_bytes!("wasm/json.wasm"), "run", 1),
    ("c_program", include_bytes!("wasm/c_program.wasm"), "p_run", 3),
];

/// CoreMark iterations in one measured call.
const COREMARK_ITERS: u32 = 20;

/// `kernels.wasm` exports (without the `bench_` prefix) and their argument.
const KERNELS: &[(&str, u32)] = &[
    ("fib", 27),
    ("sieve", 1_000_000),
    ("matmul", 100),
    ("nbody", 20_000),
    ("sort", 1_000_000),
    ("sha256", 1 << 20),
    ("miniz", 256 << 10),
    ("json", 2_000),
];

/// `c_kernels.wasm` exports and their argument.
const C_KERNELS: &[(&str, u32)] = &[("c_crc32", 1 << 20), ("c_mandelbrot", 200)];

/// Calls in one measured call of the `tail_call` and `plain_call` guests.
const CALLS: u32 = 1_000_000;

/// `tail(n)`: `n` tail calls alternating between two functions that count down and add;
/// `plain(n)`: a loop making `n` ordinary calls of functions that do the same step and
/// return. Both compute the same sum, so the difference is the cost of a tail call against
/// a call and its return.
const CALLS_WAT: &str = r#"(module
  (func $even (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $odd (i32.sub (local.get $n) (i32.const 1)) (i32.add (local.get $acc) (local.get $n))))))
  (func $odd (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $even (i32.sub (local.get $n) (i32.const 1)) (i32.xor (local.get $acc) (local.get $n))))))
  (func (export "tail") (param $n i32) (result i32) (call $even (local.get $n) (i32.const 0)))
  (func $step_even (param $n i32) (param $acc i32) (result i32) (i32.add (local.get $acc) (local.get $n)))
  (func $step_odd (param $n i32) (param $acc i32) (result i32) (i32.xor (local.get $acc) (local.get $n)))
  (func (export "plain") (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $step_even (local.get $n) (local.get $acc)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $step_odd (local.get $n) (local.get $acc)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
"#;

/// Host calls in one measured call of the `host_call` guest.
const HOST_CALLS: u32 = 100_000;

/// A loop calling `env.read(ptr) -> u32` `n` times on pointers into a 256-byte table of
/// `u32`s, summing the results.
const HOST_CALL_WAT: &str = r#"(module
  (import "env" "read" (func $read (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (loop $l
      (local.set $acc (i64.add (local.get $acc)
        (i64.extend_i32_u (call $read (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfc))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00\05\00\00\00\06\00\00\00\07\00\00\00\08\00\00\00"))"#;

/// Bulk-memory loops: `fill(n)` and `copy(n)` move 1 MiB `n` times; `grow(n)` grows memory
/// by one page `n` times (the memory has no maximum).
const MEMORY_WAT: &str = r#"(module
  (memory (export "memory") 1)
  (func $prepare (memory.grow (i32.const 32)) drop)
  (func (export "fill") (param $n i32) (result i32) (local $i i32)
    (if (i32.lt_u (memory.size) (i32.const 16)) (then (call $prepare)))
    (loop $l
      (memory.fill (i32.const 0) (i32.add (local.get $i) (i32.const 1)) (i32.const 0x100000))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.load8_u (i32.const 0xfffff)))
  (func (export "copy") (param $n i32) (result i32) (local $i i32)
    (if (i32.lt_u (memory.size) (i32.const 32)) (then (call $prepare)))
    (i32.store8 (i32.const 0xfffff) (i32.const 7))
    (loop $l
      (memory.copy (i32.const 0x100000) (i32.const 0) (i32.const 0x100000))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.load8_u (i32.const 0x1fffff)))
  (func (export "grow") (param $n i32) (result i32)
    (loop $l
      (drop (memory.grow (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (memory.size)))"#;

/// Throws (or calls, or traps) in one measured iteration of the `exceptions` group.
const THROWS: u32 = 100_000;

/// `throw_catch(n)`: a loop of `n` calls of `$throw`, which throws `$e` with its argument,
/// each caught by a `try_table` around the call; `plain_call(n)`: the same loop calling
/// `$ret`, which returns its argument (the `try_table` stays, catching nothing). Both sum
/// the same values, as does `call_only(n)`, the loop of calls without the `try_table`.
/// `trap` traps (`unreachable`); `throw` throws `$e` out of the call.
const EXCEPTIONS_WAT: &str = r#"(module
  (tag $e (param i32))
  (func $throw (param $x i32) (result i32) (throw $e (local.get $x)))
  (func $ret (param $x i32) (result i32) (local.get $x))
  (func (export "throw_catch") (param $n i32) (result i32) (local $acc i32)
    (loop $next
      (local.set $acc (i32.add (local.get $acc)
        (block $caught (result i32)
          (try_table (result i32) (catch $e $caught) (call $throw (local.get $n))))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next (local.get $n)))
    (local.get $acc))
  (func (export "plain_call") (param $n i32) (result i32) (local $acc i32)
    (loop $next
      (local.set $acc (i32.add (local.get $acc)
        (block $caught (result i32)
          (try_table (result i32) (catch $e $caught) (call $ret (local.get $n))))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next (local.get $n)))
    (local.get $acc))
  (func (export "call_only") (param $n i32) (result i32) (local $acc i32)
    (loop $next
      (local.set $acc (i32.add (local.get $acc) (call $ret (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next (local.get $n)))
    (local.get $acc))
  (func (export "trap") unreachable)
  (func (export "throw") (throw $e (i32.const 7))))"#;

/// One guest instantiated in both engines, with no imports.
struct Pair {
    wg_store: wasmguard::Store<()>,
    wg: wasmguard::Instance,
    wi_store: wasmi::Store<()>,
    wi: wasmi::Instance,
}

impl Pair {
    fn new(wasm: &[u8]) -> Pair {
        let engine = wasmguard::Engine::default();
        let module = wasmguard::Module::new(&engine, wasm).expect("wasmguard: compile");
        let mut wg_store = wasmguard::Store::new(&engine, ());
        let wg = wasmguard::Linker::new(&engine).instantiate(&mut wg_store, &module).expect("wasmguard: instantiate");

        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, wasm).expect("wasmi: compile");
        let mut wi_store = wasmi::Store::new(&engine, ());
        let wi = wasmi::Linker::new(&engine).instantiate_and_start(&mut wi_store, &module).expect("wasmi: instantiate");
        Pair { wg_store, wg, wi_store, wi }
    }
}

/// A group with short samples, one call per iteration ("flat" sampling: every sample runs
/// the same number of iterations, so a slow kernel costs ~10 calls, not 55).
fn short_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    group
}

/// Benchmarks `export(arg)` of a guest in both engines, after checking both return the
/// same checksum. `R` is the export's result type (`u32` or `u64`).
fn compare<R>(c: &mut Criterion, group_name: &str, wasm: &[u8], export: &str, arg: u32, throughput: Option<Throughput>)
where
    R: wasmguard::WasmTyList + wasmi::WasmResults + PartialEq + std::fmt::Debug,
{
    let Pair { mut wg_store, wg, mut wi_store, wi } = Pair::new(wasm);
    let wg_f = wg.get_typed_func::<u32, R>(&mut wg_store, export).expect("wasmguard: export");
    let wi_f = wi.get_typed_func::<u32, R>(&wi_store, export).expect("wasmi: export");
    let wg_r = wg_f.call(&mut wg_store, arg).expect("wasmguard: call");
    let wi_r = wi_f.call(&mut wi_store, arg).expect("wasmi: call");
    assert_eq!(wg_r, wi_r, "{export}({arg}): the engines disagree");

    let mut group = short_group(c, group_name);
    if let Some(t) = throughput {
        group.throughput(t);
    }
    group.bench_function("wasmguard", |b| b.iter(|| wg_f.call(&mut wg_store, black_box(arg)).expect("call")));
    group.bench_function("wasmi", |b| b.iter(|| wi_f.call(&mut wi_store, black_box(arg)).expect("call")));
    group.finish();
}

fn coremark(c: &mut Criterion) {
    // The checksum also carries the number of CRCs that differ from CoreMark's reference
    // values (see `benches/wasm/coremark/src/lib.rs`): zero for a correct run.
    let Pair { mut wg_store, wg, .. } = Pair::new(COREMARK_WASM);
    let run = wg.get_typed_func::<u32, u32>(&mut wg_store, "run").expect("run");
    assert_eq!(run.call(&mut wg_store, 1).expect("run") >> 16, 0, "CoreMark validation failed");
    compare::<u32>(
        c,
        "coremark",
        COREMARK_WASM,
        "run",
        COREMARK_ITERS,
        Some(Throughput::Elements(u64::from(COREMARK_ITERS))),
    );
}

fn kernels(c: &mut Criterion) {
    for &(name, n) in KERNELS {
        compare::<u64>(c, name, KERNELS_WASM, &format!("bench_{name}"), n, None);
    }
    for &(name, n) in C_KERNELS {
        compare::<u64>(c, name, C_KERNELS_WASM, name, n, None);
    }
}

fn calls(c: &mut Criterion) {
    let wasm = wat::parse_str(CALLS_WAT).expect("calls wat");
    let Pair { mut wg_store, wg, .. } = Pair::new(&wasm);
    let tail = wg.get_typed_func::<u32, u32>(&mut wg_store, "tail").expect("tail");
    let plain = wg.get_typed_func::<u32, u32>(&mut wg_store, "plain").expect("plain");
    assert_eq!(tail.call(&mut wg_store, 1001).expect("tail"), plain.call(&mut wg_store, 1001).expect("plain"));
    let throughput = Some(Throughput::Elements(u64::from(CALLS)));
    compare::<u32>(c, "tail_call", &wasm, "tail", CALLS, throughput.clone());
    compare::<u32>(c, "plain_call", &wasm, "plain", CALLS, throughput);
}

fn host_call(c: &mut Criterion) {
    use wasmguard::{Caller, WasmPtr};
    let wasm = wat::parse_str(HOST_CALL_WAT).expect("wat");

    let engine = wasmguard::Engine::default();
    let module = wasmguard::Module::new(&engine, &wasm).expect("wasmguard: compile");
    let mut linker = wasmguard::Linker::new(&engine);
    linker
        .func_wrap("env", "read", |caller: Caller<'_, ()>, p: WasmPtr<u32>| -> wasmguard::Result<u32> {
            let memory = caller.memory().ok_or_else(|| wasmguard::Error::msg("no memory"))?;
            Ok(p.read(&memory.view(&caller))?)
        })
        .expect("wasmguard: define");
    let mut wg_store = wasmguard::Store::new(&engine, ());
    let wg = linker.instantiate(&mut wg_store, &module).expect("wasmguard: instantiate");
    let wg_f = wg.get_typed_func::<u32, u64>(&mut wg_store, "run").expect("wasmguard: export");

    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &wasm).expect("wasmi: compile");
    let mut linker = wasmi::Linker::new(&engine);
    linker
        .func_wrap("env", "read", |caller: wasmi::Caller<'_, ()>, p: u32| -> Result<u32, wasmi::Error> {
            let memory = caller
                .get_export("memory")
                .and_then(wasmi::Extern::into_memory)
                .ok_or_else(|| wasmi::Error::new("no memory"))?;
            let mut buf = [0; 4];
            memory.read(&caller, p as usize, &mut buf)?;
            Ok(u32::from_le_bytes(buf))
        })
        .expect("wasmi: define");
    let mut wi_store = wasmi::Store::new(&engine, ());
    let wi = linker.instantiate_and_start(&mut wi_store, &module).expect("wasmi: instantiate");
    let wi_f = wi.get_typed_func::<u32, u64>(&wi_store, "run").expect("wasmi: export");

    let (wg_r, wi_r) =
        (wg_f.call(&mut wg_store, HOST_CALLS).expect("call"), wi_f.call(&mut wi_store, HOST_CALLS).expect("call"));
    assert_eq!(wg_r, wi_r, "host_call: the engines disagree");
    let expected: u64 = (0..HOST_CALLS).map(|i| u64::from(i % 64 + 1) * u64::from(i % 64 < 8)).sum();
    assert_eq!(wg_r, expected, "host_call: wrong sum");

    let mut group = short_group(c, "host_call");
    group.throughput(Throughput::Elements(u64::from(HOST_CALLS)));
    group.bench_function("wasmguard", |b| b.iter(|| wg_f.call(&mut wg_store, black_box(HOST_CALLS)).expect("call")));
    group.bench_function("wasmi", |b| b.iter(|| wi_f.call(&mut wi_store, black_box(HOST_CALLS)).expect("call")));
    group.finish();
}

fn compile_and_instantiate(c: &mut Criterion) {
    let mut group = short_group(c, "compile");
    group.throughput(Throughput::Bytes(KERNELS_WASM.len() as u64));
    let wg_engine = wasmguard::Engine::default();
    let wi_engine = wasmi::Engine::default();
    let mut eager = wasmi::Config::default();
    eager.compilation_mode(wasmi::CompilationMode::Eager);
    let wi_eager = wasmi::Engine::new(&eager);
    group.bench_function("wasmguard", |b| {
        b.iter(|| wasmguard::Module::new(&wg_engine, black_box(KERNELS_WASM)).expect("compile"))
    });
    group.bench_function("wasmi", |b| {
        b.iter(|| wasmi::Module::new(&wi_engine, black_box(KERNELS_WASM)).expect("compile"))
    });
    group.bench_function("wasmi (eager)", |b| {
        b.iter(|| wasmi::Module::new(&wi_eager, black_box(KERNELS_WASM)).expect("compile"))
    });
    group.finish();

    let mut group = short_group(c, "instantiate");
    let module = wasmguard::Module::new(&wg_engine, KERNELS_WASM).expect("compile");
    let linker = wasmguard::Linker::new(&wg_engine);
    group.bench_function("wasmguard", |b| {
        b.iter(|| {
            let mut store = wasmguard::Store::new(&wg_engine, ());
            let instance = linker.instantiate(&mut store, &module).expect("instantiate");
            (store, instance)
        })
    });
    let module = wasmi::Module::new(&wi_engine, KERNELS_WASM).expect("compile");
    let linker = wasmi::Linker::new(&wi_engine);
    group.bench_function("wasmi", |b| {
        b.iter(|| {
            let mut store = wasmi::Store::new(&wi_engine, ());
            let instance = linker.instantiate_and_start(&mut store, &module).expect("instantiate");
            (store, instance)
        })
    });
    group.finish();
}

/// `Module::new` of the larger guests in [`STARTUP_MODULES`], lazy (each engine's default:
/// validate everything, translate a function on its first call) and eager.
fn module_new(c: &mut Criterion) {
    let wg_lazy = wasmguard::Engine::default();
    let mut config = wasmguard::Config::new();
    config.lazy_translation(false);
    let wg_eager = wasmguard::Engine::new(&config).expect("wasmguard: engine");
    // Both engines validate on one thread; wasmguard spreads a large module over the cores
    // by default, and this is it without that.
    let mut config = wasmguard::Config::new();
    config.parallel_compilation(false);
    let wg_one_thread = wasmguard::Engine::new(&config).expect("wasmguard: engine");
    let wi_lazy = wasmi::Engine::default();
    let mut config = wasmi::Config::default();
    config.compilation_mode(wasmi::CompilationMode::Eager);
    let wi_eager = wasmi::Engine::new(&config);

    for &(name, wasm, export, arg) in STARTUP_MODULES {
        // Both engines, lazily and eagerly compiled, must return the same checksum.
        let mut results = Vec::new();
        for engine in [&wg_lazy, &wg_eager, &wg_one_thread] {
            let module = wasmguard::Module::new(engine, wasm).expect("wasmguard: compile");
            let mut store = wasmguard::Store::new(engine, ());
            let instance =
                wasmguard::Linker::new(engine).instantiate(&mut store, &module).expect("wasmguard: instantiate");
            let f = instance.get_typed_func::<u32, u64>(&mut store, export).expect("wasmguard: export");
            results.push(f.call(&mut store, arg).expect("wasmguard: call"));
        }
        for engine in [&wi_lazy, &wi_eager] {
            let module = wasmi::Module::new(engine, wasm).expect("wasmi: compile");
            let mut store = wasmi::Store::new(engine, ());
            let instance =
                wasmi::Linker::new(engine).instantiate_and_start(&mut store, &module).expect("wasmi: instantiate");
            let f = instance.get_typed_func::<u32, u64>(&store, export).expect("wasmi: export");
            results.push(f.call(&mut store, arg).expect("wasmi: call"));
        }
        assert!(results.iter().all(|&r| r == results[0]), "{name}: the engines disagree: {results:?}");

        let mut group = short_group(c, "module_new");
        group.throughput(Throughput::Bytes(wasm.len() as u64));
        // ~2 s a function (15 in all) keeps the group near two minutes with the warm-ups.
        group.measurement_time(Duration::from_secs(2));
        group.bench_function(format!("{name}/wasmguard"), |b| {
            b.iter(|| wasmguard::Module::new(&wg_lazy, black_box(wasm)).expect("compile"))
        });
        group.bench_function(format!("{name}/wasmguard (one thread)"), |b| {
            b.iter(|| wasmguard::Module::new(&wg_one_thread, black_box(wasm)).expect("compile"))
        });
        group.bench_function(format!("{name}/wasmguard (eager)"), |b| {
            b.iter(|| wasmguard::Module::new(&wg_eager, black_box(wasm)).expect("compile"))
        });
        group.bench_function(format!("{name}/wasmi"), |b| {
            b.iter(|| wasmi::Module::new(&wi_lazy, black_box(wasm)).expect("compile"))
        });
        group.bench_function(format!("{name}/wasmi (eager)"), |b| {
            b.iter(|| wasmi::Module::new(&wi_eager, black_box(wasm)).expect("compile"))
        });
        group.finish();
    }
}

fn memory(c: &mut Criterion) {
    const MIB: u64 = 1 << 20;
    let wasm = wat::parse_str(MEMORY_WAT).expect("wat");
    compare::<u32>(c, "memory_fill", &wasm, "fill", 16, Some(Throughput::Bytes(16 * MIB)));
    compare::<u32>(c, "memory_copy", &wasm, "copy", 16, Some(Throughput::Bytes(16 * MIB)));

    // Growing needs a fresh memory each time: instantiate in the (untimed) setup.
    const PAGES: u32 = 1024;
    let mut group = short_group(c, "memory_grow");
    group.throughput(Throughput::Elements(u64::from(PAGES)));
    let mut check = Pair::new(&wasm);
    let wg_grow = check.wg.get_typed_func::<u32, u32>(&mut check.wg_store, "grow").expect("grow");
    let wi_grow = check.wi.get_typed_func::<u32, u32>(&check.wi_store, "grow").expect("grow");
    assert_eq!(wg_grow.call(&mut check.wg_store, 1).expect("grow"), 2);
    assert_eq!(wi_grow.call(&mut check.wi_store, 1).expect("grow"), 2);
    assert_eq!(wg_grow.call(&mut check.wg_store, PAGES).expect("grow"), PAGES + 2);
    assert_eq!(wi_grow.call(&mut check.wi_store, PAGES).expect("grow"), PAGES + 2);
    group.bench_function("wasmguard", |b| {
        b.iter_batched_ref(
            || {
                let Pair { mut wg_store, wg, .. } = Pair::new(&wasm);
                let f = wg.get_typed_func::<u32, u32>(&mut wg_store, "grow").expect("grow");
                // As for wasmi below: one call before the measurement.
                f.call(&mut wg_store, 1).expect("grow");
                (wg_store, f)
            },
            |(store, f)| f.call(store, PAGES).expect("grow"),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("wasmi", |b| {
        b.iter_batched_ref(
            || {
                let Pair { mut wi_store, wi, .. } = Pair::new(&wasm);
                let f = wi.get_typed_func::<u32, u32>(&wi_store, "grow").expect("grow");
                // Translate `grow` (lazily compiled) outside the measurement.
                f.call(&mut wi_store, 1).expect("grow");
                (wi_store, f)
            },
            |(store, f)| f.call(store, PAGES).expect("grow"),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn exceptions(c: &mut Criterion) {
    let wasm = wat::parse_str(EXCEPTIONS_WAT).expect("exceptions wat");
    let engine = wasmguard::Engine::default();
    let module = wasmguard::Module::new(&engine, &wasm).expect("compile");
    let linker = wasmguard::Linker::new(&engine);
    let instantiate = || {
        let mut store = wasmguard::Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &module).expect("instantiate");
        (store, instance)
    };
    let (mut store, instance) = instantiate();
    let throw_catch = instance.get_typed_func::<u32, u32>(&mut store, "throw_catch").expect("throw_catch");
    let plain_call = instance.get_typed_func::<u32, u32>(&mut store, "plain_call").expect("plain_call");
    let call_only = instance.get_typed_func::<u32, u32>(&mut store, "call_only").expect("call_only");
    let trap = instance.get_typed_func::<(), ()>(&mut store, "trap").expect("trap");
    let expected = (1..=THROWS).fold(0u32, u32::wrapping_add);
    assert_eq!(throw_catch.call(&mut store, THROWS).expect("throw_catch"), expected);
    assert_eq!(plain_call.call(&mut store, THROWS).expect("plain_call"), expected);
    assert_eq!(call_only.call(&mut store, THROWS).expect("call_only"), expected);
    let err = trap.call(&mut store, ()).expect_err("trap");
    assert_eq!(err.trap_code(), Some(wasmguard::TrapCode::UnreachableCodeReached));

    let mut group = short_group(c, "exceptions");
    group.throughput(Throughput::Elements(u64::from(THROWS)));
    group.bench_function("throw_catch", |b| b.iter(|| throw_catch.call(&mut store, black_box(THROWS)).expect("call")));
    group.bench_function("plain_call", |b| b.iter(|| plain_call.call(&mut store, black_box(THROWS)).expect("call")));
    group.bench_function("call_only", |b| b.iter(|| call_only.call(&mut store, black_box(THROWS)).expect("call")));
    group.bench_function("trap_and_call", |b| {
        b.iter(|| {
            for _ in 0..THROWS {
                black_box(trap.call(&mut store, ()).expect_err("trap"));
            }
        })
    });
    // An exception that escapes to the host stays in its store (which has no collector),
    // so each iteration gets a fresh instance (made and dropped outside the measurement).
    group.bench_function("throw_uncaught", |b| {
        b.iter_batched_ref(
            || {
                let (mut store, instance) = instantiate();
                let f = instance.get_typed_func::<(), ()>(&mut store, "throw").expect("throw");
                assert!(f.call(&mut store, ()).expect_err("throw").exception().is_some());
                (store, f)
            },
            |(store, f)| {
                for _ in 0..THROWS {
                    black_box(f.call(&mut *store, ()).expect_err("throw"));
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = engines;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = coremark, kernels, calls, host_call, compile_and_instantiate, module_new, memory, exceptions
}
criterion_main!(engines);
