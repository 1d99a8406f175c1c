//! Guest structs, typed: `cargo run --example guest_struct`.
//!
//! The guest lays out a C struct `Rect` in its linear memory and passes a pointer to it to a
//! host function, which reads it with `WasmPtr<Rect>::read`, computes its bounds and writes
//! a `Bounds` struct back with `WasmPtr::write`. The guest then returns a number computed
//! from the result. `#[derive(GuestType)]` gives both structs their wasm32 C layout
//! (independent of the host's), so no offset is written by hand on the host side.
//!
//! A hostile pointer is refused with an error the embedder sees, never a panic.

use wasmguard::{AccessError, Caller, Engine, Error, GuestType, Linker, Module, Store, WasmPtr};

/// `struct Point { int32_t x, y; }`
#[derive(Debug, Clone, Copy, PartialEq, GuestType)]
#[repr(C)]
struct Point {
    x: i32,
    y: i32,
}

/// `struct Rect { Point origin; Point size; double scale; }`: 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, GuestType)]
#[repr(C)]
struct Rect {
    origin: Point,
    size: Point,
    scale: f64,
}

/// `struct Bounds { double area; Point far; bool square; }`: 24 bytes, the last 7 of
/// them padding (zeroed when written).
#[derive(Debug, Clone, Copy, PartialEq, GuestType)]
#[repr(C)]
struct Bounds {
    area: f64,
    far: Point,
    square: bool,
}

const WAT: &str = r#"(module
  (import "geom" "bounds" (func $bounds (param i32 i32)))
  (memory (export "memory") 1)
  ;; Rect at 0x100: origin (2, 3), size (10, 4), scale 1.5.
  (func (export "run") (result i32)
    (i32.store (i32.const 0x100) (i32.const 2))
    (i32.store (i32.const 0x104) (i32.const 3))
    (i32.store (i32.const 0x108) (i32.const 10))
    (i32.store (i32.const 0x10c) (i32.const 4))
    (f64.store (i32.const 0x110) (f64.const 1.5))
    ;; Garbage where the host will write Bounds, to show the padding gets zeroed.
    (memory.fill (i32.const 0x200) (i32.const 0xaa) (i32.const 24))
    (call $bounds (i32.const 0x100) (i32.const 0x200))
    ;; area (as an integer) + far.x + far.y
    (i32.add
      (i32.trunc_f64_s (f64.load (i32.const 0x200)))
      (i32.add (i32.load (i32.const 0x208)) (i32.load (i32.const 0x20c)))))
  ;; A pointer 16 bytes below the top of the address space.
  (func (export "hostile")
    (call $bounds (i32.const 0xfffffff0) (i32.const 0x200))))"#;

/// The host function: reads a `Rect`, writes its `Bounds`.
fn bounds(mut caller: Caller<'_, ()>, rect: WasmPtr<Rect>, out: WasmPtr<Bounds>) -> wasmguard::Result<()> {
    let memory = caller.memory().ok_or_else(|| Error::msg("the guest has no memory"))?;

    // A shared view: copy the struct out (bounds-checked, unaligned pointers are fine).
    let view = memory.view(&caller);
    let r = rect.read(&view)?;
    // One field alone, without a hand-written offset.
    let scale = rect.project(|f| f.scale)?.read(&view)?;
    assert_eq!(scale.to_bits(), r.scale.to_bits());

    let (w, h) = (f64::from(r.size.x) * scale, f64::from(r.size.y) * scale);
    let result =
        Bounds { area: w * h, far: Point { x: r.origin.x + w as i32, y: r.origin.y + h as i32 }, square: w == h };
    // An exclusive view (the shared one is no longer used): copy the result in.
    out.write(&mut memory.view_mut(&mut caller), result)?;
    Ok(())
}

fn main() -> wasmguard::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT)?;
    let mut linker = Linker::new(&engine);
    linker.func_wrap("geom", "bounds", bounds)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;

    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let answer = run.call(&mut store, ())?;
    // area 15 * 6 = 90, far corner (2 + 15, 3 + 6) = (17, 9): 90 + 17 + 9.
    assert_eq!(answer, 116);
    println!("the guest computed {answer} from the host's Bounds");

    // The embedder reads the same structs with the same types.
    let memory = instance.get_memory(&mut store, "memory").expect("exported memory");
    let view = memory.view(&store);
    let rect = WasmPtr::<Rect>::new(0x100).read(&view)?;
    assert_eq!(rect, Rect { origin: Point { x: 2, y: 3 }, size: Point { x: 10, y: 4 }, scale: 1.5 });
    let result = WasmPtr::<Bounds>::new(0x200).read(&view)?;
    assert_eq!(result, Bounds { area: 90.0, far: Point { x: 17, y: 9 }, square: false });
    println!("rect {rect:?} -> {result:?}");
    // The padding after `square` was garbage (0xaa) and is now zero.
    assert_eq!(view.bytes(0x200 + 17, 7)?, [0; 7]);
    println!("padding zeroed: {:?}", view.bytes(0x200 + 17, 7)?);
    assert_eq!(Bounds::SIZE, 24);

    // A hostile pointer: the host function's `?` turns the access error into a trap the
    // embedder sees, with the access error inside.
    let hostile = instance.get_typed_func::<(), ()>(&mut store, "hostile")?;
    let err = hostile.call(&mut store, ()).expect_err("out of bounds");
    let access = err.host_error().and_then(|e| e.downcast_ref::<AccessError>());
    assert!(matches!(access, Some(AccessError::OutOfBounds { address: 0xffff_fff0, len: 24, .. })), "{err:?}");
    println!("hostile pointer refused: {err}");
    Ok(())
}
