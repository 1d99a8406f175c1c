//! Handlers of slots, globals and memory 0: copies, constants, loads, stores, bulk memory.

use super::*;

/// The effective address of a memory-0 access and how many ops the handler covers, by
/// addressing mode (the address is in field `b` and on; bit 0 of `M` takes slot `b` from
/// the accumulators, bit 1 slot `c`):
/// `plain`: slot `b` + offset `c`; `add`: (slot `b` + slot `c`) + offset `d`, covering the
/// add; `imm`: (slot `b` + `c`) + offset `d`, covering the add; `k`: `c` + offset `d`,
/// covering the constant; `idx1`, `idx2`, `idx3`: (slot `b` + (slot `c` << 1, 2, 3)) + offset
/// `d`, covering the constant shift amount, the shift and the add. The 32-bit address
/// wraps, the offset is added without wrapping.
macro_rules! ea {
    (idx1, $($rest:tt)*) => { ea!(@idx 1, $($rest)*) };
    (idx2, $($rest:tt)*) => { ea!(@idx 2, $($rest)*) };
    (idx3, $($rest:tt)*) => { ea!(@idx 3, $($rest)*) };
    (@idx $shift:literal, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident) => {{
        let base = arg!($m & 1, $sp, $acc, $facc, $op.b, u32);
        let index = arg!($m & 2, $sp, $acc, $facc, $op.c, u32);
        (u64::from(base.wrapping_add(index << $shift)) + u64::from($op.d), 4)
    }};
    (plain, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident) => {
        (u64::from(arg!($m & 1, $sp, $acc, $facc, $op.b, u32)) + u64::from($op.c), 1)
    };
    (add, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident) => {
        (
            u64::from(arg!($m & 1, $sp, $acc, $facc, $op.b, u32).wrapping_add(arg!(
                $m & 2,
                $sp,
                $acc,
                $facc,
                $op.c,
                u32
            ))) + u64::from($op.d),
            2,
        )
    };
    (imm, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident) => {
        (u64::from(arg!($m & 1, $sp, $acc, $facc, $op.b, u32).wrapping_add($op.c)) + u64::from($op.d), 2)
    };
    (k, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident) => {
        (u64::from($op.c) + u64::from($op.d), 2)
    };
}

/// Loads from memory 0: `slot a = f(mem[ea..][..N])`, `ea` by addressing mode ([`ea!`]).
macro_rules! load {
    ($mode:ident $reads:tt $kinds:tt $next:literal: $( $name:ident / $fam:ident: $n:literal => |$b:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam $reads -> A $kinds $next {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let (ea, covers): (u64, isize) = ea!($mode, M, op, sp, acc, facc);
                if ea + $n > len as u64 {
                    return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `ea + N <= len`, and `mem` is valid for `len` bytes.
                let $b: [u8; $n] = unsafe { std::ptr::read_unaligned(mem.add(ea as usize).cast()) };
                set!(sp, acc, facc, op.a, $e);
                next!(step!(ip, covers), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// Stores to memory 0: `mem[ea..][..N] = value`, `ea` by addressing mode ([`ea!`]), the
/// value in slot `a` (`slot`; bit `$v` of `M` takes it from the accumulators, none if 0)
/// or `a` itself (`k`, an immediate; covers its constant too).
macro_rules! store {
    ($mode:ident, $val:ident $v:literal $reads:tt $kinds:tt $next:literal: $( $name:ident / $fam:ident: $n:literal; )*) => {
        family! { $(
            $name / $fam $reads -> - $kinds $next {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let (ea, covers): (u64, isize) = ea!($mode, M, op, sp, acc, facc);
                if ea + $n > len as u64 {
                    return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
                }
                let (value, covers) = store!(@value $val $v, M, op, sp, acc, facc, covers);
                let bytes = value.to_le_bytes();
                // SAFETY: `ea + N <= len`, and `mem` is valid for writes of `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.add(ea as usize), $n) };
                next!(step!(ip, covers), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
    (@value slot $v:literal, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident, $covers:ident) => {
        (arg!($m & $v, $sp, $acc, $facc, $op.a, u64), $covers)
    };
    (@value k $v:literal, $m:ident, $op:ident, $sp:ident, $acc:ident, $facc:ident, $covers:ident) => {
        (u64::from($op.a), $covers + 1)
    };
}

// ---- slots, globals, memory 0 ----

family! {
    copy / COPY [B] -> A (S, S, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, arg!(M & 1, sp, acc, facc, op.b, u64));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    const32 / CONST32 [] -> A (S, I, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, op.b);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    const64 / CONST64 [] -> A (S, I, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, u64::from(op.b) | (u64::from(op.c) << 32));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    global_get / GLOBAL_GET [] -> A (S, I, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let Some(g) = global(cx, op.b) else {
            return internal(cx, "unknown global");
        };
        set!(sp, acc, facc, op.a, g.value);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }
}

family! {
    /// `a = global[b] + c; global[b] = a` (covers a `global.get`, an add or a subtraction of
    /// a constant, and a `global.set` of the result: `d` instructions). A stack pointer
    /// moved in a function's prologue.
    global_add / GLOBAL_ADD [] -> A (S, I, I, T) 0 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let Some(g) = global(cx, op.b) else {
            return internal(cx, "unknown global");
        };
        let v = (g.value as u32).wrapping_add(op.c);
        g.value = u64::from(v);
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, op.d), sp, mem, len, cx, acc, facc)
    }

    /// `a = b + c; global[d] = a` (covers the add and a `global.set` of its result). A stack
    /// pointer restored in a function's epilogue.
    add_imm_global_set / ADD_IMM_GLOBAL_SET [B] -> A (S, S, I, I) 2 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let v = arg!(M & 1, sp, acc, facc, op.b, u32).wrapping_add(op.c);
        let Some(g) = global(cx, op.d) else {
            return internal(cx, "unknown global");
        };
        g.value = u64::from(v);
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }
}

handlers! {
    select / SELECT (S, S, S, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        if get!(sp, op.c, u32) == 0 {
            set!(sp, acc, facc, op.a, get!(sp, op.b, u64));
        }
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    global_set / GLOBAL_SET (S, I, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let Some(g) = global(cx, op.b) else {
            return internal(cx, "unknown global");
        };
        g.value = get!(sp, op.a, u64);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    memory_size / MEMORY_SIZE (S, I, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let pages = cx.inner.memories.get(cx.regs.mem0).map_or(0, |m| m.size_pages());
        set!(sp, acc, facc, op.a, pages);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    memory_grow / MEMORY_GROW (S, S, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let delta = u64::from(get!(sp, op.b, u32));
        let limits = cx.inner.limits;
        let old = match cx.inner.memories.get_mut(cx.regs.mem0) {
            Some(m) => m.grow(delta, &limits),
            None => return internal(cx, "memory.grow without a memory"),
        };
        set!(sp, acc, facc, op.a, old.map_or(u32::MAX, |o| o as u32));
        let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    ref_func / REF_FUNC (S, I, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let f = cx.inner.instances[cx.regs.instance as usize].funcs[op.b as usize];
        set!(sp, acc, facc, op.a, u64::from(f) + 1);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    /// Any instruction without a handler of its own, run by [`exec_slow`].
    /// `memory.copy` within memory 0, its operands (destination, source, length) in the
    /// three slots from `a`. Out of bounds traps before anything is written.
    memory_copy / MEMORY_COPY (R3, I, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let (d, s, n) = (get!(sp, op.a, u32), get!(sp, op.a + 1, u32), get!(sp, op.a + 2, u32));
        let n64 = u64::from(n);
        if u64::from(d) + n64 > len as u64 || u64::from(s) + n64 > len as u64 {
            return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: both ranges are inside the `len` bytes at `mem` (checked above; `mem` is
        // non-null and aligned even when `len` is 0); `copy` allows them to overlap.
        unsafe { std::ptr::copy(mem.add(s as usize), mem.add(d as usize), n as usize) };
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    /// `memory.fill` of memory 0, its operands (destination, byte, length) in the three
    /// slots from `a`. Out of bounds traps before anything is written.
    memory_fill / MEMORY_FILL (R3, I, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let (d, v, n) = (get!(sp, op.a, u32), get!(sp, op.a + 1, u32) as u8, get!(sp, op.a + 2, u32));
        if u64::from(d) + u64::from(n) > len as u64 {
            return trap_at(cx, ip, TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: the range is inside the `len` bytes at `mem` (checked above; `mem` is
        // non-null and aligned even when `len` is 0).
        unsafe { mem.add(d as usize).write_bytes(v, n as usize) };
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    slow / SLOW (I, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        // SAFETY: forwarded registers.
        let next = unsafe { run_slow(ip, sp, cx) };
        if next.is_null() {
            return Exit::Error;
        }
        let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
        next!(next, sp, mem, len, cx, acc, facc)
    }
}

load! { plain [B] (S, S, I, I) 1:
    i32_load / I32_LOAD: 4 => |b| u32::from_le_bytes(b);
    i64_load / I64_LOAD: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s / I32_LOAD8_S: 1 => |b| b[0] as i8 as i32;
    i32_load8_u / I32_LOAD8_U: 1 => |b| u32::from(b[0]);
    i32_load16_s / I32_LOAD16_S: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u / I32_LOAD16_U: 2 => |b| u32::from(u16::from_le_bytes(b));
    i64_load8_s / I64_LOAD8_S: 1 => |b| b[0] as i8 as i64;
    i64_load8_u / I64_LOAD8_U: 1 => |b| u64::from(b[0]);
    i64_load16_s / I64_LOAD16_S: 2 => |b| i16::from_le_bytes(b) as i64;
    i64_load16_u / I64_LOAD16_U: 2 => |b| u64::from(u16::from_le_bytes(b));
    i64_load32_s / I64_LOAD32_S: 4 => |b| i32::from_le_bytes(b) as i64;
    i64_load32_u / I64_LOAD32_U: 4 => |b| u64::from(u32::from_le_bytes(b));
}

load! { add [B, C] (S, S, S, I) 2:
    i32_load_add / I32_LOAD_ADD: 4 => |b| u32::from_le_bytes(b);
    i64_load_add / I64_LOAD_ADD: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s_add / I32_LOAD8_S_ADD: 1 => |b| b[0] as i8 as i32;
    i32_load8_u_add / I32_LOAD8_U_ADD: 1 => |b| u32::from(b[0]);
    i32_load16_s_add / I32_LOAD16_S_ADD: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_add / I32_LOAD16_U_ADD: 2 => |b| u32::from(u16::from_le_bytes(b));
}

load! { imm [B] (S, S, I, I) 2:
    i32_load_imm / I32_LOAD_IMM: 4 => |b| u32::from_le_bytes(b);
    i64_load_imm / I64_LOAD_IMM: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s_imm / I32_LOAD8_S_IMM: 1 => |b| b[0] as i8 as i32;
    i32_load8_u_imm / I32_LOAD8_U_IMM: 1 => |b| u32::from(b[0]);
    i32_load16_s_imm / I32_LOAD16_S_IMM: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_imm / I32_LOAD16_U_IMM: 2 => |b| u32::from(u16::from_le_bytes(b));
}

load! { k [] (S, I, I, I) 2:
    i32_load_k / I32_LOAD_K: 4 => |b| u32::from_le_bytes(b);
    i64_load_k / I64_LOAD_K: 8 => |b| u64::from_le_bytes(b);
}

// Array elements: `base + (index << log2(size))`.
load! { idx1 [B, C] (S, S, S, I) 4:
    i32_load16_s_idx1 / I32_LOAD16_S_IDX1: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_idx1 / I32_LOAD16_U_IDX1: 2 => |b| u32::from(u16::from_le_bytes(b));
}

load! { idx2 [B, C] (S, S, S, I) 4:
    i32_load_idx2 / I32_LOAD_IDX2: 4 => |b| u32::from_le_bytes(b);
}

load! { idx3 [B, C] (S, S, S, I) 4:
    i64_load_idx3 / I64_LOAD_IDX3: 8 => |b| u64::from_le_bytes(b);
}

store! { idx1, slot 0 [B, C] (S, S, S, I) 4:
    store16_idx1 / STORE16_IDX1: 2;
}

store! { idx2, slot 0 [B, C] (S, S, S, I) 4:
    i32_store_idx2 / I32_STORE_IDX2: 4;
}

store! { idx3, slot 0 [B, C] (S, S, S, I) 4:
    i64_store_idx3 / I64_STORE_IDX3: 8;
}

store! { plain, slot 2 [B, A] (S, S, I, I) 1:
    store8 / STORE8: 1;
    store16 / STORE16: 2;
    i32_store / I32_STORE: 4;
    i64_store / I64_STORE: 8;
}

store! { add, slot 0 [B, C] (S, S, S, I) 2:
    store8_add / STORE8_ADD: 1;
    store16_add / STORE16_ADD: 2;
    i32_store_add / I32_STORE_ADD: 4;
    i64_store_add / I64_STORE_ADD: 8;
}

store! { imm, slot 2 [B, A] (S, S, I, I) 2:
    i32_store_imm / I32_STORE_IMM: 4;
    i64_store_imm / I64_STORE_IMM: 8;
}

store! { plain, k 0 [B] (I, S, I, I) 2:
    store8_k / STORE8_K: 1;
    store16_k / STORE16_K: 2;
    store32_k / STORE32_K: 4;
    store64_k / STORE64_K: 8;
}

store! { add, k 0 [B, C] (I, S, S, I) 3:
    store8_add_k / STORE8_ADD_K: 1;
    store16_add_k / STORE16_ADD_K: 2;
    store32_add_k / STORE32_ADD_K: 4;
    store64_add_k / STORE64_ADD_K: 8;
}
