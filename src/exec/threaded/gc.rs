//! The handler of the GC proposal's struct and array instructions and of casts to
//! concrete types: one op, [`GC`], whose field `a` says which instruction it is (see
//! [`gc_op`](crate::exec::ir::gc_op)), with its operands in the slots from `b` and its
//! result written from `b`. It works through the checked value stack, not the frame pointer.

use super::*;
use std::sync::Arc;

use crate::engine::layout::{FieldKind, GcLayout, GcType};
use crate::exec::ir::gc_op;
use crate::exec::state::gc::{GcHeap, pack, unpack};

/// Why a GC instruction stopped.
enum Fail {
    Trap(TrapCode),
    Internal(&'static str),
}

impl From<TrapCode> for Fail {
    fn from(code: TrapCode) -> Fail {
        Fail::Trap(code)
    }
}

handlers! {
    /// A GC instruction: `a` the instruction and its small immediates, `b` the first slot of
    /// its operands (where its result goes), `c` its other immediate.
    gc / GC (I, F, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        match step(cx, op.a, cx.regs.base + op.b as usize, op.c) {
            Step::Next => next!(step!(ip, 1), sp, mem, len, cx, acc, facc),
            Step::Trap(code) => trap_at(cx, ip, code),
            Step::Error => {
                cx.regs.at = ip;
                Exit::Error
            }
        }
    }
}

/// The `n` slots from `at`.
fn slots<'c>(cx: &'c Cx<'_>, at: usize, n: usize) -> Result<&'c [u64], Fail> {
    cx.slots.get(at..at + n).ok_or(Fail::Internal("GC operands out of the stack"))
}

fn slot(cx: &Cx<'_>, at: usize) -> Result<u64, Fail> {
    cx.slots.get(at).copied().ok_or(Fail::Internal("GC operand out of the stack"))
}

fn put(cx: &mut Cx<'_>, at: usize, v: u64) -> Result<(), Fail> {
    *cx.slots.get_mut(at).ok_or(Fail::Internal("GC result out of the stack"))? = v;
    Ok(())
}

/// The layout of the running module's type `ty`.
fn gc_type(cx: &Cx<'_>, ty: u32) -> Result<Arc<GcType>, Fail> {
    let inst = &cx.inner.instances[cx.regs.instance as usize];
    match inst.module.gc_types.get(ty as usize) {
        Some(Some(t)) => Ok(t.clone()),
        _ => Err(Fail::Internal("GC instruction on a type that is not a struct or array")),
    }
}

/// Makes room for `cost` bytes; the live values are the stack below `live_end`.
fn reserve(cx: &mut Cx<'_>, cost: usize, live_end: usize) -> Result<(), Fail> {
    let live = &cx.slots[..live_end.min(cx.slots.len())];
    cx.inner.gc_reserve(cost, live).map_err(Fail::Trap)
}

/// The one or two slots of a value of kind `kind` at `at`.
fn value(cx: &Cx<'_>, at: usize, kind: FieldKind) -> Result<[u64; 2], Fail> {
    Ok(if kind == FieldKind::V128 { [slot(cx, at)?, slot(cx, at + 1)?] } else { [slot(cx, at)?, 0] })
}

fn array_elem(ty: &GcType) -> Result<FieldKind, Fail> {
    match ty.layout {
        GcLayout::Array { elem, .. } => Ok(elem),
        GcLayout::Struct { .. } => Err(Fail::Internal("array instruction on a struct type")),
    }
}

fn kind_of(code: u32) -> Result<FieldKind, Fail> {
    gc_op::kind(code).ok_or(Fail::Internal("unknown GC field kind"))
}

/// How a GC instruction ended, small enough to come back in a register: the handler keeps
/// no memory of its own across its tail call to the next op.
#[derive(Clone, Copy)]
enum Step {
    Next,
    Trap(TrapCode),
    /// An internal error, left in `cx.regs.error`.
    Error,
}

/// [`run`], out of line.
#[inline(never)]
fn step(cx: &mut Cx<'_>, code: u32, at: usize, imm: u32) -> Step {
    match run(cx, code, at, imm) {
        Ok(()) => Step::Next,
        Err(Fail::Trap(code)) => Step::Trap(code),
        Err(Fail::Internal(what)) => {
            cx.regs.error = Some(Error::msg(format!("internal error: {what}")));
            Step::Error
        }
    }
}

/// Runs GC instruction `code` with its operands from slot `at` (absolute) and immediate `imm`.
fn run(cx: &mut Cx<'_>, code: u32, at: usize, imm: u32) -> Result<(), Fail> {
    match code & 0xff {
        gc_op::STRUCT_NEW | gc_op::STRUCT_NEW_DEFAULT => {
            let ty = gc_type(cx, imm)?;
            let GcLayout::Struct { slots: n, .. } = ty.layout else {
                return Err(Fail::Internal("struct.new of an array type"));
            };
            let default = code & 0xff == gc_op::STRUCT_NEW_DEFAULT;
            let n = if default { 0 } else { n as usize };
            reserve(cx, GcHeap::struct_cost(&ty), at + n)?;
            // The operands are read in place: the stack and the heap are apart.
            let fields = match default {
                true => None,
                false => Some(cx.slots.get(at..at + n).ok_or(Fail::Internal("GC operands out of the stack"))?),
            };
            let r = cx.inner.gc.alloc_struct(&ty, fields)?;
            put(cx, at, r)
        }
        gc_op::STRUCT_GET => {
            let kind = kind_of(code)?;
            let f = cx.inner.gc.struct_fields(slot(cx, at)?)?;
            let i = imm as usize;
            let v = f.get(i..i + kind.slots()).ok_or(Fail::Internal("struct field out of the object"))?;
            let (lo, hi) = (unpack(kind, v[0], gc_op::signed(code)), v.get(1).copied());
            put(cx, at, lo)?;
            match (kind, hi) {
                (FieldKind::V128, Some(hi)) => put(cx, at + 1, hi),
                _ => Ok(()),
            }
        }
        gc_op::STRUCT_SET => {
            let kind = kind_of(code)?;
            let r = slot(cx, at)?;
            let v = value(cx, at + 1, kind)?;
            let f = cx.inner.gc.struct_fields_mut(r)?;
            let i = imm as usize;
            let dst = f.get_mut(i..i + kind.slots()).ok_or(Fail::Internal("struct field out of the object"))?;
            dst[0] = pack(kind, v[0]);
            if let Some(hi) = dst.get_mut(1) {
                *hi = v[1];
            }
            Ok(())
        }
        gc_op::ARRAY_NEW | gc_op::ARRAY_NEW_DEFAULT => {
            let ty = gc_type(cx, imm)?;
            let elem = array_elem(&ty)?;
            let (init, n_at) =
                if code & 0xff == gc_op::ARRAY_NEW { (value(cx, at, elem)?, at + elem.slots()) } else { ([0, 0], at) };
            let n = slot(cx, n_at)? as u32;
            let cost = GcHeap::array_cost(&ty, n).ok_or(TrapCode::GcHeapExhausted)?;
            reserve(cx, cost, n_at + 1)?;
            let r = cx.inner.gc.alloc_array(&ty, n, init)?;
            put(cx, at, r)
        }
        gc_op::ARRAY_NEW_FIXED => {
            let ty = gc_type(cx, imm)?;
            let elem = array_elem(&ty)?;
            let n = code >> 8;
            let width = n as usize * elem.slots();
            reserve(cx, GcHeap::array_cost(&ty, n).ok_or(TrapCode::GcHeapExhausted)?, at + width)?;
            let values = cx.slots.get(at..at + width).ok_or(Fail::Internal("GC operands out of the stack"))?;
            let r = cx.inner.gc.alloc_array_from(&ty, values)?;
            put(cx, at, r)
        }
        gc_op::ARRAY_NEW_DATA => {
            let ty = gc_type(cx, imm)?;
            let elem = array_elem(&ty)?;
            let (offset, n) = (slot(cx, at)? as u32, slot(cx, at + 1)? as u32);
            let inst = &cx.inner.instances[cx.regs.instance as usize];
            let data = inst.datas.get((code >> 8) as usize).ok_or(Fail::Internal("unknown data segment"))?.clone();
            let bytes = u64::from(n) * elem.bytes() as u64;
            let end = u64::from(offset) + bytes;
            if end > data.len() as u64 {
                return Err(Fail::Trap(TrapCode::MemoryOutOfBounds));
            }
            reserve(cx, GcHeap::array_cost(&ty, n).ok_or(TrapCode::GcHeapExhausted)?, at + 2)?;
            let r = cx.inner.gc.alloc_array_bytes(&ty, &data[offset as usize..end as usize])?;
            put(cx, at, r)
        }
        gc_op::ARRAY_NEW_ELEM => {
            let ty = gc_type(cx, imm)?;
            let (offset, n) = (slot(cx, at)? as u32, slot(cx, at + 1)? as u32);
            let inst = &cx.inner.instances[cx.regs.instance as usize];
            let elems = inst.elems.get((code >> 8) as usize).ok_or(Fail::Internal("unknown element segment"))?.clone();
            let end = u64::from(offset) + u64::from(n);
            if end > elems.len() as u64 {
                return Err(Fail::Trap(TrapCode::TableOutOfBounds));
            }
            reserve(cx, GcHeap::array_cost(&ty, n).ok_or(TrapCode::GcHeapExhausted)?, at + 2)?;
            let r = cx.inner.gc.alloc_array_from(&ty, &elems[offset as usize..end as usize])?;
            put(cx, at, r)
        }
        gc_op::ARRAY_GET => {
            let (r, i) = (slot(cx, at)?, slot(cx, at + 1)? as u32);
            let v = cx.inner.gc.array_get(r, i, gc_op::signed(code))?;
            put(cx, at, v[0])?;
            if kind_of(code)? == FieldKind::V128 {
                put(cx, at + 1, v[1])?;
            }
            Ok(())
        }
        gc_op::ARRAY_SET => {
            let (r, i) = (slot(cx, at)?, slot(cx, at + 1)? as u32);
            let v = value(cx, at + 2, kind_of(code)?)?;
            Ok(cx.inner.gc.array_set(r, i, v)?)
        }
        gc_op::ARRAY_LEN => {
            let n = cx.inner.gc.array_len(slot(cx, at)?)?;
            put(cx, at, u64::from(n))
        }
        gc_op::ARRAY_FILL => {
            let kind = kind_of(code)?;
            let (r, offset) = (slot(cx, at)?, slot(cx, at + 1)? as u32);
            let v = value(cx, at + 2, kind)?;
            let n = slot(cx, at + 2 + kind.slots())? as u32;
            Ok(cx.inner.gc.array_fill(r, offset, v, n)?)
        }
        gc_op::ARRAY_COPY => {
            let s = slots(cx, at, 5)?;
            let (dst, dst_at, src, src_at, n) = (s[0], s[1] as u32, s[2], s[3] as u32, s[4] as u32);
            Ok(cx.inner.gc.array_copy(dst, dst_at, src, src_at, n)?)
        }
        gc_op::ARRAY_INIT_DATA => {
            let s = slots(cx, at, 4)?;
            let (r, offset, from, n) = (s[0], s[1] as u32, s[2] as u32, s[3] as u32);
            let inst = &cx.inner.instances[cx.regs.instance as usize];
            let data = inst.datas.get(imm as usize).ok_or(Fail::Internal("unknown data segment"))?.clone();
            Ok(cx.inner.gc.array_init_bytes(r, offset, n, &data, from)?)
        }
        gc_op::ARRAY_INIT_ELEM => {
            let s = slots(cx, at, 4)?;
            let (r, offset, from, n) = (s[0], s[1] as u32, s[2] as u32, s[3] as u32);
            let inst = &cx.inner.instances[cx.regs.instance as usize];
            let elems = inst.elems.get(imm as usize).ok_or(Fail::Internal("unknown element segment"))?.clone();
            Ok(cx.inner.gc.array_init_values(r, offset, n, &elems, from)?)
        }
        gc_op::REF_TEST | gc_op::REF_CAST => {
            let r = slot(cx, at)?;
            let passes = if r == 0 { gc_op::nullable(code) } else { concrete_test(cx, r, imm, code) };
            if code & 0xff == gc_op::REF_TEST {
                // The result goes over the reference.
                put(cx, at, u64::from(passes))
            } else if passes {
                Ok(())
            } else {
                Err(Fail::Trap(TrapCode::CastFailure))
            }
        }
        _ => Err(Fail::Internal("unknown GC instruction")),
    }
}

/// Whether the non-null reference `r` is of concrete type `sup` (`code` says at which depth
/// of its supertype chain, and whether it is a function type): a struct or array of a
/// subtype, or a function of one.
fn concrete_test(cx: &Cx<'_>, r: u64, sup: u32, code: u32) -> bool {
    let depth = gc_op::depth(code);
    if gc_op::is_func(code) {
        // A function reference: its index + 1 in the store.
        return match cx.inner.funcs.get((r as usize).wrapping_sub(1)) {
            Some(f) => cx.inner.engine.supers(f.type_id()).get(depth) == Some(&sup),
            None => false,
        };
    }
    match cx.inner.gc.type_of(r) {
        Some(t) => t.is_subtype_of(sup, depth),
        None => false,
    }
}
