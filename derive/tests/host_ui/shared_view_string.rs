use wasmguard::{Engine, Memory, MemoryType, Store, WasmPtr};

fn main() {
    let mut store = Store::new(&Engine::default(), ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let view = memory.view_mut(&mut store);
    let _ = WasmPtr::<u8>::new(0).read_utf8(&view, 4);
}
