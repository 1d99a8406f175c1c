//! Lowering: compiled functions into threaded code ([`Op`]s).
//!
//! Each [`Instr`] is lowered, one to one, into an op: a handler of
//! [`threaded`](super::threaded) chosen by the instruction (or by a fusion rule that
//! covers it and the instructions after it, [`fuse`]), with the variant that takes an
//! operand from the accumulators where the data flow ([`flow`]) shows they hold it. The
//! finished ops are then checked by [`verify`], on which the soundness of the handlers'
//! unchecked accesses rests.

#[cfg(test)]
mod dump;
mod flow;
pub(crate) mod fuse;
#[cfg(test)]
mod rule_tests;
mod tables;
pub(crate) mod verify;

use super::ir::{CompiledFunc, Instr};
use super::threaded::*;
use crate::error::Error;
use crate::module::ModuleInner;
use flow::accumulator_flow;
use fuse::{Fused, fuse};
use tables::numeric;

#[derive(Clone, Copy)]
pub(crate) struct Low {
    pub(crate) f: Fam,
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) c: u32,
    pub(crate) d: u32,
}

impl Low {
    pub(crate) fn field(&self, f: Field) -> Option<u32> {
        match f {
            Field::A => Some(self.a),
            Field::B => Some(self.b),
            Field::C => Some(self.c),
            Field::None => None,
        }
    }

    /// The op, with the variant that takes operand slot `x` from the accumulators where
    /// they hold it (`acc = Some((x, float))`, `float` if the float one holds it too), and
    /// that variant's number.
    fn finish(&self, acc: Option<(u32, bool)>) -> (Op, usize) {
        let m = acc.filter(|&(_, float)| float || !self.f.reads_f64).map_or(0, |(x, _)| {
            usize::from(self.field(self.f.reads[0]) == Some(x))
                | usize::from(self.field(self.f.reads[1]) == Some(x)) << 1
        });
        (Op { h: self.f.v[m], a: self.a, b: self.b, c: self.c, d: self.d }, m)
    }
}

/// How many slots the parameters of `ty` take (a tail call moves that many).
fn param_slots(ty: &crate::types::FuncType) -> u32 {
    ty.params_slice().iter().map(|t| t.slot_count() as u32).sum()
}

pub(crate) fn op(f: Fam, a: u32, b: u32, c: u32) -> Low {
    Low { f, a, b, c, d: 0 }
}

/// Lowers the instructions of `f` into ops, checking what the handlers rely on (see the
/// module docs): slot operands inside the frame, branch targets inside the function, the
/// `Br`s of every `BrTable`. Where an op's operand is the slot that the accumulators hold
/// on every path to it, it gets the variant that takes that operand from them.
pub(crate) fn lower(f: &CompiledFunc, module: &ModuleInner) -> Result<Box<[Op]>, Error> {
    Ok(lower_with_acc(f, module, None)?.into_iter().map(|(op, _)| op).collect())
}

/// [`lower`], with the slot each op takes from the accumulators; counts in `rule_counts`
/// (indexed like [`fuse::RULES`]) how often each fusion rule fired.
pub(crate) fn lower_with_acc(
    f: &CompiledFunc,
    module: &ModuleInner,
    mut rule_counts: Option<&mut [usize]>,
) -> Result<Vec<(Op, Option<u32>)>, Error> {
    use Instr::*;
    let num_imported = module.num_imported_funcs;
    let num_funcs = module.funcs.len() as u32;
    let code = &f.code;
    let n = code.len();
    let bad = |what: &str, i: usize| {
        Error::msg(format!("internal error: {what} in instruction {i} of function {}", f.func_index))
    };
    let mut ops: Vec<Low> = Vec::with_capacity(n + 1);
    // How many instructions each op covers (where it continues when it falls through).
    let mut covers: Vec<usize> = Vec::with_capacity(n + 1);
    // Ops that execution enters with nothing known in the accumulators: the entry, and
    // where calls return to.
    let mut entries: Vec<bool> = (0..=n).map(|k| k == 0).collect();
    // Jumps: (from, to).
    let jumps = std::cell::RefCell::new(Vec::new());
    // Whether each op may continue with the op after what it covers (branches do not:
    // where they continue when not taken is a jump of its own).
    let mut falls: Vec<bool> = Vec::with_capacity(n + 1);
    let mut i = 0;
    // Instructions that must be `Br`s (the arms of a `BrTable`) up to this index.
    let mut table_arms_end = 0;
    while i < n {
        let rel = |target: u32| {
            // Jumps to unconditional jumps go straight to the final target.
            let mut target = target;
            for _ in 0..8 {
                match code.get(target as usize) {
                    Some(&Br { target: next }) if next != target => target = next,
                    _ => break,
                }
            }
            // The sentinel after the last instruction is a valid (stopping) target.
            if (target as usize) <= n {
                jumps.borrow_mut().push((i, target as usize));
                Ok((i64::from(target) - i as i64) as i32 as u32)
            } else {
                Err(bad("branch target out of the function", i))
            }
        };
        if i < table_arms_end && !matches!(code[i], Br { .. }) {
            return Err(bad("br_table arm is not a branch", i));
        }
        // Fused sequences (none of them may cover a `br_table` arm).
        if i >= table_arms_end
            && let Some((fused, len, rule)) = fuse(f, i)
        {
            if let Some(counts) = rule_counts.as_deref_mut() {
                counts[rule] += 1;
            }
            let imm = |f: Fam, a: u32, b: u32, k: u64| Low { f, a, b, c: k as u32, d: (k >> 32) as u32 };
            ops.push(match fused {
                Fused::Branch { h, a, b, target } => Low { f: h, a, b, c: rel(target)?, d: rel(i as u32 + 2)? },
                Fused::BranchImm { h, a, k, target } => {
                    Low { f: h, a, b: rel(target)?, c: k as u32, d: rel(i as u32 + 3)? }
                }
                Fused::BranchOne { h, a, target } => op(h, a, rel(target)?, rel(i as u32 + 2)?),
                Fused::Move { h, from, from_offset, to, to_offset } => {
                    Low { f: h, a: from, b: to, c: from_offset, d: to_offset }
                }
                Fused::BranchLoad { h, addr, index, offset, target } => Low {
                    f: h,
                    a: addr,
                    b: match index {
                        Some(b) => b,
                        None => offset,
                    },
                    c: rel(target)?,
                    d: rel((i + len) as u32)?,
                },
                Fused::AddBranch { h, x, y, z, target, len } => {
                    let low =
                        Low { f: h, a: x, b: y.unwrap_or_else(|k| k), c: z.unwrap_or_else(|k| k), d: rel(target)? };
                    // The handler falls through to the op right after what it covers.
                    jumps.borrow_mut().push((i, i + len));
                    low
                }
                Fused::Imm1 { h, dst, k: [b, c, d] } => Low { f: h, a: dst, b, c, d },
                Fused::Imm2 { h, dst, a, k1, k2 } => Low { f: h, a: dst, b: a, c: k1, d: k2 },
                Fused::StoreK { h, addr, k, offset } => op(h, k, addr, offset),
                Fused::StoreAddK { h, k, a, b, offset } => Low { f: h, a: k, b: a, c: b, d: offset },
                Fused::Const2 { d1, v1, d2, v2 } => Low { f: CONST2, a: d1, b: v1, c: d2, d: v2 },
                Fused::ConstBr { dst, val, target } => op(CONST_BR, dst, val, rel(target)?),
                Fused::Quad { h, a, b, c, d } => Low { f: h, a, b, c, d },
                Fused::Quad2 { h, a, b, c, d } => Low { f: h, a, b, c, d },
                Fused::Imm { h, dst, a, k } => imm(h, dst, a, k),
                Fused::Imm3 { h, dst, a, b, k } => Low { f: h, a: dst, b: a, c: b, d: k },
            });
            falls.push(!matches!(
                fused,
                Fused::Branch { .. }
                    | Fused::BranchImm { .. }
                    | Fused::BranchOne { .. }
                    | Fused::BranchLoad { .. }
                    | Fused::AddBranch { .. }
                    | Fused::ConstBr { .. }
            ));
            covers.push(len);
            i += 1;
            continue;
        }
        let o = match code[i] {
            Unreachable => op(UNREACHABLE, 0, 0, 0),
            ConsumeFuel { amount } => op(CONSUME_FUEL, amount, 0, 0),
            Br { target } => op(Fam { keeps: true, ..BR }, rel(target)?, 0, 0),
            BrIfNez { cond, target } => op(BR_IF_NEZ, cond, rel(target)?, rel(i as u32 + 1)?),
            BrIfEqz { cond, target } => op(BR_IF_EQZ, cond, rel(target)?, rel(i as u32 + 1)?),
            // A reference is tested in all its 64 bits.
            BrIfNull { r, target } => op(BR_I64_EQZ, r, rel(target)?, rel(i as u32 + 1)?),
            BrIfNonNull { r, target } => op(BR_I64_NEZ, r, rel(target)?, rel(i as u32 + 1)?),
            BrTable { index, len } => {
                let end = (i + 2).checked_add(len as usize).filter(|&e| e <= n);
                table_arms_end = end.ok_or_else(|| bad("br_table arms past the end", i))?;
                // It continues where one of its arms jumps to.
                jumps.borrow_mut().extend((i + 1..table_arms_end).map(|arm| (i, arm)));
                op(BR_TABLE, index, len, 0)
            }
            Return => op(RET, 0, 0, 0),
            Call { func, base } => match func.checked_sub(num_imported) {
                Some(k) if func < num_funcs => op(CALL_INTERNAL, k, base, 0),
                _ => op(CALL, func, base, 0),
            },
            CallIndirect { index, base, site } => op(CALL_INDIRECT, index, base, site),
            ReturnCall { func, base } => {
                let args = param_slots(module.func_type(func));
                match func.checked_sub(num_imported) {
                    Some(k) if func < num_funcs => op(RETURN_CALL_INTERNAL, k, base, args),
                    _ => op(RETURN_CALL, func, base, args),
                }
            }
            ReturnCallIndirect { index, base, site } => {
                let &(ty, _) =
                    f.indirect_sites.get(site as usize).ok_or_else(|| bad("unknown call_indirect site", i))?;
                let args = param_slots(&module.types[ty as usize]);
                Low { f: RETURN_CALL_INDIRECT, a: index, b: base, c: site, d: args }
            }
            CallRef { func_ref, base, ty: _ } => op(CALL_REF, func_ref, base, 0),
            Throw { tag, base } => {
                let ty = module
                    .tags
                    .get(tag as usize)
                    .and_then(|&t| module.types.get(t as usize))
                    .ok_or_else(|| bad("unknown tag", i))?;
                op(THROW, tag, base, param_slots(ty))
            }
            ThrowRef { r } => op(THROW_REF, r, 0, 0),
            ReturnCallRef { func_ref, base, ty } => {
                let ty = module.types.get(ty as usize).ok_or_else(|| bad("unknown call_ref type", i))?;
                op(RETURN_CALL_REF, func_ref, base, param_slots(ty))
            }
            Copy { dst, src } => op(COPY, dst, src, 0),
            Const32 { dst, val } => op(CONST32, dst, val, 0),
            Const64 { dst, lo, hi } => op(CONST64, dst, lo, hi),
            Select { dst, b, cond } => op(SELECT, dst, b, cond),
            GlobalGet { dst, global } => op(GLOBAL_GET, dst, global, 0),
            GlobalSet { src, global } => op(GLOBAL_SET, src, global, 0),
            I32Load { dst, addr, offset } | F32Load { dst, addr, offset } => op(I32_LOAD, dst, addr, offset),
            I64Load { dst, addr, offset } | F64Load { dst, addr, offset } => op(I64_LOAD, dst, addr, offset),
            I32Load8S { dst, addr, offset } => op(I32_LOAD8_S, dst, addr, offset),
            I32Load8U { dst, addr, offset } => op(I32_LOAD8_U, dst, addr, offset),
            I32Load16S { dst, addr, offset } => op(I32_LOAD16_S, dst, addr, offset),
            I32Load16U { dst, addr, offset } => op(I32_LOAD16_U, dst, addr, offset),
            I64Load8S { dst, addr, offset } => op(I64_LOAD8_S, dst, addr, offset),
            I64Load8U { dst, addr, offset } => op(I64_LOAD8_U, dst, addr, offset),
            I64Load16S { dst, addr, offset } => op(I64_LOAD16_S, dst, addr, offset),
            I64Load16U { dst, addr, offset } => op(I64_LOAD16_U, dst, addr, offset),
            I64Load32S { dst, addr, offset } => op(I64_LOAD32_S, dst, addr, offset),
            I64Load32U { dst, addr, offset } => op(I64_LOAD32_U, dst, addr, offset),
            I32Store { addr, val, offset } | F32Store { addr, val, offset } | I64Store32 { addr, val, offset } => {
                op(I32_STORE, val, addr, offset)
            }
            I64Store { addr, val, offset } | F64Store { addr, val, offset } => op(I64_STORE, val, addr, offset),
            I32Store8 { addr, val, offset } | I64Store8 { addr, val, offset } => op(STORE8, val, addr, offset),
            I32Store16 { addr, val, offset } | I64Store16 { addr, val, offset } => op(STORE16, val, addr, offset),
            MemorySize { dst } => op(MEMORY_SIZE, dst, 0, 0),
            MemoryCopy { base } => op(MEMORY_COPY, base, 0, 0),
            MemoryFill { base } => op(MEMORY_FILL, base, 0, 0),
            MemoryGrow { dst, delta } => op(MEMORY_GROW, dst, delta, 0),
            Extra { .. } => op(EXTRA, 0, 0, 0),
            RefFunc { dst, func } => op(REF_FUNC, dst, func, 0),
            RefIsNull { dst, src } => op(REF_IS_NULL, dst, src, 0),
            RefAsNonNull { r } => op(REF_AS_NON_NULL, r, 0, 0),
            RefTest { dst, src, test } => op(REF_TEST, dst, src, test),
            RefCast { r, test } => op(REF_CAST, r, test, 0),
            Gc { op: code, base, imm } => op(GC, code, base, imm),
            I32AddImm { dst, a, imm } => op(I32_ADD_IMM1, dst, a, imm),
            // Two results: every slot the handler touches is a field of its own (verified).
            I64Add128 { base } | I64Sub128 { base } => {
                let f = if matches!(code[i], I64Add128 { .. }) { I64_ADD128 } else { I64_SUB128 };
                let at = |k: u32| base.checked_add(k).ok_or_else(|| bad("slot range past u32::MAX", i));
                Low { f, a: base, b: at(1)?, c: at(2)?, d: at(3)? }
            }
            I64MulWideS { dst, a, b } | I64MulWideU { dst, a, b } => {
                let f = if matches!(code[i], I64MulWideS { .. }) { I64_MUL_WIDE_S } else { I64_MUL_WIDE_U };
                let hi = dst.checked_add(1).ok_or_else(|| bad("slot range past u32::MAX", i))?;
                Low { f, a: dst, b: hi, c: a, d: b }
            }
            ref other => match numeric(other) {
                Some((h, dst, a, b)) => op(h, dst, a, b),
                None => op(SLOW, 0, 0, 0),
            },
        };
        if matches!(code[i], Call { .. } | CallIndirect { .. } | CallRef { .. }) {
            entries[i + 1] = true;
        }
        falls.push(!matches!(
            code[i],
            Unreachable
                | Br { .. }
                | BrIfNez { .. }
                | BrIfEqz { .. }
                | BrIfNull { .. }
                | BrIfNonNull { .. }
                | BrTable { .. }
                | Return
                | ReturnCall { .. }
                | ReturnCallIndirect { .. }
                | ReturnCallRef { .. }
                | Throw { .. }
                | ThrowRef { .. }
        ));
        ops.push(o);
        covers.push(1);
        i += 1;
    }
    ops.push(op(SENTINEL, 0, 0, 0));
    covers.push(1);
    falls.push(false);
    // A catch continues at its pad with nothing in the accumulators.
    for h in f.handlers.iter() {
        let pad = h.pad as usize;
        if pad >= n || h.start > h.end || h.end as usize > n {
            return Err(bad("catch clause out of the function", pad.min(n)));
        }
        let payload = match h.tag {
            Some(tag) => {
                let ty = module.tags.get(tag as usize).and_then(|&t| module.types.get(t as usize));
                param_slots(ty.ok_or_else(|| bad("catch of an unknown tag", pad))?)
            }
            None => 0,
        };
        let end = u64::from(h.dst) + u64::from(payload) + u64::from(h.with_ref);
        if end > u64::from(f.frame_slots) {
            return Err(bad("caught values out of the frame", pad));
        }
        entries[pad] = true;
    }
    let acc = accumulator_flow(&ops, &covers, &falls, &entries, &jumps.into_inner());
    let finished: Vec<(Op, Option<u32>)> = ops
        .iter()
        .enumerate()
        .map(|(k, low)| {
            let acc = acc[k].flatten();
            let (op, m) = low.finish(acc);
            (op, acc.filter(|_| m != 0).map(|(x, _)| x))
        })
        .collect();
    let checked: Vec<Op> = finished.iter().map(|&(op, _)| op).collect();
    let fams: Vec<Fam> = ops.iter().map(|low| low.f).collect();
    verify::verify(&checked, &fams, f.frame_slots).map_err(|e| {
        Error::msg(format!("internal error: {e} in function {} (lowered code failed verification)", f.func_index))
    })?;
    Ok(finished)
}
