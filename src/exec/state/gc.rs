//! The GC heap of a store: the struct and array objects of the GC proposal, and a
//! mark-and-sweep collector.
//!
//! An object is named by its index in the heap: a reference to it is
//! `((index + 1) << 3) | kind`, with `kind` 0 for a struct and 4 for an array, so the low
//! two bits of every object reference are 0, apart from the other encodings of the `any`
//! hierarchy (`i31`: low bit 1; a host reference: low bits `10`; null: 0), and abstract casts
//! need not look at the heap. Objects never move.
//!
//! The collector traces from the roots it is given (the value stacks, globals, tables,
//! element segments and exception payloads of the store, scanned conservatively: any slot
//! that names a live object keeps it; and the host's [`GcRoot`]s) through the reference
//! fields of the objects, precisely, then frees every object it did not reach, cycles
//! included. A collection runs before an allocation once the bytes allocated since the
//! last one exceed what survived it (at least [`MIN_TRIGGER`]), or when the allocation
//! would go over the store's limit.

use std::sync::{Arc, Mutex, Weak};

use crate::engine::layout::{FieldKind, GcLayout, GcType};
use crate::error::TrapCode;

/// The bits a reference to an array has set.
pub(crate) const ARRAY_BIT: u64 = 4;

/// The allocation volume that triggers a collection at the least.
const MIN_TRIGGER: usize = 4 << 20;

/// What an object costs beyond its fields, in the heap's accounting.
const OVERHEAD: usize = std::mem::size_of::<Obj>() + 16;

/// The reference to object `index`.
#[inline]
pub(crate) fn encode(index: usize, array: bool) -> u64 {
    ((index as u64 + 1) << 3) | if array { ARRAY_BIT } else { 0 }
}

/// The object index and whether it is an array, if `bits` is an object reference.
#[inline]
pub(crate) fn decode(bits: u64) -> Option<(usize, bool)> {
    (bits & 3 == 0 && bits >= 8).then(|| (((bits >> 3) - 1) as usize, bits & ARRAY_BIT != 0))
}

#[derive(Debug)]
enum Body {
    Free,
    /// One slot per field (two for `v128`); packed fields hold their value zero-extended.
    Struct(Box<[u64]>),
    /// The elements as little-endian bytes.
    Array(Box<[u8]>),
}

#[derive(Debug)]
struct Obj {
    ty: Option<Arc<GcType>>,
    body: Body,
}

/// A reference the host holds: keeps its object alive while any clone of the `Arc` lives.
#[derive(Debug)]
pub(crate) struct GcRoot {
    pub(crate) store_id: u64,
    pub(crate) bits: u64,
}

/// The objects of one store.
#[derive(Debug, Default)]
pub(crate) struct GcHeap {
    objects: Vec<Obj>,
    free: Vec<u32>,
    marks: Vec<u64>,
    worklist: Vec<u32>,
    /// Bytes the objects take (by [`OVERHEAD`] plus their fields).
    bytes: usize,
    /// Bytes allocated since the last collection.
    since: usize,
    /// `since` beyond which the next allocation collects first.
    trigger: usize,
    /// References the host holds (behind a lock so that a shared borrow of the store can
    /// hand out a reference).
    roots: Mutex<Vec<Weak<GcRoot>>>,
    /// Values of the suspended activations below a host call (scanned as roots).
    pub(crate) pinned: Vec<u64>,
    /// Collections so far.
    pub(crate) collections: u64,
}

fn out_of_bounds<T>() -> Result<T, TrapCode> {
    Err(TrapCode::ArrayOutOfBounds)
}

/// Writes the value in `v` (one or two slots) as an element of kind `kind` to `dst`.
#[inline]
fn put(kind: FieldKind, dst: &mut [u8], v: [u64; 2]) {
    match kind {
        FieldKind::I8 => dst[0] = v[0] as u8,
        FieldKind::I16 => dst[..2].copy_from_slice(&(v[0] as u16).to_le_bytes()),
        FieldKind::B32 => dst[..4].copy_from_slice(&(v[0] as u32).to_le_bytes()),
        FieldKind::B64 | FieldKind::Ref => dst[..8].copy_from_slice(&v[0].to_le_bytes()),
        FieldKind::V128 => {
            dst[..8].copy_from_slice(&v[0].to_le_bytes());
            dst[8..16].copy_from_slice(&v[1].to_le_bytes());
        }
    }
}

/// Reads an element of kind `kind` from `src` (`signed`: sign-extends a packed one).
#[inline]
fn get(kind: FieldKind, src: &[u8], signed: bool) -> [u64; 2] {
    let word = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    match kind {
        FieldKind::I8 if signed => [u64::from(src[0] as i8 as i32 as u32), 0],
        FieldKind::I8 => [u64::from(src[0]), 0],
        FieldKind::I16 => {
            let h = u16::from_le_bytes([src[0], src[1]]);
            [if signed { u64::from(h as i16 as i32 as u32) } else { u64::from(h) }, 0]
        }
        FieldKind::B32 => [u64::from(u32::from_le_bytes([src[0], src[1], src[2], src[3]])), 0],
        FieldKind::B64 | FieldKind::Ref => [word(src), 0],
        FieldKind::V128 => [word(src), word(&src[8..])],
    }
}

/// A packed struct field's value as stored: truncated to its width.
#[inline]
pub(crate) fn pack(kind: FieldKind, v: u64) -> u64 {
    match kind {
        FieldKind::I8 => v & 0xff,
        FieldKind::I16 => v & 0xffff,
        FieldKind::B32 => v & 0xffff_ffff,
        _ => v,
    }
}

/// A packed struct field's value as read: sign-extended if `signed`.
#[inline]
pub(crate) fn unpack(kind: FieldKind, v: u64, signed: bool) -> u64 {
    match kind {
        FieldKind::I8 if signed => u64::from(v as u8 as i8 as i32 as u32),
        FieldKind::I16 if signed => u64::from(v as u16 as i16 as i32 as u32),
        _ => v,
    }
}

fn elem_of(ty: &GcType) -> Option<FieldKind> {
    match ty.layout {
        GcLayout::Array { elem, .. } => Some(elem),
        GcLayout::Struct { .. } => None,
    }
}

impl GcHeap {
    /// Whether the heap holds no object (then no slot anywhere can name one).
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Bytes the live objects take, as the heap counts them.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether allocating `cost` more bytes should collect first, under a limit of `limit`.
    #[inline]
    pub(crate) fn wants_collection(&self, cost: usize, limit: u64) -> bool {
        self.since >= self.trigger.max(MIN_TRIGGER) || (self.bytes.saturating_add(cost)) as u64 > limit
    }

    /// What an array of `len` elements of `ty` costs (`None`: more than the address space).
    pub(crate) fn array_cost(ty: &GcType, len: u32) -> Option<usize> {
        let elem = elem_of(ty)?;
        (len as usize).checked_mul(elem.bytes())?.checked_add(OVERHEAD)
    }

    /// What a struct of `ty` costs.
    pub(crate) fn struct_cost(ty: &GcType) -> usize {
        match ty.layout {
            GcLayout::Struct { slots, .. } => slots as usize * 8 + OVERHEAD,
            GcLayout::Array { .. } => OVERHEAD,
        }
    }

    fn insert(&mut self, ty: &Arc<GcType>, body: Body, cost: usize) -> u64 {
        let array = matches!(body, Body::Array(_));
        let obj = Obj { ty: Some(ty.clone()), body };
        self.bytes += cost;
        self.since += cost;
        let index = match self.free.pop() {
            Some(i) => {
                self.objects[i as usize] = obj;
                i as usize
            }
            None => {
                self.objects.push(obj);
                self.objects.len() - 1
            }
        };
        encode(index, array)
    }

    /// A new struct of `ty` with the field slots `fields` (packed ones truncated here).
    /// The caller checked the limit (see [`wants_collection`](Self::wants_collection)).
    pub(crate) fn alloc_struct(&mut self, ty: &Arc<GcType>, fields: Option<&[u64]>) -> Result<u64, TrapCode> {
        let GcLayout::Struct { fields: layout, slots, .. } = &ty.layout else {
            return Err(TrapCode::CastFailure);
        };
        let mut body = vec![0u64; *slots as usize].into_boxed_slice();
        if let Some(values) = fields {
            if values.len() != body.len() {
                return Err(TrapCode::CastFailure);
            }
            body.copy_from_slice(values);
            for f in layout.iter() {
                body[f.slot as usize] = pack(f.kind, body[f.slot as usize]);
            }
        }
        Ok(self.insert(ty, Body::Struct(body), Self::struct_cost(ty)))
    }

    /// A new array of `ty` with `len` elements, each `init` (one or two slots).
    pub(crate) fn alloc_array(&mut self, ty: &Arc<GcType>, len: u32, init: [u64; 2]) -> Result<u64, TrapCode> {
        let elem = elem_of(ty).ok_or(TrapCode::CastFailure)?;
        let cost = Self::array_cost(ty, len).ok_or(TrapCode::GcHeapExhausted)?;
        let size = elem.bytes();
        let mut bytes = vec![0u8; len as usize * size].into_boxed_slice();
        if init != [0, 0] {
            for chunk in bytes.chunks_exact_mut(size) {
                put(elem, chunk, init);
            }
        }
        Ok(self.insert(ty, Body::Array(bytes), cost))
    }

    /// A new array of `ty` whose elements are the values in `slots` (one slot each, two for
    /// `v128`).
    pub(crate) fn alloc_array_from(&mut self, ty: &Arc<GcType>, slots: &[u64]) -> Result<u64, TrapCode> {
        let elem = elem_of(ty).ok_or(TrapCode::CastFailure)?;
        let n = slots.len() / elem.slots();
        let len = u32::try_from(n).map_err(|_| TrapCode::GcHeapExhausted)?;
        let cost = Self::array_cost(ty, len).ok_or(TrapCode::GcHeapExhausted)?;
        let size = elem.bytes();
        let mut bytes = vec![0u8; n * size].into_boxed_slice();
        for (chunk, v) in bytes.chunks_exact_mut(size).zip(slots.chunks_exact(elem.slots())) {
            put(elem, chunk, [v[0], v.get(1).copied().unwrap_or(0)]);
        }
        Ok(self.insert(ty, Body::Array(bytes), cost))
    }

    /// A new array of `ty` whose elements are the little-endian bytes `data`.
    pub(crate) fn alloc_array_bytes(&mut self, ty: &Arc<GcType>, data: &[u8]) -> Result<u64, TrapCode> {
        let elem = elem_of(ty).ok_or(TrapCode::CastFailure)?;
        let len = u32::try_from(data.len() / elem.bytes()).map_err(|_| TrapCode::GcHeapExhausted)?;
        let cost = Self::array_cost(ty, len).ok_or(TrapCode::GcHeapExhausted)?;
        Ok(self.insert(ty, Body::Array(data.into()), cost))
    }

    fn object(&self, bits: u64, array: bool) -> Option<&Obj> {
        let (i, is_array) = decode(bits)?;
        self.objects.get(i).filter(|_| is_array == array)
    }

    fn object_mut(&mut self, bits: u64, array: bool) -> Option<&mut Obj> {
        let (i, is_array) = decode(bits)?;
        self.objects.get_mut(i).filter(|_| is_array == array)
    }

    /// The type of the object `bits` names, if it names a live one.
    pub(crate) fn type_of(&self, bits: u64) -> Option<&Arc<GcType>> {
        let (i, _) = decode(bits)?;
        self.objects.get(i)?.ty.as_ref()
    }

    /// The slots of the struct `bits` names.
    pub(crate) fn struct_fields(&self, bits: u64) -> Result<&[u64], TrapCode> {
        match self.object(bits, false) {
            Some(Obj { body: Body::Struct(f), .. }) => Ok(f),
            _ if bits == 0 => Err(TrapCode::NullStructReference),
            _ => Err(TrapCode::CastFailure),
        }
    }

    /// The slots of the struct `bits` names, mutably.
    pub(crate) fn struct_fields_mut(&mut self, bits: u64) -> Result<&mut [u64], TrapCode> {
        match self.object_mut(bits, false) {
            Some(Obj { body: Body::Struct(f), .. }) => Ok(f),
            _ if bits == 0 => Err(TrapCode::NullStructReference),
            _ => Err(TrapCode::CastFailure),
        }
    }

    fn array(&self, bits: u64) -> Result<(FieldKind, &[u8]), TrapCode> {
        match self.object(bits, true) {
            Some(Obj { body: Body::Array(b), ty: Some(ty) }) => Ok((elem_of(ty).ok_or(TrapCode::CastFailure)?, b)),
            _ if bits == 0 => Err(TrapCode::NullArrayReference),
            _ => Err(TrapCode::CastFailure),
        }
    }

    fn array_mut(&mut self, bits: u64) -> Result<(FieldKind, &mut [u8]), TrapCode> {
        match self.object_mut(bits, true) {
            Some(Obj { body: Body::Array(b), ty: Some(ty) }) => Ok((elem_of(ty).ok_or(TrapCode::CastFailure)?, b)),
            _ if bits == 0 => Err(TrapCode::NullArrayReference),
            _ => Err(TrapCode::CastFailure),
        }
    }

    /// The bytes of the array `bits` names, and its element kind.
    pub(crate) fn array_bytes(&self, bits: u64) -> Result<(FieldKind, &[u8]), TrapCode> {
        self.array(bits)
    }

    /// The bytes of the array `bits` names, mutably, and its element kind.
    pub(crate) fn array_bytes_mut(&mut self, bits: u64) -> Result<(FieldKind, &mut [u8]), TrapCode> {
        self.array_mut(bits)
    }

    /// `array.len`.
    pub(crate) fn array_len(&self, bits: u64) -> Result<u32, TrapCode> {
        let (kind, b) = self.array(bits)?;
        Ok((b.len() / kind.bytes()) as u32)
    }

    /// `array.get`: element `i` (one or two slots).
    pub(crate) fn array_get(&self, bits: u64, i: u32, signed: bool) -> Result<[u64; 2], TrapCode> {
        let (kind, b) = self.array(bits)?;
        let size = kind.bytes();
        match b.get(i as usize * size..(i as usize + 1) * size) {
            Some(e) => Ok(get(kind, e, signed)),
            None => out_of_bounds(),
        }
    }

    /// `array.set`.
    pub(crate) fn array_set(&mut self, bits: u64, i: u32, v: [u64; 2]) -> Result<(), TrapCode> {
        let (kind, b) = self.array_mut(bits)?;
        let size = kind.bytes();
        match b.get_mut(i as usize * size..(i as usize + 1) * size) {
            Some(e) => {
                put(kind, e, v);
                Ok(())
            }
            None => out_of_bounds(),
        }
    }

    /// The byte range of elements `[at, at + n)` of an array of `len` bytes, if inside.
    fn range(kind: FieldKind, len: usize, at: u32, n: u32) -> Result<std::ops::Range<usize>, TrapCode> {
        let size = kind.bytes();
        let end = u64::from(at) + u64::from(n);
        if end * size as u64 > len as u64 {
            return out_of_bounds();
        }
        Ok(at as usize * size..end as usize * size)
    }

    /// `array.fill`.
    pub(crate) fn array_fill(&mut self, bits: u64, at: u32, v: [u64; 2], n: u32) -> Result<(), TrapCode> {
        let (kind, b) = self.array_mut(bits)?;
        let r = Self::range(kind, b.len(), at, n)?;
        for chunk in b[r].chunks_exact_mut(kind.bytes()) {
            put(kind, chunk, v);
        }
        Ok(())
    }

    /// `array.copy`: elements `[src_at, src_at + n)` of `src` to `dst` from `dst_at`.
    pub(crate) fn array_copy(&mut self, dst: u64, dst_at: u32, src: u64, src_at: u32, n: u32) -> Result<(), TrapCode> {
        // Both checked before anything is copied: a null or short source traps too.
        let (kind, s) = self.array(src)?;
        let from = Self::range(kind, s.len(), src_at, n)?;
        let (dkind, d) = self.array(dst)?;
        let to = Self::range(dkind, d.len(), dst_at, n)?;
        if decode(src) == decode(dst) {
            let (_, b) = self.array_mut(dst)?;
            b.copy_within(from, to.start);
        } else {
            let bytes: Vec<u8> = s[from].to_vec();
            let (_, d) = self.array_mut(dst)?;
            d[to].copy_from_slice(&bytes);
        }
        Ok(())
    }

    /// `array.init_data`: elements `[at, at + n)` from the bytes of data segment `data` at
    /// `from`. The array's range is checked first, then the segment's, as the
    /// specification orders them; nothing is written unless both hold.
    pub(crate) fn array_init_bytes(
        &mut self,
        bits: u64,
        at: u32,
        n: u32,
        data: &[u8],
        from: u32,
    ) -> Result<(), TrapCode> {
        let (kind, b) = self.array_mut(bits)?;
        let r = Self::range(kind, b.len(), at, n)?;
        let src = (from as usize).checked_add(r.len()).and_then(|end| data.get(from as usize..end));
        b[r].copy_from_slice(src.ok_or(TrapCode::MemoryOutOfBounds)?);
        Ok(())
    }

    /// `array.init_elem`: elements `[at, at + n)` from the references of element segment
    /// `values` at `from`, checked in the order of [`array_init_bytes`](Self::array_init_bytes).
    pub(crate) fn array_init_values(
        &mut self,
        bits: u64,
        at: u32,
        n: u32,
        values: &[u64],
        from: u32,
    ) -> Result<(), TrapCode> {
        let (kind, b) = self.array_mut(bits)?;
        let r = Self::range(kind, b.len(), at, n)?;
        let src = (from as usize).checked_add(n as usize).and_then(|end| values.get(from as usize..end));
        for (chunk, &v) in b[r].chunks_exact_mut(kind.bytes()).zip(src.ok_or(TrapCode::TableOutOfBounds)?) {
            put(kind, chunk, [v, 0]);
        }
        Ok(())
    }

    /// Registers a reference the host will hold.
    pub(crate) fn root(&self, store_id: u64, bits: u64) -> Arc<GcRoot> {
        let root = Arc::new(GcRoot { store_id, bits });
        let mut roots = self.roots.lock().unwrap_or_else(|p| p.into_inner());
        // Dropped roots are cleaned up at every power of two: amortised constant time.
        if roots.len() >= 64 && roots.len().is_power_of_two() {
            roots.retain(|w| w.strong_count() > 0);
        }
        roots.push(Arc::downgrade(&root));
        root
    }

    /// Marks the object `bits` names, if it names one (conservative: any value may be given).
    #[inline]
    fn mark(marks: &mut [u64], worklist: &mut Vec<u32>, objects: &[Obj], bits: u64) {
        let Some((i, array)) = decode(bits) else { return };
        let Some(o) = objects.get(i) else { return };
        if matches!(o.body, Body::Free) || matches!(o.body, Body::Array(_)) != array {
            return;
        }
        let (w, b) = (i / 64, 1u64 << (i % 64));
        if marks[w] & b == 0 {
            marks[w] |= b;
            worklist.push(i as u32);
        }
    }

    /// Collects: keeps what the values of `roots` (any values: those naming no object are
    /// skipped), the pinned values and the host's roots reach, frees the rest.
    pub(crate) fn collect<'a>(&mut self, roots: impl IntoIterator<Item = &'a [u64]>) {
        self.collections += 1;
        let Self { objects, marks, worklist, pinned, roots: host, .. } = self;
        marks.clear();
        marks.resize(objects.len().div_ceil(64), 0);
        for slice in roots {
            for &v in slice {
                Self::mark(marks, worklist, objects, v);
            }
        }
        for &v in pinned.iter() {
            Self::mark(marks, worklist, objects, v);
        }
        let host = host.get_mut().unwrap_or_else(|p| p.into_inner());
        host.retain(|w| match w.upgrade() {
            Some(r) => {
                Self::mark(marks, worklist, objects, r.bits);
                true
            }
            None => false,
        });
        while let Some(i) = worklist.pop() {
            let o = &objects[i as usize];
            let Some(ty) = &o.ty else { continue };
            match (&ty.layout, &o.body) {
                (GcLayout::Struct { refs, .. }, Body::Struct(f)) => {
                    for &r in refs.iter() {
                        Self::mark(marks, worklist, objects, f[r as usize]);
                    }
                }
                (GcLayout::Array { elem: FieldKind::Ref, .. }, Body::Array(b)) => {
                    for e in b.chunks_exact(8) {
                        let v = u64::from_le_bytes(e.try_into().unwrap_or_default());
                        Self::mark(marks, worklist, objects, v);
                    }
                }
                _ => {}
            }
        }
        let mut bytes = 0;
        for (i, o) in objects.iter_mut().enumerate() {
            if matches!(o.body, Body::Free) {
                continue;
            }
            if marks[i / 64] & (1 << (i % 64)) != 0 {
                bytes += Self::cost(o);
            } else {
                *o = Obj { ty: None, body: Body::Free };
                self.free.push(i as u32);
            }
        }
        // Free indices low first, so the live objects stay dense.
        self.free.sort_unstable_by(|a, b| b.cmp(a));
        self.bytes = bytes;
        self.since = 0;
        self.trigger = bytes;
    }

    fn cost(o: &Obj) -> usize {
        match &o.body {
            Body::Free => 0,
            Body::Struct(f) => f.len() * 8 + OVERHEAD,
            Body::Array(b) => b.len() + OVERHEAD,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::registry::{Composite, Heap, Storage};

    fn node_type() -> Arc<GcType> {
        let r = Storage::Ref { nullable: true, heap: Heap::Local(0) };
        let c = Composite::Struct(Box::new([(r.clone(), true), (Storage::I8, true), (r, true)]));
        Arc::new(GcType::new(Box::new([0]), &c, &|_| crate::types::ValType::I32).unwrap())
    }

    #[test]
    fn cycles_are_collected_and_reachable_objects_kept() {
        let ty = node_type();
        let mut heap = GcHeap::default();
        let a = heap.alloc_struct(&ty, Some(&[0, 300, 0])).unwrap();
        let b = heap.alloc_struct(&ty, Some(&[a, 1, 0])).unwrap();
        heap.struct_fields_mut(a).unwrap()[0] = b;
        assert_eq!(heap.struct_fields(a).unwrap()[1], 300 & 0xff, "packed fields are truncated");
        let kept = heap.alloc_struct(&ty, None).unwrap();
        heap.collect([&[kept, 12345][..]]);
        assert!(heap.struct_fields(kept).is_ok());
        assert!(heap.struct_fields(a).is_err() && heap.struct_fields(b).is_err(), "the cycle is freed");
        assert_eq!(heap.bytes(), GcHeap::struct_cost(&ty));
        // Fewer under Miri, which runs this thousands of times slower.
        let n = if cfg!(miri) { 2_000 } else { 100_000 };
        for i in 0..n {
            let x = heap.alloc_struct(&ty, None).unwrap();
            let y = heap.alloc_struct(&ty, Some(&[x, 0, x])).unwrap();
            heap.struct_fields_mut(x).unwrap()[2] = y;
            if heap.wants_collection(0, u64::MAX) || (cfg!(miri) && i % 500 == 499) {
                heap.collect([&[kept][..]]);
            }
        }
        assert!(heap.objects.len() < 2 * n, "freed objects are reused: {}", heap.objects.len());
    }

    #[test]
    fn arrays_check_bounds_and_pack() {
        let c = Composite::Array(Storage::I16, true);
        let ty = Arc::new(GcType::new(Box::new([1]), &c, &|_| crate::types::ValType::I32).unwrap());
        let mut heap = GcHeap::default();
        let a = heap.alloc_array(&ty, 4, [0xffff_8001, 0]).unwrap();
        assert_eq!(heap.array_len(a), Ok(4));
        assert_eq!(heap.array_get(a, 3, true), Ok([0xffff_8001, 0]));
        assert_eq!(heap.array_get(a, 3, false), Ok([0x8001, 0]));
        assert_eq!(heap.array_get(a, 4, false), Err(TrapCode::ArrayOutOfBounds));
        assert_eq!(heap.array_fill(a, 3, [7, 0], 2), Err(TrapCode::ArrayOutOfBounds));
        assert_eq!(heap.array_copy(a, 0, a, 1, 3), Ok(()));
        assert_eq!(heap.array_len(0), Err(TrapCode::NullArrayReference));
        assert_eq!(heap.array_fill(a, u32::MAX, [0, 0], u32::MAX), Err(TrapCode::ArrayOutOfBounds));
    }
}
