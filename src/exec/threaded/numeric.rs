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
                    Err(code) => return trap_at(cx, ip, code),
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
                    Err(code) => return trap_at(cx, ip, code),
                }
                next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

// ---- numeric ----

/// The integer comparisons ([`for_each_numeric!`]): `dst = a op b`, and `dst = a op k`
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

family! {
    /// `i32.add` with an immediate, as the translator emits it (one op, no constant).
    i32_add_imm1 / I32_ADD_IMM1 [B] -> A (S, S, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, arg!(M & 1, sp, acc, facc, op.b, u32).wrapping_add(op.c));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }
}

/// The integer binary operations ([`for_each_numeric!`]): `dst = a op b`, and
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

numeric_section!(int_binop => int_binop_handlers);

numeric_section!(int_cmp => int_cmp_handlers);

/// A handler of a float operation with an immediate operand, if the row asks for one.
macro_rules! float_imm_handler {
    (true $op:ident: $t:ty => |$x:ident, $y:ident| $e:expr) => {
        pastey::paste! {
            binary_imm! { [<$op _imm>] / [<$op:upper _IMM>]: $t => |$x, $y| $e; }
        }
    };
    (false $($row:tt)*) => {};
}

/// The float comparisons: `dst = a op b`, and for some `dst = a op k`.
macro_rules! float_cmp_handlers {
    ($( $v:ident $op:ident [$imm:tt]: $t:ty => |$x:ident, $y:ident| $e:expr, |$nx:ident, $ny:ident| $ne:expr; )*) => {
        pastey::paste! {
            binary! { $( $op / [<$op:upper>]: $t => |$x, $y| $e; )* }
        }
        $( float_imm_handler!($imm $op: $t => |$x, $y| $e); )*
    };
}

numeric_section!(float_cmp => float_cmp_handlers);

/// The float binary operations: `dst = a op b`, and for some `dst = a op k`.
macro_rules! float_binop_handlers {
    ($( $v:ident $op:ident [$comm:tt, $imm:tt]: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        pastey::paste! {
            binary! { $( $op / [<$op:upper>]: $t => |$x, $y| $e; )* }
        }
        $( float_imm_handler!($imm $op: $t => |$x, $y| $e); )*
    };
}

numeric_section!(float_binop => float_binop_handlers);

/// Handlers of the operations of one shape (`binary_trap`, `unary` or `unary_trap`), by
/// the handler macro of that shape.
macro_rules! shaped_handlers {
    ($shape:ident $( $v:ident $op:ident: $t:ty => |$($x:ident),+| $e:expr; )*) => {
        pastey::paste! {
            $shape! { $( $op / [<$op:upper>]: $t => |$($x),+| $e; )* }
        }
    };
}

macro_rules! binary_trap_handlers {
    ($($rows:tt)*) => { shaped_handlers!(binary_trap $($rows)*); };
}
macro_rules! unary_handlers {
    ($($rows:tt)*) => { shaped_handlers!(unary $($rows)*); };
}
macro_rules! unary_trap_handlers {
    ($($rows:tt)*) => { shaped_handlers!(unary_trap $($rows)*); };
}

numeric_section!(binary_trap => binary_trap_handlers);
numeric_section!(unary => unary_handlers);
numeric_section!(unary_trap => unary_trap_handlers);

// ---- wide arithmetic: two results, each slot in a field of its own ----

/// Wide-arithmetic handlers: fields `a` to `d` are slots, `$f` maps their values to the
/// result's low and high halves, which go to slots `a` and `b`. `i64.add128/sub128` add or
/// subtract the 128-bit operands `a | b << 64` and `c | d << 64`; `i64.mul_wide_s/u`
/// multiply `c` and `d` (their `a` and `b` are only the result's slots).
macro_rules! wide_handlers {
    ($( $(#[$attr:meta])* $name:ident / $fam:ident => $f:expr; )*) => {
        handlers! { $(
            $(#[$attr])*
            $name / $fam (S, S, S, S) 1 (ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let (lo, hi) = $f(get!(sp, op.a, u64), get!(sp, op.b, u64), get!(sp, op.c, u64), get!(sp, op.d, u64));
                set!(sp, acc, facc, op.a, lo);
                set!(sp, acc, facc, op.b, hi);
                next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

wide_handlers! {
    /// `i64.add128`.
    i64_add128 / I64_ADD128 => num::i64_add128;
    /// `i64.sub128`.
    i64_sub128 / I64_SUB128 => num::i64_sub128;
    /// `i64.mul_wide_s`.
    i64_mul_wide_s / I64_MUL_WIDE_S => |_, _, c, d| num::i64_mul_wide_s(c, d);
    /// `i64.mul_wide_u`.
    i64_mul_wide_u / I64_MUL_WIDE_U => |_, _, c, d| num::i64_mul_wide_u(c, d);
}
