//! Which handler runs an instruction: comparisons, handler tables by comparison and width.

use crate::exec::ir::{Instr, Slot};
use crate::exec::threaded::*;

/// [`Cmp`], its relations, the integer comparison instructions and the handler tables by
/// comparison, from the rows of [`for_each_numeric!`].
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

numeric_section!(int_cmp => int_cmp_tables);

/// [`Binop`], the integer binary instructions that cannot trap and the handler tables by
/// operation, from the rows of [`for_each_numeric!`].
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

numeric_section!(int_binop => int_binop_tables);

/// The float comparisons and operations of [`for_each_numeric!`]: for a comparison, the
/// handlers branching when it holds and when it does not (`float_comparison`); the handler
/// of `dst = a op k` where there is one (`float_with_imm`).
macro_rules! float_tables {
    (float_cmp { $( $c:ident $c_op:ident [$c_imm:tt]: $ct:ty => |$cx:ident, $cy:ident| $ce:expr, |$cnx:ident, $cny:ident| $cne:expr; )* }
     float_binop { $( $b:ident $b_op:ident [$b_comm:tt, $b_imm:tt]: $bt:ty => |$bx:ident, $by:ident| $be:expr; )* }) => {
        pastey::paste! {
            /// For a float comparison: the handlers branching when it holds and when it
            /// does not, and its `(dst, a, b)`.
            pub(crate) fn float_comparison(instr: &Instr) -> Option<(Fam, Fam, Slot, Slot, Slot)> {
                Some(match *instr {
                    $(Instr::$c { dst, a, b } => ([<BR_ $c_op:upper>], [<BR_NOT_ $c_op:upper>], dst, a, b),)*
                    _ => return None,
                })
            }

            /// The handler of `dst = a op k` for a float instruction, whether it is
            /// commutative, and its `(dst, a, b)`.
            pub(crate) fn float_with_imm(instr: Option<&Instr>) -> Option<(Fam, bool, Slot, Slot, Slot)> {
                Some(match *instr? {
                    $(Instr::$c { dst, a, b } => (float_tables!(@imm $c_imm [<$c_op:upper _IMM>])?, false, dst, a, b),)*
                    $(Instr::$b { dst, a, b } => (float_tables!(@imm $b_imm [<$b_op:upper _IMM>])?, $b_comm, dst, a, b),)*
                    _ => return None,
                })
            }
        }
    };
    (@imm true $fam:ident) => { Some($fam) };
    (@imm false $fam:ident) => { None::<Fam> };
}

macro_rules! float_sections {
    (int_cmp $_ic:tt int_binop $_ib:tt float_cmp $fc:tt float_binop $fb:tt $($rest:tt)*) => {
        float_tables! { float_cmp $fc float_binop $fb }
    };
}

for_each_numeric!(float_sections);

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
    if let Some((is_64, cmp, dst, a, b)) = comparison(instr) {
        let table = if is_64 { &CMP_I64 } else { &CMP_I32 };
        return Some((table[cmp as usize], dst, a, b));
    }
    if let Some((is_64, op, dst, a, b)) = int_binop(instr) {
        let table = if is_64 { &BINOP_I64 } else { &BINOP_I32 };
        return Some((table[op as usize], dst, a, b));
    }
    float_or_other(instr)
}

/// The handler and `(dst, a, b)` slots of a numeric instruction other than the integer
/// comparisons and binary operations, from [`for_each_numeric!`].
macro_rules! other_numeric {
    (int_cmp $_ic:tt int_binop $_ib:tt
     float_cmp { $( $c:ident $c_op:ident [$c_imm:tt]: $ct:ty => |$cx:ident, $cy:ident| $ce:expr, |$cnx:ident, $cny:ident| $cne:expr; )* }
     float_binop { $( $b:ident $b_op:ident [$b_comm:tt, $b_imm:tt]: $bt:ty => |$bx:ident, $by:ident| $be:expr; )* }
     binary_trap { $( $t:ident $t_op:ident: $tt:ty => |$tx:ident, $ty:ident| $te:expr; )* }
     unary { $( $u:ident $u_op:ident: $ut:ty => |$ux:ident| $ue:expr; )* }
     unary_trap { $( $ut2:ident $ut_op:ident: $utt:ty => |$utx:ident| $ute:expr; )* }) => {
        pastey::paste! {
            fn float_or_other(instr: &Instr) -> Option<(Fam, Slot, Slot, Slot)> {
                Some(match *instr {
                    $(Instr::$c { dst, a, b } => ([<$c_op:upper>], dst, a, b),)*
                    $(Instr::$b { dst, a, b } => ([<$b_op:upper>], dst, a, b),)*
                    $(Instr::$t { dst, a, b } => ([<$t_op:upper>], dst, a, b),)*
                    $(Instr::$u { dst, src } => ([<$u_op:upper>], dst, src, src),)*
                    $(Instr::$ut2 { dst, src } => ([<$ut_op:upper>], dst, src, src),)*
                    _ => return None,
                })
            }
        }
    };
}

for_each_numeric!(other_numeric);
