// A shared memory may be written by other threads at any time, so its view lends no bytes:
// `read_utf8` (which borrows a `&str`) does not accept a `SharedMemoryView`.
use wasmguard::{Engine, MemoryType, SharedMemory, WasmPtr};

fn main() {
    let memory = SharedMemory::new(&Engine::default(), MemoryType::shared(1, 1)).unwrap();
    let view = memory.view();
    let text: &str = WasmPtr::<u8>::new(0).read_utf8(&view, 4).unwrap();
    println!("{text}");
}
