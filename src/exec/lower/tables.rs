//! Which handler runs an instruction: comparisons, handler tables by comparison and width.

use crate::exec::ir::{Instr, Slot};
use crate::exec::threaded::*;

/// [`Cmp`], its relations, the integer comparison instructions and the handler tables by
/// comparison, from the rows of [`for_each_int_cmp!`].
macro_rules! int_cmp_tables {
    ($( $cmp:ident $op:ident ($neg:ident, $swap:ident): $t32:ty, $t64:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        pastey::paste! {
            /// An integer comparison.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub(crate) enum Cmp {
                $($cmp,)*
            }

            impl Cmp {
                /// `!(x op y)` as a comparison.
                pub(crate) fn negate(self) -> Cmp {
                    match self {
                        $(Cmp::$cmp => Cmp::$neg,)*
                    }
                }

                /// `y op' x` equivalent to `x op y`.
                pub(crate) fn swap(self) -> Cmp {
                    match self {
                        $(Cmp::$cmp => Cmp::$swap,)*
                    }
                }
            }

            /// `(is_64, comparison, dst, a, b)` of an integer comparison instruction.
            pub(crate) fn comparison(instr: &Instr) -> Option<(bool, Cmp, Slot, Slot, Slot)> {
                Some(match *instr {
                    $(
                        Instr::[<I32 $cmp>] { dst, a, b } => (false, Cmp::$cmp, dst, a, b),
                        Instr::[<I64 $cmp>] { dst, a, b } => (true, Cmp::$cmp, dst, a, b),
                    )*
                    _ => return None,
                })
            }

            /// Fams by [`Cmp`], in declaration order.
            pub(crate) type CmpTable = [Fam; [$(Cmp::$cmp),*].len()];
            pub(crate) const CMP_I32: CmpTable = [$([<I32_ $op:upper>]),*];
            pub(crate) const CMP_I64: CmpTable = [$([<I64_ $op:upper>]),*];
            pub(crate) const BR_I32: CmpTable = [$([<BR_I32_ $op:upper>]),*];
            pub(crate) const BR_I64: CmpTable = [$([<BR_I64_ $op:upper>]),*];
            pub(crate) const BR_I32_IMM: CmpTable = [$([<BR_I32_ $op:upper _IMM>]),*];
            pub(crate) const BR_I64_IMM: CmpTable = [$([<BR_I64_ $op:upper _IMM>]),*];
            pub(crate) const CMP_I32_IMM: CmpTable = [$([<I32_ $op:upper _IMM>]),*];
            pub(crate) const CMP_I64_IMM: CmpTable = [$([<I64_ $op:upper _IMM>]),*];

            /// Fams of [`branch_add!`] by form (`reg`, `imm`, `reg_k`, `imm_k`, `copy`,
            /// `copy_k`), then by [`Cmp`].
            pub(crate) const BR_ADD: [CmpTable; 6] = [
                [$([<BR_ADD_ $op:upper>]),*],
                [$([<BR_ADD_IMM_ $op:upper>]),*],
                [$([<BR_ADD_K_ $op:upper>]),*],
                [$([<BR_ADD_IMM_K_ $op:upper>]),*],
                [$([<BR_COPY_ $op:upper>]),*],
                [$([<BR_COPY_K_ $op:upper>]),*],
            ];
        }
    };
}

for_each_int_cmp!(int_cmp_tables);

/// [`Binop`], the integer binary instructions that cannot trap and the handler tables by
/// operation, from the rows of [`for_each_int_binop!`].
macro_rules! int_binop_tables {
    ($( $v:ident $op:ident [$comm:literal, $in_mem:tt]: $t32:ty => |$x:ident, $y:ident| $e32:expr, $t64:ty => |$x2:ident, $y2:ident| $e64:expr; )*) => {
        pastey::paste! {
            /// An integer binary operation that cannot trap.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub(crate) enum Binop {
                $($v,)*
            }

            /// `(is_64, operation, dst, a, b)` of an integer binary instruction that cannot
            /// trap.
            pub(crate) fn int_binop(instr: &Instr) -> Option<(bool, Binop, Slot, Slot, Slot)> {
                Some(match *instr {
                    $(
                        Instr::[<I32 $v>] { dst, a, b } => (false, Binop::$v, dst, a, b),
                        Instr::[<I64 $v>] { dst, a, b } => (true, Binop::$v, dst, a, b),
                    )*
                    _ => return None,
                })
            }

            /// Tables by [`Binop`], in declaration order: whether it is commutative, and
            /// its handlers (of two slots, of a slot and an immediate, updating memory).
            const BINOP_COMMUTATIVE: [bool; [$(Binop::$v),*].len()] = [$($comm),*];
            const BINOP_I32: [Fam; [$(Binop::$v),*].len()] = [$([<I32_ $op:upper>]),*];
            const BINOP_I64: [Fam; [$(Binop::$v),*].len()] = [$([<I64_ $op:upper>]),*];
            const BINOP_I32_IMM: [Fam; [$(Binop::$v),*].len()] = [$([<I32_ $op:upper _IMM>]),*];
            const BINOP_I64_IMM: [Fam; [$(Binop::$v),*].len()] = [$([<I64_ $op:upper _IMM>]),*];
            const BINOP_I32_MEM: [Option<Fam>; [$(Binop::$v),*].len()] =
                [$(int_binop_tables!(@mem $in_mem [<I32_MEM_ $op:upper>])),*];
            const BINOP_I64_MEM: [Option<Fam>; [$(Binop::$v),*].len()] =
                [$(int_binop_tables!(@mem $in_mem [<I64_MEM_ $op:upper>])),*];
        }
    };
    (@mem true $fam:ident) => { Some($fam) };
    (@mem false $fam:ident) => { None };
}

for_each_int_binop!(int_binop_tables);

/// For a float comparison: the handlers branching when it holds and when it does not,
/// and its `(dst, a, b)`.
pub(crate) fn float_comparison(instr: &Instr) -> Option<(Fam, Fam, Slot, Slot, Slot)> {
    use Instr::*;
    let (yes, no): (Fam, Fam) = match *instr {
        F64Eq { .. } => (BR_F64_EQ, BR_F64_NE),
        F64Ne { .. } => (BR_F64_NE, BR_F64_EQ),
        F64Lt { .. } => (BR_F64_LT, BR_F64_NOT_LT),
        F64Gt { .. } => (BR_F64_GT, BR_F64_NOT_GT),
        F64Le { .. } => (BR_F64_LE, BR_F64_NOT_LE),
        F64Ge { .. } => (BR_F64_GE, BR_F64_NOT_GE),
        F32Eq { .. } => (BR_F32_EQ, BR_F32_NE),
        F32Ne { .. } => (BR_F32_NE, BR_F32_EQ),
        F32Lt { .. } => (BR_F32_LT, BR_F32_NOT_LT),
        F32Gt { .. } => (BR_F32_GT, BR_F32_NOT_GT),
        F32Le { .. } => (BR_F32_LE, BR_F32_NOT_LE),
        F32Ge { .. } => (BR_F32_GE, BR_F32_NOT_GE),
        _ => return None,
    };
    match *instr {
        F64Eq { dst, a, b }
        | F64Ne { dst, a, b }
        | F64Lt { dst, a, b }
        | F64Gt { dst, a, b }
        | F64Le { dst, a, b }
        | F64Ge { dst, a, b }
        | F32Eq { dst, a, b }
        | F32Ne { dst, a, b }
        | F32Lt { dst, a, b }
        | F32Gt { dst, a, b }
        | F32Le { dst, a, b }
        | F32Ge { dst, a, b } => Some((yes, no, dst, a, b)),
        _ => None,
    }
}

/// The handler of `dst = a op k` for a float instruction, whether it is commutative, and
/// its `(dst, a, b)`.
pub(crate) fn float_with_imm(instr: Option<&Instr>) -> Option<(Fam, bool, Slot, Slot, Slot)> {
    use Instr::*;
    Some(match *instr? {
        F64Add { dst, a, b } => (F64_ADD_IMM, true, dst, a, b),
        F64Sub { dst, a, b } => (F64_SUB_IMM, false, dst, a, b),
        F64Mul { dst, a, b } => (F64_MUL_IMM, true, dst, a, b),
        F64Div { dst, a, b } => (F64_DIV_IMM, false, dst, a, b),
        F64Lt { dst, a, b } => (F64_LT_IMM, false, dst, a, b),
        F64Gt { dst, a, b } => (F64_GT_IMM, false, dst, a, b),
        F64Le { dst, a, b } => (F64_LE_IMM, false, dst, a, b),
        F64Ge { dst, a, b } => (F64_GE_IMM, false, dst, a, b),
        F32Add { dst, a, b } => (F32_ADD_IMM, true, dst, a, b),
        F32Sub { dst, a, b } => (F32_SUB_IMM, false, dst, a, b),
        F32Mul { dst, a, b } => (F32_MUL_IMM, true, dst, a, b),
        F32Div { dst, a, b } => (F32_DIV_IMM, false, dst, a, b),
        _ => return None,
    })
}

/// The handler of `dst = a op imm` for a binary instruction with `(dst, a, b)`, and
/// whether the operation is commutative (so the constant may be either operand).
pub(crate) fn with_imm(instr: &Instr) -> Option<(Fam, bool, Slot, Slot, Slot)> {
    if let Some((is_64, cmp, dst, a, b)) = comparison(instr) {
        let table = if is_64 { &CMP_I64_IMM } else { &CMP_I32_IMM };
        // Not commutative: `fuse` swaps comparisons itself.
        return Some((table[cmp as usize], false, dst, a, b));
    }
    let (is_64, op, dst, a, b) = int_binop(instr)?;
    let table = if is_64 { &BINOP_I64_IMM } else { &BINOP_I32_IMM };
    Some((table[op as usize], BINOP_COMMUTATIVE[op as usize], dst, a, b))
}

/// Fams of stores of an immediate value, by width: 1, 2, 4, 8 bytes.
pub(crate) const STORE_K: [Fam; 4] = [STORE8_K, STORE16_K, STORE32_K, STORE64_K];
pub(crate) const STORE_ADD_K: [Fam; 4] = [STORE8_ADD_K, STORE16_ADD_K, STORE32_ADD_K, STORE64_ADD_K];

/// If `instr` stores slot `k` (to memory 0), the handler for its width from `table`, its
/// address slot and its offset.
pub(crate) fn store_of(instr: Option<&Instr>, k: Slot, table: &[Fam; 4]) -> Option<(Fam, Slot, u32)> {
    use Instr::*;
    let (width, addr, val, offset) = match *instr? {
        I32Store8 { addr, val, offset } | I64Store8 { addr, val, offset } => (0, addr, val, offset),
        I32Store16 { addr, val, offset } | I64Store16 { addr, val, offset } => (1, addr, val, offset),
        I32Store { addr, val, offset } | F32Store { addr, val, offset } | I64Store32 { addr, val, offset } => {
            (2, addr, val, offset)
        }
        I64Store { addr, val, offset } | F64Store { addr, val, offset } => (3, addr, val, offset),
        _ => return None,
    };
    (val == k && addr != k).then_some((table[width], addr, offset))
}

/// If `instr` loads from or stores to address `addr` (to memory 0) with an element size
/// of `1 << shift` bytes and there is a handler for that with the address computed as an
/// array element's: the handler, the loaded slot or the stored one, the offset, and
/// whether it is a store.
pub(crate) fn access_indexed(instr: Option<&Instr>, addr: Slot, shift: u64) -> Option<(Fam, Slot, u32, bool)> {
    use Instr::*;
    let (h, at, v, offset, store) = match (*instr?, shift) {
        (I32Load16S { dst, addr, offset }, 1) => (I32_LOAD16_S_IDX1, addr, dst, offset, false),
        (I32Load16U { dst, addr, offset }, 1) => (I32_LOAD16_U_IDX1, addr, dst, offset, false),
        (I32Load { dst, addr, offset } | F32Load { dst, addr, offset }, 2) => (I32_LOAD_IDX2, addr, dst, offset, false),
        (I64Load { dst, addr, offset } | F64Load { dst, addr, offset }, 3) => (I64_LOAD_IDX3, addr, dst, offset, false),
        (I32Store16 { addr, val, offset }, 1) => (STORE16_IDX1, addr, val, offset, true),
        (I32Store { addr, val, offset } | F32Store { addr, val, offset }, 2) => {
            (I32_STORE_IDX2, addr, val, offset, true)
        }
        (I64Store { addr, val, offset } | F64Store { addr, val, offset }, 3) => {
            (I64_STORE_IDX3, addr, val, offset, true)
        }
        _ => return None,
    };
    (at == addr).then_some((h, v, offset, store))
}

/// If `instr` is an operation that memory can be updated with in place (see
/// [`mem_update!`]), of i64s if `is_64`: the handler, whether the operation is commutative,
/// and its `(dst, a, b)` slots.
pub(crate) fn update_of(instr: &Instr, is_64: bool) -> Option<(Fam, bool, Slot, Slot, Slot)> {
    let (op_64, op, dst, a, b) = int_binop(instr)?;
    if op_64 != is_64 {
        return None;
    }
    let table = if is_64 { &BINOP_I64_MEM } else { &BINOP_I32_MEM };
    Some((table[op as usize]?, BINOP_COMMUTATIVE[op as usize], dst, a, b))
}

/// The handler and `(dst, a, b)` slots of a numeric instruction (`b` repeats `a` for
/// unary ones).
pub(crate) fn numeric(instr: &Instr) -> Option<(Fam, Slot, Slot, Slot)> {
    use Instr::*;
    if let Some((is_64, cmp, dst, a, b)) = comparison(instr) {
        let table = if is_64 { &CMP_I64 } else { &CMP_I32 };
        return Some((table[cmp as usize], dst, a, b));
    }
    if let Some((is_64, op, dst, a, b)) = int_binop(instr) {
        let table = if is_64 { &BINOP_I64 } else { &BINOP_I32 };
        return Some((table[op as usize], dst, a, b));
    }
    macro_rules! pick {
        ($($v:ident => $h:ident),* $(,)?; $($u:ident => $g:ident),* $(,)?) => {
            match *instr {
                $($v { dst, a, b } => Some(($h, dst, a, b)),)*
                $($u { dst, src } => Some(($g, dst, src, src)),)*
                _ => None,
            }
        };
    }
    pick! {
        I32DivS => I32_DIV_S, I32DivU => I32_DIV_U, I32RemS => I32_REM_S,
        I32RemU => I32_REM_U, I64DivS => I64_DIV_S, I64DivU => I64_DIV_U, I64RemS => I64_REM_S,
        I64RemU => I64_REM_U, F32Eq => F32_EQ, F32Ne => F32_NE, F32Lt => F32_LT, F32Gt => F32_GT, F32Le => F32_LE,
        F32Ge => F32_GE, F32Add => F32_ADD, F32Sub => F32_SUB, F32Mul => F32_MUL,
        F32Div => F32_DIV, F32Min => F32_MIN, F32Max => F32_MAX, F32Copysign => F32_COPYSIGN,
        F64Eq => F64_EQ, F64Ne => F64_NE, F64Lt => F64_LT, F64Gt => F64_GT, F64Le => F64_LE,
        F64Ge => F64_GE, F64Add => F64_ADD, F64Sub => F64_SUB, F64Mul => F64_MUL,
        F64Div => F64_DIV, F64Min => F64_MIN, F64Max => F64_MAX, F64Copysign => F64_COPYSIGN;
        I32Eqz => I32_EQZ, I32Clz => I32_CLZ, I32Ctz => I32_CTZ, I32Popcnt => I32_POPCNT,
        I64Eqz => I64_EQZ, I64Clz => I64_CLZ, I64Ctz => I64_CTZ, I64Popcnt => I64_POPCNT,
        F32Abs => F32_ABS, F32Neg => F32_NEG, F32Ceil => F32_CEIL, F32Floor => F32_FLOOR,
        F32Trunc => F32_TRUNC, F32Nearest => F32_NEAREST, F32Sqrt => F32_SQRT,
        F64Abs => F64_ABS, F64Neg => F64_NEG, F64Ceil => F64_CEIL, F64Floor => F64_FLOOR,
        F64Trunc => F64_TRUNC, F64Nearest => F64_NEAREST, F64Sqrt => F64_SQRT,
        I32WrapI64 => I32_WRAP_I64, I32TruncF32S => I32_TRUNC_F32_S, I32TruncF32U => I32_TRUNC_F32_U,
        I32TruncF64S => I32_TRUNC_F64_S, I32TruncF64U => I32_TRUNC_F64_U,
        I64ExtendI32S => I64_EXTEND_I32_S, I64ExtendI32U => I64_EXTEND_I32_U,
        I64TruncF32S => I64_TRUNC_F32_S, I64TruncF32U => I64_TRUNC_F32_U,
        I64TruncF64S => I64_TRUNC_F64_S, I64TruncF64U => I64_TRUNC_F64_U,
        F32ConvertI32S => F32_CONVERT_I32_S, F32ConvertI32U => F32_CONVERT_I32_U,
        F32ConvertI64S => F32_CONVERT_I64_S, F32ConvertI64U => F32_CONVERT_I64_U,
        F32DemoteF64 => F32_DEMOTE_F64, F64ConvertI32S => F64_CONVERT_I32_S,
        F64ConvertI32U => F64_CONVERT_I32_U, F64ConvertI64S => F64_CONVERT_I64_S,
        F64ConvertI64U => F64_CONVERT_I64_U, F64PromoteF32 => F64_PROMOTE_F32,
        I32Extend8S => I32_EXTEND8_S, I32Extend16S => I32_EXTEND16_S,
        I64Extend8S => I64_EXTEND8_S, I64Extend16S => I64_EXTEND16_S, I64Extend32S => I64_EXTEND32_S,
        I32TruncSatF32S => I32_TRUNC_SAT_F32_S, I32TruncSatF32U => I32_TRUNC_SAT_F32_U,
        I32TruncSatF64S => I32_TRUNC_SAT_F64_S, I32TruncSatF64U => I32_TRUNC_SAT_F64_U,
        I64TruncSatF32S => I64_TRUNC_SAT_F32_S, I64TruncSatF32U => I64_TRUNC_SAT_F32_U,
        I64TruncSatF64S => I64_TRUNC_SAT_F64_S, I64TruncSatF64U => I64_TRUNC_SAT_F64_U,
    }
}
