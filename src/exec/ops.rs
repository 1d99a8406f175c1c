//! The operations that several handler families share, each listed once with its
//! semantics: the handler families, the IR instructions they run and the tables that
//! lowering picks handlers from are generated from these lists, so adding an operation
//! is one row.
//!
//! A list is a macro `for_each_*!(callback)` that invokes `callback!` with all its rows.

/// Calls `$cb!` with the integer comparisons, one row each:
///
/// ```text
/// Cmp name (negated, swapped): i32 operand type, i64 operand type => semantics;
/// ```
///
/// `Cmp` is the variant of `lower::tables::Cmp` and the suffix of the `I32`/`I64`
/// instructions (`I32LtS`); `name` is the suffix of the handler names (`i32_lt_s`,
/// `BR_I64_LT_S_IMM`); `negated` is the comparison `!(x op y)`, `swapped` the one
/// `y op' x` equal to `x op y`.
macro_rules! for_each_int_cmp {
    ($cb:ident) => {
        $cb! {
            Eq eq (Ne, Eq): u32, u64 => |x, y| x == y;
            Ne ne (Eq, Ne): u32, u64 => |x, y| x != y;
            LtS lt_s (GeS, GtS): i32, i64 => |x, y| x < y;
            LtU lt_u (GeU, GtU): u32, u64 => |x, y| x < y;
            GtS gt_s (LeS, LtS): i32, i64 => |x, y| x > y;
            GtU gt_u (LeU, LtU): u32, u64 => |x, y| x > y;
            LeS le_s (GtS, GeS): i32, i64 => |x, y| x <= y;
            LeU le_u (GtU, GeU): u32, u64 => |x, y| x <= y;
            GeS ge_s (LtS, LeS): i32, i64 => |x, y| x >= y;
            GeU ge_u (LtU, LeU): u32, u64 => |x, y| x >= y;
        }
    };
}

/// Calls `$cb!` with the integer binary operations that cannot trap, one row each:
///
/// ```text
/// Op name [commutative, in memory]: i32 operand type => semantics, i64 operand type => semantics;
/// ```
///
/// `Op` is the suffix of the `I32`/`I64` instructions (`I32ShrU`), `name` that of the
/// handler names (`i64_shr_u_imm`); `in memory` says whether there are handlers that
/// update memory in place with it (`mem_update!`).
macro_rules! for_each_int_binop {
    ($cb:ident) => {
        $cb! {
            Add add [true, true]: u32 => |x, y| x.wrapping_add(y), u64 => |x, y| x.wrapping_add(y);
            Sub sub [false, true]: u32 => |x, y| x.wrapping_sub(y), u64 => |x, y| x.wrapping_sub(y);
            Mul mul [true, false]: u32 => |x, y| x.wrapping_mul(y), u64 => |x, y| x.wrapping_mul(y);
            And and [true, true]: u32 => |x, y| x & y, u64 => |x, y| x & y;
            Or or [true, true]: u32 => |x, y| x | y, u64 => |x, y| x | y;
            Xor xor [true, true]: u32 => |x, y| x ^ y, u64 => |x, y| x ^ y;
            Shl shl [false, false]: u32 => |x, y| x.wrapping_shl(y), u64 => |x, y| x.wrapping_shl(y as u32);
            ShrS shr_s [false, false]: i32 => |x, y| x.wrapping_shr(y as u32), i64 => |x, y| x.wrapping_shr(y as u32);
            ShrU shr_u [false, false]: u32 => |x, y| x.wrapping_shr(y), u64 => |x, y| x.wrapping_shr(y as u32);
            Rotl rotl [false, false]: u32 => |x, y| x.rotate_left(y % 32), u64 => |x, y| x.rotate_left((y % 64) as u32);
            Rotr rotr [false, false]: u32 => |x, y| x.rotate_right(y % 32), u64 => |x, y| x.rotate_right((y % 64) as u32);
        }
    };
}
