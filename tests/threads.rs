//! Wasm threads: instances in different threads, each with its own `Store`, sharing one
//! `SharedMemory` — atomic read-modify-writes that lose no update, `memory.atomic.wait32`
//! and `notify` blocking and waking across threads, growth seen by every instance with the
//! base never moving — and the linking rules of shared memories.

use std::thread;

use wasmguard::{Engine, Extern, Instance, Linker, Memory, MemoryType, Module, SharedMemory, Store, TrapCode};

const GUEST: &str = r#"
(module
  (import "env" "mem" (memory 1 4 shared))
  (func (export "add") (param $n i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (i64.atomic.rmw.add (i32.const 8) (i64.const 3)) drop
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "cas_add") (param $n i32)
    (local $old i32)
    (loop $l
      ;; A compare-and-swap loop on a 16-bit counter at 16.
      (loop $retry
        (local.set $old (i32.atomic.load16_u (i32.const 16)))
        (br_if $retry (i32.ne (local.get $old)
          (i32.atomic.rmw16.cmpxchg_u (i32.const 16) (local.get $old) (i32.add (local.get $old) (i32.const 1))))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "wait") (param $addr i32) (param $expected i32) (param $timeout i64) (result i32)
    (memory.atomic.wait32 (local.get $addr) (local.get $expected) (local.get $timeout)))
  (func (export "notify") (param $addr i32) (param $count i32) (result i32)
    (memory.atomic.notify (local.get $addr) (local.get $count)))
  (func (export "store") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)
"#;

/// Iterations per thread (few under Miri, which runs the interpreter slowly).
const N: u32 = if cfg!(miri) { 20 } else { 20_000 };

fn instantiate(engine: &Engine, module: &Module, memory: &SharedMemory) -> wasmguard::Result<(Store<()>, Instance)> {
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    linker.define(&mut store, "env", "mem", memory.clone())?;
    let instance = linker.instantiate(&mut store, module)?;
    Ok((store, instance))
}

fn setup() -> (Engine, Module, SharedMemory) {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST).expect("the guest compiles");
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 4)).expect("a shared memory");
    (engine, module, memory)
}

#[test]
fn atomic_adds_from_several_threads_lose_no_update() {
    let (engine, module, memory) = setup();
    const THREADS: u32 = 4;
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let (mut store, instance) = instantiate(&engine, &module, &memory).unwrap();
                let add = instance.get_typed_func::<u32, ()>(&mut store, "add").unwrap();
                add.call(&mut store, N).unwrap();
                let cas = instance.get_typed_func::<u32, ()>(&mut store, "cas_add").unwrap();
                cas.call(&mut store, N.min(5_000)).unwrap();
            });
        }
    });
    assert_eq!(memory.atomic_load32(0).unwrap(), THREADS * N);
    assert_eq!(memory.atomic_load64(8).unwrap(), u64::from(THREADS * N) * 3);
    assert_eq!(memory.atomic_load32(16).unwrap() & 0xffff, (THREADS * N.min(5_000)) & 0xffff);
}

#[test]
fn wait_blocks_until_another_thread_notifies() {
    let (engine, module, memory) = setup();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let (mut store, instance) = instantiate(&engine, &module, &memory).unwrap();
            let wait = instance.get_typed_func::<(u32, u32, i64), u32>(&mut store, "wait").unwrap();
            // No timeout: only a notify (or a changed value) ends it.
            wait.call(&mut store, (32, 0, -1)).unwrap()
        });
        let (mut store, instance) = instantiate(&engine, &module, &memory).unwrap();
        // Wait until the waiter is parked in wasm, then wake it from wasm.
        while memory.waiter_count(32) == 0 {
            thread::yield_now();
        }
        let notify = instance.get_typed_func::<(u32, u32), u32>(&mut store, "notify").unwrap();
        assert_eq!(notify.call(&mut store, (32, 1)).unwrap(), 1, "one waiter woken");
        assert_eq!(waiter.join().unwrap(), 0, "woken (\"ok\")");
    });

    let (mut store, instance) = instantiate(&engine, &module, &memory).unwrap();
    let wait = instance.get_typed_func::<(u32, u32, i64), u32>(&mut store, "wait").unwrap();
    assert_eq!(wait.call(&mut store, (32, 7, -1)).unwrap(), 1, "not equal: returns at once");
    assert_eq!(wait.call(&mut store, (32, 0, 1_000_000)).unwrap(), 2, "timed out after 1 ms");
    let err = wait.call(&mut store, (33, 0, 0)).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnalignedAtomic));
    let err = wait.call(&mut store, (4 * 65536, 0, 0)).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
}

#[test]
fn growth_is_seen_by_every_instance_and_never_moves_the_memory() {
    let (engine, module, memory) = setup();
    let base = memory.base_address();
    let (mut a, ia) = instantiate(&engine, &module, &memory).unwrap();
    let (mut b, ib) = instantiate(&engine, &module, &memory).unwrap();
    let store_a = ia.get_typed_func::<(u32, u32), ()>(&mut a, "store").unwrap();
    store_a.call(&mut a, (100, 0xdead)).unwrap();
    let grow = ia.get_typed_func::<u32, i32>(&mut a, "grow").unwrap();
    assert_eq!(grow.call(&mut a, 2).unwrap(), 1);
    let size_b = ib.get_typed_func::<(), u32>(&mut b, "size").unwrap();
    assert_eq!(size_b.call(&mut b, ()).unwrap(), 3);
    // Instance b reads and writes the new pages at once.
    let load_b = ib.get_typed_func::<u32, u32>(&mut b, "load").unwrap();
    assert_eq!(load_b.call(&mut b, 100).unwrap(), 0xdead);
    assert_eq!(load_b.call(&mut b, 3 * 65536 - 4).unwrap(), 0);
    assert_eq!(grow.call(&mut a, 2).unwrap(), -1, "past the maximum of 4 pages");
    assert_eq!(memory.size(), 3);
    assert_eq!(memory.base_address(), base, "growth never relocates a shared memory");
}

#[test]
fn defined_shared_memories_are_exported_as_shared_memories() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 1 2 shared)
             (func (export "put") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    assert!(instance.get_memory(&mut store, "m").is_none(), "a shared memory lends no bytes");
    let shared = instance.get_shared_memory(&mut store, "m").expect("exported");
    instance.get_typed_func::<(u32, u32), ()>(&mut store, "put").unwrap().call(&mut store, (8, 42)).unwrap();
    // Another store, in another thread, imports it.
    thread::scope(|s| {
        s.spawn(|| {
            let importer = Module::new(
                &engine,
                r#"(module (import "a" "m" (memory 1 2 shared))
                     (func (export "get") (param i32) (result i32) (i32.atomic.load (local.get 0))))"#,
            )
            .unwrap();
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &importer, &[Extern::from(shared.clone())]).unwrap();
            let get = instance.get_typed_func::<u32, u32>(&mut store, "get").unwrap();
            assert_eq!(get.call(&mut store, 8).unwrap(), 42);
        });
    });
}

#[test]
fn shared_and_unshared_memories_do_not_link_with_each_other() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let wants_shared = Module::new(&engine, r#"(module (import "e" "m" (memory 1 2 shared)))"#).unwrap();
    let wants_plain = Module::new(&engine, r#"(module (import "e" "m" (memory 1 2)))"#).unwrap();
    let plain = Memory::new(&mut store, MemoryType::new(1, Some(2))).unwrap();
    let shared = SharedMemory::new(&engine, MemoryType::shared(1, 2)).unwrap();
    let err = Instance::new(&mut store, &wants_shared, &[plain.into()]).unwrap_err();
    assert!(err.to_string().contains("sharedness"), "{err}");
    let err = Instance::new(&mut store, &wants_plain, &[shared.clone().into()]).unwrap_err();
    assert!(err.to_string().contains("shared"), "{err}");
    let too_big = SharedMemory::new(&engine, MemoryType::shared(1, 3)).unwrap();
    let err = Instance::new(&mut store, &wants_shared, &[too_big.into()]).unwrap_err();
    assert!(err.to_string().contains("limits"), "{err}");
    Instance::new(&mut store, &wants_shared, &[shared.into()]).unwrap();
    // `Memory::new` refuses a shared type: a `Memory` lends bytes, a shared memory never does.
    assert!(Memory::new(&mut store, MemoryType::shared(1, 2)).is_err());
    // A module cannot declare a shared memory with the threads proposal off.
    let mut config = wasmguard::Config::new();
    config.wasm_threads(false);
    let engine = Engine::new(&config).unwrap();
    assert!(Module::new(&engine, r#"(module (memory 1 2 shared))"#).is_err());
}
