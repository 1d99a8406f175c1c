//! `Memory::ty`: the memory's type, with its minimum (the current size) and maximum in pages.
//!
//! Documented as: "Returns the `MemoryType` of the `Memory`."

use wasmguard::{Engine, Memory, MemoryType, Store};

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());

    let mt = MemoryType::new(1, None);
    let m = Memory::new(&mut store, mt)?;
    assert_eq!(m.ty(&store), mt);
    assert_eq!(m.ty(&store).minimum(), 1);
    assert_eq!(m.ty(&store).maximum(), None);
    println!("minimum {}, maximum {:?}", m.ty(&store).minimum(), m.ty(&store).maximum());

    let bounded = Memory::new(&mut store, MemoryType::new(2, Some(5)))?;
    let ty = bounded.ty(&store);
    assert_eq!((ty.minimum(), ty.maximum()), (2, Some(5)));
    println!("minimum {}, maximum {:?}", ty.minimum(), ty.maximum());

    // As in the API it mirrors, the minimum reported is the current size: it follows growth.
    bounded.grow(&mut store, 1)?;
    let ty = bounded.ty(&store);
    assert_eq!((ty.minimum(), ty.maximum()), (3, Some(5)));
    println!("after growing by one page: minimum {}, maximum {:?}", ty.minimum(), ty.maximum());
    Ok(())
}
