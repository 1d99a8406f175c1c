//! Two threads, each with its own `Store` and instance, talk through one `SharedMemory`:
//! a producer hands numbers to a consumer one at a time through a one-slot mailbox, and
//! each side sleeps in `memory.atomic.wait32` until the other `memory.atomic.notify`s it.
//! Meanwhile the host watches the same memory through a `SharedMemoryView` (copies only).
//!
//! ```sh
//! cargo run --example shared_memory_threads
//! ```

use std::thread;

use wasmguard::{Engine, Linker, MemoryType, Module, SharedMemory, Store, WasmPtr};

/// The mailbox: the flag at 0 (0 = empty, 1 = full) and the number at 8.
const MAILBOX: &str = r#"
(module
  (import "env" "mem" (memory 1 1 shared))

  ;; Sleeps while the i32 at $addr equals $v (the check and the sleep are one atomic step,
  ;; so a notify between them cannot be lost).
  (func $wait_while (param $addr i32) (param $v i32)
    (block $done
      (loop $again
        (br_if $done (i32.ne (i32.atomic.load (local.get $addr)) (local.get $v)))
        (drop (memory.atomic.wait32 (local.get $addr) (local.get $v) (i64.const -1)))
        (br $again))))

  ;; Sends 0, 1, ..., n - 1.
  (func (export "produce") (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $wait_while (i32.const 0) (i32.const 1))            ;; until the slot is empty
        (i64.atomic.store (i32.const 8) (i64.extend_i32_u (local.get $i)))
        (i32.atomic.store (i32.const 0) (i32.const 1))            ;; full
        (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Receives n numbers and returns their sum.
  (func (export "consume") (param $n i32) (result i64)
    (local $i i32) (local $sum i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $wait_while (i32.const 0) (i32.const 0))            ;; until the slot is full
        (local.set $sum (i64.add (local.get $sum) (i64.atomic.load (i32.const 8))))
        (i32.atomic.store (i32.const 0) (i32.const 0))            ;; empty
        (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))
)
"#;

const COUNT: u32 = 1_000;

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, MAILBOX)?;
    // Shared memories are reserved up to their maximum once, so growth never moves them.
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 1))?;

    // One store and one instance per thread; the memory is the only thing they share.
    let run = |role: &'static str| {
        let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
        thread::spawn(move || -> wasmguard::Result<u64> {
            let mut store = Store::new(&engine, ());
            let mut linker = Linker::new(&engine);
            linker.define(&mut store, "env", "mem", memory)?;
            let instance = linker.instantiate(&mut store, &module)?;
            if role == "produce" {
                instance.get_typed_func::<u32, ()>(&mut store, "produce")?.call(&mut store, COUNT)?;
                Ok(0)
            } else {
                instance.get_typed_func::<u32, u64>(&mut store, "consume")?.call(&mut store, COUNT)
            }
        })
    };
    let consumer = run("consume");
    let producer = run("produce");
    producer.join().expect("the producer thread does not panic")?;
    let sum = consumer.join().expect("the consumer thread does not panic")?;

    let expected = u64::from(COUNT) * u64::from(COUNT - 1) / 2;
    println!("consumer received {COUNT} numbers, sum {sum} (expected {expected})");
    assert_eq!(sum, expected);

    // The host reads the mailbox by copying, atomically: no `&[u8]` into shared memory exists.
    let view = memory.view();
    let last = WasmPtr::<u64>::new(8).read(&view)?;
    let flag = WasmPtr::<u32>::new(0).read(&view)?;
    println!("last number in the mailbox: {last}, flag: {flag} (empty)");
    assert_eq!((last, flag), (u64::from(COUNT - 1), 0));
    Ok(())
}
