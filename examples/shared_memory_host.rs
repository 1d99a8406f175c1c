//! A shared memory used by host threads: a producer writes typed messages into a ring and
//! publishes them with an atomic counter plus `atomic_notify`; a consumer sleeps in
//! `atomic_wait32` until there is something to read. Nothing borrows the memory: every
//! access copies, atomically.

use wasmguard::{AtomicRmwOp, Engine, GuestType, MemoryType, SharedMemory, WaitResult, WasmPtr};

/// A message as it lies in guest memory (wasm32 C layout: 16 bytes).
#[derive(GuestType, Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Message {
    seq: u32,
    payload: u64,
}

/// Messages published so far (a `u32` the consumer waits on).
const PUBLISHED: u64 = 0;
/// The ring of messages.
const RING: u32 = 64;
const RING_LEN: u32 = 8;
const COUNT: u32 = 5;

fn main() -> wasmguard::Result<()> {
    let memory = SharedMemory::new(&Engine::default(), MemoryType::shared(1, 2))?;
    std::thread::scope(|s| -> wasmguard::Result<()> {
        let consumer = s.spawn(|| -> wasmguard::Result<u64> {
            let view = memory.view();
            let mut sum = 0;
            for seq in 0..COUNT {
                // Sleep while nothing new is published.
                while memory.atomic_load32(PUBLISHED)? == seq {
                    let _: WaitResult = memory.atomic_wait32(PUBLISHED, seq, None)?;
                }
                let slot = WasmPtr::<Message>::new(RING).add(seq % RING_LEN)?;
                let message = slot.read(&view)?;
                assert_eq!(message.seq, seq);
                sum += message.payload;
            }
            Ok(sum)
        });
        let mut view = memory.view();
        for seq in 0..COUNT {
            let slot = WasmPtr::<Message>::new(RING).add(seq % RING_LEN)?;
            slot.write(&mut view, Message { seq, payload: u64::from(seq) * 100 })?;
            memory.atomic_rmw32(AtomicRmwOp::Add, PUBLISHED, 1)?;
            memory.atomic_notify(PUBLISHED, 1)?;
        }
        let sum = consumer.join().expect("consumer thread")?;
        println!("consumer read {COUNT} messages, payload sum {sum}");
        Ok(())
    })?;
    // Growth never moves a shared memory, and other threads see it at once.
    let old = memory.grow(1)?;
    println!("grew from {old} to {} pages", memory.size());
    Ok(())
}
