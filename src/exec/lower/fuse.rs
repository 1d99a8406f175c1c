//! Fusion: sequences of instructions that one op runs.

use super::tables::*;
use crate::exec::ir::{CompiledFunc, Instr, Slot};
use crate::exec::threaded::*;

/// A fused op.
pub(crate) enum Fused {
    /// `if a op b { goto target }` (covers a comparison and a branch).
    Branch { h: Fam, a: Slot, b: Slot, target: u32 },
    /// `if a op k { goto target }` (covers a constant, a comparison and a branch).
    BranchImm { h: Fam, a: Slot, k: u64, target: u32 },
    /// `if test(a) { goto target }` (covers an `eqz` and a branch).
    BranchOne { h: Fam, a: Slot, target: u32 },
    /// `mem[to + to_offset] = mem[from + from_offset]` (covers a load and a store).
    Move { h: Fam, from: Slot, from_offset: u32, to: Slot, to_offset: u32 },
    /// `if test(mem[addr + index or offset]) { goto target }` (covers an add without
    /// offset or not, a load, maybe an `eqz`, and a branch).
    BranchLoad { h: Fam, addr: Slot, index: Option<Slot>, offset: u32, target: u32 },
    /// `x += y; if x op z { goto target }`, `y` and `z` slots or immediates (covers an add,
    /// maybe a constant, a comparison and a branch: `len` instructions).
    AddBranch { h: Fam, x: Slot, y: Result<Slot, u32>, z: Result<Slot, u32>, target: u32, len: usize },
    /// `dst = a op k` (covers a constant and a binary instruction).
    Imm { h: Fam, dst: Slot, a: Slot, k: u64 },
    /// Three slots and a 32-bit immediate (`dst`, `a`, `b`, `k` in the op's fields).
    Imm3 { h: Fam, dst: Slot, a: Slot, b: Slot, k: u32 },
    /// A slot and three 32-bit immediates.
    Imm1 { h: Fam, dst: Slot, k: [u32; 3] },
    /// Two slots and two 32-bit immediates.
    Imm2 { h: Fam, dst: Slot, a: Slot, k1: u32, k2: u32 },
    /// `mem[addr + offset] = k`.
    StoreK { h: Fam, addr: Slot, k: u32, offset: u32 },
    /// `mem[a + b + offset] = k`.
    StoreAddK { h: Fam, k: u32, a: Slot, b: Slot, offset: u32 },
    /// Two constants.
    Const2 { d1: Slot, v1: u32, d2: Slot, v2: u32 },
    /// A constant, then a jump.
    ConstBr { dst: Slot, val: u32, target: u32 },
    /// Four slots.
    Quad { h: Fam, a: Slot, b: Slot, c: Slot, d: Slot },
    /// Three slots and a 32-bit immediate (`a`, `b`, `c`, `d` in the op's fields).
    Quad2 { h: Fam, a: Slot, b: Slot, c: Slot, d: u32 },
}
/// A fusion rule: the fused op for the instructions starting at `seq.i` and how many it
/// covers, if they match.
pub(crate) type Rule = fn(&Seq<'_>) -> Option<(Fused, usize)>;

/// Where a rule looks: instruction `i` of `f`.
pub(crate) struct Seq<'a> {
    f: &'a CompiledFunc,
    code: &'a [Instr],
    i: usize,
    /// Whether pairs of constants may fuse (not when checking whether the second
    /// constant of a pair fuses with what follows).
    const_pairs: bool,
}

impl Seq<'_> {
    /// Whether `slot` is a temporary (above the locals).
    fn temp(&self, slot: Slot) -> bool {
        slot >= self.f.num_locals
    }

    /// If `instr` is a conditional branch on `cond`: whether it branches when `cond` is
    /// not zero, and its target.
    fn branch(&self, instr: Option<&Instr>, cond: Slot) -> Option<(bool, u32)> {
        match instr {
            Some(&Instr::BrIfNez { cond: c, target }) if c == cond => Some((true, target)),
            Some(&Instr::BrIfEqz { cond: c, target }) if c == cond => Some((false, target)),
            _ => None,
        }
    }

    /// A constant in a temporary: its slot and value.
    fn konst_of(&self, instr: Instr) -> Option<(Slot, u64)> {
        match instr {
            Instr::Const32 { dst, val } if self.temp(dst) => Some((dst, u64::from(val))),
            Instr::Const64 { dst, lo, hi } if self.temp(dst) => Some((dst, u64::from(lo) | (u64::from(hi) << 32))),
            _ => None,
        }
    }
}

/// Tries to fuse the instructions starting at `i` into one op: the fused op, how many
/// instructions it covers, and the index in [`RULES`] of the rule that matched. The
/// instructions it covers stay in place (they are lowered on their own too), so paths
/// that jump into the middle of the sequence still run them; the fused op itself
/// continues after the whole sequence. A value passed between the fused instructions must
/// be a temporary (a slot above the locals) that nothing reads after its consumer, which
/// the translator guarantees for operand-stack slots consumed by the next instruction.
pub(crate) fn fuse(f: &CompiledFunc, i: usize) -> Option<(Fused, usize, usize)> {
    fuse_at(f, i, true)
}

/// [`fuse`], with pairs of constants only if `const_pairs`.
fn fuse_at(f: &CompiledFunc, i: usize, const_pairs: bool) -> Option<(Fused, usize, usize)> {
    let seq = Seq { f, code: &f.code, i, const_pairs };
    RULES
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| const_pairs || *name != "const_pair")
        .find_map(|(k, (_, rule))| rule(&seq).map(|(fused, len)| (fused, len, k)))
}

/// The fusion rules, in the order they are tried: the first that matches wins. Each has
/// a stable name (see [`fuse`]).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("store_const", store_const),
    ("add_store_const", add_store_const),
    ("step_cmp_branch", step_cmp_branch),
    ("global_add", global_add),
    ("add_imm_global_set", add_imm_global_set),
    ("indexed_access", indexed_access),
    ("add_shl", add_shl),
    ("shr_u_and", shr_u_and),
    ("load_const_addr", load_const_addr),
    ("const_pair", const_pair),
    ("const_br", const_br),
    ("const_cmp_branch", const_cmp_branch),
    ("const_cmp", const_cmp),
    ("const_binary", const_binary),
    ("const_float_binary", const_float_binary),
    ("add_load_branch", add_load_branch),
    ("load_branch", load_branch),
    ("mem_update", mem_update),
    ("load_pair", load_pair),
    ("mem_move", mem_move),
    ("add_address", add_address),
    ("add_imm_address", add_imm_address),
    ("select_copy", select_then_copy),
    ("copy_store", copy_store),
    ("copy_ret", copy_then_return),
    ("copy_pair", copy_pair),
    ("float_cmp_branch", float_cmp_branch),
    ("cmp_branch", cmp_branch),
    ("eqz_branch", eqz_branch),
];

/// A constant stored by the next instruction (the address computed before it).
fn store_const(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (code, i) = (seq.code, seq.i);
    if let Some((k, imm)) = seq.konst_of(code[i])
        && let Ok(imm) = u32::try_from(imm)
        && let Some((h, addr, offset)) = store_of(code.get(i + 1), k, &STORE_K)
    {
        return Some((Fused::StoreK { h, addr, k: imm, offset }, 2));
    }
    None
}

/// An address computed by an add, then a constant, stored.
fn add_store_const(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let I32Add { dst: t, a, b } = code[i]
        && seq.temp(t)
        && let Some((k, imm)) = code.get(i + 1).and_then(|c| seq.konst_of(*c))
        && let Ok(imm) = u32::try_from(imm)
        && let Some((h, addr, offset)) = store_of(code.get(i + 2), k, &STORE_ADD_K)
        && addr == t
    {
        return Some((Fused::StoreAddK { h, k: imm, a, b, offset }, 3));
    }
    None
}

/// An add to a slot (or a copy), then a comparison of the slot's new value with a slot
/// or a constant, consumed by a branch: a loop counter stepped and tested.
fn step_cmp_branch(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    let stepped = match code[i] {
        I32Add { dst, a, b } if dst == a => Some((dst, Ok(b), false)),
        I32Add { dst, a, b } if dst == b => Some((dst, Ok(a), false)),
        I32AddImm { dst, a, imm } if dst == a => Some((dst, Err(imm), false)),
        Copy { dst, src } if dst != src => Some((dst, Ok(src), true)),
        _ => None,
    };
    if let Some((x, y, copy)) = stepped {
        // The constant compared with, if there is one.
        let (k, at) = match code.get(i + 1).and_then(|c| seq.konst_of(*c)) {
            Some((slot, v)) if slot != x => (Some((slot, v as u32)), i + 2),
            _ => (None, i + 1),
        };
        if let Some((false, cmp, t, a, b)) = code.get(at).and_then(comparison)
            && seq.temp(t)
            && let Some((nez, target)) = seq.branch(code.get(at + 1), t)
        {
            let operands = match k {
                Some((slot, v)) if a == x && b == slot => Some((cmp, Err(v))),
                Some((slot, v)) if a == slot && b == x => Some((cmp.swap(), Err(v))),
                Some(_) => None,
                None if a == x => Some((cmp, Ok(b))),
                None if b == x => Some((cmp.swap(), Ok(a))),
                None => None,
            };
            if let Some((cmp, z)) = operands {
                let cmp = if nez { cmp } else { cmp.negate() };
                let form = match copy {
                    false => usize::from(y.is_err()) + 2 * usize::from(z.is_err()),
                    true => 4 + usize::from(z.is_err()),
                };
                let len = at + 2 - i;
                return Some((Fused::AddBranch { h: BR_ADD[form][cmp as usize], x, y, z, target, len }, len));
            }
        }
    }
    None
}

/// A global moved by a constant: `global.set g (global.get g ± k)`.
fn global_add(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let GlobalGet { dst: t, global: g } = code[i]
        && seq.temp(t)
    {
        let moved = match (code.get(i + 1), code.get(i + 2)) {
            (Some(&I32AddImm { dst, a, imm }), _) if a == t => Some((dst, imm, 2)),
            (Some(&Const32 { dst: k, val }), Some(&I32Sub { dst, a, b }))
                if seq.temp(k) && a == t && b == k && k != t =>
            {
                Some((dst, val.wrapping_neg(), 3))
            }
            (Some(&Const32 { dst: k, val }), Some(&I32Add { dst, a, b }))
                if seq.temp(k) && k != t && (a == t && b == k || a == k && b == t) =>
            {
                Some((dst, val, 3))
            }
            _ => None,
        };
        if let Some((d, imm, at)) = moved
            && let Some(&GlobalSet { src, global }) = code.get(i + at)
            && src == d
            && global == g
        {
            return Some((Fused::Imm1 { h: GLOBAL_ADD, dst: d, k: [g, imm, at as u32 + 1] }, at + 1));
        }
    }
    None
}

/// A global set to a slot plus a constant.
fn add_imm_global_set(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let I32AddImm { dst, a, imm } = code[i]
        && let Some(&GlobalSet { src, global }) = code.get(i + 1)
        && src == dst
    {
        return Some((Fused::Imm2 { h: ADD_IMM_GLOBAL_SET, dst, a, k1: imm, k2: global }, 2));
    }
    None
}

/// The operands of `y + (x << k)` at `i`: a constant shift amount `k` in temporary `t1`,
/// the shift into temporary `t2`, and an add of its result into `dst`:
/// `(t1, k, t2, x, y, dst)`.
fn shl_add(seq: &Seq<'_>) -> Option<(Slot, u64, Slot, Slot, Slot, Slot)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Some((t1, k)) = seq.konst_of(code[i])
        && k < 32
        && let Some(&I32Shl { dst: t2, a: x, b }) = code.get(i + 1)
        && b == t1
        && x != t1
        && seq.temp(t2)
        && let Some(&I32Add { dst, a, b }) = code.get(i + 2)
        && (a == t2) != (b == t2)
    {
        let y = if a == t2 { b } else { a };
        return Some((t1, k, t2, x, y, dst));
    }
    None
}

/// The address of an array element, `y + (x << k)`, loaded or stored (a stored value is
/// not one of the temporaries, which only the address computation writes).
fn indexed_access(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (t1, k, t2, x, y, dst) = shl_add(seq)?;
    if seq.temp(dst)
        && let Some((h, v, offset, store)) = access_indexed(seq.code.get(seq.i + 3), dst, k)
        && !(store && [t1, t2, dst].contains(&v))
    {
        return Some((Fused::Imm3 { h, dst: v, a: y, b: x, k: offset }, 4));
    }
    None
}

/// `y + (x << k)`: a constant shift amount, the shift, and an add of its result.
fn add_shl(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (_, k, _, x, y, dst) = shl_add(seq)?;
    Some((Fused::Imm3 { h: I32_ADD_SHL_IMM, dst, a: y, b: x, k: k as u32 }, 3))
}

/// `(x >> k1) & k2`: a bit field.
fn shr_u_and(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Some((t1, k1)) = seq.konst_of(code[i])
        && k1 < 32
        && let Some(&I32ShrU { dst: t2, a: x, b }) = code.get(i + 1)
        && b == t1
        && x != t1
        && seq.temp(t2)
        && let Some((t3, k2)) = code.get(i + 2).and_then(|c| seq.konst_of(*c))
        && let Ok(k2) = u32::try_from(k2)
        && let Some(&I32And { dst, a, b }) = code.get(i + 3)
        && t3 != t2
        && (a == t2 && b == t3 || a == t3 && b == t2)
    {
        return Some((Fused::Imm2 { h: I32_SHR_U_AND_IMM, dst, a: x, k1: k1 as u32, k2 }, 4));
    }
    None
}

/// A load from a constant address.
fn load_const_addr(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Some((k, addr)) = seq.konst_of(code[i])
        && let Ok(addr) = u32::try_from(addr)
    {
        let load = match code.get(i + 1) {
            Some(&I32Load { dst, addr, offset } | &F32Load { dst, addr, offset }) if addr == k => {
                Some((I32_LOAD_K, dst, offset))
            }
            Some(&I64Load { dst, addr, offset } | &F64Load { dst, addr, offset }) if addr == k => {
                Some((I64_LOAD_K, dst, offset))
            }
            _ => None,
        };
        if let Some((h, dst, offset)) = load {
            return Some((Fused::Imm2 { h, dst, a: 0, k1: addr, k2: offset }, 2));
        }
    }
    None
}

/// Two constants (unless the second one fuses with what follows).
fn const_pair(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Const32 { dst: d1, val: v1 } = code[i]
        && let Some(&Const32 { dst: d2, val: v2 }) = code.get(i + 1)
        && seq.const_pairs
        && fuse_at(seq.f, i + 1, false).is_none()
    {
        return Some((Fused::Const2 { d1, v1, d2, v2 }, 2));
    }
    None
}

/// A constant, then a jump.
fn const_br(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Const32 { dst, val } = code[i]
        && let Some(&Br { target }) = code.get(i + 1)
    {
        return Some((Fused::ConstBr { dst, val, target }, 2));
    }
    None
}

/// A constant at `i` consumed by the next instruction: its slot, its value and that
/// instruction.
fn konst_consumed<'c>(seq: &Seq<'c>) -> Option<(Slot, u64, &'c Instr)> {
    let (k, imm) = seq.konst_of(seq.code[seq.i])?;
    Some((k, imm, seq.code.get(seq.i + 1)?))
}

/// A constant, a comparison with it, and a conditional branch on the result (the constant
/// fits 32 bits, sign-extended).
fn const_cmp_branch(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (k, imm, next) = konst_consumed(seq)?;
    let (is_64, cmp, dst, a, b) = comparison(next)?;
    if (a == k) == (b == k) {
        return None;
    }
    let (cmp, x) = if b == k { (cmp, a) } else { (cmp.swap(), b) };
    if seq.temp(dst)
        && imm as i64 as i32 as i64 as u64 == if is_64 { imm } else { imm as i32 as i64 as u64 }
        && let Some((nez, target)) = seq.branch(seq.code.get(seq.i + 2), dst)
    {
        let cmp = if nez { cmp } else { cmp.negate() };
        let table = if is_64 { &BR_I64_IMM } else { &BR_I32_IMM };
        return Some((Fused::BranchImm { h: table[cmp as usize], a: x, k: imm, target }, 3));
    }
    None
}

/// A constant and a comparison with it.
fn const_cmp(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (k, imm, next) = konst_consumed(seq)?;
    let (is_64, cmp, dst, a, b) = comparison(next)?;
    if (a == k) == (b == k) {
        return None;
    }
    let (cmp, x) = if b == k { (cmp, a) } else { (cmp.swap(), b) };
    let table = if is_64 { &CMP_I64_IMM } else { &CMP_I32_IMM };
    Some((Fused::Imm { h: table[cmp as usize], dst, a: x, k: imm }, 2))
}

/// A constant and an integer binary instruction with it as its second operand (either,
/// if the operation is commutative).
fn const_binary(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (k, imm, next) = konst_consumed(seq)?;
    let (h, commutative, dst, a, b) = with_imm(next)?;
    imm_operand(h, commutative, (dst, a, b), k, imm)
}

/// A constant and a float binary instruction with it as its second operand (either, if
/// the operation is commutative).
fn const_float_binary(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (k, imm, next) = konst_consumed(seq)?;
    let (h, commutative, dst, a, b) = float_with_imm(Some(next))?;
    imm_operand(h, commutative, (dst, a, b), k, imm)
}

/// `dst = a op b` with constant `imm` in slot `k` as one operand: the fused op.
fn imm_operand(
    h: Fam,
    commutative: bool,
    (dst, a, b): (Slot, Slot, Slot),
    k: Slot,
    imm: u64,
) -> Option<(Fused, usize)> {
    if b == k && a != k {
        return Some((Fused::Imm { h, dst, a, k: imm }, 2));
    }
    if commutative && a == k && b != k {
        return Some((Fused::Imm { h, dst, a: b, k: imm }, 2));
    }
    None
}

/// A load at `at` whose only use is a test for zero by a branch (from address `addr`
/// computed by the add of `add`, or from slot `addr` and an offset).
fn branch_on_load(seq: &Seq<'_>, at: usize, addr: Slot, add: Option<(Slot, Slot)>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    let (width, x, offset) = match *code.get(at)? {
        I32Load8U { dst, addr: p, offset } | I32Load8S { dst, addr: p, offset } if p == addr => (0, dst, offset),
        I32Load16U { dst, addr: p, offset } | I32Load16S { dst, addr: p, offset } if p == addr => (1, dst, offset),
        I32Load { dst, addr: p, offset } if p == addr => (2, dst, offset),
        I64Load { dst, addr: p, offset } if p == addr => (3, dst, offset),
        _ => return None,
    };
    if !seq.temp(x) || add.is_some() && offset != 0 {
        return None;
    }
    // Branch on the value (i32 loads), or on its `eqz`.
    let (nez, target, len) = match code.get(at + 1)? {
        &(I32Eqz { dst, src } | I64Eqz { dst, src })
            if src == x && seq.temp(dst) && (width == 3) == matches!(code[at + 1], I64Eqz { .. }) =>
        {
            let (nez, target) = seq.branch(code.get(at + 2), dst)?;
            (!nez, target, at + 3 - i)
        }
        _ if width < 3 => {
            let (nez, target) = seq.branch(code.get(at + 1), x)?;
            (nez, target, at + 2 - i)
        }
        _ => return None,
    };
    const ADD: [[Fam; 2]; 4] = [
        [BR_LOAD8_ADD_EQZ, BR_LOAD8_ADD_NEZ],
        [BR_LOAD16_ADD_EQZ, BR_LOAD16_ADD_NEZ],
        [BR_LOAD32_ADD_EQZ, BR_LOAD32_ADD_NEZ],
        [BR_LOAD64_ADD_EQZ, BR_LOAD64_ADD_NEZ],
    ];
    const PLAIN: [[Fam; 2]; 4] = [
        [BR_LOAD8_EQZ, BR_LOAD8_NEZ],
        [BR_LOAD16_EQZ, BR_LOAD16_NEZ],
        [BR_LOAD32_EQZ, BR_LOAD32_NEZ],
        [BR_LOAD64_EQZ, BR_LOAD64_NEZ],
    ];
    let fused = match add {
        Some((a, b)) => Fused::BranchLoad { h: ADD[width][usize::from(nez)], addr: a, index: Some(b), offset, target },
        None => Fused::BranchLoad { h: PLAIN[width][usize::from(nez)], addr, index: None, offset, target },
    };
    Some((fused, len))
}

/// An add of an address and a load from it tested by a branch.
fn add_load_branch(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let I32Add { dst: t, a, b } = code[i]
        && seq.temp(t)
        && let Some(fused) = branch_on_load(seq, i + 1, t, Some((a, b)))
    {
        return Some(fused);
    }
    None
}

/// A load tested by a branch.
fn load_branch(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let I32Load8U { addr, .. }
    | I32Load8S { addr, .. }
    | I32Load16U { addr, .. }
    | I32Load16S { addr, .. }
    | I32Load { addr, .. }
    | I64Load { addr, .. } = code[i]
        && let Some(fused) = branch_on_load(seq, i, addr, None)
    {
        return Some(fused);
    }
    None
}

/// A load, an operation on the loaded value, and a store of the result to the same
/// address: memory updated in place.
fn mem_update(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    let loaded = match code[i] {
        I32Load { dst, addr, offset } => Some((false, dst, addr, offset)),
        I64Load { dst, addr, offset } => Some((true, dst, addr, offset)),
        _ => None,
    };
    if let Some((is_64, t, p, offset)) = loaded
        && seq.temp(t)
        && t != p
        && let Some((h, commutative, d, a, b)) = code.get(i + 1).and_then(|op| update_of(op, is_64))
        && let Some(&(I32Store { addr, val, offset: o } | I64Store { addr, val, offset: o })) = code.get(i + 2)
        && matches!(code[i + 2], I64Store { .. }) == is_64
        && (addr, val, o) == (p, d, offset)
        && seq.temp(d)
        && d != p
        && (a == t) != (b == t)
        && (a == t || commutative)
    {
        let x = if a == t { b } else { a };
        return Some((Fused::Imm2 { h, dst: p, a: x, k1: offset, k2: 0 }, 3));
    }
    None
}

/// Two loads of the same width from one address slot, at offsets that fit 16 bits.
fn load_pair(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    let wide_load = |instr: &Instr| match *instr {
        I32Load { dst, addr, offset } | F32Load { dst, addr, offset } => Some((0, dst, addr, offset)),
        I64Load { dst, addr, offset } => Some((1, dst, addr, offset)),
        F64Load { dst, addr, offset } => Some((2, dst, addr, offset)),
        _ => None,
    };
    if let Some((kind, d1, base, o1)) = wide_load(&code[i])
        && let Some((kind2, d2, base2, o2)) = code.get(i + 1).and_then(wide_load)
        && kind == kind2
        && base2 == base
        && d1 != base
        && o1 <= 0xffff
        && o2 <= 0xffff
    {
        let h = [LOAD_PAIR32, LOAD_PAIR64, LOAD_PAIR_F64][kind];
        return Some((Fused::Quad2 { h, a: d1, b: d2, c: base, d: o1 | (o2 << 16) }, 2));
    }
    None
}

/// A load whose only use is a store of the same width: a move.
fn mem_move(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    let width_of_load = |instr: &Instr| match *instr {
        I32Load8U { dst, addr, offset } | I32Load8S { dst, addr, offset } => Some((0, dst, addr, offset)),
        I32Load16U { dst, addr, offset } | I32Load16S { dst, addr, offset } => Some((1, dst, addr, offset)),
        I32Load { dst, addr, offset } | F32Load { dst, addr, offset } => Some((2, dst, addr, offset)),
        I64Load { dst, addr, offset } | F64Load { dst, addr, offset } => Some((3, dst, addr, offset)),
        _ => None,
    };
    if let Some((width, x, from, from_offset)) = width_of_load(&code[i])
        && seq.temp(x)
        && let Some((h, to, to_offset)) = store_of(code.get(i + 1), x, &[MOVE8, MOVE16, MOVE32, MOVE64])
        && matches!(
            (width, code[i + 1]),
            (0, I32Store8 { .. })
                | (1, I32Store16 { .. })
                | (2, I32Store { .. } | F32Store { .. })
                | (3, I64Store { .. } | F64Store { .. })
        )
    {
        return Some((Fused::Move { h, from, from_offset, to, to_offset }, 2));
    }
    None
}

/// An address computed by an add, consumed by a load or a store.
fn add_address(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let I32Add { dst: t, a, b } = code[i]
        && seq.temp(t)
    {
        let (h, x, offset): (Fam, Slot, u32) = match code.get(i + 1) {
            Some(&I32Load { dst, addr, offset } | &F32Load { dst, addr, offset }) if addr == t => {
                (I32_LOAD_ADD, dst, offset)
            }
            Some(&I64Load { dst, addr, offset } | &F64Load { dst, addr, offset }) if addr == t => {
                (I64_LOAD_ADD, dst, offset)
            }
            Some(&I32Load8U { dst, addr, offset }) if addr == t => (I32_LOAD8_U_ADD, dst, offset),
            Some(&I32Load8S { dst, addr, offset }) if addr == t => (I32_LOAD8_S_ADD, dst, offset),
            Some(&I32Load16U { dst, addr, offset }) if addr == t => (I32_LOAD16_U_ADD, dst, offset),
            Some(&I32Load16S { dst, addr, offset }) if addr == t => (I32_LOAD16_S_ADD, dst, offset),
            Some(&I32Store { addr, val, offset } | &F32Store { addr, val, offset }) if addr == t && val != t => {
                (I32_STORE_ADD, val, offset)
            }
            Some(&I64Store { addr, val, offset } | &F64Store { addr, val, offset }) if addr == t && val != t => {
                (I64_STORE_ADD, val, offset)
            }
            Some(&I32Store8 { addr, val, offset }) if addr == t && val != t => (STORE8_ADD, val, offset),
            Some(&I32Store16 { addr, val, offset }) if addr == t && val != t => (STORE16_ADD, val, offset),
            _ => return None,
        };
        return Some((Fused::Imm3 { h, dst: x, a, b, k: offset }, 2));
    }
    None
}

/// An address computed by an immediate add, consumed by a load or a store.
fn add_imm_address(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let I32AddImm { dst: t, a, imm } = code[i]
        && seq.temp(t)
    {
        let (h, x, offset): (Fam, Slot, u32) = match code.get(i + 1) {
            Some(&I32Load { dst, addr, offset } | &F32Load { dst, addr, offset }) if addr == t => {
                (I32_LOAD_IMM, dst, offset)
            }
            Some(&I64Load { dst, addr, offset } | &F64Load { dst, addr, offset }) if addr == t => {
                (I64_LOAD_IMM, dst, offset)
            }
            Some(&I32Load8U { dst, addr, offset }) if addr == t => (I32_LOAD8_U_IMM, dst, offset),
            Some(&I32Load8S { dst, addr, offset }) if addr == t => (I32_LOAD8_S_IMM, dst, offset),
            Some(&I32Load16U { dst, addr, offset }) if addr == t => (I32_LOAD16_U_IMM, dst, offset),
            Some(&I32Load16S { dst, addr, offset }) if addr == t => (I32_LOAD16_S_IMM, dst, offset),
            Some(&I32Store { addr, val, offset } | &F32Store { addr, val, offset }) if addr == t && val != t => {
                (I32_STORE_IMM, val, offset)
            }
            Some(&I64Store { addr, val, offset } | &F64Store { addr, val, offset }) if addr == t && val != t => {
                (I64_STORE_IMM, val, offset)
            }
            _ => return None,
        };
        return Some((Fused::Imm2 { h, dst: x, a, k1: imm, k2: offset }, 2));
    }
    None
}

/// A `select` whose result is copied to a local (the result stays where it was too,
/// since the copy may be a `local.tee`).
fn select_then_copy(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Select { dst: t, b, cond } = code[i]
        && let Some(&Copy { dst, src }) = code.get(i + 1)
        && src == t
    {
        return Some((Fused::Quad { h: SELECT_COPY, a: dst, b: t, c: b, d: cond }, 2));
    }
    None
}

/// A copy, then a store of the value copied.
fn copy_store(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Copy { dst, src } = code[i]
        && let Some((h, addr, offset)) =
            store_of(code.get(i + 1), dst, &[COPY_STORE8, COPY_STORE16, COPY_STORE32, COPY_STORE64])
    {
        return Some((Fused::Imm3 { h, dst, a: src, b: addr, k: offset }, 2));
    }
    None
}

/// A copy to the result slot, then a return.
fn copy_then_return(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Copy { dst, src } = code[i]
        && let Some(Return) = code.get(i + 1)
    {
        return Some((Fused::Imm2 { h: COPY_RET, dst, a: src, k1: 0, k2: 0 }, 2));
    }
    None
}

/// Two copies.
fn copy_pair(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let Copy { dst: d1, src: s1 } = code[i]
        && let Some(&Copy { dst: d2, src: s2 }) = code.get(i + 1)
    {
        return Some((Fused::Quad { h: COPY2, a: d1, b: s1, c: d2, d: s2 }, 2));
    }
    None
}

/// A float comparison consumed by a conditional branch (no negation: NaN compares
/// false both ways, so "branch if not less" has its own handler).
fn float_cmp_branch(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (code, i) = (seq.code, seq.i);
    if let Some((h_yes, h_no, dst, a, b)) = float_comparison(&code[i])
        && seq.temp(dst)
        && let Some((nez, target)) = seq.branch(code.get(i + 1), dst)
    {
        return Some((Fused::Branch { h: if nez { h_yes } else { h_no }, a, b, target }, 2));
    }
    None
}

/// A comparison consumed by a conditional branch.
fn cmp_branch(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    let (code, i) = (seq.code, seq.i);
    if let Some((is_64, cmp, dst, a, b)) = comparison(&code[i])
        && seq.temp(dst)
        && let Some((nez, target)) = seq.branch(code.get(i + 1), dst)
    {
        let cmp = if nez { cmp } else { cmp.negate() };
        let table = if is_64 { &BR_I64 } else { &BR_I32 };
        return Some((Fused::Branch { h: table[cmp as usize], a, b, target }, 2));
    }
    None
}

/// `eqz` consumed by a conditional branch: branch on the operand instead.
fn eqz_branch(seq: &Seq<'_>) -> Option<(Fused, usize)> {
    use Instr::*;
    let (code, i) = (seq.code, seq.i);
    if let I32Eqz { dst, src } | I64Eqz { dst, src } = code[i]
        && seq.temp(dst)
        && let Some((nez, target)) = seq.branch(code.get(i + 1), dst)
    {
        let is_64 = matches!(code[i], I64Eqz { .. });
        let h: Fam = match (is_64, nez) {
            (false, true) => BR_I32_EQZ,
            (false, false) => BR_I32_NEZ,
            (true, true) => BR_I64_EQZ,
            (true, false) => BR_I64_NEZ,
        };
        return Some((Fused::BranchOne { h, a: src, target }, 2));
    }
    None
}
