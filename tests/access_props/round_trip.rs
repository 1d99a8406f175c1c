//! Every guest type round-trips through bytes and through memory, writes its padding as
//! zeros and ignores padding on read; derived structs project onto their field offsets.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use wasmguard::{AccessError, Engine, GuestType, Memory, MemoryType, Store, WasmPtr};

use crate::model::*;
use crate::sequences::{Op, Sim};

macro_rules! round_trips {
    ($($name:ident $test:ident: $t:ty),* $(,)?) => {
        proptest! {
            #![proptest_config(crate::proptest_config())]
            $(
                #[test]
                fn $test(
                    values in vec(<$t as Model>::arb(), 1..6),
                    offset in 0u32..64,
                    garbage in vec(any::<u8>(), 256),
                ) {
                    round_trip::<$t>(&values, offset, &garbage)?;
                }
            )*
        }
    };
}

with_guest_types!(round_trips);

fn round_trip<T: Model>(values: &[T], offset: u32, garbage: &[u8]) -> TestCaseResult {
    let size = T::SIZE as usize;
    // Through bytes: `write_to` gives the oracle's bytes (padding zeroed, even over
    // garbage) and `read_from` gives the value back.
    for v in values {
        let mut buf = garbage[..size].to_vec();
        v.write_to(&mut buf);
        let mut expected = vec![0; size];
        v.encode(&mut expected);
        prop_assert_eq!(&buf, &expected);
        check("read_from", &T::read_from(&buf), &Ok(v.clone()), T::same)?;
        // Padding is ignored on read.
        for pad in T::padding() {
            buf[pad.clone()].copy_from_slice(&garbage[pad.clone()]);
        }
        check("read_from, padding garbage", &T::read_from(&buf), &Ok(v.clone()), T::same)?;
    }

    // Through memory, over garbage, at an arbitrary (unaligned) offset.
    let mut store = Store::new(&Engine::default(), ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(1))).unwrap();
    let len = values.len() * size;
    memory.write(&mut store, offset as usize, &garbage[..len]).unwrap();
    let ptr = WasmPtr::<T>::new(offset);
    for (i, v) in values.iter().enumerate() {
        let p = ptr.add(i as u32).unwrap();
        p.write(&mut memory.view_mut(&mut store), v.clone()).unwrap();
        check("WasmPtr::read", &p.read(&memory.view(&store)), &Ok(v.clone()), T::same)?;
        let at = offset as usize + i * size;
        let bytes = &memory.data(&store)[at..at + size];
        for pad in T::padding() {
            prop_assert!(bytes[pad.clone()].iter().all(|&b| b == 0), "padding {pad:?} not zeroed");
        }
    }
    let slice = ptr.slice(values.len() as u32);
    let back = slice.read_to_vec(&memory.view(&store));
    check("read_to_vec", &back, &Ok(values.to_vec()), |a, b| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
    })?;

    // And as a slice, over garbage again.
    memory.write(&mut store, offset as usize, &garbage[..len]).unwrap();
    slice.write_from(&mut memory.view_mut(&mut store), values).unwrap();
    let mut expected = vec![0; len];
    for (v, chunk) in values.iter().zip(expected.chunks_exact_mut(size)) {
        v.encode(chunk);
    }
    prop_assert_eq!(&memory.data(&store)[offset as usize..][..len], &expected[..]);
    // Nothing around it was touched.
    prop_assert!(memory.data(&store)[..offset as usize].iter().all(|&b| b == 0));
    prop_assert!(memory.data(&store)[offset as usize + len..].iter().all(|&b| b == 0));
    Ok(())
}

fn project_offset(address: u32, offset: u32, actual: Result<u64, AccessError>) -> TestCaseResult {
    let target = u64::from(address) + u64::from(offset);
    if target < 1 << 32 {
        prop_assert_eq!(actual, Ok(target));
    } else {
        prop_assert!(matches!(actual, Err(AccessError::Overflow { .. })), "{actual:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    /// `WasmPtr::project` lands on the wasm32 C field offsets, and reading a field through
    /// it agrees with reading the whole struct.
    #[test]
    fn projection_follows_the_layout(a in addr(), bytes in vec(any::<u8>(), 24)) {
        let mut sim = Sim::new(1, 1);
        let address = sim.at(a);
        sim.apply(&Op::MemWrite(Addr::Low(address), bytes))?;
        let mixed = WasmPtr::<Mixed>::new(address);
        project_offset(address, 0, mixed.project(|f| f.a).map(WasmPtr::address))?;
        project_offset(address, 2, mixed.project(|f| f.b).map(WasmPtr::address))?;
        project_offset(address, 4, mixed.project(|f| f.on).map(WasmPtr::address))?;
        project_offset(address, 8, mixed.project(|f| f.c).map(WasmPtr::address))?;
        project_offset(address, 16, mixed.project(|f| f.color).map(WasmPtr::address))?;
        let rect = WasmPtr::<Rect>::new(address);
        project_offset(address, 16, rect.project(|f| f.size).map(WasmPtr::address))?;
        if let Ok(size) = rect.project(|f| f.size) {
            project_offset(address, 24, size.project(|f| f.y).map(WasmPtr::address))?;
            let view = sim.memory.view(&sim.store);
            let whole = rect.read(&view).map(|r| r.size.y.to_bits());
            let field = size.project(|f| f.y).and_then(|y| y.read(&view)).map(f64::to_bits);
            // Out of bounds may be reported with different addresses; the values agree.
            prop_assert_eq!(whole.ok(), field.ok().filter(|_| rect.read(&view).is_ok()));
        }
    }
}

#[test]
fn guest_layouts_follow_the_wasm32_c_abi() {
    fn layout<T: GuestType>() -> (u32, u32) {
        (T::SIZE, T::ALIGN)
    }
    assert_eq!(layout::<u8>(), (1, 1));
    assert_eq!(layout::<i16>(), (2, 2));
    assert_eq!(layout::<f64>(), (8, 8));
    assert_eq!(layout::<bool>(), (1, 1));
    assert_eq!(layout::<[u16; 3]>(), (6, 2));
    assert_eq!(layout::<WasmPtr<u8>>(), (4, 4));
    assert_eq!(layout::<Color>(), (2, 2));
    assert_eq!(layout::<Point>(), (16, 8));
    assert_eq!(layout::<Rect>(), (32, 8));
    assert_eq!(layout::<Mixed>(), (24, 8));
}
