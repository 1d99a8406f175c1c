use wasmguard::{Engine, Linker};

fn main() {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "check", |x: u32| -> Result<u32, ()> { Ok(x) }).unwrap();
}
