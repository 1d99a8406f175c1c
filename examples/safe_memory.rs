//! The classic `data_unchecked` examples, rewritten with the safe API:
//! `cargo run --example safe_memory`.
//!
//! Those examples showed how to use `unsafe { memory.data_unchecked() }` *carefully* — short-lived
//! slices, no growth and no wasm call while one lives, no aliasing mutable slices — and then
//! a list of incorrect uses that compile and are undefined behaviour. Here every one of its
//! correct examples is done with views, `WasmPtr` and `Memory::read` / `write`, with no
//! `unsafe`; and every one of its incorrect examples is rejected: by the compiler where a
//! borrow of the store is involved, at run time with an `Err` for overlapping guards and
//! bad pointers.

use wasmguard::{AccessError, Engine, Instance, Module, Store, WasmPtr, WasmSlice};

const WAT: &str = r#"(module
  (memory (export "memory") 2 4)
  ;; Grows the memory by a page and stores 0x2a at the first byte of the new page.
  (func (export "grow_and_store") (result i32) (local $old i32)
    (local.set $old (memory.grow (i32.const 1)))
    (i32.store8 (i32.mul (local.get $old) (i32.const 65536)) (i32.const 0x2a))
    (local.get $old)))"#;

/// Stands in for host code that reads guest bytes and does nothing else with the memory.
fn host_function_that_doesnt_touch_memory(data: &[u8]) -> usize {
    data.iter().filter(|&&b| b != 0).count()
}

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance.get_memory(&mut store, "memory").expect("exported memory");

    // Classic: `mem.write(offset, b"hello")?; mem.read(offset, &mut buffer)?;` (already safe).
    let offset = 5;
    memory.write(&mut store, offset, b"hello")?;
    let mut buffer = [0u8; 5];
    memory.read(&store, offset, &mut buffer)?;
    assert_eq!(b"hello", &buffer);
    println!("read back: {}", String::from_utf8_lossy(&buffer));

    // Classic: `let byte = unsafe { mem.data_unchecked()[0x123] };`
    // A `WasmPtr` read is bounds-checked and borrows nothing past the statement.
    let byte = WasmPtr::<u8>::new(0x123).read(&memory.view(&store))?;
    assert_eq!(byte, 0);

    // Classic: `unsafe { mem.data_unchecked_mut()[0x123] = 3; }`
    WasmPtr::<u8>::new(0x123).write(&mut memory.view_mut(&mut store), 3)?;
    assert_eq!(WasmPtr::<u8>::new(0x123).read(&memory.view(&store))?, 3);
    println!("byte at 0x123: 3");

    // Classic: a short-lived borrow to read a string,
    // `let bytes = &mem.data_unchecked()[string_base..][..string_len]; from_utf8(bytes)`.
    // `read_utf8` borrows the bytes (no copy) for as long as the view, checks bounds and
    // UTF-8, and the borrow checker keeps the store from changing meanwhile.
    let (string_base, string_len) = (0xdead, 13);
    memory.write(&mut store, string_base, b"guest string!")?;
    let view = memory.view(&store);
    let string = WasmPtr::<u8>::new(string_base as u32).read_utf8(&view, string_len)?.to_string();
    assert_eq!(string, "guest string!");
    println!("string read: {string}");

    // Classic: long-lived borrows handed to host code, shared and mutable:
    // `let data = &mem.data_unchecked()[data_base..][..data_len];` and the `_mut` twin.
    // Any number of shared borrows from one `MemoryView` may live at once...
    let (data_base, data_len) = (0xfeed_u64, 0xface_u64);
    let data = view.bytes(data_base, data_len)?;
    let string_again = view.bytes(string_base as u64, u64::from(string_len))?;
    assert_eq!(host_function_that_doesnt_touch_memory(data), 0);
    assert_eq!(string_again, b"guest string!");
    // ...and a mutable one is borrowed from a `MemoryViewMut`, which needs the store
    // exclusively: `data` and `view` must be dead by now (the compiler checks).
    let mut view_mut = memory.view_mut(&mut store);
    let data_mut = view_mut.bytes_mut(data_base, data_len)?;
    data_mut[..4].copy_from_slice(b"host");
    assert_eq!(host_function_that_doesnt_touch_memory(data_mut), 4);

    // Several regions at once through one `MemoryViewMut`: guards, checked for overlap.
    // Read an input region while filling an output region:
    let view_mut = memory.view_mut(&mut store);
    let input = view_mut.borrow(WasmSlice::new(WasmPtr::<u8>::new(string_base as u32), 5))?;
    let mut output = view_mut.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0x300), 5))?;
    output.copy_from_slice(&input);
    output.make_ascii_uppercase();
    drop((input, output));
    assert_eq!(memory.view(&store).bytes(0x300, 5)?, b"GUEST");
    println!("guards: GUEST");

    // ---------------------------------------------------------------------------------
    // The classic incorrect uses, and how each is rejected.
    // ---------------------------------------------------------------------------------

    // 1. "Any borrow can be invalidated at any time via `Memory::grow`":
    //
    //        let pointer: &u8 = &memory.view(&store).bytes(0x100, 1)?[0];
    //        memory.grow(&mut store, 1)?;
    //        println!("{}", *pointer);
    //
    //    does not compile: error[E0502]: cannot borrow `store` as mutable because it is
    //    also borrowed as immutable. The same holds for slices and `&str`s, and for a wasm
    //    call (which may grow the memory): `func.call(&mut store, ..)` needs the store
    //    exclusively too. Growing *between* borrows is fine:
    let old_pages = instance.get_typed_func::<(), i32>(&mut store, "grow_and_store")?.call(&mut store, ())?;
    assert_eq!(old_pages, 2);
    let fresh = memory.view(&store);
    assert_eq!(fresh.len(), 3 * 65536);
    assert_eq!(WasmPtr::<u8>::new(2 * 65536).read(&fresh)?, 0x2a);
    println!("grown by wasm to {} pages; new page reads 0x2a", memory.size(&store));

    // 2. "Literal calls to `Memory::grow` are not sufficient to audit for": a helper that
    //    may touch the memory must take the store, `some_other_function(&mut store)`, so
    //    calling it while `fresh` lives is the same compile error as above. No audit needed.

    // 3. Aliasing a shared and a mutable reference:
    //
    //        let ref1: &u8 = &memory.data(&store)[0x100];
    //        let ref2: &mut u8 = &mut memory.data_mut(&mut store)[0x100];
    //        *ref2 = *ref1;
    //
    //    does not compile (E0502 again). Through guards on one `MemoryViewMut`, where the
    //    compiler cannot see the regions, the overlap is an `Err` at run time:
    let view_mut = memory.view_mut(&mut store);
    let shared = view_mut.borrow(WasmSlice::new(WasmPtr::<u8>::new(0x100), 1))?;
    let refused = view_mut.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0x100), 1));
    assert!(matches!(refused, Err(AccessError::BorrowConflict { address: 0x100, len: 1 })));
    println!("aliasing &u8 / &mut u8: {:?}", refused.map(|_| ()));
    drop(shared);

    // 4. Overlapping mutable slices, `[0x100..][..3]` and `[0x102..][..4]`:
    let slice1 = view_mut.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0x100), 3))?;
    let slice2 = view_mut.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0x102), 4));
    assert_eq!(slice2.as_ref().err(), Some(&AccessError::BorrowConflict { address: 0x102, len: 4 }));
    println!("overlapping mutable slices: {:?}", slice2.map(|_| ()));
    // Once the first guard is dropped the region is free again.
    drop(slice1);
    assert!(view_mut.borrow_mut(WasmSlice::new(WasmPtr::<u8>::new(0x102), 4)).is_ok());

    // 5. And the bounds check the classic API asked the caller to get right ("load from the
    //    correct base pointer and perform the bounds check correctly"): a guest pointer
    //    is only a number, and a bad one is an `Err`, never a read outside the memory.
    let view = memory.view(&store);
    let hostile = WasmPtr::<u32>::new(0xffff_fffe).read(&view);
    assert_eq!(hostile, Err(AccessError::OutOfBounds { address: 0xffff_fffe, len: 4, memory_size: 3 * 65536 }));
    println!("out-of-bounds pointer: {hostile:?}");
    let too_long = WasmPtr::<u8>::new(string_base as u32).read_utf8(&view, u32::MAX);
    assert!(matches!(too_long, Err(AccessError::OutOfBounds { .. })));
    Ok(())
}
