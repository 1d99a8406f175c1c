//! Handlers of numeric instructions, and of numeric instructions with an immediate operand.

use super::*;

/// `dst = f(a, b)` handlers (variants: `a` and `b` from the accumulators).
macro_rules! binary {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [B, C] -> A (S, S, S, I) 1 {<$t as SlotVal>::FLOAT, returns_f64(|$x: $t, $y: $t| $e)} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.b, $t);
                let $y = arg!(M & 2, sp, acc, facc, op.c, $t);
                set!(sp, acc, facc, op.a, $e);
                next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `dst = f(src)` handlers (variant: `src` from the accumulators).
macro_rules! unary {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [B] -> A (S, S, I, I) 1 {<$t as SlotVal>::FLOAT, returns_f64(|$x: $t, _: ()| $e)} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.b, $t);
                set!(sp, acc, facc, op.a, $e);
                next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `dst = f(a, b)?` handlers for operations that can trap.
macro_rules! binary_trap {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [] -> A (S, S, S, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = get!(sp, op.b, $t);
                let $y = get!(sp, op.c, $t);
                let r: Result<_, TrapCode> = $e;
                match r {
                    Ok(v) => set!(sp, acc, facc, op.a, v),
                    Err(code) => return Exit::Trap(code),
                }
                next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `dst = f(src)?` handlers for conversions that can trap.
macro_rules! unary_trap {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [] -> A (S, S, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = get!(sp, op.b, $t);
                let r: Result<_, TrapCode> = $e;
                match r {
                    Ok(v) => set!(sp, acc, facc, op.a, v),
                    Err(code) => return Exit::Trap(code),
                }
                next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

// ---- numeric ----

/// The integer comparisons ([`for_each_int_cmp!`]): `dst = a op b`, and `dst = a op k`
/// with an immediate.
macro_rules! int_cmp_handlers {
    ($( $cmp:ident $op:ident ($neg:ident, $swap:ident): $t32:ty, $t64:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        pastey::paste! {
            binary! { $(
                [<i32_ $op>] / [<I32_ $op:upper>]: $t32 => |$x, $y| $e;
                [<i64_ $op>] / [<I64_ $op:upper>]: $t64 => |$x, $y| $e;
            )* }
            binary_imm! { $(
                [<i32_ $op _imm>] / [<I32_ $op:upper _IMM>]: $t32 => |$x, $y| $e;
                [<i64_ $op _imm>] / [<I64_ $op:upper _IMM>]: $t64 => |$x, $y| $e;
            )* }
        }
    };
}

binary! {


    f32_eq / F32_EQ: f32 => |x, y| x == y;
    f32_ne / F32_NE: f32 => |x, y| x != y;
    f32_lt / F32_LT: f32 => |x, y| x < y;
    f32_gt / F32_GT: f32 => |x, y| x > y;
    f32_le / F32_LE: f32 => |x, y| x <= y;
    f32_ge / F32_GE: f32 => |x, y| x >= y;
    f32_add / F32_ADD: f32 => |x, y| x + y;
    f32_sub / F32_SUB: f32 => |x, y| x - y;
    f32_mul / F32_MUL: f32 => |x, y| x * y;
    f32_div / F32_DIV: f32 => |x, y| x / y;
    f32_min / F32_MIN: f32 => |x, y| num::f32_min(x, y);
    f32_max / F32_MAX: f32 => |x, y| num::f32_max(x, y);
    f32_copysign / F32_COPYSIGN: u32 => |x, y| (x & !num::F32_SIGN) | (y & num::F32_SIGN);

    f64_eq / F64_EQ: f64 => |x, y| x == y;
    f64_ne / F64_NE: f64 => |x, y| x != y;
    f64_lt / F64_LT: f64 => |x, y| x < y;
    f64_gt / F64_GT: f64 => |x, y| x > y;
    f64_le / F64_LE: f64 => |x, y| x <= y;
    f64_ge / F64_GE: f64 => |x, y| x >= y;
    f64_add / F64_ADD: f64 => |x, y| x + y;
    f64_sub / F64_SUB: f64 => |x, y| x - y;
    f64_mul / F64_MUL: f64 => |x, y| x * y;
    f64_div / F64_DIV: f64 => |x, y| x / y;
    f64_min / F64_MIN: f64 => |x, y| num::f64_min(x, y);
    f64_max / F64_MAX: f64 => |x, y| num::f64_max(x, y);
    f64_copysign / F64_COPYSIGN: u64 => |x, y| (x & !num::F64_SIGN) | (y & num::F64_SIGN);
}

binary_trap! {
    i32_div_s / I32_DIV_S: i32 => |x, y| match (x, y) {
        (_, 0) => Err(TrapCode::IntegerDivisionByZero),
        (i32::MIN, -1) => Err(TrapCode::IntegerOverflow),
        _ => Ok(x / y),
    };
    i32_div_u / I32_DIV_U: u32 => |x, y| x.checked_div(y).ok_or(TrapCode::IntegerDivisionByZero);
    i32_rem_s / I32_REM_S: i32 => |x, y| if y == 0 { Err(TrapCode::IntegerDivisionByZero) } else { Ok(x.wrapping_rem(y)) };
    i32_rem_u / I32_REM_U: u32 => |x, y| x.checked_rem(y).ok_or(TrapCode::IntegerDivisionByZero);
    i64_div_s / I64_DIV_S: i64 => |x, y| match (x, y) {
        (_, 0) => Err(TrapCode::IntegerDivisionByZero),
        (i64::MIN, -1) => Err(TrapCode::IntegerOverflow),
        _ => Ok(x / y),
    };
    i64_div_u / I64_DIV_U: u64 => |x, y| x.checked_div(y).ok_or(TrapCode::IntegerDivisionByZero);
    i64_rem_s / I64_REM_S: i64 => |x, y| if y == 0 { Err(TrapCode::IntegerDivisionByZero) } else { Ok(x.wrapping_rem(y)) };
    i64_rem_u / I64_REM_U: u64 => |x, y| x.checked_rem(y).ok_or(TrapCode::IntegerDivisionByZero);
}

unary! {
    i32_eqz / I32_EQZ: u32 => |x| x == 0;
    i32_clz / I32_CLZ: u32 => |x| x.leading_zeros();
    i32_ctz / I32_CTZ: u32 => |x| x.trailing_zeros();
    i32_popcnt / I32_POPCNT: u32 => |x| x.count_ones();
    i64_eqz / I64_EQZ: u64 => |x| x == 0;
    i64_clz / I64_CLZ: u64 => |x| u64::from(x.leading_zeros());
    i64_ctz / I64_CTZ: u64 => |x| u64::from(x.trailing_zeros());
    i64_popcnt / I64_POPCNT: u64 => |x| u64::from(x.count_ones());
    ref_is_null / REF_IS_NULL: u64 => |x| x == 0;

    f32_abs / F32_ABS: u32 => |x| x & !num::F32_SIGN;
    f32_neg / F32_NEG: u32 => |x| x ^ num::F32_SIGN;
    f32_ceil / F32_CEIL: f32 => |x| num::f32_round(x, f32::ceil);
    f32_floor / F32_FLOOR: f32 => |x| num::f32_round(x, f32::floor);
    f32_trunc / F32_TRUNC: f32 => |x| num::f32_round(x, f32::trunc);
    f32_nearest / F32_NEAREST: f32 => |x| num::f32_round(x, f32::round_ties_even);
    f32_sqrt / F32_SQRT: f32 => |x| x.sqrt();
    f64_abs / F64_ABS: u64 => |x| x & !num::F64_SIGN;
    f64_neg / F64_NEG: u64 => |x| x ^ num::F64_SIGN;
    f64_ceil / F64_CEIL: f64 => |x| num::f64_round(x, f64::ceil);
    f64_floor / F64_FLOOR: f64 => |x| num::f64_round(x, f64::floor);
    f64_trunc / F64_TRUNC: f64 => |x| num::f64_round(x, f64::trunc);
    f64_nearest / F64_NEAREST: f64 => |x| num::f64_round(x, f64::round_ties_even);
    f64_sqrt / F64_SQRT: f64 => |x| x.sqrt();

    i32_wrap_i64 / I32_WRAP_I64: u64 => |x| x as u32;
    i64_extend_i32_s / I64_EXTEND_I32_S: i32 => |x| i64::from(x);
    i64_extend_i32_u / I64_EXTEND_I32_U: u32 => |x| u64::from(x);
    f32_convert_i32_s / F32_CONVERT_I32_S: i32 => |x| x as f32;
    f32_convert_i32_u / F32_CONVERT_I32_U: u32 => |x| x as f32;
    f32_convert_i64_s / F32_CONVERT_I64_S: i64 => |x| x as f32;
    f32_convert_i64_u / F32_CONVERT_I64_U: u64 => |x| x as f32;
    f32_demote_f64 / F32_DEMOTE_F64: f64 => |x| x as f32;
    f64_convert_i32_s / F64_CONVERT_I32_S: i32 => |x| f64::from(x);
    f64_convert_i32_u / F64_CONVERT_I32_U: u32 => |x| f64::from(x);
    f64_convert_i64_s / F64_CONVERT_I64_S: i64 => |x| x as f64;
    f64_convert_i64_u / F64_CONVERT_I64_U: u64 => |x| x as f64;
    f64_promote_f32 / F64_PROMOTE_F32: f32 => |x| f64::from(x);
    i32_extend8_s / I32_EXTEND8_S: u32 => |x| x as u8 as i8 as i32;
    i32_extend16_s / I32_EXTEND16_S: u32 => |x| x as u16 as i16 as i32;
    i64_extend8_s / I64_EXTEND8_S: u64 => |x| x as u8 as i8 as i64;
    i64_extend16_s / I64_EXTEND16_S: u64 => |x| x as u16 as i16 as i64;
    i64_extend32_s / I64_EXTEND32_S: u64 => |x| x as u32 as i32 as i64;
    i32_trunc_sat_f32_s / I32_TRUNC_SAT_F32_S: f32 => |x| x as i32;
    i32_trunc_sat_f32_u / I32_TRUNC_SAT_F32_U: f32 => |x| x as u32;
    i32_trunc_sat_f64_s / I32_TRUNC_SAT_F64_S: f64 => |x| x as i32;
    i32_trunc_sat_f64_u / I32_TRUNC_SAT_F64_U: f64 => |x| x as u32;
    i64_trunc_sat_f32_s / I64_TRUNC_SAT_F32_S: f32 => |x| x as i64;
    i64_trunc_sat_f32_u / I64_TRUNC_SAT_F32_U: f32 => |x| x as u64;
    i64_trunc_sat_f64_s / I64_TRUNC_SAT_F64_S: f64 => |x| x as i64;
    i64_trunc_sat_f64_u / I64_TRUNC_SAT_F64_U: f64 => |x| x as u64;
}

unary_trap! {
    i32_trunc_f32_s / I32_TRUNC_F32_S: f32 => |x| num::i32_trunc_s(f64::from(x));
    i32_trunc_f32_u / I32_TRUNC_F32_U: f32 => |x| num::i32_trunc_u(f64::from(x));
    i32_trunc_f64_s / I32_TRUNC_F64_S: f64 => |x| num::i32_trunc_s(x);
    i32_trunc_f64_u / I32_TRUNC_F64_U: f64 => |x| num::i32_trunc_u(x);
    i64_trunc_f32_s / I64_TRUNC_F32_S: f32 => |x| num::i64_trunc_s(f64::from(x));
    i64_trunc_f32_u / I64_TRUNC_F32_U: f32 => |x| num::i64_trunc_u(f64::from(x));
    i64_trunc_f64_s / I64_TRUNC_F64_S: f64 => |x| num::i64_trunc_s(x);
    i64_trunc_f64_u / I64_TRUNC_F64_U: f64 => |x| num::i64_trunc_u(x);
}

/// `dst = f(a, k)` handlers, `k` an immediate; they cover a constant and the operation,
/// so they continue two ops further.
macro_rules! binary_imm {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [B] -> A (S, S, I, I) 2 {<$t as SlotVal>::FLOAT, returns_f64(|$x: $t, $y: $t| $e)} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.b, $t);
                let $y = <$t as SlotVal>::get(u64::from(op.c) | (u64::from(op.d) << 32));
                set!(sp, acc, facc, op.a, $e);
                next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

binary_imm! {
    f64_add_imm / F64_ADD_IMM: f64 => |x, y| x + y;
    f64_sub_imm / F64_SUB_IMM: f64 => |x, y| x - y;
    f64_mul_imm / F64_MUL_IMM: f64 => |x, y| x * y;
    f64_div_imm / F64_DIV_IMM: f64 => |x, y| x / y;
    f64_lt_imm / F64_LT_IMM: f64 => |x, y| x < y;
    f64_gt_imm / F64_GT_IMM: f64 => |x, y| x > y;
    f64_le_imm / F64_LE_IMM: f64 => |x, y| x <= y;
    f64_ge_imm / F64_GE_IMM: f64 => |x, y| x >= y;
    f32_add_imm / F32_ADD_IMM: f32 => |x, y| x + y;
    f32_sub_imm / F32_SUB_IMM: f32 => |x, y| x - y;
    f32_mul_imm / F32_MUL_IMM: f32 => |x, y| x * y;
    f32_div_imm / F32_DIV_IMM: f32 => |x, y| x / y;
}

family! {
    /// `i32.add` with an immediate, as the translator emits it (one op, no constant).
    i32_add_imm1 / I32_ADD_IMM1 [B] -> A (S, S, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, arg!(M & 1, sp, acc, facc, op.b, u32).wrapping_add(op.c));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }
}

/// The integer binary operations ([`for_each_int_binop!`]): `dst = a op b`, and
/// `dst = a op k` with an immediate.
macro_rules! int_binop_handlers {
    ($( $v:ident $op:ident [$comm:literal, $in_mem:tt]: $t32:ty => |$x:ident, $y:ident| $e32:expr, $t64:ty => |$x2:ident, $y2:ident| $e64:expr; )*) => {
        pastey::paste! {
            binary! { $(
                [<i32_ $op>] / [<I32_ $op:upper>]: $t32 => |$x, $y| $e32;
                [<i64_ $op>] / [<I64_ $op:upper>]: $t64 => |$x2, $y2| $e64;
            )* }
            binary_imm! { $(
                [<i32_ $op _imm>] / [<I32_ $op:upper _IMM>]: $t32 => |$x, $y| $e32;
                [<i64_ $op _imm>] / [<I64_ $op:upper _IMM>]: $t64 => |$x2, $y2| $e64;
            )* }
        }
    };
}

for_each_int_binop!(int_binop_handlers);

for_each_int_cmp!(int_cmp_handlers);
