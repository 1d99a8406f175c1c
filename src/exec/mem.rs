//! The generic memory instructions (`Instr::Mem*`): any memory of the instance, 32- or
//! 64-bit, with 64-bit static offsets. They run out of line, called from the dispatch loop,
//! so the fast path (memory 0 of a 32-bit memory) keeps its code unchanged.
//!
//! Addresses and lengths are read from their slots by the memory's index type: the low 32
//! bits for a 32-bit memory, all 64 for a 64-bit one. The effective address `addr + offset`
//! is computed in `u64` and checked for overflow: an access past `u64::MAX` is out of bounds.
//!
//! The index conversions of 64-bit tables (`TableIndex64`, `TableGrowResult64`) run here too.

use super::ir::{CompiledFunc, Instr, LoadKind};
use super::simd;
use crate::error::{Error, Result, TrapCode};
use crate::runtime::memory::MemoryEntity;
use crate::store::StoreInner;

fn oob() -> Error {
    super::interp::trap(TrapCode::MemoryOutOfBounds)
}

/// The `[start, end)` byte range of an access of `len` bytes at `addr + offset` in a
/// memory of `size` bytes, or `None` if any part of it is out of bounds (or overflows).
#[inline]
fn range(addr: u64, offset: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let start = addr.checked_add(offset)?;
    let end = start.checked_add(len)?;
    if end > size as u64 {
        return None;
    }
    // Both are at most `size`, a `usize`.
    Some(start as usize..end as usize)
}

/// The value of an address or length operand of a memory with the given index type.
#[inline]
fn index_value(raw: u64, is_64: bool) -> u64 {
    if is_64 { raw } else { u64::from(raw as u32) }
}

/// The 64-bit offset in the `Extra` at `code[ip]`.
fn offset_at(code: &CompiledFunc, ip: usize) -> Result<u64> {
    match code.code.get(ip) {
        Some(Instr::Extra { a, b }) => Ok(u64::from(*a) | (u64::from(*b) << 32)),
        _ => Err(Error::msg("internal error: memory instruction without its offset")),
    }
}

/// The store index of memory `mem` of `instance`.
fn store_memory(inner: &StoreInner, instance: u32, mem: u32) -> usize {
    inner.instances[instance as usize].memories[mem as usize] as usize
}

/// Runs the generic memory instruction (or 64-bit table conversion) at `code[ip - 1]` in the
/// frame `frame`; returns the next instruction index (past its `Extra`s).
#[inline(never)]
pub(super) fn exec_mem(
    code: &CompiledFunc,
    mut ip: usize,
    frame: &mut [u64],
    inner: &mut StoreInner,
    instance: u32,
) -> Result<usize> {
    macro_rules! s {
        ($x:expr) => {
            frame[$x as usize]
        };
    }
    macro_rules! get_v128 {
        ($x:expr) => {
            u128::from(s!($x)) | (u128::from(s!($x + 1)) << 64)
        };
    }
    macro_rules! set_v128 {
        ($dst:expr, $v:expr) => {{
            let v: u128 = $v;
            s!($dst) = v as u64;
            s!($dst + 1) = (v >> 64) as u64;
        }};
    }
    let instr = code.code[ip - 1];
    match instr {
        Instr::MemLoad { kind, dst, addr, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            let len = kind.len_bytes();
            let r = range(index_value(s!(addr), m.ty.is_64()), offset, len as u64, m.data().len()).ok_or_else(oob)?;
            let mut b = [0u8; 16];
            b[..len].copy_from_slice(&m.data()[r]);
            let bits = u128::from_le_bytes(b);
            match kind {
                LoadKind::V128 => set_v128!(dst, bits),
                LoadKind::V128Ext(k) => set_v128!(dst, k.apply(bits as u64)),
                _ => s!(dst) = kind.extend(bits as u64),
            }
        }
        Instr::MemStore { len_bytes, addr, val, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let bytes = if len_bytes == 16 { get_v128!(val) } else { u128::from(s!(val)) }.to_le_bytes();
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let len = usize::from(len_bytes).min(16);
            let a = index_value(s!(addr), m.ty.is_64());
            let r = range(a, offset, len as u64, m.data().len()).ok_or_else(oob)?;
            m.data_mut()[r].copy_from_slice(&bytes[..len]);
        }
        Instr::MemLoadLane { len_bytes, lane, dst, v, addr } => {
            let offset = offset_at(code, ip)?;
            let Some(Instr::Extra { a: mem, .. }) = code.code.get(ip + 1).copied() else {
                return Err(Error::msg("internal error: v128 lane load without its memory"));
            };
            ip += 2;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            let len = usize::from(len_bytes).min(8);
            let r = range(index_value(s!(addr), m.ty.is_64()), offset, len as u64, m.data().len()).ok_or_else(oob)?;
            let mut b = [0u8; 8];
            b[..len].copy_from_slice(&m.data()[r]);
            let shape = simd::lane_shape_of_len(len);
            let result = simd::replace_lane(shape, lane, get_v128!(v), u64::from_le_bytes(b));
            set_v128!(dst, result);
        }
        Instr::MemStoreLane { len_bytes, lane, addr, v, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let len = usize::from(len_bytes).min(8);
            let x = simd::extract_lane(simd::lane_shape_of_len(len), lane, get_v128!(v));
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let a = index_value(s!(addr), m.ty.is_64());
            let r = range(a, offset, len as u64, m.data().len()).ok_or_else(oob)?;
            m.data_mut()[r].copy_from_slice(&x.to_le_bytes()[..len]);
        }
        Instr::MemSize { dst, mem } => {
            s!(dst) = inner.memories[store_memory(inner, instance, mem)].size_pages();
        }
        Instr::MemGrow { dst, delta, mem } => {
            let limits = inner.limits;
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let is_64 = m.ty.is_64();
            let old = m.grow(index_value(s!(delta), is_64), &limits);
            // Failure is -1 of the memory's index type.
            s!(dst) = old.unwrap_or(if is_64 { u64::MAX } else { u64::from(u32::MAX) });
        }
        Instr::MemFill { base: b, mem } => {
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let is_64 = m.ty.is_64();
            let (d, v, n) = (index_value(s!(b), is_64), s!(b + 1) as u8, index_value(s!(b + 2), is_64));
            m.fill(d, v, n).map_err(|_| oob())?;
        }
        Instr::MemCopy { base: b, dst_mem, src_mem } => {
            let (dm, sm) = (store_memory(inner, instance, dst_mem), store_memory(inner, instance, src_mem));
            let (d64, s64) = (inner.memories[dm].ty.is_64(), inner.memories[sm].ty.is_64());
            // The length has the smaller of the two index types.
            let (d, src, n) =
                (index_value(s!(b), d64), index_value(s!(b + 1), s64), index_value(s!(b + 2), d64 && s64));
            if dm == sm {
                inner.memories[dm].copy_within(d, src, n).map_err(|_| oob())?;
            } else {
                let [dst_m, src_m] = inner.memories.get_disjoint_mut([dm, sm]).map_err(|_| oob())?;
                copy_between(dst_m, d, src_m, src, n)?;
            }
        }
        Instr::MemInit { base: b, segment, mem } => {
            let m = store_memory(inner, instance, mem);
            let is_64 = inner.memories[m].ty.is_64();
            // The segment offset and length are always `i32`s.
            let (d, src, n) = (index_value(s!(b), is_64), u64::from(s!(b + 1) as u32), u64::from(s!(b + 2) as u32));
            let bytes = inner.instances[instance as usize].datas[segment as usize].clone();
            inner.memories[m].init(d, &bytes, src, n).map_err(|_| oob())?;
        }
        Instr::TableIndex64 { dst, src } => s!(dst) = u64::from(u32::try_from(s!(src)).unwrap_or(u32::MAX)),
        Instr::TableGrowResult64 { dst } => {
            if s!(dst) == u64::from(u32::MAX) {
                s!(dst) = u64::MAX;
            }
        }
        Instr::AtomicLoad { width, dst, addr, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            let r = atomic_range(index_value(s!(addr), m.ty.is_64()), offset, width, m.data().len())?;
            s!(dst) = read_le(&m.data()[r]);
        }
        Instr::AtomicStore { width, addr, val, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let r = atomic_range(index_value(s!(addr), m.ty.is_64()), offset, width, m.data().len())?;
            write_le(&mut m.data_mut()[r], s!(val));
        }
        Instr::AtomicRmw { op, width, dst, addr, val } => {
            let offset = offset_at(code, ip)?;
            let Some(Instr::Extra { a: mem, .. }) = code.code.get(ip + 1).copied() else {
                return Err(Error::msg("internal error: atomic read-modify-write without its memory"));
            };
            ip += 2;
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let r = atomic_range(index_value(s!(addr), m.ty.is_64()), offset, width, m.data().len())?;
            let bytes = &mut m.data_mut()[r];
            let old = read_le(bytes);
            write_le(bytes, op.apply(old, s!(val)));
            s!(dst) = old;
        }
        Instr::AtomicCmpxchg { width, base: b, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let r = atomic_range(index_value(s!(b), m.ty.is_64()), offset, width, m.data().len())?;
            let bytes = &mut m.data_mut()[r];
            let old = read_le(bytes);
            // The expected value is compared in the access width (wrapped).
            if old == s!(b + 1) & width_mask(width) {
                write_le(bytes, s!(b + 2));
            }
            s!(b) = old;
        }
        Instr::AtomicWait { width, base: b, mem } => {
            let offset = offset_at(code, ip)?;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            atomic_range(index_value(s!(b), m.ty.is_64()), offset, width, m.data().len())?;
            // An unshared memory has no other agent that could notify this one.
            return Err(super::interp::trap(TrapCode::AtomicWaitOnUnsharedMemory));
        }
        Instr::AtomicNotify { base: b, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            atomic_range(index_value(s!(b), m.ty.is_64()), offset, 4, m.data().len())?;
            // Nobody can wait on an unshared memory.
            s!(b) = 0;
        }
        Instr::AtomicFence => std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst),
        other => return Err(Error::msg(format!("internal error: {other:?} is not a generic memory instruction"))),
    }
    Ok(ip)
}

/// The byte range of an atomic access of `width` bytes at `addr + offset`: in bounds (checked
/// first), then naturally aligned.
fn atomic_range(addr: u64, offset: u64, width: u8, size: usize) -> Result<std::ops::Range<usize>> {
    let r = range(addr, offset, u64::from(width), size).ok_or_else(oob)?;
    if r.start % usize::from(width.max(1)) != 0 {
        return Err(super::interp::trap(TrapCode::UnalignedAtomic));
    }
    Ok(r)
}

/// The little-endian value of up to 8 bytes.
fn read_le(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = bytes.len().min(8);
    b[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(b)
}

/// Writes the low `bytes.len()` (at most 8) bytes of `value`, little-endian.
fn write_le(bytes: &mut [u8], value: u64) {
    let n = bytes.len().min(8);
    bytes[..n].copy_from_slice(&value.to_le_bytes()[..n]);
}

/// The mask of the low `width` bytes.
fn width_mask(width: u8) -> u64 {
    if width >= 8 { u64::MAX } else { (1u64 << (8 * u32::from(width))) - 1 }
}

/// `memory.copy` of `len` bytes from `src` in `from` to `dst` in `to` (two different memories).
fn copy_between(to: &mut MemoryEntity, dst: u64, from: &MemoryEntity, src: u64, len: u64) -> Result<()> {
    let s = range(src, 0, len, from.data().len()).ok_or_else(oob)?;
    let d = range(dst, 0, len, to.data().len()).ok_or_else(oob)?;
    to.data_mut()[d].copy_from_slice(&from.data()[s]);
    Ok(())
}
