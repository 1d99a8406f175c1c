//! Memories of 1-byte pages (the custom-page-sizes proposal): sizes and growth count bytes,
//! typed host access is unchanged, and page sizes are part of a memory's type.

use wasmguard::access::WasmPtr;
use wasmguard::{Config, Engine, Instance, Linker, Memory, MemoryType, Module, Store};

const BYTE_PAGES: &str = r#"
(module
  (memory (export "mem") 10 12 (pagesize 1))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
"#;

fn engine() -> Engine {
    Engine::new(Config::new().wasm_custom_page_sizes(true)).unwrap()
}

#[test]
fn one_byte_pages_count_bytes() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, BYTE_PAGES).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let memory = instance.get_memory(&mut store, "mem").unwrap();
    let ty = memory.ty(&store);
    assert_eq!((ty.page_size(), ty.page_size_log2(), ty.minimum(), ty.maximum()), (1, 0, 10, Some(12)));
    let size = instance.get_typed_func::<(), i32>(&mut store, "size").unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), 10);

    // Typed access works on bytes as always: a u32 at 6 fits in 10 bytes, at 7 it does not.
    WasmPtr::<u32>::new(6).write(&mut memory.view_mut(&mut store), 0x0403_0201).unwrap();
    assert!(WasmPtr::<u32>::new(7).write(&mut memory.view_mut(&mut store), 1).is_err());
    assert!(load.call(&mut store, 7).is_err());
    assert_eq!(load.call(&mut store, 6).unwrap(), 0x0403_0201);

    // Growing by one page is one byte; the maximum is 12 bytes.
    assert_eq!(grow.call(&mut store, 1).unwrap(), 10);
    assert_eq!((memory.size(&store), memory.data_size(&store)), (11, 11));
    assert_eq!(WasmPtr::<u32>::new(7).read(&memory.view(&store)).unwrap(), 0x0004_0302);
    assert_eq!(memory.grow(&mut store, 1).unwrap(), 11);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(size.call(&mut store, ()).unwrap(), 12);
}

#[test]
fn page_sizes_are_part_of_the_memory_type() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let bytes = Memory::new(&mut store, MemoryType::new(1, None).with_page_size_log2(0)).unwrap();
    let pages = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert_eq!(bytes.data_size(&store), 1);
    assert_eq!(pages.data_size(&store), 65_536);
    // Only 1 byte and 64 KiB are page sizes.
    assert!(Memory::new(&mut store, MemoryType::new(1, None).with_page_size_log2(12)).is_err());

    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "m", "bytes", bytes).unwrap();
    linker.define(&mut store, "m", "pages", pages).unwrap();
    let import = |name: &str, pagesize: u32| {
        Module::new(&engine, format!(r#"(module (import "m" "{name}" (memory 1 (pagesize {pagesize}))))"#)).unwrap()
    };
    linker.instantiate(&mut store, &import("bytes", 1)).unwrap();
    linker.instantiate(&mut store, &import("pages", 65536)).unwrap();
    let err = linker.instantiate(&mut store, &import("pages", 1)).unwrap_err();
    assert!(err.to_string().contains("pages of 1 bytes"), "{err}");
    assert!(linker.instantiate(&mut store, &import("bytes", 65536)).is_err());
}

#[test]
fn custom_page_sizes_are_off_by_default() {
    let err = Module::new(&Engine::default(), BYTE_PAGES).unwrap_err();
    assert!(err.to_string().contains("page size"), "{err}");
}
