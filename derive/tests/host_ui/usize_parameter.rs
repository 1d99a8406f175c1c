use wasmguard::{Engine, Linker};

fn main() {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "len", |n: usize| n as u32).unwrap();
}
