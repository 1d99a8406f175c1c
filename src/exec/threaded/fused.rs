//! Fused handlers: compare-and-branch, branches on loads, memory moved and updated in place,
//! and other sequences that one op runs.

use super::*;

/// Fused compare-and-branch handlers: `if f(a, b) { goto ip + c } else { goto ip + d }`
/// (`d` skips the covered instructions, or goes straight on to where a jump after them
/// leads).
macro_rules! branch_cmp {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [A, B] -> - (S, S, T, T) 0 {<$t as SlotVal>::FLOAT, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.a, $t);
                let $y = arg!(M & 2, sp, acc, facc, op.b, $t);
                branch!($e, step!(ip, op.c as i32), step!(ip, op.d as i32), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// The float comparisons ([`for_each_numeric!`]) as fused compare-and-branch handlers:
/// `br_f64_lt` branches when the comparison holds, `br_not_f64_lt` when it does not.
macro_rules! float_cmp_branches {
    ($( $v:ident $op:ident [$imm:tt]: $t:ty => |$x:ident, $y:ident| $e:expr, |$nx:ident, $ny:ident| $ne:expr; )*) => {
        pastey::paste! {
            branch_cmp! { $(
                [<br_ $op>] / [<BR_ $op:upper>]: $t => |$x, $y| $e;
                [<br_not_ $op>] / [<BR_NOT_ $op:upper>]: $t => |$nx, $ny| $ne;
            )* }
        }
    };
}

numeric_section!(float_cmp => float_cmp_branches);

/// 32-bit immediate `c`; they cover a constant, a comparison and a branch.
macro_rules! branch_cmp_imm {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [A] -> - (S, T, I, T) 0 {<$t as SlotVal>::FLOAT, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.a, $t);
                let $y = <$t as SlotVal>::get(op.c as i32 as i64 as u64);
                branch!($e, step!(ip, op.b as i32), step!(ip, op.d as i32), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `if f(a) { goto ip + b } else { goto ip + c }` handlers covering an `eqz` and a branch.
macro_rules! branch_test {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [A] -> - (S, T, T, I) 0 {<$t as SlotVal>::FLOAT, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.a, $t);
                branch!($e, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `a += y; if f(a, z) { goto ip + d }`, else on after the covered instructions: an i32
/// add to a slot, a comparison of the slot's new value, and the branch on it (a loop
/// counter stepped and tested); or `a = b; if f(a, z) ...`, a copy instead of the add. By
/// form, `y` and `z` are: `reg`, slots `b` and `c` (covering 3 instructions); `imm`,
/// immediate `b` and slot `c` (3); `reg_k`, slot `b` and immediate `c` (4, with the
/// constant); `imm_k`, immediates `b` and `c` (4); `copy`, the copy's source in slot `b` and
/// slot `c` (3); `copy_k`, the source and immediate `c` (4).
macro_rules! branch_add {
    ($( $t:ty => |$x:ident, $y:ident| $e:expr; $reg:ident / $freg:ident, $imm:ident / $fimm:ident, $reg_k:ident / $freg_k:ident, $imm_k:ident / $fimm_k:ident, $copy:ident / $fcopy:ident, $copy_k:ident / $fcopy_k:ident; )*) => {
        $(
            branch_add!(@one $reg / $freg [A, B] (S, S, S, T) add slot slot 3, $t, |$x, $y| $e);
            branch_add!(@one $imm / $fimm [A] (S, I, S, T) add imm slot 3, $t, |$x, $y| $e);
            branch_add!(@one $reg_k / $freg_k [A, B] (S, S, I, T) add slot imm 4, $t, |$x, $y| $e);
            branch_add!(@one $imm_k / $fimm_k [A] (S, I, I, T) add imm imm 4, $t, |$x, $y| $e);
            branch_add!(@one $copy / $fcopy [B] (S, S, S, T) copy slot slot 3, $t, |$x, $y| $e);
            branch_add!(@one $copy_k / $fcopy_k [B] (S, S, I, T) copy slot imm 4, $t, |$x, $y| $e);
        )*
    };
    (@one $name:ident / $fam:ident [$($r:ident),*] $kinds:tt $kind:ident $yf:ident $zf:ident $len:literal, $t:ty, |$x:ident, $y:ident| $e:expr) => {
        family! {
            $name / $fam [$($r),*] -> A $kinds $len {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let v = branch_add!(@$kind $yf, M, sp, acc, facc, op);
                set!(sp, acc, facc, op.a, v);
                // Read after the add, which may have written the same slot.
                let $y = branch_add!(@$zf 0, sp, acc, facc, op.c, $t);
                let $x = <$t as SlotVal>::get(acc);
                branch!($e, step!(ip, op.d as i32), step!(ip, $len), sp, mem, len, cx, acc, facc)
            }
        }
    };
    // The new value: slot `a` plus `y`, or slot `b` (all 64 bits: a copy).
    (@add $yf:ident, $m:ident, $sp:ident, $acc:ident, $facc:ident, $op:ident) => {
        arg!($m & 1, $sp, $acc, $facc, $op.a, u32).wrapping_add(branch_add!(@$yf $m, $sp, $acc, $facc, $op.b, u32))
    };
    (@copy $yf:ident, $m:ident, $sp:ident, $acc:ident, $facc:ident, $op:ident) => {
        arg!($m & 1, $sp, $acc, $facc, $op.b, u64)
    };
    // An operand: slot `$f` (from the accumulators if bit 1 of `$m` is set), or `$f` itself.
    (@slot $m:expr, $sp:ident, $acc:ident, $facc:ident, $f:expr, $t:ty) => {{
        let m: u8 = $m;
        arg!(m & 2, $sp, $acc, $facc, $f, $t)
    }};
    (@imm $m:expr, $sp:ident, $acc:ident, $facc:ident, $f:expr, $t:ty) => {
        <$t as SlotVal>::get(u64::from($f))
    };
}

/// The integer comparisons ([`for_each_numeric!`]) as fused compare-and-branch handlers:
/// of two slots, of a slot and an immediate, and of a loop counter just stepped (i32 only).
macro_rules! int_cmp_branches {
    ($( $cmp:ident $op:ident ($neg:ident, $swap:ident): $t32:ty, $t64:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        pastey::paste! {
            branch_cmp! { $(
                [<br_i32_ $op>] / [<BR_I32_ $op:upper>]: $t32 => |$x, $y| $e;
                [<br_i64_ $op>] / [<BR_I64_ $op:upper>]: $t64 => |$x, $y| $e;
            )* }
            branch_cmp_imm! { $(
                [<br_i32_ $op _imm>] / [<BR_I32_ $op:upper _IMM>]: $t32 => |$x, $y| $e;
                [<br_i64_ $op _imm>] / [<BR_I64_ $op:upper _IMM>]: $t64 => |$x, $y| $e;
            )* }
            branch_add! { $(
                $t32 => |$x, $y| $e;
                    [<br_add_ $op>] / [<BR_ADD_ $op:upper>],
                    [<br_add_imm_ $op>] / [<BR_ADD_IMM_ $op:upper>],
                    [<br_add_k_ $op>] / [<BR_ADD_K_ $op:upper>],
                    [<br_add_imm_k_ $op>] / [<BR_ADD_IMM_K_ $op:upper>],
                    [<br_copy_ $op>] / [<BR_COPY_ $op:upper>],
                    [<br_copy_k_ $op>] / [<BR_COPY_K_ $op:upper>];
            )* }
        }
    };
}

numeric_section!(int_cmp => int_cmp_branches);

/// `if mem[ea..][..N] != 0 { goto ip + c } else { goto ip + d }` (or `== 0`): a load
/// whose only use is a test for zero, and the branch; `ea` is slot `a` + slot `b` (mode
/// `add`, covering an add, for loads without offset) or slot `a` + offset `b` (`plain`).
macro_rules! branch_load {
    ($mode:ident $reads:tt $kinds:tt: $( $name:ident / $fam:ident: $n:literal, $nonzero:literal; )*) => {
        family! { $(
            $name / $fam $reads -> - $kinds 0 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let ea: u64 = branch_load!(@ea $mode, M, op, sp, acc, facc);
                if ea + $n > len as u64 {
                    return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `ea + N <= len`, and `mem` is valid for `len` bytes.
                let bytes: [u8; $n] = unsafe { std::ptr::read_unaligned(mem.add(ea as usize).cast()) };
                let taken = (bytes != [0; $n]) == $nonzero;
                branch!(taken, step!(ip, op.c as i32), step!(ip, op.d as i32), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
    (@ea add, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident) => {
        u64::from(arg!($m & 1, $sp, $acc, $facc, $op.a, u32).wrapping_add(arg!($m & 2, $sp, $acc, $facc, $op.b, u32)))
    };
    (@ea plain, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident) => {
        u64::from(arg!($m & 1, $sp, $acc, $facc, $op.a, u32)) + u64::from($op.b)
    };
}

branch_load! { add [A, B] (S, S, T, T):
    br_load8_add_nez / BR_LOAD8_ADD_NEZ: 1, true;
    br_load8_add_eqz / BR_LOAD8_ADD_EQZ: 1, false;
    br_load16_add_nez / BR_LOAD16_ADD_NEZ: 2, true;
    br_load16_add_eqz / BR_LOAD16_ADD_EQZ: 2, false;
    br_load32_add_nez / BR_LOAD32_ADD_NEZ: 4, true;
    br_load32_add_eqz / BR_LOAD32_ADD_EQZ: 4, false;
    br_load64_add_nez / BR_LOAD64_ADD_NEZ: 8, true;
    br_load64_add_eqz / BR_LOAD64_ADD_EQZ: 8, false;
}

branch_load! { plain [A] (S, I, T, T):
    br_load8_nez / BR_LOAD8_NEZ: 1, true;
    br_load8_eqz / BR_LOAD8_EQZ: 1, false;
    br_load16_nez / BR_LOAD16_NEZ: 2, true;
    br_load16_eqz / BR_LOAD16_EQZ: 2, false;
    br_load32_nez / BR_LOAD32_NEZ: 4, true;
    br_load32_eqz / BR_LOAD32_EQZ: 4, false;
    br_load64_nez / BR_LOAD64_NEZ: 8, true;
    br_load64_eqz / BR_LOAD64_EQZ: 8, false;
}

/// `mem[slot b + d..][..N] = mem[slot a + c..][..N]`: a load whose only use is a store of
/// the same width (covers both; the loaded value is not kept). Either access out of bounds
/// traps before anything is written.
macro_rules! mem_move {
    ($( $name:ident / $fam:ident: $n:literal; )*) => {
        family! { $(
            $name / $fam [A, B] -> - (S, S, I, I) 2 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let from = u64::from(arg!(M & 1, sp, acc, facc, op.a, u32)) + u64::from(op.c);
                let to = u64::from(arg!(M & 2, sp, acc, facc, op.b, u32)) + u64::from(op.d);
                if from + $n > len as u64 || to + $n > len as u64 {
                    return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: both ranges are inside the `len` bytes at `mem` (checked above);
                // `copy` allows them to overlap.
                unsafe { std::ptr::copy(mem.add(from as usize), mem.add(to as usize), $n) };
                next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

mem_move! {
    move8 / MOVE8: 1;
    move16 / MOVE16: 2;
    move32 / MOVE32: 4;
    move64 / MOVE64: 8;
}

/// `mem[a + c] = f(mem[a + c], b)`: a load, an operation with the loaded value as its
/// first operand (or either, for commutative ones), and a store of the result to the same
/// address (covering the three).
macro_rules! mem_update {
    ($( $name:ident / $fam:ident: $t:ty => |$m:ident, $x:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [A, B] -> - (S, S, I, I) 3 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                const N: usize = std::mem::size_of::<$t>();
                let op = op!(ip);
                let ea = u64::from(arg!(M & 1, sp, acc, facc, op.a, u32)) + u64::from(op.c);
                if ea + N as u64 > len as u64 {
                    return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
                }
                let $x = arg!(M & 2, sp, acc, facc, op.b, $t);
                let mut bytes = [0u8; N];
                // SAFETY: `ea + N <= len` (checked above), and `mem` is valid for reads and
                // writes of `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(mem.add(ea as usize), bytes.as_mut_ptr(), N) };
                let $m = <$t>::from_le_bytes(bytes);
                let bytes = ($e).to_le_bytes();
                // SAFETY: as above.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.add(ea as usize), N) };
                next!(step!(ip, 3), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `a = mem[c + (d & 0xffff)][..N]; b = mem[c + (d >> 16)][..N]`: two loads of the same
/// width from one address slot (two fields of a struct; covering the two).
macro_rules! load_pair {
    ($( $name:ident / $fam:ident: $n:literal, $t:ty; )*) => {
        family! { $(
            $name / $fam [C] -> B (S, S, S, I) 2 {false, <$t as SlotVal>::FLOAT} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let base = u64::from(arg!(M & 1, sp, acc, facc, op.c, u32));
                let (first, second) = (base + u64::from(op.d & 0xffff), base + u64::from(op.d >> 16));
                if first.max(second) + $n > len as u64 {
                    return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: both `ea + N <= len` (checked above), and `mem` is valid for `len`
                // bytes.
                let (x, y): ([u8; $n], [u8; $n]) = unsafe {
                    (
                        std::ptr::read_unaligned(mem.add(first as usize).cast()),
                        std::ptr::read_unaligned(mem.add(second as usize).cast()),
                    )
                };
                set!(sp, acc, facc, op.a, <$t as SlotVal>::get(u64::from_le_bytes(widen(x))));
                set!(sp, acc, facc, op.b, <$t as SlotVal>::get(u64::from_le_bytes(widen(y))));
                next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `bytes`, zero-extended to eight.
#[inline(always)]
fn widen<const N: usize>(bytes: [u8; N]) -> [u8; 8] {
    let mut wide = [0; 8];
    wide[..N].copy_from_slice(&bytes);
    wide
}

load_pair! {
    load_pair32 / LOAD_PAIR32: 4, u32;
    load_pair64 / LOAD_PAIR64: 8, u64;
    load_pair_f64 / LOAD_PAIR_F64: 8, f64;
}

/// `a = b; mem[c + d][..N] = b`: a copy to a local and a store of the value copied
/// (covering the two).
macro_rules! copy_store {
    ($( $name:ident / $fam:ident: $n:literal; )*) => {
        family! { $(
            $name / $fam [B, C] -> A (S, S, S, I) 2 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let v = arg!(M & 1, sp, acc, facc, op.b, u64);
                let ea = u64::from(arg!(M & 2, sp, acc, facc, op.c, u32)) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
                }
                set!(sp, acc, facc, op.a, v);
                // SAFETY: `ea + N <= len` (checked above), and `mem` is valid for writes of
                // `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(v.to_le_bytes().as_ptr(), mem.add(ea as usize), $n) };
                next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

copy_store! {
    copy_store8 / COPY_STORE8: 1;
    copy_store16 / COPY_STORE16: 2;
    copy_store32 / COPY_STORE32: 4;
    copy_store64 / COPY_STORE64: 8;
}

/// The integer binary operations ([`for_each_numeric!`]) that update memory in place.
macro_rules! int_mem_updates {
    ($( $v:ident $op:ident [$comm:literal, $in_mem:tt]: $t32:ty => |$x:ident, $y:ident| $e32:expr, $t64:ty => |$x2:ident, $y2:ident| $e64:expr; )*) => {
        $( int_mem_updates!(@ $in_mem $op, $t32 => |$x, $y| $e32, $t64 => |$x2, $y2| $e64); )*
    };
    (@ true $op:ident, $t32:ty => |$x:ident, $y:ident| $e32:expr, $t64:ty => |$x2:ident, $y2:ident| $e64:expr) => {
        pastey::paste! {
            mem_update! {
                [<i32_mem_ $op>] / [<I32_MEM_ $op:upper>]: $t32 => |$x, $y| $e32;
                [<i64_mem_ $op>] / [<I64_MEM_ $op:upper>]: $t64 => |$x2, $y2| $e64;
            }
        }
    };
    (@ false $($rest:tt)*) => {};
}

numeric_section!(int_binop => int_mem_updates);

branch_test! {
    br_i32_eqz / BR_I32_EQZ: u32 => |x| x == 0;
    br_i32_nez / BR_I32_NEZ: u32 => |x| x != 0;
    br_i64_eqz / BR_I64_EQZ: u64 => |x| x == 0;
    br_i64_nez / BR_I64_NEZ: u64 => |x| x != 0;
}

family! {
    /// `dst = (a >> c) & d` (covers two constants, a shift and an and).
    i32_shr_u_and_imm / I32_SHR_U_AND_IMM [B] -> A (S, S, I, I) 4 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let v = (arg!(M & 1, sp, acc, facc, op.b, u32) >> (op.c & 31)) & op.d;
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, 4), sp, mem, len, cx, acc, facc)
    }

    /// `dst = a + (b << k)` (covers a constant, a shift and an add).
    i32_add_shl_imm / I32_ADD_SHL_IMM [B, C] -> A (S, S, S, I) 3 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let v = arg!(M & 1, sp, acc, facc, op.b, u32).wrapping_add(arg!(M & 2, sp, acc, facc, op.c, u32) << op.d);
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, 3), sp, mem, len, cx, acc, facc)
    }
}

handlers! {
    /// `t = if cond != 0 { t } else { b }; dst = t` (a `select` and a copy of its result).
    select_copy / SELECT_COPY (S, S, S, S) 2 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let v = if get!(sp, op.d, u32) != 0 { get!(sp, op.b, u64) } else { get!(sp, op.c, u64) };
        set!(sp, acc, facc, op.b, v);
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }

    /// Two copies, in order.
    copy2 / COPY2 (S, S, S, S) 2 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, get!(sp, op.b, u64));
        set!(sp, acc, facc, op.c, get!(sp, op.d, u64));
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }
}

handlers! {
    /// `a = b; c = d` (two constants).
    const2 / CONST2 (S, I, S, I) 2 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, op.b);
        set!(sp, acc, facc, op.c, op.d);
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }

    /// `a = b`, then jump to `ip + c`.
    const_br / CONST_BR (S, I, T, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, op.b);
        next!(step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
    }
}
