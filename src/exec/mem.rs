//! The generic memory instructions (`Instr::Mem*`): any memory of the instance, 32- or
//! 64-bit, with 64-bit static offsets. They run out of line, called from the dispatch loop,
//! so the fast path (memory 0 of a 32-bit memory) keeps its code unchanged.
//!
//! Addresses and lengths are read from their slots by the memory's index type: the low 32
//! bits for a 32-bit memory, all 64 for a 64-bit one. The effective address `addr + offset`
//! is computed in `u64` and checked for overflow: an access past `u64::MAX` is out of bounds.
//!
//! The index conversions of 64-bit tables (`TableIndex64`, `TableGrowResult64`) run here too.

use std::time::Duration;

use super::ir::{AtomicOp, CompiledFunc, Instr, LoadKind};
use super::simd;
use crate::error::{Error, Result, TrapCode};
use crate::exec::state::{MemoryEntity, StoreInner};
use crate::linear::AccessError;
use crate::linear::SharedStorage;

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
            let mut b = [0u8; 16];
            read_bytes(m, index_value(s!(addr), m.ty.is_64()), offset, &mut b[..len])?;
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
            write_bytes(m, a, offset, &bytes[..len])?;
        }
        Instr::MemLoadLane { len_bytes, lane, dst, v, addr } => {
            let offset = offset_at(code, ip)?;
            let Some(Instr::Extra { a: mem, .. }) = code.code.get(ip + 1).copied() else {
                return Err(Error::msg("internal error: v128 lane load without its memory"));
            };
            ip += 2;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            let len = usize::from(len_bytes).min(8);
            let mut b = [0u8; 8];
            read_bytes(m, index_value(s!(addr), m.ty.is_64()), offset, &mut b[..len])?;
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
            write_bytes(m, a, offset, &x.to_le_bytes()[..len])?;
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
            let ea = atomic_address(m, index_value(s!(addr), m.ty.is_64()), offset, width)?;
            s!(dst) = match m.shared_storage() {
                Some(shared) => shared.load(ea, width).map_err(access_trap)?,
                None => read_le(&m.data()[span(ea, width)]),
            };
        }
        Instr::AtomicStore { width, addr, val, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let ea = atomic_address(m, index_value(s!(addr), m.ty.is_64()), offset, width)?;
            match m.shared_storage() {
                Some(shared) => shared.store(ea, width, s!(val)).map_err(access_trap)?,
                None => write_le(&mut m.data_mut()[span(ea, width)], s!(val)),
            }
        }
        Instr::AtomicRmw { op, width, dst, addr, val } => {
            let offset = offset_at(code, ip)?;
            let Some(Instr::Extra { a: mem, .. }) = code.code.get(ip + 1).copied() else {
                return Err(Error::msg("internal error: atomic read-modify-write without its memory"));
            };
            ip += 2;
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let ea = atomic_address(m, index_value(s!(addr), m.ty.is_64()), offset, width)?;
            let v = s!(val) & width_mask(width);
            s!(dst) = match m.shared_storage() {
                Some(shared) => shared.rmw(op, ea, width, v).map_err(access_trap)?,
                None => {
                    let bytes = &mut m.data_mut()[span(ea, width)];
                    let old = read_le(bytes);
                    write_le(bytes, rmw_apply(op, old, v));
                    old
                }
            };
        }
        Instr::AtomicCmpxchg { width, base: b, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = store_memory(inner, instance, mem);
            let m = &mut inner.memories[m];
            let ea = atomic_address(m, index_value(s!(b), m.ty.is_64()), offset, width)?;
            // Both operands are wrapped to the access width.
            let (expected, replacement) = (s!(b + 1) & width_mask(width), s!(b + 2) & width_mask(width));
            s!(b) = match m.shared_storage() {
                Some(shared) => shared.cmpxchg(ea, width, expected, replacement).map_err(access_trap)?,
                None => {
                    let bytes = &mut m.data_mut()[span(ea, width)];
                    let old = read_le(bytes);
                    if old == expected {
                        write_le(bytes, replacement);
                    }
                    old
                }
            };
        }
        Instr::AtomicWait { width, base: b, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            let ea = atomic_address(m, index_value(s!(b), m.ty.is_64()), offset, width)?;
            let Some(shared) = m.shared_storage() else {
                // An unshared memory has no other agent that could notify this one.
                return Err(super::interp::trap(TrapCode::AtomicWaitOnUnsharedMemory));
            };
            let expected = s!(b + 1) & width_mask(width);
            // The timeout is in nanoseconds; a negative one means no timeout.
            let timeout = u64::try_from(s!(b + 2) as i64).ok().map(Duration::from_nanos);
            s!(b) = u64::from(shared.wait(ea, width, expected, timeout).map_err(access_trap)?.as_wasm());
        }
        Instr::AtomicNotify { base: b, mem } => {
            let offset = offset_at(code, ip)?;
            ip += 1;
            let m = &inner.memories[store_memory(inner, instance, mem)];
            let ea = atomic_address(m, index_value(s!(b), m.ty.is_64()), offset, 4)?;
            s!(b) = match m.shared_storage() {
                Some(shared) => u64::from(shared.notify(ea, s!(b + 1) as u32).map_err(access_trap)?),
                // Nobody can wait on an unshared memory.
                None => 0,
            };
        }
        Instr::AtomicFence => std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst),
        other => return Err(Error::msg(format!("internal error: {other:?} is not a generic memory instruction"))),
    }
    Ok(ip)
}

/// The effective address of an atomic access of `width` bytes at `addr + offset` in `m`:
/// in bounds (checked first), then naturally aligned.
fn atomic_address(m: &MemoryEntity, addr: u64, offset: u64, width: u8) -> Result<u64> {
    let r = range(addr, offset, u64::from(width), memory_len(m)).ok_or_else(oob)?;
    let ea = r.start as u64;
    if !ea.is_multiple_of(u64::from(width.max(1))) {
        return Err(super::interp::trap(TrapCode::UnalignedAtomic));
    }
    Ok(ea)
}

/// The byte range `[ea, ea + width)` (already checked by [`atomic_address`]).
fn span(ea: u64, width: u8) -> std::ops::Range<usize> {
    ea as usize..ea as usize + usize::from(width)
}

/// The current size of `m` in bytes (a shared memory's may grow at any time).
fn memory_len(m: &MemoryEntity) -> usize {
    m.shared_storage().map_or(m.data().len(), SharedStorage::len_bytes)
}

/// Reads `buf.len()` bytes at `addr + offset` of `m` (atomically, for a shared memory).
fn read_bytes(m: &MemoryEntity, addr: u64, offset: u64, buf: &mut [u8]) -> Result<()> {
    let ea = addr.checked_add(offset).ok_or_else(oob)?;
    match m.shared_storage() {
        Some(shared) => shared.read(ea, buf).map_err(access_trap),
        None => {
            let r = range(ea, 0, buf.len() as u64, m.data().len()).ok_or_else(oob)?;
            buf.copy_from_slice(&m.data()[r]);
            Ok(())
        }
    }
}

/// Writes `bytes` at `addr + offset` of `m` (atomically, for a shared memory).
fn write_bytes(m: &mut MemoryEntity, addr: u64, offset: u64, bytes: &[u8]) -> Result<()> {
    let ea = addr.checked_add(offset).ok_or_else(oob)?;
    if let Some(shared) = m.shared_storage() {
        return shared.write(ea, bytes).map_err(access_trap);
    }
    let r = range(ea, 0, bytes.len() as u64, m.data().len()).ok_or_else(oob)?;
    m.data_mut()[r].copy_from_slice(bytes);
    Ok(())
}

/// The trap for a failed shared-memory access: misaligned (atomics only) or out of bounds.
fn access_trap(e: AccessError) -> Error {
    match e {
        AccessError::Misaligned { .. } => super::interp::trap(TrapCode::UnalignedAtomic),
        _ => oob(),
    }
}

/// The new value of a read-modify-write on an unshared memory (the caller truncates it to
/// the access width when storing).
fn rmw_apply(op: AtomicOp, old: u64, val: u64) -> u64 {
    match op {
        AtomicOp::Add => old.wrapping_add(val),
        AtomicOp::Sub => old.wrapping_sub(val),
        AtomicOp::And => old & val,
        AtomicOp::Or => old | val,
        AtomicOp::Xor => old ^ val,
        AtomicOp::Xchg => val,
    }
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

/// `memory.copy` of `len` bytes from `src` in `from` to `dst` in `to` (two different store
/// entries, which may still be the same shared memory, imported twice).
fn copy_between(to: &mut MemoryEntity, dst: u64, from: &MemoryEntity, src: u64, len: u64) -> Result<()> {
    // Both ranges are checked before anything is written.
    range(src, 0, len, memory_len(from)).ok_or_else(oob)?;
    range(dst, 0, len, memory_len(to)).ok_or_else(oob)?;
    match (to.shared_storage(), from.shared_storage()) {
        (Some(d), Some(s)) if d.same(s) => d.copy_within(dst, src, len).map_err(access_trap),
        (Some(d), Some(s)) => d.copy_from(s, dst, src, len).map_err(access_trap),
        (None, None) => {
            let s = range(src, 0, len, from.data().len()).ok_or_else(oob)?;
            let d = range(dst, 0, len, to.data().len()).ok_or_else(oob)?;
            to.data_mut()[d].copy_from_slice(&from.data()[s]);
            Ok(())
        }
        // One side shared: through a bounded buffer, a block at a time.
        _ => {
            let mut buf = vec![0u8; len.min(COPY_BLOCK) as usize];
            let mut done = 0;
            while done < len {
                let n = (len - done).min(COPY_BLOCK) as usize;
                read_bytes(from, src + done, 0, &mut buf[..n])?;
                write_bytes(to, dst + done, 0, &buf[..n])?;
                done += n as u64;
            }
            Ok(())
        }
    }
}

/// Block size of copies between a shared and an unshared memory.
const COPY_BLOCK: u64 = 64 * 1024;
