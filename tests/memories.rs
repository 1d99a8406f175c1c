//! Integration tests of the memory proposals through the public API: several memories per
//! instance (multi-memory) and 64-bit memories (memory64), with typed host access to both.

use wasmguard::access::{AccessError, Memory64, WasmPtr, WasmSlice};
use wasmguard::{
    Caller, Engine, Error, Extern, Instance, Linker, Memory, MemoryType, Module, Store, StoreLimits, TrapCode, ValType,
};

type Result<T = ()> = wasmguard::Result<T>;

/// Compiles `wat` and instantiates it with `imports` in a fresh store.
fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("module instantiates");
    (store, instance)
}

fn trap_code(result: Result<impl std::fmt::Debug>) -> TrapCode {
    let err = result.expect_err("expected a trap");
    err.trap_code().unwrap_or_else(|| panic!("expected a trap, got {err}"))
}

// ---- multi-memory ----

const TWO_MEMORIES: &str = r#"(module
  (import "env" "sum1" (func $sum1 (param i32 i32) (result i32)))
  (memory $a (export "a") 1)
  (memory $b (export "b") 1 3)
  (data (memory $b) (i32.const 16) "\01\02\03\04")
  (data $passive "wxyz")
  (func (export "load_b") (param i32) (result i32) (i32.load $b offset=16 (local.get 0)))
  (func (export "store_b") (param i32 i32) (i32.store $b offset=4 (local.get 0) (local.get 1)))
  (func (export "load8_a") (param i32) (result i32) (i32.load8_u $a (local.get 0)))
  (func (export "copy_b_to_a") (param i32 i32 i32) (memory.copy $a $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill_b") (param i32 i32 i32) (memory.fill $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_b") (param i32) (memory.init $b $passive (local.get 0) (i32.const 0) (i32.const 4)))
  (func (export "size_b") (result i32) (memory.size $b))
  (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
  (func (export "v128_b") (param i32) (result i64)
    (v128.store $b (i32.const 32) (v128.load $b offset=16 (local.get 0)))
    (i64x2.extract_lane 0 (v128.load64_zero $b (i32.const 32))))
  (func (export "host_sum1") (result i32) (call $sum1 (i32.const 16) (i32.const 4))))"#;

/// A host function reading the caller's memory 1 (not exported under that index) through
/// `Caller::memory_at`.
fn sum1(caller: Caller<'_, ()>, ptr: WasmPtr<u8>, len: u32) -> Result<u32> {
    let memory = caller.memory_at(1).expect("the caller has a memory 1");
    let bytes = WasmSlice::new(ptr, len).read_to_vec(&memory.view(&caller))?;
    Ok(bytes.iter().map(|&b| u32::from(b)).sum())
}

fn two_memories() -> Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let module = Module::new(&engine, TWO_MEMORIES)?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "sum1", sum1)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance))
}

#[test]
fn host_function_reads_memory_1_through_caller() -> Result {
    let (mut store, instance) = two_memories()?;
    let f = instance.get_typed_func::<(), u32>(&mut store, "host_sum1")?;
    assert_eq!(f.call(&mut store, ())?, 1 + 2 + 3 + 4);
    Ok(())
}

#[test]
fn loads_stores_and_bulk_ops_on_memory_1() -> Result {
    let (mut store, instance) = two_memories()?;
    let a = instance.get_memory(&mut store, "a").unwrap();
    let b = instance.get_memory(&mut store, "b").unwrap();
    assert_eq!(&b.data(&store)[16..20], &[1, 2, 3, 4], "the data segment went to memory 1");
    assert!(a.data(&store).iter().all(|&x| x == 0), "memory 0 untouched");

    let load_b = instance.get_typed_func::<i32, i32>(&mut store, "load_b")?;
    assert_eq!(load_b.call(&mut store, 0)?, 0x0403_0201);
    let store_b = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store_b")?;
    store_b.call(&mut store, (100, 0x1122_3344))?;
    assert_eq!(&b.data(&store)[104..108], &0x1122_3344u32.to_le_bytes());
    assert_eq!(trap_code(load_b.call(&mut store, 65_536 - 19)), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(store_b.call(&mut store, (-1, 0))), TrapCode::MemoryOutOfBounds);

    let copy = instance.get_typed_func::<(i32, i32, i32), ()>(&mut store, "copy_b_to_a")?;
    copy.call(&mut store, (1000, 16, 4))?;
    assert_eq!(&a.data(&store)[1000..1004], &[1, 2, 3, 4]);
    let load8_a = instance.get_typed_func::<i32, i32>(&mut store, "load8_a")?;
    assert_eq!(load8_a.call(&mut store, 1003)?, 4);
    assert_eq!(trap_code(copy.call(&mut store, (65_535, 0, 2))), TrapCode::MemoryOutOfBounds);

    let fill = instance.get_typed_func::<(i32, i32, i32), ()>(&mut store, "fill_b")?;
    fill.call(&mut store, (200, 0xAB, 3))?;
    assert_eq!(&b.data(&store)[200..204], &[0xAB, 0xAB, 0xAB, 0]);
    assert_eq!(trap_code(fill.call(&mut store, (1, 0, -1))), TrapCode::MemoryOutOfBounds);
    let init = instance.get_typed_func::<i32, ()>(&mut store, "init_b")?;
    init.call(&mut store, 300)?;
    assert_eq!(&b.data(&store)[300..304], b"wxyz");

    let v128 = instance.get_typed_func::<i32, i64>(&mut store, "v128_b")?;
    assert_eq!(v128.call(&mut store, 0)?, 0x0403_0201);
    assert_eq!(trap_code(v128.call(&mut store, 65_536 - 31)), TrapCode::MemoryOutOfBounds);

    let size = instance.get_typed_func::<(), i32>(&mut store, "size_b")?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow_b")?;
    assert_eq!(size.call(&mut store, ())?, 1);
    assert_eq!(grow.call(&mut store, 2)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1, "past memory 1's maximum");
    assert_eq!(size.call(&mut store, ())?, 3);
    assert_eq!(a.size(&store), 1, "memory 0 did not grow");
    Ok(())
}

#[test]
fn several_imported_memories() -> Result {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (import "env" "m0" (memory 1))
          (import "env" "m1" (memory 1))
          (import "env" "m2" (memory 2))
          (func (export "move") (param i32)
            (memory.copy 2 1 (local.get 0) (i32.const 0) (i32.const 8))
            (memory.copy 0 2 (i32.const 0) (local.get 0) (i32.const 8))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mems: Vec<Memory> =
        [1, 1, 2].iter().map(|&n| Memory::new(&mut store, MemoryType::new(n, None))).collect::<Result<_>>()?;
    mems[1].write(&mut store, 0, b"abcdefgh")?;
    let imports: Vec<Extern> = mems.iter().map(|&m| m.into()).collect();
    let instance = Instance::new(&mut store, &module, &imports)?;
    instance.get_typed_func::<i32, ()>(&mut store, "move")?.call(&mut store, 70_000)?;
    assert_eq!(&mems[2].data(&store)[70_000..70_008], b"abcdefgh");
    assert_eq!(&mems[0].data(&store)[..8], b"abcdefgh");
    Ok(())
}

// ---- memory64 ----

/// Uses an imported 64-bit memory with `i64` addresses.
const MEMORY64: &str = r#"(module
  (import "env" "mem" (memory $m i64 1))
  (memory $small 1)
  (func (export "load") (param i64) (result i64) (i64.load (local.get 0)))
  (func (export "store") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "load_far") (param i64) (result i32) (i32.load offset=0xFFFFFFFFFFFFFFF0 (local.get 0)))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_to_small") (param i32 i64 i32) (memory.copy $small $m (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_from_small") (param i64 i32 i32) (memory.copy $m $small (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load_small") (param i32) (result i32) (i32.load $small (local.get 0)))
  (func (export "v128") (param i64) (result i32) (i32x4.extract_lane 1 (v128.load (local.get 0)))))"#;

fn memory64_instance(limits: Option<StoreLimits>) -> Result<(Store<()>, Instance, Memory)> {
    let engine = Engine::default();
    let module = Module::new(&engine, MEMORY64)?;
    let mut store = Store::new(&engine, ());
    if let Some(limits) = limits {
        store.set_limits(limits);
    }
    let memory = Memory::new(&mut store, MemoryType::new64(1, Some(1 << 40)))?;
    let instance = Instance::new(&mut store, &module, &[memory.into()])?;
    Ok((store, instance, memory))
}

#[test]
fn host_memory64_imported_and_used_with_i64_addresses() -> Result {
    let (mut store, instance, memory) = memory64_instance(None)?;
    assert!(memory.ty(&store).is_64());
    // The host writes through a typed 64-bit pointer; wasm reads with an i64 address.
    WasmPtr::<u64, Memory64>::new64(0x80).write(&mut memory.view_mut(&mut store), 0x0123_4567_89AB_CDEF)?;
    let load = instance.get_typed_func::<i64, i64>(&mut store, "load")?;
    assert_eq!(load.call(&mut store, 0x80)?, 0x0123_4567_89AB_CDEF);
    let store_fn = instance.get_typed_func::<(i64, i64), ()>(&mut store, "store")?;
    store_fn.call(&mut store, (0xFFF8, -2))?;
    assert_eq!(WasmPtr::<i64, Memory64>::new64(0xFFF8).read(&memory.view(&store))?, -2);
    let v128 = instance.get_typed_func::<i64, i32>(&mut store, "v128")?;
    assert_eq!(v128.call(&mut store, 0x7C)?, 0x89AB_CDEF_u32 as i32);

    let size = instance.get_typed_func::<(), i64>(&mut store, "size")?;
    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
    assert_eq!(size.call(&mut store, ())?, 1);
    assert_eq!(grow.call(&mut store, 1)?, 1);
    assert_eq!(size.call(&mut store, ())?, 2);
    assert_eq!(memory.size(&store), 2);

    // memory.copy between the 64-bit memory and a 32-bit one: the length is an i32.
    let to_small = instance.get_typed_func::<(i32, i64, i32), ()>(&mut store, "copy_to_small")?;
    to_small.call(&mut store, (8, 0x80, 8))?;
    let load_small = instance.get_typed_func::<i32, i32>(&mut store, "load_small")?;
    assert_eq!(load_small.call(&mut store, 8)?, 0x89AB_CDEF_u32 as i32);
    let from_small = instance.get_typed_func::<(i64, i32, i32), ()>(&mut store, "copy_from_small")?;
    from_small.call(&mut store, (0x1_0000, 8, 4))?;
    assert_eq!(WasmPtr::<u32, Memory64>::new64(0x1_0000).read(&memory.view(&store))?, 0x89AB_CDEF);
    Ok(())
}

#[test]
fn hostile_64_bit_addresses_trap_cleanly() -> Result {
    let (mut store, instance, _memory) = memory64_instance(None)?;
    let load = instance.get_typed_func::<i64, i64>(&mut store, "load")?;
    for addr in [-1, -8, i64::MAX, 1 << 32, 65_536 - 7, i64::MIN] {
        assert_eq!(trap_code(load.call(&mut store, addr)), TrapCode::MemoryOutOfBounds, "address {addr:#x}");
    }
    let store_fn = instance.get_typed_func::<(i64, i64), ()>(&mut store, "store")?;
    assert_eq!(trap_code(store_fn.call(&mut store, (-4, 0))), TrapCode::MemoryOutOfBounds);
    // addr + offset overflows u64: out of bounds, not wrapped around to a small address.
    let load_far = instance.get_typed_func::<i64, i32>(&mut store, "load_far")?;
    assert_eq!(trap_code(load_far.call(&mut store, 0x20)), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(load_far.call(&mut store, 0x10)), TrapCode::MemoryOutOfBounds);
    let v128 = instance.get_typed_func::<i64, i32>(&mut store, "v128")?;
    assert_eq!(trap_code(v128.call(&mut store, -15)), TrapCode::MemoryOutOfBounds);

    // Bulk operations with i64 lengths near u64::MAX.
    let fill = instance.get_typed_func::<(i64, i32, i64), ()>(&mut store, "fill")?;
    assert_eq!(trap_code(fill.call(&mut store, (1, 0, -1))), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(fill.call(&mut store, (-1, 0, 2))), TrapCode::MemoryOutOfBounds);
    fill.call(&mut store, (65_536, 0, 0))?; // an empty fill at the end is fine
    let from_small = instance.get_typed_func::<(i64, i32, i32), ()>(&mut store, "copy_from_small")?;
    assert_eq!(trap_code(from_small.call(&mut store, (-1, 0, 1))), TrapCode::MemoryOutOfBounds);
    assert_eq!(trap_code(from_small.call(&mut store, (0, 0, -1))), TrapCode::MemoryOutOfBounds);

    // Huge grow deltas fail with -1 and leave the memory as it was.
    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
    for delta in [-1, i64::MAX, 1 << 48, 1 << 40] {
        assert_eq!(grow.call(&mut store, delta)?, -1, "delta {delta:#x}");
    }
    let size = instance.get_typed_func::<(), i64>(&mut store, "size")?;
    assert_eq!(size.call(&mut store, ())?, 1);
    Ok(())
}

#[test]
fn store_limits_cap_64_bit_memories() -> Result {
    let limits = StoreLimits { memory_size_bytes: 4 << 16, ..StoreLimits::default() };
    let (mut store, instance, _memory) = memory64_instance(Some(limits))?;
    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1, "the store caps the memory at 4 pages");

    let mut store = Store::new(&Engine::default(), ());
    store.set_limits(limits);
    assert!(Memory::new(&mut store, MemoryType::new64(5, None)).is_err());
    assert!(Memory::new(&mut store, MemoryType::new64(1 << 47, None)).is_err());
    // 64-bit limits go up to 2^48 pages, not further.
    let mut store = Store::new(&Engine::default(), ());
    assert!(Memory::new(&mut store, MemoryType::new64(0, Some(1 << 48))).is_ok());
    assert!(Memory::new(&mut store, MemoryType::new64(0, Some((1 << 48) + 1))).is_err());
    assert!(Memory::new(&mut store, MemoryType::new64(u64::MAX, None)).is_err());
    Ok(())
}

#[test]
fn data_segments_with_i64_offsets() -> Result {
    let (mut store, instance) = instantiate(
        r#"(module (memory (export "m") i64 1)
             (data (i64.const 0xFFFC) "\01\02\03\04"))"#,
    );
    let memory = instance.get_memory(&mut store, "m").unwrap();
    assert_eq!(&memory.data(&store)[0xFFFC..], &[1, 2, 3, 4]);

    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (memory i64 1) (data (i64.const -1) "x"))"#)?;
    let mut store = Store::new(&engine, ());
    assert_eq!(trap_code(Instance::new(&mut store, &module, &[])), TrapCode::MemoryOutOfBounds);
    Ok(())
}

// ---- typed access: index types must match ----

#[test]
fn index_type_mismatch_is_refused() -> Result {
    let mut store = Store::new(&Engine::default(), ());
    let m32 = Memory::new(&mut store, MemoryType::new(1, None))?;
    let m64 = Memory::new(&mut store, MemoryType::new64(1, None))?;
    let p32 = WasmPtr::<u32>::new(8);
    let p64 = WasmPtr::<u32, Memory64>::new64(8);
    let wrong_64 = AccessError::IndexTypeMismatch { pointer: "Memory64", memory: "Memory32" };
    let wrong_32 = AccessError::IndexTypeMismatch { pointer: "Memory32", memory: "Memory64" };

    assert_eq!(p64.read(&m32.view(&store)), Err(wrong_64.clone()));
    assert_eq!(p64.write(&mut m32.view_mut(&mut store), 1), Err(wrong_64.clone()));
    assert_eq!(p32.read(&m64.view(&store)), Err(wrong_32.clone()));
    assert_eq!(p32.write(&mut m64.view_mut(&mut store), 1), Err(wrong_32.clone()));
    assert_eq!(p64.slice(2).read_to_vec(&m32.view(&store)), Err(wrong_64.clone()));
    assert_eq!(p32.slice(2).write_from(&mut m64.view_mut(&mut store), &[1, 2]), Err(wrong_32.clone()));
    assert_eq!(m32.view_mut(&mut store).borrow(p64.slice(2)).map(|_| ()), Err(wrong_64.clone()));
    assert_eq!(m64.view_mut(&mut store).borrow_mut(p32.slice(2)).map(|_| ()), Err(wrong_32.clone()));
    assert_eq!(WasmPtr::<u8, Memory64>::new64(0).read_utf8(&m32.view(&store), 1), Err(wrong_64.clone()));
    assert_eq!(WasmPtr::<u8>::new(0).read_cstr(&mut m64.view_mut(&mut store), 1), Err(wrong_32.clone()));
    let message = wrong_64.to_string();
    assert!(message.contains("Memory64") && message.contains("Memory32"), "{message}");

    // The matching index types work on both.
    p32.write(&mut m32.view_mut(&mut store), 32)?;
    p64.write(&mut m64.view_mut(&mut store), 64)?;
    assert_eq!(p32.read(&m32.view(&store))?, 32);
    assert_eq!(p64.read(&m64.view(&store))?, 64);
    assert!(m64.view(&store).is_64() && !m32.view(&store).is_64());
    Ok(())
}

#[test]
fn host_function_takes_memory64_pointers_as_i64() -> Result {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "get", |caller: Caller<'_, ()>, p: WasmPtr<u32, Memory64>| -> Result<u32> {
        let memory = caller.memory().expect("memory 0");
        Ok(p.read(&memory.view(&caller))?)
    })?;
    let module = Module::new(
        &engine,
        r#"(module
          (import "env" "get" (func $get (param i64) (result i32)))
          (memory i64 1)
          (data (i64.const 0x20) "\2a\00\00\00")
          (func (export "run") (param i64) (result i32) (call $get (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i64, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 0x20)?, 42);
    let err = run.call(&mut store, 0xFFFE).expect_err("out of bounds");
    assert!(err.to_string().contains("out of bounds"), "{err}");
    let err = run.call(&mut store, -4).expect_err("overflow");
    assert!(err.to_string().contains("address overflow: 0xfffffffffffffffc"), "{err}");

    // The same host function on a 32-bit memory: an i64 parameter still, and a clear error.
    let f = linker.get(&mut store, "env", "get").and_then(Extern::into_func).expect("defined");
    assert_eq!(f.ty(&store).params().collect::<Vec<_>>(), [ValType::I64]);
    let module32 = Module::new(
        &engine,
        r#"(module
          (import "env" "get" (func $get (param i64) (result i32)))
          (memory 1)
          (func (export "run") (result i32) (call $get (i64.const 0))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module32)?;
    let err = instance.get_typed_func::<(), i32>(&mut store, "run")?.call(&mut store, ()).expect_err("mismatch");
    assert!(err.to_string().contains("index type mismatch"), "{err}");
    Ok(())
}

// ---- linking ----

#[test]
fn import_index_type_must_match() -> Result {
    let engine = Engine::default();
    let wants64 = Module::new(&engine, r#"(module (import "env" "mem" (memory i64 1)))"#)?;
    let wants32 = Module::new(&engine, r#"(module (import "env" "mem" (memory 1)))"#)?;
    let mut store = Store::new(&engine, ());
    let m32 = Memory::new(&mut store, MemoryType::new(1, None))?;
    let m64 = Memory::new(&mut store, MemoryType::new64(1, None))?;

    let err: Error = Instance::new(&mut store, &wants64, &[m32.into()]).expect_err("32-bit for a 64-bit import");
    assert!(err.to_string().contains("expected a 64-bit memory, found a 32-bit memory"), "{err}");
    assert!(err.trap_code().is_none());
    let err = Instance::new(&mut store, &wants32, &[m64.into()]).expect_err("64-bit for a 32-bit import");
    assert!(err.to_string().contains("expected a 32-bit memory, found a 64-bit memory"), "{err}");

    Instance::new(&mut store, &wants64, &[m64.into()])?;
    Instance::new(&mut store, &wants32, &[m32.into()])?;
    Ok(())
}

// ---- table64 ----

/// `tests/memories/table64.wast`: every table instruction on a 64-bit table.
#[test]
fn table64_script() {
    let text = include_str!("memories/table64.wast");
    let report = wasmguard::wast::run_wast_str("table64.wast", text).expect("the script parses");
    assert!(report.failed == 0 && report.passed > 0, "{:#?}", report.failures);
}

#[test]
fn table_import_index_type_must_match() -> Result {
    use wasmguard::{RefType, Table, TableType, Val};
    let engine = Engine::default();
    let wants64 = Module::new(&engine, r#"(module (import "env" "t" (table i64 1 funcref)))"#)?;
    let mut store = Store::new(&engine, ());
    let t32 = Table::new(&mut store, TableType::new(RefType::FuncRef, 1, None), Val::FuncRef(None))?;
    let t64 = Table::new(&mut store, TableType::new64(RefType::FuncRef, 1, None), Val::FuncRef(None))?;
    assert!(Instance::new(&mut store, &wants64, &[t32.into()]).is_err());
    Instance::new(&mut store, &wants64, &[t64.into()])?;
    assert!(t64.ty(&store).is_64());
    Ok(())
}

/// `tests/memories/atomics_unshared.wast`: the atomic instructions on an unshared memory.
#[test]
fn atomics_on_an_unshared_memory() {
    let text = include_str!("memories/atomics_unshared.wast");
    let report = wasmguard::wast::run_wast_str("atomics_unshared.wast", text).expect("the script parses");
    assert!(report.failed == 0 && report.passed > 20, "{:#?}", report.failures);
}
