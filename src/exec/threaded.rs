//! Threaded code: the form in which the interpreter runs a function.
//!
//! Each [`Instr`] of a compiled function is lowered, one to one, into an [`Op`]: the address
//! of the *handler* that runs it plus up to four 32-bit operands. A handler does its work
//! and then calls the handler of the next op with the same arguments, the interpreter's
//! registers: the instruction pointer `ip`, the frame pointer `sp` (slot 0 of the running
//! function's frame), the base and length of memory 0, and the execution context `cx`.
//! In optimised builds those calls are in tail position and become jumps (see `build.rs`),
//! so the registers stay in machine registers and every handler ends in its own indirect
//! jump, which the branch predictor learns per instruction; other builds run the handlers
//! from a loop ([`dispatch`]).
//!
//! Because lowering is one to one, instruction indices are op indices: branch targets and
//! the `Extra` immediates of the generic instructions are found the same way in both
//! forms. Rare instructions (SIMD, tables, bulk memory other than `memory.copy` and
//! `memory.fill` of memory 0, generic memory and atomic instructions) share one handler,
//! [`slow`], which runs the `Instr` out of line with bounds-checked frame access. Host
//! functions are called from the handler that calls them, through a [`HostCaller`] the
//! driver supplies.
//!
//! # Safety
//!
//! Handlers are `unsafe fn`s that read and write frame slots and memory 0 through raw
//! pointers without bounds checks. What makes that sound is checked once, when the ops
//! are built ([`lower`]), and maintained by the handlers that change the registers:
//!
//! * every slot operand of an op with a fast handler is below the function's
//!   `frame_slots`, and `sp` always points at `frame_slots` initialised slots of the
//!   running function's frame inside the value stack (calls grow the stack before
//!   entering a frame; the stack never shrinks during an execution, and `sp` is
//!   recomputed after anything that may reallocate it);
//! * every branch target is an op of the same function, each `BrTable` is followed by its
//!   `len + 1` `Br`s, and the ops end with a sentinel that stops execution, so `ip` never
//!   leaves the op array, which lives as long as the store (functions are never removed
//!   from a store);
//! * memory accesses check `address + size <= len` before touching `mem`, and `mem`/`len`
//!   are reloaded from memory 0 after every operation that could grow or otherwise
//!   reborrow it (`memory.grow`, calls and returns, slow instructions, host calls).

use super::interp::{Frame, exec_slow};
use super::ir::{CompiledFunc, Instr, Slot};
use super::num;
use crate::error::{Error, TrapCode};
use crate::exec::state::{FuncEntity, StoreInner};
use crate::module::ModuleInner;
use std::cmp::Ordering::{Equal, Greater, Less};

/// The instruction pointer.
pub(crate) type Ip = *const Op;
/// Slot 0 of the running frame.
type Sp = *mut u64;
/// Base of memory 0 (dangling when its length is 0).
type Mem = *mut u8;

/// A handler: runs the op at `ip` and continues with the next one. The last two arguments
/// are the accumulators: after an op that ends by writing a slot, they hold that slot's
/// value (its 64 bits, and the same bits as an `f64`), so the op after it may take the
/// operand from a register instead of reading it back from the frame.
pub(crate) type Handler = unsafe fn(Ip, Sp, Mem, usize, &mut Cx<'_>, u64, f64) -> Exit;

/// One lowered instruction: its handler and its operands.
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct Op {
    h: Handler,
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Op({}, {}, {}, {})", self.a, self.b, self.c, self.d)
    }
}

/// Why the handlers stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The outermost function returned; its results are in the first slots of the stack.
    Done,
    /// A trap.
    Trap(TrapCode),
    /// An error other than a trap, stored in [`Regs::error`].
    Error,
    /// A call needs more room: [`Regs::need`] stack slots and a free frame record. The
    /// driver makes room and resumes at [`Regs::ip`], the call.
    Grow,
    /// Loop dispatch only: continue with the registers saved in [`Regs`].
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    Continue,
}

/// The interpreter's state that outlives one run of the handlers.
#[derive(Debug)]
pub(crate) struct Regs {
    /// The running function.
    pub(crate) code: *const CompiledFunc,
    /// Where to resume.
    pub(crate) ip: Ip,
    /// Index of the running frame's slot 0 in the value stack.
    pub(crate) base: usize,
    /// Store index of the running function's instance.
    pub(crate) instance: u32,
    /// Store index of that instance's memory 0 (`usize::MAX` if it has none).
    pub(crate) mem0: usize,
    /// The functions defined by that instance's module, and how many there are.
    pub(crate) module_code: *const std::sync::Arc<CompiledFunc>,
    pub(crate) module_len: usize,
    /// The store indices of that instance's globals, and how many there are.
    pub(crate) globals: *const u32,
    pub(crate) globals_len: usize,
    /// Stack slots needed by a call that exited with [`Exit::Grow`].
    pub(crate) need: usize,
    pub(crate) error: Option<Error>,
    /// Loop dispatch: the other registers.
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    sp: Sp,
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    mem: Mem,
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    len: usize,
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    acc: u64,
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    facc: f64,
}

impl Regs {
    /// The registers for running `code` in frame 0; [`set_instance`] completes them.
    pub(crate) fn new(code: &CompiledFunc) -> Regs {
        Regs {
            code,
            ip: code.ops.as_ptr(),
            base: 0,
            instance: u32::MAX,
            mem0: usize::MAX,
            module_code: std::ptr::null(),
            module_len: 0,
            globals: std::ptr::null(),
            globals_len: 0,
            need: 0,
            error: None,
            sp: std::ptr::null_mut(),
            mem: std::ptr::null_mut(),
            len: 0,
            acc: 0,
            facc: 0.0,
        }
    }
}

/// Calls host function `callee` (a store function index) with its arguments at slot
/// `start` of the stack, where it leaves its results. The driver supplies it, with its
/// context in [`Cx::host`]: the handlers do not know the type of the store's host state.
/// It may renew [`Cx::inner`] (the host function gets the whole store).
///
/// # Safety
///
/// `cx.host` is the context the driver created for this function.
pub(crate) type HostCaller = unsafe fn(cx: &mut Cx<'_>, callee: usize, start: usize) -> Result<(), Error>;

/// What the handlers work with besides their registers.
pub(crate) struct Cx<'a> {
    pub(crate) inner: &'a mut StoreInner,
    /// Calls host functions, with the driver's context.
    pub(crate) host_call: HostCaller,
    pub(crate) host: *mut (),
    pub(crate) slots: &'a mut Vec<u64>,
    pub(crate) frames: &'a mut Vec<Frame>,
    pub(crate) regs: Regs,
    /// Frames allowed (call depth, and the stack-slot budget per suspended frame).
    pub(crate) max_frames: usize,
    /// `min(frames.capacity(), max_frames)`: calls beyond it exit to the driver.
    pub(crate) frame_limit: usize,
}

/// Base and length of memory `mem0` of the store.
#[inline]
fn mem_view(inner: &mut StoreInner, mem0: usize) -> (Mem, usize) {
    match inner.memories.get_mut(mem0) {
        Some(m) => {
            let d = m.data_mut();
            (d.as_mut_ptr(), d.len())
        }
        None => (std::ptr::NonNull::dangling().as_ptr(), 0),
    }
}

/// Runs from `cx.regs.ip` until the outermost function returns, a trap, or a host call.
pub(crate) fn resume(cx: &mut Cx<'_>) -> Exit {
    let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
    let ip = cx.regs.ip;
    // SAFETY: the caller set up `regs.base` as the running frame, whose `frame_slots`
    // slots are inside the stack.
    let sp = unsafe { cx.slots.as_mut_ptr().add(cx.regs.base) };
    dispatch(ip, sp, mem, len, cx)
}

// The accumulators are only read by an op that directly follows the op that wrote them
// (see `lower`), never after a re-entry, so they start out as zero.

#[cfg(all(wasmguard_threaded, not(miri)))]
fn dispatch(ip: Ip, sp: Sp, mem: Mem, len: usize, cx: &mut Cx<'_>) -> Exit {
    // SAFETY: the registers satisfy the module invariants (see the module docs).
    unsafe { ((*ip).h)(ip, sp, mem, len, cx, 0, 0.0) }
}

#[cfg(not(all(wasmguard_threaded, not(miri))))]
fn dispatch(mut ip: Ip, mut sp: Sp, mut mem: Mem, mut len: usize, cx: &mut Cx<'_>) -> Exit {
    let (mut acc, mut facc) = (0, 0.0);
    loop {
        #[cfg(test)]
        dump::hit(cx.regs.code, ip);
        // SAFETY: the registers satisfy the module invariants (see the module docs).
        match unsafe { ((*ip).h)(ip, sp, mem, len, cx, acc, facc) } {
            Exit::Continue => {
                (ip, sp, mem, len) = (cx.regs.ip, cx.regs.sp, cx.regs.mem, cx.regs.len);
                (acc, facc) = (cx.regs.acc, cx.regs.facc);
            }
            exit => return exit,
        }
    }
}

/// Continues with the op at `$ip`: a tail call in threaded builds, a return to the loop in
/// the others.
macro_rules! next {
    ($ip:expr, $sp:expr, $mem:expr, $len:expr, $cx:expr, $acc:expr, $facc:expr) => {{
        let ip: Ip = $ip;
        #[cfg(all(wasmguard_threaded, not(miri)))]
        {
            // SAFETY: `ip` is an op of the running function (module invariants).
            return unsafe { ((*ip).h)(ip, $sp, $mem, $len, $cx, $acc, $facc) };
        }
        #[cfg(not(all(wasmguard_threaded, not(miri))))]
        {
            let cx: &mut Cx<'_> = $cx;
            cx.regs.ip = ip;
            cx.regs.sp = $sp;
            cx.regs.mem = $mem;
            cx.regs.len = $len;
            cx.regs.acc = $acc;
            cx.regs.facc = $facc;
            return Exit::Continue;
        }
    }};
}

/// Continues with `$taken` if `$cond` holds, else with `$not_taken`, each outcome with a
/// dispatch jump of its own: a conditional branch followed by two indirect jumps lets the
/// predictor use the outcome, where one jump to a selected target would not. The markers
/// keep LLVM from merging the two jumps back into one.
macro_rules! branch {
    ($cond:expr, $taken:expr, $not_taken:expr, $sp:expr, $mem:expr, $len:expr, $cx:expr, $acc:expr, $facc:expr) => {{
        if $cond {
            let ip: Ip = $taken;
            marker!("/* taken */");
            next!(ip, $sp, $mem, $len, $cx, $acc, $facc)
        } else {
            let ip: Ip = $not_taken;
            marker!("/* not taken */");
            next!(ip, $sp, $mem, $len, $cx, $acc, $facc)
        }
    }};
}

/// An empty piece of assembly (a comment) that the optimiser cannot merge or move.
macro_rules! marker {
    ($text:literal) => {
        #[cfg(all(
            wasmguard_threaded,
            not(miri),
            any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64", target_arch = "arm")
        ))]
        // SAFETY: the assembly is a comment: it does nothing.
        unsafe {
            std::arch::asm!($text, options(nomem, nostack, preserves_flags))
        };
    };
}

// ---- slot values ----

/// How a value type is kept in a 64-bit slot.
trait SlotVal: Copy {
    /// Whether values of this type are kept in the float accumulator too.
    const FLOAT: bool = false;
    fn get(x: u64) -> Self;
    fn put(self) -> u64;
    /// The value from the accumulators (`acc` holds the slot's bits, `facc` them as an `f64`).
    #[inline(always)]
    fn from_acc(acc: u64, _facc: f64) -> Self {
        Self::get(acc)
    }
}

impl SlotVal for u32 {
    #[inline(always)]
    fn get(x: u64) -> Self {
        x as u32
    }
    #[inline(always)]
    fn put(self) -> u64 {
        u64::from(self)
    }
}

impl SlotVal for i32 {
    #[inline(always)]
    fn get(x: u64) -> Self {
        x as u32 as i32
    }
    #[inline(always)]
    fn put(self) -> u64 {
        u64::from(self as u32)
    }
}

impl SlotVal for u64 {
    #[inline(always)]
    fn get(x: u64) -> Self {
        x
    }
    #[inline(always)]
    fn put(self) -> u64 {
        self
    }
}

impl SlotVal for i64 {
    #[inline(always)]
    fn get(x: u64) -> Self {
        x as i64
    }
    #[inline(always)]
    fn put(self) -> u64 {
        self as u64
    }
}

impl SlotVal for f32 {
    #[inline(always)]
    fn get(x: u64) -> Self {
        f32::from_bits(x as u32)
    }
    #[inline(always)]
    fn put(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl SlotVal for f64 {
    const FLOAT: bool = true;
    #[inline(always)]
    fn get(x: u64) -> Self {
        f64::from_bits(x)
    }
    #[inline(always)]
    fn put(self) -> u64 {
        self.to_bits()
    }
    #[inline(always)]
    fn from_acc(_acc: u64, facc: f64) -> Self {
        facc
    }
}

impl SlotVal for bool {
    #[inline(always)]
    fn get(x: u64) -> Self {
        x != 0
    }
    #[inline(always)]
    fn put(self) -> u64 {
        u64::from(self)
    }
}

/// Reads slot `$s` of the frame as a `$t`.
macro_rules! get {
    ($sp:expr, $s:expr, $t:ty) => {
        // SAFETY: slot operands are below `frame_slots` (checked by `lower`).
        <$t as SlotVal>::get(unsafe { *$sp.add($s as usize) })
    };
}

/// Writes `$v` to slot `$s` of the frame and to the accumulators (the float one only for
/// an `f64`).
macro_rules! set {
    ($sp:expr, $acc:ident, $facc:ident, $s:expr, $v:expr) => {{
        let x = $v;
        let v = SlotVal::put(x);
        // SAFETY: slot operands are below `frame_slots` (checked by `lower`).
        unsafe { *$sp.add($s as usize) = v };
        $acc = v;
        if is_f64(&x) {
            $facc = f64::from_bits(v);
        }
    }};
}

#[inline(always)]
fn is_f64<T: SlotVal>(_: &T) -> bool {
    T::FLOAT
}

/// Whether `f` returns an `f64` (which handlers leave in the float accumulator).
const fn returns_f64<A, B, R: SlotVal>(f: impl FnOnce(A, B) -> R) -> bool {
    std::mem::forget(f);
    R::FLOAT
}

/// Reports an operand taken from accumulators that do not hold its slot (a lowering bug;
/// checked in debug builds). Out of line, so the check puts nothing on the handlers' stack
/// frames (which would keep them from continuing by tail calls under sanitizers).
#[cold]
#[inline(never)]
fn stale_accumulator(slot: u32) -> ! {
    panic!("internal error: the accumulators do not hold slot {slot}")
}

/// Operand `$s` as a `$t`: from the accumulators if bit `$bit` of the handler's variant
/// `$m` is set (`lower` chooses that variant only where they hold slot `$s`), else from
/// the slot.
macro_rules! arg {
    ($m:ident & $bit:literal, $sp:expr, $acc:ident, $facc:ident, $s:expr, $t:ty) => {
        if $m & $bit != 0 {
            if cfg!(debug_assertions)
                && get!($sp, $s, u64) != if <$t as SlotVal>::FLOAT { $facc.to_bits() } else { $acc }
            {
                stale_accumulator($s);
            }
            <$t as SlotVal>::from_acc($acc, $facc)
        } else {
            get!($sp, $s, $t)
        }
    };
}

/// The op at `ip`.
macro_rules! op {
    ($ip:expr) => {
        // SAFETY: `ip` points at a live op (module invariants).
        unsafe { &*$ip }
    };
}

/// The op `n` after `ip` (in the same function: module invariants).
macro_rules! step {
    ($ip:expr, $n:expr) => {
        // SAFETY: the target is an op of the same array (module invariants).
        unsafe { $ip.offset($n as isize) }
    };
}

/// Defines handlers `fn(ip, sp, mem, len, cx, acc, facc)` from bodies that end by
/// continuing.
macro_rules! handlers {
    ($( $(#[$attr:meta])* $name:ident($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident, $facc:ident) $body:block )*) => {
        $(
            $(#[$attr])*
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::unnecessary_cast)]
            unsafe fn $name($ip: Ip, $sp: Sp, $mem: Mem, $len: usize, $cx: &mut Cx<'_>, mut $acc: u64, mut $facc: f64) -> Exit $body
        )*
    };
}

/// Defines handler families: a handler generic over its variant `M` (bit 0: the operand
/// in field `r0` comes from the accumulators, bit 1: the one in `r1`), and a [`Fam`]
/// constant `NAME` with the variants and what `lower` needs to know about them: the
/// operand fields `[r0, r1]`, and after `->` the field of the slot it writes last on every
/// path that continues (`-` if none).
macro_rules! family {
    ($( $(#[$attr:meta])* $name:ident / $fam:ident [$($r:ident),*] -> $out:tt {$rf:expr, $of:expr} <$m:ident>($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident, $facc:ident) $body:block )*) => {
        $(
            $(#[$attr])*
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::unnecessary_cast)]
            unsafe fn $name<const $m: u8>($ip: Ip, $sp: Sp, $mem: Mem, $len: usize, $cx: &mut Cx<'_>, mut $acc: u64, mut $facc: f64) -> Exit $body
            const $fam: Fam = Fam { reads_f64: $rf, out_f64: $of, keeps: family!(@keeps $out), ..family!(@fam $name [$($r),*] $out) };
        )*
    };
    (@fam $name:ident [] $out:tt) => {
        Fam { v: [$name::<0> as Handler; 4], reads: [Field::None, Field::None], out: family!(@out $out), reads_f64: false, out_f64: false, keeps: false }
    };
    (@fam $name:ident [$r0:ident] $out:tt) => {
        Fam { v: [$name::<0>, $name::<1>, $name::<0>, $name::<1>], reads: [Field::$r0, Field::None], out: family!(@out $out), reads_f64: false, out_f64: false, keeps: false }
    };
    (@fam $name:ident [$r0:ident, $r1:ident] $out:tt) => {
        Fam { v: [$name::<0>, $name::<1>, $name::<2>, $name::<3>], reads: [Field::$r0, Field::$r1], out: family!(@out $out), reads_f64: false, out_f64: false, keeps: false }
    };
    (@out -) => { Field::None };
    (@out $f:ident) => { Field::$f };
    // Handlers without a result (stores and branches) write no slot and pass the
    // accumulators on unchanged.
    (@keeps -) => { true };
    (@keeps $f:ident) => { false };
}

/// `dst = f(a, b)` handlers (variants: `a` and `b` from the accumulators).
macro_rules! binary {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [B, C] -> A {<$t as SlotVal>::FLOAT, returns_f64(|$x: $t, $y: $t| $e)} <M>(ip, sp, mem, len, cx, acc, facc) {
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
            $name / $fam [B] -> A {<$t as SlotVal>::FLOAT, returns_f64(|$x: $t, _: ()| $e)} <M>(ip, sp, mem, len, cx, acc, facc) {
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
            $name / $fam [] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
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
            $name / $fam [] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
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

/// Fused compare-and-branch handlers: `if f(a, b) { goto ip + c } else { goto ip + d }`
/// (`d` skips the covered instructions, or goes straight on to where a jump after them
/// leads).
macro_rules! branch_cmp {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [A, B] -> - {<$t as SlotVal>::FLOAT, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.a, $t);
                let $y = arg!(M & 2, sp, acc, facc, op.b, $t);
                branch!($e, step!(ip, op.c as i32), step!(ip, op.d as i32), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

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
    ($mode:ident $reads:tt: $( $name:ident / $fam:ident: $n:literal => |$b:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam $reads -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let (ea, covers): (u64, isize) = ea!($mode, M, op, sp, acc, facc);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
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
    ($mode:ident, $val:ident $v:literal $reads:tt: $( $name:ident / $fam:ident: $n:literal; )*) => {
        family! { $(
            $name / $fam $reads -> - {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let (ea, covers): (u64, isize) = ea!($mode, M, op, sp, acc, facc);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
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

// ---- control ----

family! {
    br_if_nez / BR_IF_NEZ [A] -> - {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let cond = arg!(M & 1, sp, acc, facc, op.a, u32) != 0;
        branch!(cond, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
    }

    br_if_eqz / BR_IF_EQZ [A] -> - {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let cond = arg!(M & 1, sp, acc, facc, op.a, u32) == 0;
        branch!(cond, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
    }
}

handlers! {
    unreachable(ip, sp, mem, len, cx, acc, facc) {
        Exit::Trap(TrapCode::UnreachableCodeReached)
    }

    /// Ends every op array; never reached by valid code.
    sentinel(ip, sp, mem, len, cx, acc, facc) {
        cx.regs.error = Some(Error::msg("internal error: execution ran past the end of a function"));
        Exit::Error
    }

    /// The immediates of the previous op; never executed.
    extra(ip, sp, mem, len, cx, acc, facc) {
        cx.regs.error = Some(Error::msg("internal error: executed an immediate"));
        Exit::Error
    }

    consume_fuel(ip, sp, mem, len, cx, acc, facc) {
        let amount = u64::from(op!(ip).a);
        let fuel = &mut cx.inner.fuel;
        if *fuel < amount {
            *fuel = 0;
            return Exit::Trap(TrapCode::OutOfFuel);
        }
        *fuel -= amount;
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    br(ip, sp, mem, len, cx, acc, facc) {
        let rel = op!(ip).a as i32;
        next!(step!(ip, rel), sp, mem, len, cx, acc, facc)
    }

    br_table(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let i = get!(sp, op.a, u32).min(op.b);
        // Straight to the target of the chosen arm (a `Br`, checked by `lower`).
        let arm = step!(ip, 1 + i as usize);
        let rel = op!(arm).a as i32;
        next!(step!(arm, rel), sp, mem, len, cx, acc, facc)
    }

    ret(ip, sp, mem, len, cx, acc, facc) {
        // SAFETY: forwarded registers.
        unsafe { leave(mem, len, cx) }
    }

    /// `slot 0 = src` and return (a single result moved into place).
    copy_ret(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, get!(sp, op.b, u64));
        // SAFETY: forwarded registers.
        unsafe { leave(mem, len, cx) }
    }

    /// A call of a function of the same module: `a` is its index among the module's
    /// defined functions, `b` the slot where its frame starts.
    call_internal(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        if op.a as usize >= cx.regs.module_len {
            return internal(cx, "call of an unknown function");
        }
        // SAFETY: `module_code` points at `module_len` functions of the running module,
        // which the running instance keeps alive; checked above.
        let code: *const CompiledFunc = unsafe { &**cx.regs.module_code.add(op.a as usize) };
        // SAFETY: forwarded registers; the callee belongs to the running instance.
        unsafe { enter_wasm::<true>(ip, mem, len, cx, code, cx.regs.instance, op.b) }
    }

    /// A call of any function (an import): `a` is its index in the instance.
    call(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let inst = &cx.inner.instances[cx.regs.instance as usize];
        let Some(&callee) = inst.funcs.get(op.a as usize) else {
            return internal(cx, "call of an unknown function");
        };
        // SAFETY: forwarded registers.
        unsafe { enter(ip, mem, len, cx, callee as usize, op.b) }
    }

    call_indirect(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        // SAFETY: `regs.code` is the running function (module invariants).
        let code = unsafe { &*cx.regs.code };
        let Some(&(type_index, table)) = code.indirect_sites.get(op.c as usize) else {
            return internal(cx, "unknown call_indirect site");
        };
        let inst = &cx.inner.instances[cx.regs.instance as usize];
        let expected = inst.module.type_ids[type_index as usize];
        let t = inst.tables[table as usize] as usize;
        let r = match cx.inner.tables[t].get(get!(sp, op.a, u32)) {
            Ok(r) => r,
            Err(code) => return Exit::Trap(code),
        };
        if r == 0 {
            return Exit::Trap(TrapCode::IndirectCallToNull);
        }
        let callee = (r - 1) as usize;
        if cx.inner.funcs[callee].type_id() != expected {
            return Exit::Trap(TrapCode::BadSignature);
        }
        // SAFETY: forwarded registers.
        unsafe { enter(ip, mem, len, cx, callee, op.b) }
    }
}

#[cold]
#[inline(never)]
fn internal(cx: &mut Cx<'_>, what: &str) -> Exit {
    cx.regs.error = Some(Error::msg(format!("internal error: {what}")));
    Exit::Error
}

/// Returns from the running function to the suspended caller, if there is one.
///
/// # Safety
///
/// The registers are the calling handler's (module invariants).
#[inline(always)]
unsafe fn leave(mem: Mem, len: usize, cx: &mut Cx<'_>) -> Exit {
    let Some(f) = cx.frames.pop() else {
        return Exit::Done;
    };
    cx.regs.code = f.code;
    cx.regs.base = f.base;
    // Within one instance, `mem` and `len` are already those of its memory 0 (the callee
    // reloaded them after anything that could change it).
    let (mut mem, mut len) = (mem, len);
    if f.instance != cx.regs.instance {
        set_instance(cx, f.instance);
        (mem, len) = mem_view(cx.inner, cx.regs.mem0);
    }
    // SAFETY: the caller's frame was inside the stack when it made the call, and the
    // stack has not shrunk since.
    let sp = unsafe { cx.slots.as_mut_ptr().add(f.base) };
    next!(f.ip, sp, mem, len, cx, 0, 0.0)
}

/// The running instance's global `index`.
#[inline(always)]
fn global<'c>(cx: &'c mut Cx<'_>, index: u32) -> Option<&'c mut crate::exec::state::GlobalEntity> {
    if index as usize >= cx.regs.globals_len {
        return None;
    }
    // SAFETY: `globals` points at the `globals_len` store indices of the running instance's
    // globals (set by `set_instance`); the store keeps every instance, and an instance's
    // list never changes after instantiation.
    let g = unsafe { *cx.regs.globals.add(index as usize) };
    cx.inner.globals.get_mut(g as usize)
}

/// Makes `instance` the running instance (its memory 0 and its module's functions).
#[inline(never)]
pub(crate) fn set_instance(cx: &mut Cx<'_>, instance: u32) {
    cx.regs.instance = instance;
    cx.regs.mem0 = super::interp::mem0_of(cx.inner, instance);
    let entity = &cx.inner.instances[instance as usize];
    cx.regs.module_code = entity.code.as_ptr();
    cx.regs.module_len = entity.code.len();
    cx.regs.globals = entity.globals.as_ptr();
    cx.regs.globals_len = entity.globals.len();
}

/// Calls store function `callee` with its frame at slot `b` of the running frame.
///
/// # Safety
///
/// The registers are the calling handler's (module invariants).
#[inline(always)]
unsafe fn enter(ip: Ip, mem: Mem, len: usize, cx: &mut Cx<'_>, callee: usize, b: u32) -> Exit {
    let (code, inst) = match &cx.inner.funcs[callee] {
        FuncEntity::Wasm { code, instance, .. } => (&**code as *const CompiledFunc, *instance),
        FuncEntity::Host { .. } => {
            // SAFETY: the driver created `host_call` and `host` together.
            if let Err(e) = unsafe { (cx.host_call)(cx, callee, cx.regs.base + b as usize) } {
                cx.regs.error = Some(e);
                return Exit::Error;
            }
            // The host function may have grown the memory or the stack.
            let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
            // SAFETY: the running frame is inside the stack (module invariants).
            let sp = unsafe { cx.slots.as_mut_ptr().add(cx.regs.base) };
            next!(step!(ip, 1), sp, mem, len, cx, 0, 0.0)
        }
    };
    // SAFETY: forwarded registers; `code` is owned by the store.
    unsafe { enter_wasm::<false>(ip, mem, len, cx, code, inst, b) }
}

/// Enters wasm function `code` of instance `inst` with its frame at slot `b` of the
/// running frame. Without room for the frame (stack slots or frame records), exits to
/// the driver, which makes room and runs the call again.
///
/// # Safety
///
/// The registers are the calling handler's (module invariants); `code` is owned by the
/// store (functions are never removed from it) or by the running instance's module.
#[inline(always)]
unsafe fn enter_wasm<const SAME_INSTANCE: bool>(
    ip: Ip,
    mem: Mem,
    len: usize,
    cx: &mut Cx<'_>,
    code: *const CompiledFunc,
    inst: u32,
    b: u32,
) -> Exit {
    // SAFETY: see above.
    let c = unsafe { &*code };
    let new_base = cx.regs.base + b as usize;
    let need = new_base + c.frame_slots as usize;
    if need > cx.slots.len() || cx.frames.len() >= cx.frame_limit {
        if cx.frames.len() >= cx.max_frames {
            return Exit::Trap(TrapCode::StackOverflow);
        }
        cx.regs.ip = ip;
        cx.regs.need = need;
        return Exit::Grow;
    }
    // SAFETY: `len < capacity`, checked above.
    unsafe {
        cx.frames.as_mut_ptr().add(cx.frames.len()).write(Frame {
            code: cx.regs.code,
            ip: ip.add(1),
            base: cx.regs.base,
            instance: cx.regs.instance,
        });
        cx.frames.set_len(cx.frames.len() + 1);
    }
    cx.regs.code = code;
    cx.regs.base = new_base;
    // SAFETY: `need <= slots.len()`, so the callee's frame is inside the stack.
    let new_sp = unsafe { cx.slots.as_mut_ptr().add(new_base) };
    // Zero the declared locals (`num_params <= num_locals <= frame_slots`), one slot at a
    // time: few functions have many locals, and a simple loop keeps few values live.
    // SAFETY: `num_params <= num_locals <= frame_slots`, so both are inside the frame.
    let (mut p, end) = unsafe { (new_sp.add(c.num_params as usize), new_sp.add(c.num_locals as usize)) };
    while p < end {
        // SAFETY: `p` is below `num_locals <= frame_slots`. (Volatile, so that the loop is
        // neither turned into a call of `memset` nor unrolled, either of which would make
        // the handler save registers.)
        unsafe { p.write_volatile(0) };
        // SAFETY: `p < end`, so one past it is at most `end`.
        p = unsafe { p.add(1) };
    }
    let (mut mem, mut len) = (mem, len);
    if !SAME_INSTANCE && inst != cx.regs.instance {
        set_instance(cx, inst);
        (mem, len) = mem_view(cx.inner, cx.regs.mem0);
    }
    next!(c.ops.as_ptr(), new_sp, mem, len, cx, 0, 0.0)
}

// ---- slots, globals, memory 0 ----

family! {
    copy / COPY [B] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, arg!(M & 1, sp, acc, facc, op.b, u64));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    const32 / CONST32 [] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, op.b);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    const64 / CONST64 [] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, u64::from(op.b) | (u64::from(op.c) << 32));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    global_get / GLOBAL_GET [] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
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
    global_add / GLOBAL_ADD [] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
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
    add_imm_global_set / ADD_IMM_GLOBAL_SET [B] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
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
    select(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        if get!(sp, op.c, u32) == 0 {
            set!(sp, acc, facc, op.a, get!(sp, op.b, u64));
        }
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    global_set(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let Some(g) = global(cx, op.b) else {
            return internal(cx, "unknown global");
        };
        g.value = get!(sp, op.a, u64);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    memory_size(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let pages = cx.inner.memories.get(cx.regs.mem0).map_or(0, |m| m.size_pages());
        set!(sp, acc, facc, op.a, pages);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    memory_grow(ip, sp, mem, len, cx, acc, facc) {
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

    ref_func(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let f = cx.inner.instances[cx.regs.instance as usize].funcs[op.b as usize];
        set!(sp, acc, facc, op.a, u64::from(f) + 1);
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    /// Any instruction without a handler of its own, run by [`exec_slow`].
    /// `memory.copy` within memory 0, its operands (destination, source, length) in the
    /// three slots from `a`. Out of bounds traps before anything is written.
    memory_copy(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let (d, s, n) = (get!(sp, op.a, u32), get!(sp, op.a + 1, u32), get!(sp, op.a + 2, u32));
        let n64 = u64::from(n);
        if u64::from(d) + n64 > len as u64 || u64::from(s) + n64 > len as u64 {
            return Exit::Trap(TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: both ranges are inside the `len` bytes at `mem` (checked above; `mem` is
        // non-null and aligned even when `len` is 0); `copy` allows them to overlap.
        unsafe { std::ptr::copy(mem.add(s as usize), mem.add(d as usize), n as usize) };
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    /// `memory.fill` of memory 0, its operands (destination, byte, length) in the three
    /// slots from `a`. Out of bounds traps before anything is written.
    memory_fill(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let (d, v, n) = (get!(sp, op.a, u32), get!(sp, op.a + 1, u32) as u8, get!(sp, op.a + 2, u32));
        if u64::from(d) + u64::from(n) > len as u64 {
            return Exit::Trap(TrapCode::MemoryOutOfBounds);
        }
        // SAFETY: the range is inside the `len` bytes at `mem` (checked above; `mem` is
        // non-null and aligned even when `len` is 0).
        unsafe { mem.add(d as usize).write_bytes(v, n as usize) };
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    slow(ip, sp, mem, len, cx, acc, facc) {
        // SAFETY: forwarded registers.
        let next = unsafe { run_slow(ip, sp, cx) };
        if next.is_null() {
            return Exit::Error;
        }
        let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
        next!(next, sp, mem, len, cx, acc, facc)
    }
}

/// Runs the instruction of the op at `ip` out of line; returns the op to continue with, or
/// null after storing the error in `cx`.
///
/// # Safety
///
/// The registers are the calling handler's (module invariants).
#[inline(never)]
unsafe fn run_slow(ip: Ip, sp: Sp, cx: &mut Cx<'_>) -> Ip {
    // SAFETY: `regs.code` is the running function and `ip` one of its ops.
    let code = unsafe { &*cx.regs.code };
    let base = code.ops.as_ptr();
    // SAFETY: both point into `code.ops`.
    let index = unsafe { ip.offset_from(base) } as usize;
    // SAFETY: the running frame has `frame_slots` slots at `sp`, and nothing else refers to
    // them while the slice lives.
    let frame = unsafe { std::slice::from_raw_parts_mut(sp, code.frame_slots as usize) };
    match exec_slow(code, index + 1, frame, cx.inner, cx.regs.instance, cx.regs.mem0) {
        // `exec_slow` returns an index within the code (past any `Extra`s).
        Ok(next) if next < code.ops.len() => step!(base, next),
        Ok(_) => {
            cx.regs.error = Some(Error::msg("internal error: instruction ran past the end of its function"));
            std::ptr::null()
        }
        Err(e) => {
            cx.regs.error = Some(e);
            std::ptr::null()
        }
    }
}

load! { plain [B]:
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

load! { add [B, C]:
    i32_load_add / I32_LOAD_ADD: 4 => |b| u32::from_le_bytes(b);
    i64_load_add / I64_LOAD_ADD: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s_add / I32_LOAD8_S_ADD: 1 => |b| b[0] as i8 as i32;
    i32_load8_u_add / I32_LOAD8_U_ADD: 1 => |b| u32::from(b[0]);
    i32_load16_s_add / I32_LOAD16_S_ADD: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_add / I32_LOAD16_U_ADD: 2 => |b| u32::from(u16::from_le_bytes(b));
}

load! { imm [B]:
    i32_load_imm / I32_LOAD_IMM: 4 => |b| u32::from_le_bytes(b);
    i64_load_imm / I64_LOAD_IMM: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s_imm / I32_LOAD8_S_IMM: 1 => |b| b[0] as i8 as i32;
    i32_load8_u_imm / I32_LOAD8_U_IMM: 1 => |b| u32::from(b[0]);
    i32_load16_s_imm / I32_LOAD16_S_IMM: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_imm / I32_LOAD16_U_IMM: 2 => |b| u32::from(u16::from_le_bytes(b));
}

load! { k []:
    i32_load_k / I32_LOAD_K: 4 => |b| u32::from_le_bytes(b);
    i64_load_k / I64_LOAD_K: 8 => |b| u64::from_le_bytes(b);
}

// Array elements: `base + (index << log2(size))`.
load! { idx1 [B, C]:
    i32_load16_s_idx1 / I32_LOAD16_S_IDX1: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_idx1 / I32_LOAD16_U_IDX1: 2 => |b| u32::from(u16::from_le_bytes(b));
}

load! { idx2 [B, C]:
    i32_load_idx2 / I32_LOAD_IDX2: 4 => |b| u32::from_le_bytes(b);
}

load! { idx3 [B, C]:
    i64_load_idx3 / I64_LOAD_IDX3: 8 => |b| u64::from_le_bytes(b);
}

store! { idx1, slot 0 [B, C]:
    store16_idx1 / STORE16_IDX1: 2;
}

store! { idx2, slot 0 [B, C]:
    i32_store_idx2 / I32_STORE_IDX2: 4;
}

store! { idx3, slot 0 [B, C]:
    i64_store_idx3 / I64_STORE_IDX3: 8;
}

store! { plain, slot 2 [B, A]:
    store8 / STORE8: 1;
    store16 / STORE16: 2;
    i32_store / I32_STORE: 4;
    i64_store / I64_STORE: 8;
}

store! { add, slot 0 [B, C]:
    store8_add / STORE8_ADD: 1;
    store16_add / STORE16_ADD: 2;
    i32_store_add / I32_STORE_ADD: 4;
    i64_store_add / I64_STORE_ADD: 8;
}

store! { imm, slot 2 [B, A]:
    i32_store_imm / I32_STORE_IMM: 4;
    i64_store_imm / I64_STORE_IMM: 8;
}

store! { plain, k 0 [B]:
    store8_k / STORE8_K: 1;
    store16_k / STORE16_K: 2;
    store32_k / STORE32_K: 4;
    store64_k / STORE64_K: 8;
}

store! { add, k 0 [B, C]:
    store8_add_k / STORE8_ADD_K: 1;
    store16_add_k / STORE16_ADD_K: 2;
    store32_add_k / STORE32_ADD_K: 4;
    store64_add_k / STORE64_ADD_K: 8;
}

// ---- numeric ----

binary! {
    i32_eq / I32_EQ: u32 => |x, y| x == y;
    i32_ne / I32_NE: u32 => |x, y| x != y;
    i32_lt_s / I32_LT_S: i32 => |x, y| x < y;
    i32_lt_u / I32_LT_U: u32 => |x, y| x < y;
    i32_gt_s / I32_GT_S: i32 => |x, y| x > y;
    i32_gt_u / I32_GT_U: u32 => |x, y| x > y;
    i32_le_s / I32_LE_S: i32 => |x, y| x <= y;
    i32_le_u / I32_LE_U: u32 => |x, y| x <= y;
    i32_ge_s / I32_GE_S: i32 => |x, y| x >= y;
    i32_ge_u / I32_GE_U: u32 => |x, y| x >= y;
    i32_add / I32_ADD: u32 => |x, y| x.wrapping_add(y);
    i32_sub / I32_SUB: u32 => |x, y| x.wrapping_sub(y);
    i32_mul / I32_MUL: u32 => |x, y| x.wrapping_mul(y);
    i32_and / I32_AND: u32 => |x, y| x & y;
    i32_or / I32_OR: u32 => |x, y| x | y;
    i32_xor / I32_XOR: u32 => |x, y| x ^ y;
    i32_shl / I32_SHL: u32 => |x, y| x.wrapping_shl(y);
    i32_shr_s / I32_SHR_S: i32 => |x, y| x.wrapping_shr(y as u32);
    i32_shr_u / I32_SHR_U: u32 => |x, y| x.wrapping_shr(y);
    i32_rotl / I32_ROTL: u32 => |x, y| x.rotate_left(y % 32);
    i32_rotr / I32_ROTR: u32 => |x, y| x.rotate_right(y % 32);

    i64_eq / I64_EQ: u64 => |x, y| x == y;
    i64_ne / I64_NE: u64 => |x, y| x != y;
    i64_lt_s / I64_LT_S: i64 => |x, y| x < y;
    i64_lt_u / I64_LT_U: u64 => |x, y| x < y;
    i64_gt_s / I64_GT_S: i64 => |x, y| x > y;
    i64_gt_u / I64_GT_U: u64 => |x, y| x > y;
    i64_le_s / I64_LE_S: i64 => |x, y| x <= y;
    i64_le_u / I64_LE_U: u64 => |x, y| x <= y;
    i64_ge_s / I64_GE_S: i64 => |x, y| x >= y;
    i64_ge_u / I64_GE_U: u64 => |x, y| x >= y;
    i64_add / I64_ADD: u64 => |x, y| x.wrapping_add(y);
    i64_sub / I64_SUB: u64 => |x, y| x.wrapping_sub(y);
    i64_mul / I64_MUL: u64 => |x, y| x.wrapping_mul(y);
    i64_and / I64_AND: u64 => |x, y| x & y;
    i64_or / I64_OR: u64 => |x, y| x | y;
    i64_xor / I64_XOR: u64 => |x, y| x ^ y;
    i64_shl / I64_SHL: u64 => |x, y| x.wrapping_shl(y as u32);
    i64_shr_s / I64_SHR_S: i64 => |x, y| x.wrapping_shr(y as u32);
    i64_shr_u / I64_SHR_U: u64 => |x, y| x.wrapping_shr(y as u32);
    i64_rotl / I64_ROTL: u64 => |x, y| x.rotate_left((y % 64) as u32);
    i64_rotr / I64_ROTR: u64 => |x, y| x.rotate_right((y % 64) as u32);

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

branch_cmp! {
    br_f64_eq / BR_F64_EQ: f64 => |x, y| x == y;
    br_f64_ne / BR_F64_NE: f64 => |x, y| x != y;
    br_f64_lt / BR_F64_LT: f64 => |x, y| x < y;
    br_f64_gt / BR_F64_GT: f64 => |x, y| x > y;
    br_f64_le / BR_F64_LE: f64 => |x, y| x <= y;
    br_f64_ge / BR_F64_GE: f64 => |x, y| x >= y;
    br_f64_not_lt / BR_F64_NOT_LT: f64 => |x, y| x.partial_cmp(&y) != Some(Less);
    br_f64_not_gt / BR_F64_NOT_GT: f64 => |x, y| x.partial_cmp(&y) != Some(Greater);
    br_f64_not_le / BR_F64_NOT_LE: f64 => |x, y| !matches!(x.partial_cmp(&y), Some(Less | Equal));
    br_f64_not_ge / BR_F64_NOT_GE: f64 => |x, y| !matches!(x.partial_cmp(&y), Some(Greater | Equal));
    br_f32_eq / BR_F32_EQ: f32 => |x, y| x == y;
    br_f32_ne / BR_F32_NE: f32 => |x, y| x != y;
    br_f32_lt / BR_F32_LT: f32 => |x, y| x < y;
    br_f32_gt / BR_F32_GT: f32 => |x, y| x > y;
    br_f32_le / BR_F32_LE: f32 => |x, y| x <= y;
    br_f32_ge / BR_F32_GE: f32 => |x, y| x >= y;
    br_f32_not_lt / BR_F32_NOT_LT: f32 => |x, y| x.partial_cmp(&y) != Some(Less);
    br_f32_not_gt / BR_F32_NOT_GT: f32 => |x, y| x.partial_cmp(&y) != Some(Greater);
    br_f32_not_le / BR_F32_NOT_LE: f32 => |x, y| !matches!(x.partial_cmp(&y), Some(Less | Equal));
    br_f32_not_ge / BR_F32_NOT_GE: f32 => |x, y| !matches!(x.partial_cmp(&y), Some(Greater | Equal));
    br_i32_eq / BR_I32_EQ: u32 => |x, y| x == y;
    br_i32_ne / BR_I32_NE: u32 => |x, y| x != y;
    br_i32_lt_s / BR_I32_LT_S: i32 => |x, y| x < y;
    br_i32_lt_u / BR_I32_LT_U: u32 => |x, y| x < y;
    br_i32_gt_s / BR_I32_GT_S: i32 => |x, y| x > y;
    br_i32_gt_u / BR_I32_GT_U: u32 => |x, y| x > y;
    br_i32_le_s / BR_I32_LE_S: i32 => |x, y| x <= y;
    br_i32_le_u / BR_I32_LE_U: u32 => |x, y| x <= y;
    br_i32_ge_s / BR_I32_GE_S: i32 => |x, y| x >= y;
    br_i32_ge_u / BR_I32_GE_U: u32 => |x, y| x >= y;
    br_i64_eq / BR_I64_EQ: u64 => |x, y| x == y;
    br_i64_ne / BR_I64_NE: u64 => |x, y| x != y;
    br_i64_lt_s / BR_I64_LT_S: i64 => |x, y| x < y;
    br_i64_lt_u / BR_I64_LT_U: u64 => |x, y| x < y;
    br_i64_gt_s / BR_I64_GT_S: i64 => |x, y| x > y;
    br_i64_gt_u / BR_I64_GT_U: u64 => |x, y| x > y;
    br_i64_le_s / BR_I64_LE_S: i64 => |x, y| x <= y;
    br_i64_le_u / BR_I64_LE_U: u64 => |x, y| x <= y;
    br_i64_ge_s / BR_I64_GE_S: i64 => |x, y| x >= y;
    br_i64_ge_u / BR_I64_GE_U: u64 => |x, y| x >= y;
}

/// `dst = f(a, k)` handlers, `k` an immediate; they cover a constant and the operation,
/// so they continue two ops further.
macro_rules! binary_imm {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [B] -> A {<$t as SlotVal>::FLOAT, returns_f64(|$x: $t, $y: $t| $e)} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.b, $t);
                let $y = <$t as SlotVal>::get(u64::from(op.c) | (u64::from(op.d) << 32));
                set!(sp, acc, facc, op.a, $e);
                next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
            }
        )* }
    };
}

/// `if f(a, k) { goto ip + b } else { goto ip + d }` handlers, `k` the sign-extended
/// 32-bit immediate `c`; they cover a constant, a comparison and a branch.
macro_rules! branch_cmp_imm {
    ($( $name:ident / $fam:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        family! { $(
            $name / $fam [A] -> - {<$t as SlotVal>::FLOAT, false} <M>(ip, sp, mem, len, cx, acc, facc) {
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
            $name / $fam [A] -> - {<$t as SlotVal>::FLOAT, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let $x = arg!(M & 1, sp, acc, facc, op.a, $t);
                branch!($e, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
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
    i32_sub_imm / I32_SUB_IMM: u32 => |x, y| x.wrapping_sub(y);
    i32_mul_imm / I32_MUL_IMM: u32 => |x, y| x.wrapping_mul(y);
    i32_and_imm / I32_AND_IMM: u32 => |x, y| x & y;
    i32_or_imm / I32_OR_IMM: u32 => |x, y| x | y;
    i32_xor_imm / I32_XOR_IMM: u32 => |x, y| x ^ y;
    i32_shl_imm / I32_SHL_IMM: u32 => |x, y| x.wrapping_shl(y);
    i32_shr_s_imm / I32_SHR_S_IMM: i32 => |x, y| x.wrapping_shr(y as u32);
    i32_shr_u_imm / I32_SHR_U_IMM: u32 => |x, y| x.wrapping_shr(y);
    i32_rotl_imm / I32_ROTL_IMM: u32 => |x, y| x.rotate_left(y % 32);
    i32_rotr_imm / I32_ROTR_IMM: u32 => |x, y| x.rotate_right(y % 32);
    i32_eq_imm / I32_EQ_IMM: u32 => |x, y| x == y;
    i32_ne_imm / I32_NE_IMM: u32 => |x, y| x != y;
    i32_lt_s_imm / I32_LT_S_IMM: i32 => |x, y| x < y;
    i32_lt_u_imm / I32_LT_U_IMM: u32 => |x, y| x < y;
    i32_gt_s_imm / I32_GT_S_IMM: i32 => |x, y| x > y;
    i32_gt_u_imm / I32_GT_U_IMM: u32 => |x, y| x > y;
    i32_le_s_imm / I32_LE_S_IMM: i32 => |x, y| x <= y;
    i32_le_u_imm / I32_LE_U_IMM: u32 => |x, y| x <= y;
    i32_ge_s_imm / I32_GE_S_IMM: i32 => |x, y| x >= y;
    i32_ge_u_imm / I32_GE_U_IMM: u32 => |x, y| x >= y;
    i64_add_imm / I64_ADD_IMM: u64 => |x, y| x.wrapping_add(y);
    i64_sub_imm / I64_SUB_IMM: u64 => |x, y| x.wrapping_sub(y);
    i64_mul_imm / I64_MUL_IMM: u64 => |x, y| x.wrapping_mul(y);
    i64_and_imm / I64_AND_IMM: u64 => |x, y| x & y;
    i64_or_imm / I64_OR_IMM: u64 => |x, y| x | y;
    i64_xor_imm / I64_XOR_IMM: u64 => |x, y| x ^ y;
    i64_shl_imm / I64_SHL_IMM: u64 => |x, y| x.wrapping_shl(y as u32);
    i64_shr_s_imm / I64_SHR_S_IMM: i64 => |x, y| x.wrapping_shr(y as u32);
    i64_shr_u_imm / I64_SHR_U_IMM: u64 => |x, y| x.wrapping_shr(y as u32);
    i64_rotl_imm / I64_ROTL_IMM: u64 => |x, y| x.rotate_left((y % 64) as u32);
    i64_rotr_imm / I64_ROTR_IMM: u64 => |x, y| x.rotate_right((y % 64) as u32);
    i64_eq_imm / I64_EQ_IMM: u64 => |x, y| x == y;
    i64_ne_imm / I64_NE_IMM: u64 => |x, y| x != y;
    i64_lt_s_imm / I64_LT_S_IMM: i64 => |x, y| x < y;
    i64_lt_u_imm / I64_LT_U_IMM: u64 => |x, y| x < y;
    i64_gt_s_imm / I64_GT_S_IMM: i64 => |x, y| x > y;
    i64_gt_u_imm / I64_GT_U_IMM: u64 => |x, y| x > y;
    i64_le_s_imm / I64_LE_S_IMM: i64 => |x, y| x <= y;
    i64_le_u_imm / I64_LE_U_IMM: u64 => |x, y| x <= y;
    i64_ge_s_imm / I64_GE_S_IMM: i64 => |x, y| x >= y;
    i64_ge_u_imm / I64_GE_U_IMM: u64 => |x, y| x >= y;
}

family! {
    /// `i32.add` with an immediate, as the translator emits it (one op, no constant).
    i32_add_imm / I32_ADD_IMM [B] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, arg!(M & 1, sp, acc, facc, op.b, u32).wrapping_add(op.c));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    /// `i32.add` with a constant operand (two ops).
    i32_add_imm2 / I32_ADD_IMM2 [B] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, arg!(M & 1, sp, acc, facc, op.b, u32).wrapping_add(op.c));
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }
}

branch_cmp_imm! {
    br_i32_eq_imm / BR_I32_EQ_IMM: u32 => |x, y| x == y;
    br_i32_ne_imm / BR_I32_NE_IMM: u32 => |x, y| x != y;
    br_i32_lt_s_imm / BR_I32_LT_S_IMM: i32 => |x, y| x < y;
    br_i32_lt_u_imm / BR_I32_LT_U_IMM: u32 => |x, y| x < y;
    br_i32_gt_s_imm / BR_I32_GT_S_IMM: i32 => |x, y| x > y;
    br_i32_gt_u_imm / BR_I32_GT_U_IMM: u32 => |x, y| x > y;
    br_i32_le_s_imm / BR_I32_LE_S_IMM: i32 => |x, y| x <= y;
    br_i32_le_u_imm / BR_I32_LE_U_IMM: u32 => |x, y| x <= y;
    br_i32_ge_s_imm / BR_I32_GE_S_IMM: i32 => |x, y| x >= y;
    br_i32_ge_u_imm / BR_I32_GE_U_IMM: u32 => |x, y| x >= y;
    br_i64_eq_imm / BR_I64_EQ_IMM: u64 => |x, y| x == y;
    br_i64_ne_imm / BR_I64_NE_IMM: u64 => |x, y| x != y;
    br_i64_lt_s_imm / BR_I64_LT_S_IMM: i64 => |x, y| x < y;
    br_i64_lt_u_imm / BR_I64_LT_U_IMM: u64 => |x, y| x < y;
    br_i64_gt_s_imm / BR_I64_GT_S_IMM: i64 => |x, y| x > y;
    br_i64_gt_u_imm / BR_I64_GT_U_IMM: u64 => |x, y| x > y;
    br_i64_le_s_imm / BR_I64_LE_S_IMM: i64 => |x, y| x <= y;
    br_i64_le_u_imm / BR_I64_LE_U_IMM: u64 => |x, y| x <= y;
    br_i64_ge_s_imm / BR_I64_GE_S_IMM: i64 => |x, y| x >= y;
    br_i64_ge_u_imm / BR_I64_GE_U_IMM: u64 => |x, y| x >= y;
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
            branch_add!(@one $reg / $freg [A, B] add slot slot 3, $t, |$x, $y| $e);
            branch_add!(@one $imm / $fimm [A] add imm slot 3, $t, |$x, $y| $e);
            branch_add!(@one $reg_k / $freg_k [A, B] add slot imm 4, $t, |$x, $y| $e);
            branch_add!(@one $imm_k / $fimm_k [A] add imm imm 4, $t, |$x, $y| $e);
            branch_add!(@one $copy / $fcopy [B] copy slot slot 3, $t, |$x, $y| $e);
            branch_add!(@one $copy_k / $fcopy_k [B] copy slot imm 4, $t, |$x, $y| $e);
        )*
    };
    (@one $name:ident / $fam:ident [$($r:ident),*] $kind:ident $yf:ident $zf:ident $len:literal, $t:ty, |$x:ident, $y:ident| $e:expr) => {
        family! {
            $name / $fam [$($r),*] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
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

branch_add! {
    u32 => |x, y| x == y;
        br_add_eq / BR_ADD_EQ, br_add_imm_eq / BR_ADD_IMM_EQ, br_add_k_eq / BR_ADD_K_EQ, br_add_imm_k_eq / BR_ADD_IMM_K_EQ, br_copy_eq / BR_COPY_EQ, br_copy_k_eq / BR_COPY_K_EQ;
    u32 => |x, y| x != y;
        br_add_ne / BR_ADD_NE, br_add_imm_ne / BR_ADD_IMM_NE, br_add_k_ne / BR_ADD_K_NE, br_add_imm_k_ne / BR_ADD_IMM_K_NE, br_copy_ne / BR_COPY_NE, br_copy_k_ne / BR_COPY_K_NE;
    i32 => |x, y| x < y;
        br_add_lt_s / BR_ADD_LT_S, br_add_imm_lt_s / BR_ADD_IMM_LT_S, br_add_k_lt_s / BR_ADD_K_LT_S, br_add_imm_k_lt_s / BR_ADD_IMM_K_LT_S, br_copy_lt_s / BR_COPY_LT_S, br_copy_k_lt_s / BR_COPY_K_LT_S;
    u32 => |x, y| x < y;
        br_add_lt_u / BR_ADD_LT_U, br_add_imm_lt_u / BR_ADD_IMM_LT_U, br_add_k_lt_u / BR_ADD_K_LT_U, br_add_imm_k_lt_u / BR_ADD_IMM_K_LT_U, br_copy_lt_u / BR_COPY_LT_U, br_copy_k_lt_u / BR_COPY_K_LT_U;
    i32 => |x, y| x > y;
        br_add_gt_s / BR_ADD_GT_S, br_add_imm_gt_s / BR_ADD_IMM_GT_S, br_add_k_gt_s / BR_ADD_K_GT_S, br_add_imm_k_gt_s / BR_ADD_IMM_K_GT_S, br_copy_gt_s / BR_COPY_GT_S, br_copy_k_gt_s / BR_COPY_K_GT_S;
    u32 => |x, y| x > y;
        br_add_gt_u / BR_ADD_GT_U, br_add_imm_gt_u / BR_ADD_IMM_GT_U, br_add_k_gt_u / BR_ADD_K_GT_U, br_add_imm_k_gt_u / BR_ADD_IMM_K_GT_U, br_copy_gt_u / BR_COPY_GT_U, br_copy_k_gt_u / BR_COPY_K_GT_U;
    i32 => |x, y| x <= y;
        br_add_le_s / BR_ADD_LE_S, br_add_imm_le_s / BR_ADD_IMM_LE_S, br_add_k_le_s / BR_ADD_K_LE_S, br_add_imm_k_le_s / BR_ADD_IMM_K_LE_S, br_copy_le_s / BR_COPY_LE_S, br_copy_k_le_s / BR_COPY_K_LE_S;
    u32 => |x, y| x <= y;
        br_add_le_u / BR_ADD_LE_U, br_add_imm_le_u / BR_ADD_IMM_LE_U, br_add_k_le_u / BR_ADD_K_LE_U, br_add_imm_k_le_u / BR_ADD_IMM_K_LE_U, br_copy_le_u / BR_COPY_LE_U, br_copy_k_le_u / BR_COPY_K_LE_U;
    i32 => |x, y| x >= y;
        br_add_ge_s / BR_ADD_GE_S, br_add_imm_ge_s / BR_ADD_IMM_GE_S, br_add_k_ge_s / BR_ADD_K_GE_S, br_add_imm_k_ge_s / BR_ADD_IMM_K_GE_S, br_copy_ge_s / BR_COPY_GE_S, br_copy_k_ge_s / BR_COPY_K_GE_S;
    u32 => |x, y| x >= y;
        br_add_ge_u / BR_ADD_GE_U, br_add_imm_ge_u / BR_ADD_IMM_GE_U, br_add_k_ge_u / BR_ADD_K_GE_U, br_add_imm_k_ge_u / BR_ADD_IMM_K_GE_U, br_copy_ge_u / BR_COPY_GE_U, br_copy_k_ge_u / BR_COPY_K_GE_U;
}

/// Fams of [`branch_add!`] by form (`reg`, `imm`, `reg_k`, `imm_k`, `copy`, `copy_k`), then
/// by [`Cmp`].
const BR_ADD: [CmpTable; 6] = [
    [
        BR_ADD_EQ,
        BR_ADD_NE,
        BR_ADD_LT_S,
        BR_ADD_LT_U,
        BR_ADD_GT_S,
        BR_ADD_GT_U,
        BR_ADD_LE_S,
        BR_ADD_LE_U,
        BR_ADD_GE_S,
        BR_ADD_GE_U,
    ],
    [
        BR_ADD_IMM_EQ,
        BR_ADD_IMM_NE,
        BR_ADD_IMM_LT_S,
        BR_ADD_IMM_LT_U,
        BR_ADD_IMM_GT_S,
        BR_ADD_IMM_GT_U,
        BR_ADD_IMM_LE_S,
        BR_ADD_IMM_LE_U,
        BR_ADD_IMM_GE_S,
        BR_ADD_IMM_GE_U,
    ],
    [
        BR_ADD_K_EQ,
        BR_ADD_K_NE,
        BR_ADD_K_LT_S,
        BR_ADD_K_LT_U,
        BR_ADD_K_GT_S,
        BR_ADD_K_GT_U,
        BR_ADD_K_LE_S,
        BR_ADD_K_LE_U,
        BR_ADD_K_GE_S,
        BR_ADD_K_GE_U,
    ],
    [
        BR_ADD_IMM_K_EQ,
        BR_ADD_IMM_K_NE,
        BR_ADD_IMM_K_LT_S,
        BR_ADD_IMM_K_LT_U,
        BR_ADD_IMM_K_GT_S,
        BR_ADD_IMM_K_GT_U,
        BR_ADD_IMM_K_LE_S,
        BR_ADD_IMM_K_LE_U,
        BR_ADD_IMM_K_GE_S,
        BR_ADD_IMM_K_GE_U,
    ],
    [
        BR_COPY_EQ,
        BR_COPY_NE,
        BR_COPY_LT_S,
        BR_COPY_LT_U,
        BR_COPY_GT_S,
        BR_COPY_GT_U,
        BR_COPY_LE_S,
        BR_COPY_LE_U,
        BR_COPY_GE_S,
        BR_COPY_GE_U,
    ],
    [
        BR_COPY_K_EQ,
        BR_COPY_K_NE,
        BR_COPY_K_LT_S,
        BR_COPY_K_LT_U,
        BR_COPY_K_GT_S,
        BR_COPY_K_GT_U,
        BR_COPY_K_LE_S,
        BR_COPY_K_LE_U,
        BR_COPY_K_GE_S,
        BR_COPY_K_GE_U,
    ],
];

/// `if mem[ea..][..N] != 0 { goto ip + c } else { goto ip + d }` (or `== 0`): a load
/// whose only use is a test for zero, and the branch; `ea` is slot `a` + slot `b` (mode
/// `add`, covering an add, for loads without offset) or slot `a` + offset `b` (`plain`).
macro_rules! branch_load {
    ($mode:ident $reads:tt: $( $name:ident / $fam:ident: $n:literal, $nonzero:literal; )*) => {
        family! { $(
            $name / $fam $reads -> - {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let ea: u64 = branch_load!(@ea $mode, M, op, sp, acc, facc);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
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

branch_load! { add [A, B]:
    br_load8_add_nez / BR_LOAD8_ADD_NEZ: 1, true;
    br_load8_add_eqz / BR_LOAD8_ADD_EQZ: 1, false;
    br_load16_add_nez / BR_LOAD16_ADD_NEZ: 2, true;
    br_load16_add_eqz / BR_LOAD16_ADD_EQZ: 2, false;
    br_load32_add_nez / BR_LOAD32_ADD_NEZ: 4, true;
    br_load32_add_eqz / BR_LOAD32_ADD_EQZ: 4, false;
    br_load64_add_nez / BR_LOAD64_ADD_NEZ: 8, true;
    br_load64_add_eqz / BR_LOAD64_ADD_EQZ: 8, false;
}

branch_load! { plain [A]:
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
            $name / $fam [A, B] -> - {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let from = u64::from(arg!(M & 1, sp, acc, facc, op.a, u32)) + u64::from(op.c);
                let to = u64::from(arg!(M & 2, sp, acc, facc, op.b, u32)) + u64::from(op.d);
                if from + $n > len as u64 || to + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
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
            $name / $fam [A, B] -> - {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                const N: usize = std::mem::size_of::<$t>();
                let op = op!(ip);
                let ea = u64::from(arg!(M & 1, sp, acc, facc, op.a, u32)) + u64::from(op.c);
                if ea + N as u64 > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
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
            $name / $fam [C] -> B {false, <$t as SlotVal>::FLOAT} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let base = u64::from(arg!(M & 1, sp, acc, facc, op.c, u32));
                let (first, second) = (base + u64::from(op.d & 0xffff), base + u64::from(op.d >> 16));
                if first.max(second) + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
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
            $name / $fam [B, C] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
                let op = op!(ip);
                let v = arg!(M & 1, sp, acc, facc, op.b, u64);
                let ea = u64::from(arg!(M & 2, sp, acc, facc, op.c, u32)) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
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

mem_update! {
    i32_mem_add / I32_MEM_ADD: u32 => |m, x| m.wrapping_add(x);
    i32_mem_sub / I32_MEM_SUB: u32 => |m, x| m.wrapping_sub(x);
    i32_mem_and / I32_MEM_AND: u32 => |m, x| m & x;
    i32_mem_or / I32_MEM_OR: u32 => |m, x| m | x;
    i32_mem_xor / I32_MEM_XOR: u32 => |m, x| m ^ x;
    i64_mem_add / I64_MEM_ADD: u64 => |m, x| m.wrapping_add(x);
    i64_mem_sub / I64_MEM_SUB: u64 => |m, x| m.wrapping_sub(x);
    i64_mem_and / I64_MEM_AND: u64 => |m, x| m & x;
    i64_mem_or / I64_MEM_OR: u64 => |m, x| m | x;
    i64_mem_xor / I64_MEM_XOR: u64 => |m, x| m ^ x;
}

branch_test! {
    br_i32_eqz / BR_I32_EQZ: u32 => |x| x == 0;
    br_i32_nez / BR_I32_NEZ: u32 => |x| x != 0;
    br_i64_eqz / BR_I64_EQZ: u64 => |x| x == 0;
    br_i64_nez / BR_I64_NEZ: u64 => |x| x != 0;
}

family! {
    /// `dst = (a >> c) & d` (covers two constants, a shift and an and).
    i32_shr_u_and_imm / I32_SHR_U_AND_IMM [B] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let v = (arg!(M & 1, sp, acc, facc, op.b, u32) >> (op.c & 31)) & op.d;
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, 4), sp, mem, len, cx, acc, facc)
    }

    /// `dst = a + (b << k)` (covers a constant, a shift and an add).
    i32_add_shl_imm / I32_ADD_SHL_IMM [B, C] -> A {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let v = arg!(M & 1, sp, acc, facc, op.b, u32).wrapping_add(arg!(M & 2, sp, acc, facc, op.c, u32) << op.d);
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, 3), sp, mem, len, cx, acc, facc)
    }
}

handlers! {
    /// `t = if cond != 0 { t } else { b }; dst = t` (a `select` and a copy of its result).
    select_copy(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let v = if get!(sp, op.d, u32) != 0 { get!(sp, op.b, u64) } else { get!(sp, op.c, u64) };
        set!(sp, acc, facc, op.b, v);
        set!(sp, acc, facc, op.a, v);
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }

    /// Two copies, in order.
    copy2(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, get!(sp, op.b, u64));
        set!(sp, acc, facc, op.c, get!(sp, op.d, u64));
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }
}

handlers! {
    /// `a = b; c = d` (two constants).
    const2(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, op.b);
        set!(sp, acc, facc, op.c, op.d);
        next!(step!(ip, 2), sp, mem, len, cx, acc, facc)
    }

    /// `a = b`, then jump to `ip + c`.
    const_br(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, op.b);
        next!(step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
    }
}

// ---- lowering ----

/// A field of an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    A,
    B,
    C,
    None,
}

/// A handler and its variants ([`family!`]): `v[m]` takes the operands in the fields
/// `reads[k]` for which bit `k` of `m` is set from the accumulators; `out` is the field
/// of the slot the handler leaves in the accumulators whenever it continues.
#[derive(Clone, Copy)]
struct Fam {
    v: [Handler; 4],
    reads: [Field; 2],
    out: Field,
    /// Whether the operands are read as `f64`s (from the float accumulator).
    reads_f64: bool,
    /// Whether the handler leaves an `f64` in the float accumulator too.
    out_f64: bool,
    /// Whether the handler writes no slot and passes the accumulators on unchanged to
    /// the op it falls through to.
    keeps: bool,
}

impl Fam {
    /// A handler without variants that is not known to leave a slot in the accumulators.
    fn plain(h: Handler) -> Fam {
        Fam { v: [h; 4], reads: [Field::None; 2], out: Field::None, reads_f64: false, out_f64: false, keeps: false }
    }
}

/// An op before the choice of its variant.
#[derive(Clone, Copy)]
struct Low {
    f: Fam,
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}

impl Low {
    fn field(&self, f: Field) -> Option<u32> {
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

fn op(f: Fam, a: u32, b: u32, c: u32) -> Low {
    Low { f, a, b, c, d: 0 }
}

/// An integer comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

impl Cmp {
    /// `!(x op y)` as a comparison.
    fn negate(self) -> Cmp {
        use Cmp::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            LtS => GeS,
            LtU => GeU,
            GtS => LeS,
            GtU => LeU,
            LeS => GtS,
            LeU => GtU,
            GeS => LtS,
            GeU => LtU,
        }
    }

    /// `y op' x` equivalent to `x op y`.
    fn swap(self) -> Cmp {
        use Cmp::*;
        match self {
            Eq | Ne => self,
            LtS => GtS,
            LtU => GtU,
            GtS => LtS,
            GtU => LtU,
            LeS => GeS,
            LeU => GeU,
            GeS => LeS,
            GeU => LeU,
        }
    }
}

/// For a float comparison: the handlers branching when it holds and when it does not,
/// and its `(dst, a, b)`.
fn float_comparison(instr: &Instr) -> Option<(Fam, Fam, Slot, Slot, Slot)> {
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
fn float_with_imm(instr: Option<&Instr>) -> Option<(Fam, bool, Slot, Slot, Slot)> {
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

/// `(is_64, comparison, dst, a, b)` of an integer comparison instruction.
fn comparison(instr: &Instr) -> Option<(bool, Cmp, Slot, Slot, Slot)> {
    use Instr::*;
    Some(match *instr {
        I32Eq { dst, a, b } => (false, Cmp::Eq, dst, a, b),
        I32Ne { dst, a, b } => (false, Cmp::Ne, dst, a, b),
        I32LtS { dst, a, b } => (false, Cmp::LtS, dst, a, b),
        I32LtU { dst, a, b } => (false, Cmp::LtU, dst, a, b),
        I32GtS { dst, a, b } => (false, Cmp::GtS, dst, a, b),
        I32GtU { dst, a, b } => (false, Cmp::GtU, dst, a, b),
        I32LeS { dst, a, b } => (false, Cmp::LeS, dst, a, b),
        I32LeU { dst, a, b } => (false, Cmp::LeU, dst, a, b),
        I32GeS { dst, a, b } => (false, Cmp::GeS, dst, a, b),
        I32GeU { dst, a, b } => (false, Cmp::GeU, dst, a, b),
        I64Eq { dst, a, b } => (true, Cmp::Eq, dst, a, b),
        I64Ne { dst, a, b } => (true, Cmp::Ne, dst, a, b),
        I64LtS { dst, a, b } => (true, Cmp::LtS, dst, a, b),
        I64LtU { dst, a, b } => (true, Cmp::LtU, dst, a, b),
        I64GtS { dst, a, b } => (true, Cmp::GtS, dst, a, b),
        I64GtU { dst, a, b } => (true, Cmp::GtU, dst, a, b),
        I64LeS { dst, a, b } => (true, Cmp::LeS, dst, a, b),
        I64LeU { dst, a, b } => (true, Cmp::LeU, dst, a, b),
        I64GeS { dst, a, b } => (true, Cmp::GeS, dst, a, b),
        I64GeU { dst, a, b } => (true, Cmp::GeU, dst, a, b),
        _ => return None,
    })
}

/// Fams by [`Cmp`], in declaration order.
type CmpTable = [Fam; 10];
const BR_I32: CmpTable = [
    BR_I32_EQ,
    BR_I32_NE,
    BR_I32_LT_S,
    BR_I32_LT_U,
    BR_I32_GT_S,
    BR_I32_GT_U,
    BR_I32_LE_S,
    BR_I32_LE_U,
    BR_I32_GE_S,
    BR_I32_GE_U,
];
const BR_I64: CmpTable = [
    BR_I64_EQ,
    BR_I64_NE,
    BR_I64_LT_S,
    BR_I64_LT_U,
    BR_I64_GT_S,
    BR_I64_GT_U,
    BR_I64_LE_S,
    BR_I64_LE_U,
    BR_I64_GE_S,
    BR_I64_GE_U,
];
const BR_I32_IMM: CmpTable = [
    BR_I32_EQ_IMM,
    BR_I32_NE_IMM,
    BR_I32_LT_S_IMM,
    BR_I32_LT_U_IMM,
    BR_I32_GT_S_IMM,
    BR_I32_GT_U_IMM,
    BR_I32_LE_S_IMM,
    BR_I32_LE_U_IMM,
    BR_I32_GE_S_IMM,
    BR_I32_GE_U_IMM,
];
const BR_I64_IMM: CmpTable = [
    BR_I64_EQ_IMM,
    BR_I64_NE_IMM,
    BR_I64_LT_S_IMM,
    BR_I64_LT_U_IMM,
    BR_I64_GT_S_IMM,
    BR_I64_GT_U_IMM,
    BR_I64_LE_S_IMM,
    BR_I64_LE_U_IMM,
    BR_I64_GE_S_IMM,
    BR_I64_GE_U_IMM,
];
const CMP_I32_IMM: CmpTable = [
    I32_EQ_IMM,
    I32_NE_IMM,
    I32_LT_S_IMM,
    I32_LT_U_IMM,
    I32_GT_S_IMM,
    I32_GT_U_IMM,
    I32_LE_S_IMM,
    I32_LE_U_IMM,
    I32_GE_S_IMM,
    I32_GE_U_IMM,
];
const CMP_I64_IMM: CmpTable = [
    I64_EQ_IMM,
    I64_NE_IMM,
    I64_LT_S_IMM,
    I64_LT_U_IMM,
    I64_GT_S_IMM,
    I64_GT_U_IMM,
    I64_LE_S_IMM,
    I64_LE_U_IMM,
    I64_GE_S_IMM,
    I64_GE_U_IMM,
];

/// The handler of `dst = a op imm` for a binary instruction with `(dst, a, b)`, and
/// whether the operation is commutative (so the constant may be either operand).
fn with_imm(instr: &Instr) -> Option<(Fam, bool, Slot, Slot, Slot)> {
    use Instr::*;
    if let Some((is_64, cmp, dst, a, b)) = comparison(instr) {
        let table = if is_64 { &CMP_I64_IMM } else { &CMP_I32_IMM };
        // Not commutative: `fuse` swaps comparisons itself.
        return Some((table[cmp as usize], false, dst, a, b));
    }
    let (h, commutative, dst, a, b): (Fam, bool, Slot, Slot, Slot) = match *instr {
        I32Add { dst, a, b } => (I32_ADD_IMM2, true, dst, a, b),
        I32Sub { dst, a, b } => (I32_SUB_IMM, false, dst, a, b),
        I32Mul { dst, a, b } => (I32_MUL_IMM, true, dst, a, b),
        I32And { dst, a, b } => (I32_AND_IMM, true, dst, a, b),
        I32Or { dst, a, b } => (I32_OR_IMM, true, dst, a, b),
        I32Xor { dst, a, b } => (I32_XOR_IMM, true, dst, a, b),
        I32Shl { dst, a, b } => (I32_SHL_IMM, false, dst, a, b),
        I32ShrS { dst, a, b } => (I32_SHR_S_IMM, false, dst, a, b),
        I32ShrU { dst, a, b } => (I32_SHR_U_IMM, false, dst, a, b),
        I32Rotl { dst, a, b } => (I32_ROTL_IMM, false, dst, a, b),
        I32Rotr { dst, a, b } => (I32_ROTR_IMM, false, dst, a, b),
        I64Add { dst, a, b } => (I64_ADD_IMM, true, dst, a, b),
        I64Sub { dst, a, b } => (I64_SUB_IMM, false, dst, a, b),
        I64Mul { dst, a, b } => (I64_MUL_IMM, true, dst, a, b),
        I64And { dst, a, b } => (I64_AND_IMM, true, dst, a, b),
        I64Or { dst, a, b } => (I64_OR_IMM, true, dst, a, b),
        I64Xor { dst, a, b } => (I64_XOR_IMM, true, dst, a, b),
        I64Shl { dst, a, b } => (I64_SHL_IMM, false, dst, a, b),
        I64ShrS { dst, a, b } => (I64_SHR_S_IMM, false, dst, a, b),
        I64ShrU { dst, a, b } => (I64_SHR_U_IMM, false, dst, a, b),
        I64Rotl { dst, a, b } => (I64_ROTL_IMM, false, dst, a, b),
        I64Rotr { dst, a, b } => (I64_ROTR_IMM, false, dst, a, b),
        _ => return None,
    };
    Some((h, commutative, dst, a, b))
}

/// Fams of stores of an immediate value, by width: 1, 2, 4, 8 bytes.
const STORE_K: [Fam; 4] = [STORE8_K, STORE16_K, STORE32_K, STORE64_K];
const STORE_ADD_K: [Fam; 4] = [STORE8_ADD_K, STORE16_ADD_K, STORE32_ADD_K, STORE64_ADD_K];

/// If `instr` stores slot `k` (to memory 0), the handler for its width from `table`, its
/// address slot and its offset.
fn store_of(instr: Option<&Instr>, k: Slot, table: &[Fam; 4]) -> Option<(Fam, Slot, u32)> {
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
fn indexed_access(instr: Option<&Instr>, addr: Slot, shift: u64) -> Option<(Fam, Slot, u32, bool)> {
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
fn update_of(instr: &Instr, is_64: bool) -> Option<(Fam, bool, Slot, Slot, Slot)> {
    use Instr::*;
    Some(match (*instr, is_64) {
        (I32Add { dst, a, b }, false) => (I32_MEM_ADD, true, dst, a, b),
        (I32Sub { dst, a, b }, false) => (I32_MEM_SUB, false, dst, a, b),
        (I32And { dst, a, b }, false) => (I32_MEM_AND, true, dst, a, b),
        (I32Or { dst, a, b }, false) => (I32_MEM_OR, true, dst, a, b),
        (I32Xor { dst, a, b }, false) => (I32_MEM_XOR, true, dst, a, b),
        (I64Add { dst, a, b }, true) => (I64_MEM_ADD, true, dst, a, b),
        (I64Sub { dst, a, b }, true) => (I64_MEM_SUB, false, dst, a, b),
        (I64And { dst, a, b }, true) => (I64_MEM_AND, true, dst, a, b),
        (I64Or { dst, a, b }, true) => (I64_MEM_OR, true, dst, a, b),
        (I64Xor { dst, a, b }, true) => (I64_MEM_XOR, true, dst, a, b),
        _ => return None,
    })
}

/// A fused op.
enum Fused {
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

/// Tries to fuse the instructions starting at `i` into one op. The instructions it covers stay in place (they are lowered
/// on their own too), so paths that jump into the middle of the sequence still run
/// them; the fused op itself continues after the whole sequence. A value passed between
/// the fused instructions must be a temporary (a slot above the locals) that nothing
/// reads after its consumer, which the translator guarantees for operand-stack slots
/// consumed by the next instruction.
fn fuse(f: &CompiledFunc, i: usize) -> Option<(Fused, usize)> {
    fuse_at(f, i, true)
}

/// [`fuse`], with pairs of constants only if `const_pairs`.
fn fuse_at(f: &CompiledFunc, i: usize, const_pairs: bool) -> Option<(Fused, usize)> {
    use Instr::*;
    let code = &f.code;
    let temp = |slot: Slot| slot >= f.num_locals;
    let branch = |instr: Option<&Instr>, cond: Slot| match instr {
        Some(&BrIfNez { cond: c, target }) if c == cond => Some((true, target)),
        Some(&BrIfEqz { cond: c, target }) if c == cond => Some((false, target)),
        _ => None,
    };
    // A constant in a temporary.
    let konst_of = |instr: Instr| match instr {
        Const32 { dst, val } if temp(dst) => Some((dst, u64::from(val))),
        Const64 { dst, lo, hi } if temp(dst) => Some((dst, u64::from(lo) | (u64::from(hi) << 32))),
        _ => None,
    };
    // A constant stored by the next instruction (the address computed before it).
    if let Some((k, imm)) = konst_of(code[i])
        && let Ok(imm) = u32::try_from(imm)
        && let Some((h, addr, offset)) = store_of(code.get(i + 1), k, &STORE_K)
    {
        return Some((Fused::StoreK { h, addr, k: imm, offset }, 2));
    }
    // An address computed by an add, then a constant, stored.
    if let I32Add { dst: t, a, b } = code[i]
        && temp(t)
        && let Some((k, imm)) = code.get(i + 1).and_then(|c| konst_of(*c))
        && let Ok(imm) = u32::try_from(imm)
        && let Some((h, addr, offset)) = store_of(code.get(i + 2), k, &STORE_ADD_K)
        && addr == t
    {
        return Some((Fused::StoreAddK { h, k: imm, a, b, offset }, 3));
    }
    // An add to a slot (or a copy), then a comparison of the slot's new value with a slot
    // or a constant, consumed by a branch: a loop counter stepped and tested.
    let stepped = match code[i] {
        I32Add { dst, a, b } if dst == a => Some((dst, Ok(b), false)),
        I32Add { dst, a, b } if dst == b => Some((dst, Ok(a), false)),
        I32AddImm { dst, a, imm } if dst == a => Some((dst, Err(imm), false)),
        Copy { dst, src } if dst != src => Some((dst, Ok(src), true)),
        _ => None,
    };
    if let Some((x, y, copy)) = stepped {
        // The constant compared with, if there is one.
        let (k, at) = match code.get(i + 1).and_then(|c| konst_of(*c)) {
            Some((slot, v)) if slot != x => (Some((slot, v as u32)), i + 2),
            _ => (None, i + 1),
        };
        if let Some((false, cmp, t, a, b)) = code.get(at).and_then(comparison)
            && temp(t)
            && let Some((nez, target)) = branch(code.get(at + 1), t)
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
    // A global moved by a constant: `global.set g (global.get g ± k)`.
    if let GlobalGet { dst: t, global: g } = code[i]
        && temp(t)
    {
        let moved = match (code.get(i + 1), code.get(i + 2)) {
            (Some(&I32AddImm { dst, a, imm }), _) if a == t => Some((dst, imm, 2)),
            (Some(&Const32 { dst: k, val }), Some(&I32Sub { dst, a, b })) if temp(k) && a == t && b == k && k != t => {
                Some((dst, val.wrapping_neg(), 3))
            }
            (Some(&Const32 { dst: k, val }), Some(&I32Add { dst, a, b }))
                if temp(k) && k != t && (a == t && b == k || a == k && b == t) =>
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
    // A global set to a slot plus a constant.
    if let I32AddImm { dst, a, imm } = code[i]
        && let Some(&GlobalSet { src, global }) = code.get(i + 1)
        && src == dst
    {
        return Some((Fused::Imm2 { h: ADD_IMM_GLOBAL_SET, dst, a, k1: imm, k2: global }, 2));
    }
    // `y + (x << k)`: a constant shift amount, the shift, and an add of its result.
    if let Some((t1, k)) = konst_of(code[i])
        && k < 32
        && let Some(&I32Shl { dst: t2, a: x, b }) = code.get(i + 1)
        && b == t1
        && x != t1
        && temp(t2)
        && let Some(&I32Add { dst, a, b }) = code.get(i + 2)
        && (a == t2) != (b == t2)
    {
        let y = if a == t2 { b } else { a };
        // The address of an array element, loaded or stored (a stored value is not one
        // of the temporaries, which only the address computation writes).
        if temp(dst)
            && let Some((h, v, offset, store)) = indexed_access(code.get(i + 3), dst, k)
            && !(store && [t1, t2, dst].contains(&v))
        {
            return Some((Fused::Imm3 { h, dst: v, a: y, b: x, k: offset }, 4));
        }
        return Some((Fused::Imm3 { h: I32_ADD_SHL_IMM, dst, a: y, b: x, k: k as u32 }, 3));
    }
    // `(x >> k1) & k2`: a bit field.
    if let Some((t1, k1)) = konst_of(code[i])
        && k1 < 32
        && let Some(&I32ShrU { dst: t2, a: x, b }) = code.get(i + 1)
        && b == t1
        && x != t1
        && temp(t2)
        && let Some((t3, k2)) = code.get(i + 2).and_then(|c| konst_of(*c))
        && let Ok(k2) = u32::try_from(k2)
        && let Some(&I32And { dst, a, b }) = code.get(i + 3)
        && t3 != t2
        && (a == t2 && b == t3 || a == t3 && b == t2)
    {
        return Some((Fused::Imm2 { h: I32_SHR_U_AND_IMM, dst, a: x, k1: k1 as u32, k2 }, 4));
    }
    // A load from a constant address.
    if let Some((k, addr)) = konst_of(code[i])
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
    // Two constants (unless the second one fuses with what follows).
    if let Const32 { dst: d1, val: v1 } = code[i]
        && let Some(&Const32 { dst: d2, val: v2 }) = code.get(i + 1)
        && const_pairs
        && fuse_at(f, i + 1, false).is_none()
    {
        return Some((Fused::Const2 { d1, v1, d2, v2 }, 2));
    }
    // A constant, then a jump.
    if let Const32 { dst, val } = code[i]
        && let Some(&Br { target }) = code.get(i + 1)
    {
        return Some((Fused::ConstBr { dst, val, target }, 2));
    }
    // A constant consumed by the next instruction.
    if let Some((k, imm)) = konst_of(code[i]) {
        let next = code.get(i + 1)?;
        if let Some((is_64, cmp, dst, a, b)) = comparison(next)
            && (a == k) != (b == k)
        {
            let (cmp, x) = if b == k { (cmp, a) } else { (cmp.swap(), b) };
            if temp(dst)
                && imm as i64 as i32 as i64 as u64 == if is_64 { imm } else { imm as i32 as i64 as u64 }
                && let Some((nez, target)) = branch(code.get(i + 2), dst)
            {
                let cmp = if nez { cmp } else { cmp.negate() };
                let table = if is_64 { &BR_I64_IMM } else { &BR_I32_IMM };
                return Some((Fused::BranchImm { h: table[cmp as usize], a: x, k: imm, target }, 3));
            }
            let table = if is_64 { &CMP_I64_IMM } else { &CMP_I32_IMM };
            return Some((Fused::Imm { h: table[cmp as usize], dst, a: x, k: imm }, 2));
        }
        if let Some((h, commutative, dst, a, b)) = with_imm(next) {
            if b == k && a != k {
                return Some((Fused::Imm { h, dst, a, k: imm }, 2));
            }
            if commutative && a == k && b != k {
                return Some((Fused::Imm { h, dst, a: b, k: imm }, 2));
            }
        }
        if let Some((h, commutative, dst, a, b)) = float_with_imm(Some(next)) {
            if b == k && a != k {
                return Some((Fused::Imm { h, dst, a, k: imm }, 2));
            }
            if commutative && a == k && b != k {
                return Some((Fused::Imm { h, dst, a: b, k: imm }, 2));
            }
        }
        return None;
    }
    // A load whose only use is a test for zero by a branch (from an address computed
    // by an add, or from a slot and an offset).
    let branch_on_load = |at: usize, addr: Slot, add: Option<(Slot, Slot)>| {
        let (width, x, offset) = match *code.get(at)? {
            I32Load8U { dst, addr: p, offset } | I32Load8S { dst, addr: p, offset } if p == addr => (0, dst, offset),
            I32Load16U { dst, addr: p, offset } | I32Load16S { dst, addr: p, offset } if p == addr => (1, dst, offset),
            I32Load { dst, addr: p, offset } if p == addr => (2, dst, offset),
            I64Load { dst, addr: p, offset } if p == addr => (3, dst, offset),
            _ => return None,
        };
        if !temp(x) || add.is_some() && offset != 0 {
            return None;
        }
        // Branch on the value (i32 loads), or on its `eqz`.
        let (nez, target, len) = match code.get(at + 1)? {
            &(I32Eqz { dst, src } | I64Eqz { dst, src })
                if src == x && temp(dst) && (width == 3) == matches!(code[at + 1], I64Eqz { .. }) =>
            {
                let (nez, target) = branch(code.get(at + 2), dst)?;
                (!nez, target, at + 3 - i)
            }
            _ if width < 3 => {
                let (nez, target) = branch(code.get(at + 1), x)?;
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
            Some((a, b)) => {
                Fused::BranchLoad { h: ADD[width][usize::from(nez)], addr: a, index: Some(b), offset, target }
            }
            None => Fused::BranchLoad { h: PLAIN[width][usize::from(nez)], addr, index: None, offset, target },
        };
        Some((fused, len))
    };
    if let I32Add { dst: t, a, b } = code[i]
        && temp(t)
        && let Some(fused) = branch_on_load(i + 1, t, Some((a, b)))
    {
        return Some(fused);
    }
    if let I32Load8U { addr, .. }
    | I32Load8S { addr, .. }
    | I32Load16U { addr, .. }
    | I32Load16S { addr, .. }
    | I32Load { addr, .. }
    | I64Load { addr, .. } = code[i]
        && let Some(fused) = branch_on_load(i, addr, None)
    {
        return Some(fused);
    }
    // A load, an operation on the loaded value, and a store of the result to the same
    // address: memory updated in place.
    let loaded = match code[i] {
        I32Load { dst, addr, offset } => Some((false, dst, addr, offset)),
        I64Load { dst, addr, offset } => Some((true, dst, addr, offset)),
        _ => None,
    };
    if let Some((is_64, t, p, offset)) = loaded
        && temp(t)
        && t != p
        && let Some((h, commutative, d, a, b)) = code.get(i + 1).and_then(|op| update_of(op, is_64))
        && let Some(&(I32Store { addr, val, offset: o } | I64Store { addr, val, offset: o })) = code.get(i + 2)
        && matches!(code[i + 2], I64Store { .. }) == is_64
        && (addr, val, o) == (p, d, offset)
        && temp(d)
        && d != p
        && (a == t) != (b == t)
        && (a == t || commutative)
    {
        let x = if a == t { b } else { a };
        return Some((Fused::Imm2 { h, dst: p, a: x, k1: offset, k2: 0 }, 3));
    }
    // Two loads of the same width from one address slot, at offsets that fit 16 bits.
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
    // A load whose only use is a store of the same width: a move.
    let width_of_load = |instr: &Instr| match *instr {
        I32Load8U { dst, addr, offset } | I32Load8S { dst, addr, offset } => Some((0, dst, addr, offset)),
        I32Load16U { dst, addr, offset } | I32Load16S { dst, addr, offset } => Some((1, dst, addr, offset)),
        I32Load { dst, addr, offset } | F32Load { dst, addr, offset } => Some((2, dst, addr, offset)),
        I64Load { dst, addr, offset } | F64Load { dst, addr, offset } => Some((3, dst, addr, offset)),
        _ => None,
    };
    if let Some((width, x, from, from_offset)) = width_of_load(&code[i])
        && temp(x)
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
    // An address computed by an add, consumed by a load or a store.
    if let I32Add { dst: t, a, b } = code[i]
        && temp(t)
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
    // An address computed by an immediate add, consumed by a load or a store.
    if let I32AddImm { dst: t, a, imm } = code[i]
        && temp(t)
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
    // A `select` whose result is copied to a local (the result stays where it was too,
    // since the copy may be a `local.tee`).
    if let Select { dst: t, b, cond } = code[i]
        && let Some(&Copy { dst, src }) = code.get(i + 1)
        && src == t
    {
        return Some((Fused::Quad { h: Fam::plain(select_copy), a: dst, b: t, c: b, d: cond }, 2));
    }
    // A copy, then a store of the value copied.
    if let Copy { dst, src } = code[i]
        && let Some((h, addr, offset)) =
            store_of(code.get(i + 1), dst, &[COPY_STORE8, COPY_STORE16, COPY_STORE32, COPY_STORE64])
    {
        return Some((Fused::Imm3 { h, dst, a: src, b: addr, k: offset }, 2));
    }
    // A copy to the result slot, then a return.
    if let Copy { dst, src } = code[i]
        && let Some(Return) = code.get(i + 1)
    {
        return Some((Fused::Imm2 { h: Fam::plain(copy_ret), dst, a: src, k1: 0, k2: 0 }, 2));
    }
    // Two copies.
    if let Copy { dst: d1, src: s1 } = code[i]
        && let Some(&Copy { dst: d2, src: s2 }) = code.get(i + 1)
    {
        return Some((Fused::Quad { h: Fam::plain(copy2), a: d1, b: s1, c: d2, d: s2 }, 2));
    }
    // A float comparison consumed by a conditional branch (no negation: NaN compares
    // false both ways, so "branch if not less" has its own handler).
    if let Some((h_yes, h_no, dst, a, b)) = float_comparison(&code[i])
        && temp(dst)
        && let Some((nez, target)) = branch(code.get(i + 1), dst)
    {
        return Some((Fused::Branch { h: if nez { h_yes } else { h_no }, a, b, target }, 2));
    }
    // A comparison consumed by a conditional branch.
    if let Some((is_64, cmp, dst, a, b)) = comparison(&code[i])
        && temp(dst)
        && let Some((nez, target)) = branch(code.get(i + 1), dst)
    {
        let cmp = if nez { cmp } else { cmp.negate() };
        let table = if is_64 { &BR_I64 } else { &BR_I32 };
        return Some((Fused::Branch { h: table[cmp as usize], a, b, target }, 2));
    }
    // `eqz` consumed by a conditional branch: branch on the operand instead.
    if let I32Eqz { dst, src } | I64Eqz { dst, src } = code[i]
        && temp(dst)
        && let Some((nez, target)) = branch(code.get(i + 1), dst)
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

/// Lowers the instructions of `f` into ops, checking what the handlers rely on (see the
/// module docs): slot operands inside the frame, branch targets inside the function, the
/// `Br`s of every `BrTable`. Where an op's operand is the slot that the accumulators hold
/// on every path to it, it gets the variant that takes that operand from them.
pub(crate) fn lower(f: &CompiledFunc, module: &ModuleInner) -> Result<Box<[Op]>, Error> {
    Ok(lower_with_acc(f, module)?.into_iter().map(|(op, _)| op).collect())
}

/// [`lower`], with the slot each op takes from the accumulators.
fn lower_with_acc(f: &CompiledFunc, module: &ModuleInner) -> Result<Vec<(Op, Option<u32>)>, Error> {
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
        let s = |slot: Slot| if slot < f.frame_slots { Ok(slot) } else { Err(bad("slot out of the frame", i)) };
        // A callee's frame starts inside the caller's or right after it.
        let frame_end =
            |slot: Slot| if slot <= f.frame_slots { Ok(slot) } else { Err(bad("call frame out of the frame", i)) };
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
            && let Some((fused, len)) = fuse(f, i)
        {
            let imm = |f: Fam, a: u32, b: u32, k: u64| Low { f, a, b, c: k as u32, d: (k >> 32) as u32 };
            ops.push(match fused {
                Fused::Branch { h, a, b, target } => {
                    Low { f: h, a: s(a)?, b: s(b)?, c: rel(target)?, d: rel(i as u32 + 2)? }
                }
                Fused::BranchImm { h, a, k, target } => {
                    Low { f: h, a: s(a)?, b: rel(target)?, c: k as u32, d: rel(i as u32 + 3)? }
                }
                Fused::BranchOne { h, a, target } => op(h, s(a)?, rel(target)?, rel(i as u32 + 2)?),
                Fused::Move { h, from, from_offset, to, to_offset } => {
                    Low { f: h, a: s(from)?, b: s(to)?, c: from_offset, d: to_offset }
                }
                Fused::BranchLoad { h, addr, index, offset, target } => Low {
                    f: h,
                    a: s(addr)?,
                    b: match index {
                        Some(b) => s(b)?,
                        None => offset,
                    },
                    c: rel(target)?,
                    d: rel((i + len) as u32)?,
                },
                Fused::AddBranch { h, x, y, z, target, len } => {
                    let low =
                        Low { f: h, a: s(x)?, b: y.map_or_else(Ok, s)?, c: z.map_or_else(Ok, s)?, d: rel(target)? };
                    // The handler falls through to the op right after what it covers.
                    jumps.borrow_mut().push((i, i + len));
                    low
                }
                Fused::Imm1 { h, dst, k: [b, c, d] } => Low { f: h, a: s(dst)?, b, c, d },
                Fused::Imm2 { h, dst, a, k1, k2 } => Low { f: h, a: s(dst)?, b: s(a)?, c: k1, d: k2 },
                Fused::StoreK { h, addr, k, offset } => op(h, k, s(addr)?, offset),
                Fused::StoreAddK { h, k, a, b, offset } => Low { f: h, a: k, b: s(a)?, c: s(b)?, d: offset },
                Fused::Const2 { d1, v1, d2, v2 } => Low { f: Fam::plain(const2), a: s(d1)?, b: v1, c: s(d2)?, d: v2 },
                Fused::ConstBr { dst, val, target } => op(Fam::plain(const_br), s(dst)?, val, rel(target)?),
                Fused::Quad { h, a, b, c, d } => Low { f: h, a: s(a)?, b: s(b)?, c: s(c)?, d: s(d)? },
                Fused::Quad2 { h, a, b, c, d } => Low { f: h, a: s(a)?, b: s(b)?, c: s(c)?, d },
                Fused::Imm { h, dst, a, k } => imm(h, s(dst)?, s(a)?, k),
                Fused::Imm3 { h, dst, a, b, k } => Low { f: h, a: s(dst)?, b: s(a)?, c: s(b)?, d: k },
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
            Unreachable => op(Fam::plain(unreachable), 0, 0, 0),
            ConsumeFuel { amount } => op(Fam::plain(consume_fuel), amount, 0, 0),
            Br { target } => op(Fam { keeps: true, ..Fam::plain(br) }, rel(target)?, 0, 0),
            BrIfNez { cond, target } => op(BR_IF_NEZ, s(cond)?, rel(target)?, rel(i as u32 + 1)?),
            BrIfEqz { cond, target } => op(BR_IF_EQZ, s(cond)?, rel(target)?, rel(i as u32 + 1)?),
            BrTable { index, len } => {
                let end = (i + 2).checked_add(len as usize).filter(|&e| e <= n);
                table_arms_end = end.ok_or_else(|| bad("br_table arms past the end", i))?;
                // It continues where one of its arms jumps to.
                jumps.borrow_mut().extend((i + 1..table_arms_end).map(|arm| (i, arm)));
                op(Fam::plain(br_table), s(index)?, len, 0)
            }
            Return => op(Fam::plain(ret), 0, 0, 0),
            Call { func, base } => match func.checked_sub(num_imported) {
                Some(k) if func < num_funcs => op(Fam::plain(call_internal), k, frame_end(base)?, 0),
                _ => op(Fam::plain(call), func, frame_end(base)?, 0),
            },
            CallIndirect { index, base, site } => op(Fam::plain(call_indirect), s(index)?, frame_end(base)?, site),
            Copy { dst, src } => op(COPY, s(dst)?, s(src)?, 0),
            Const32 { dst, val } => op(CONST32, s(dst)?, val, 0),
            Const64 { dst, lo, hi } => op(CONST64, s(dst)?, lo, hi),
            Select { dst, b, cond } => op(Fam::plain(select), s(dst)?, s(b)?, s(cond)?),
            GlobalGet { dst, global } => op(GLOBAL_GET, s(dst)?, global, 0),
            GlobalSet { src, global } => op(Fam::plain(global_set), s(src)?, global, 0),
            I32Load { dst, addr, offset } | F32Load { dst, addr, offset } => op(I32_LOAD, s(dst)?, s(addr)?, offset),
            I64Load { dst, addr, offset } | F64Load { dst, addr, offset } => op(I64_LOAD, s(dst)?, s(addr)?, offset),
            I32Load8S { dst, addr, offset } => op(I32_LOAD8_S, s(dst)?, s(addr)?, offset),
            I32Load8U { dst, addr, offset } => op(I32_LOAD8_U, s(dst)?, s(addr)?, offset),
            I32Load16S { dst, addr, offset } => op(I32_LOAD16_S, s(dst)?, s(addr)?, offset),
            I32Load16U { dst, addr, offset } => op(I32_LOAD16_U, s(dst)?, s(addr)?, offset),
            I64Load8S { dst, addr, offset } => op(I64_LOAD8_S, s(dst)?, s(addr)?, offset),
            I64Load8U { dst, addr, offset } => op(I64_LOAD8_U, s(dst)?, s(addr)?, offset),
            I64Load16S { dst, addr, offset } => op(I64_LOAD16_S, s(dst)?, s(addr)?, offset),
            I64Load16U { dst, addr, offset } => op(I64_LOAD16_U, s(dst)?, s(addr)?, offset),
            I64Load32S { dst, addr, offset } => op(I64_LOAD32_S, s(dst)?, s(addr)?, offset),
            I64Load32U { dst, addr, offset } => op(I64_LOAD32_U, s(dst)?, s(addr)?, offset),
            I32Store { addr, val, offset } | F32Store { addr, val, offset } | I64Store32 { addr, val, offset } => {
                op(I32_STORE, s(val)?, s(addr)?, offset)
            }
            I64Store { addr, val, offset } | F64Store { addr, val, offset } => op(I64_STORE, s(val)?, s(addr)?, offset),
            I32Store8 { addr, val, offset } | I64Store8 { addr, val, offset } => op(STORE8, s(val)?, s(addr)?, offset),
            I32Store16 { addr, val, offset } | I64Store16 { addr, val, offset } => {
                op(STORE16, s(val)?, s(addr)?, offset)
            }
            MemorySize { dst } => op(Fam::plain(memory_size), s(dst)?, 0, 0),
            MemoryCopy { base } => {
                s(base.saturating_add(2))?;
                op(Fam::plain(memory_copy), s(base)?, 0, 0)
            }
            MemoryFill { base } => {
                s(base.saturating_add(2))?;
                op(Fam::plain(memory_fill), s(base)?, 0, 0)
            }
            MemoryGrow { dst, delta } => op(Fam::plain(memory_grow), s(dst)?, s(delta)?, 0),
            Extra { .. } => op(Fam::plain(extra), 0, 0, 0),
            RefFunc { dst, func } => op(Fam::plain(ref_func), s(dst)?, func, 0),
            RefIsNull { dst, src } => op(REF_IS_NULL, s(dst)?, s(src)?, 0),
            I32AddImm { dst, a, imm } => op(I32_ADD_IMM, s(dst)?, s(a)?, imm),
            ref other => match numeric(other) {
                Some((h, dst, a, b)) => op(h, s(dst)?, s(a)?, s(b)?),
                None => op(Fam::plain(slow), 0, 0, 0),
            },
        };
        if matches!(code[i], Call { .. } | CallIndirect { .. }) {
            entries[i + 1] = true;
        }
        falls.push(!matches!(
            code[i],
            Unreachable | Br { .. } | BrIfNez { .. } | BrIfEqz { .. } | BrTable { .. } | Return
        ));
        ops.push(o);
        covers.push(1);
        i += 1;
    }
    ops.push(op(Fam::plain(sentinel), 0, 0, 0));
    covers.push(1);
    falls.push(false);
    let acc = accumulator_flow(&ops, &covers, &falls, &entries, &jumps.into_inner());
    Ok(ops
        .iter()
        .enumerate()
        .map(|(k, low)| {
            let acc = acc[k].flatten();
            let (op, m) = low.finish(acc);
            (op, acc.filter(|_| m != 0).map(|(x, _)| x))
        })
        .collect())
}

/// What the accumulators hold when each op starts, by forward data flow to a fixed point:
/// `Some(Some((slot, is_f64)))` if they hold `slot` on every path to the op (`is_f64`: the
/// float accumulator holds it too), `Some(None)` if nothing is known, `None` for ops no
/// path reaches. An op passes on its result, or what it was given if it
/// [keeps](Fam::keeps) the accumulators, or nothing; to the op after what it covers if it
/// `falls` through, and to where it jumps (`jumps`). An edge too many only loses
/// information; one missing would be wrong. `entries` start with nothing known.
#[allow(clippy::type_complexity)]
fn accumulator_flow(
    ops: &[Low],
    covers: &[usize],
    falls: &[bool],
    entries: &[bool],
    jumps: &[(usize, usize)],
) -> Vec<Option<Option<(u32, bool)>>> {
    let n = ops.len();
    let mut state: Vec<Option<Option<(u32, bool)>>> =
        entries.iter().map(|&e| if e { Some(None) } else { None }).collect();
    let out = |k: usize, given: Option<(u32, bool)>| {
        let low = &ops[k];
        if low.f.keeps { given } else { low.field(low.f.out).map(|x| (x, low.f.out_f64)) }
    };
    // Meets what `to` is given with what it already had; whether that changed anything.
    let meet = |state: &mut [Option<Option<(u32, bool)>>], to: usize, v: Option<(u32, bool)>| {
        let new = Some(match state[to] {
            None => v,
            Some(prev) => prev.filter(|_| prev == v),
        });
        let changed = state[to] != new;
        state[to] = new;
        changed
    };
    // Each value only moves down from unreached to a slot to nothing, so this ends. The
    // jumps are in order of their sources, so one pass in op order follows every forward
    // edge after its source is final; only loops take another pass.
    debug_assert!(jumps.windows(2).all(|w| w[0].0 <= w[1].0));
    loop {
        let mut changed = false;
        let mut next_jump = 0;
        for k in 0..n {
            let given = state[k];
            if let Some(given) = given
                && falls[k]
                && let Some(j) = k.checked_add(covers[k]).filter(|&j| j < n)
            {
                changed |= meet(&mut state, j, out(k, given));
            }
            while let Some(&(from, to)) = jumps.get(next_jump).filter(|&&(from, _)| from == k) {
                if let Some(given) = given {
                    changed |= meet(&mut state, to, out(from, given));
                }
                next_jump += 1;
            }
        }
        if !changed {
            return state;
        }
    }
}

/// The handler and `(dst, a, b)` slots of a numeric instruction (`b` repeats `a` for
/// unary ones).
fn numeric(instr: &Instr) -> Option<(Fam, Slot, Slot, Slot)> {
    use Instr::*;
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
        I32Eq => I32_EQ, I32Ne => I32_NE, I32LtS => I32_LT_S, I32LtU => I32_LT_U,
        I32GtS => I32_GT_S, I32GtU => I32_GT_U, I32LeS => I32_LE_S, I32LeU => I32_LE_U,
        I32GeS => I32_GE_S, I32GeU => I32_GE_U, I32Add => I32_ADD, I32Sub => I32_SUB,
        I32Mul => I32_MUL, I32DivS => I32_DIV_S, I32DivU => I32_DIV_U, I32RemS => I32_REM_S,
        I32RemU => I32_REM_U, I32And => I32_AND, I32Or => I32_OR, I32Xor => I32_XOR,
        I32Shl => I32_SHL, I32ShrS => I32_SHR_S, I32ShrU => I32_SHR_U, I32Rotl => I32_ROTL,
        I32Rotr => I32_ROTR,
        I64Eq => I64_EQ, I64Ne => I64_NE, I64LtS => I64_LT_S, I64LtU => I64_LT_U,
        I64GtS => I64_GT_S, I64GtU => I64_GT_U, I64LeS => I64_LE_S, I64LeU => I64_LE_U,
        I64GeS => I64_GE_S, I64GeU => I64_GE_U, I64Add => I64_ADD, I64Sub => I64_SUB,
        I64Mul => I64_MUL, I64DivS => I64_DIV_S, I64DivU => I64_DIV_U, I64RemS => I64_REM_S,
        I64RemU => I64_REM_U, I64And => I64_AND, I64Or => I64_OR, I64Xor => I64_XOR,
        I64Shl => I64_SHL, I64ShrS => I64_SHR_S, I64ShrU => I64_SHR_U, I64Rotl => I64_ROTL,
        I64Rotr => I64_ROTR,
        F32Eq => F32_EQ, F32Ne => F32_NE, F32Lt => F32_LT, F32Gt => F32_GT, F32Le => F32_LE,
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

#[cfg(test)]
mod flow_tests {
    use super::Instr;

    /// The lowered ops of the module's function 0, with the slot each takes from the
    /// accumulators.
    fn lowered(wat: &str) -> (Vec<Instr>, Vec<Option<u32>>) {
        let engine = crate::Engine::default();
        let module = crate::Module::new(&engine, wat).unwrap();
        let f = &module.code[0];
        let acc = super::lower_with_acc(f, &module.inner).unwrap().into_iter().map(|(_, a)| a).collect();
        (f.code.to_vec(), acc)
    }

    /// A value a loop computes last and its head uses first stays in the accumulators
    /// round the back edge (through the compare-and-branch, which passes them on), when
    /// the path into the loop leaves the same slot there.
    #[test]
    fn loop_carried_value_stays_in_the_accumulators() {
        let (code, acc) = lowered(
            r#"(module (memory 1)
                 (func (param $i i32) (param $n i32) (local $j i32)
                   (local.set $j (i32.mul (local.get $i) (local.get $i)))
                   (br_if 0 (i32.ge_u (local.get $j) (local.get $n)))
                   (loop $l
                     (i32.store8 (local.get $j) (i32.const 1))
                     (local.set $j (i32.add (local.get $j) (local.get $i)))
                     (br_if $l (i32.lt_u (local.get $j) (local.get $n))))))"#,
        );
        let j = 2;
        let store = code.iter().position(|c| matches!(c, Instr::Const32 { val: 1, .. })).unwrap();
        let add = code.iter().position(|c| matches!(c, Instr::I32Add { .. })).unwrap();
        assert_eq!(acc[store], Some(j), "loop head (the store): {code:?} {acc:?}");
        assert_eq!(acc[add], Some(j), "the add after the store: {code:?} {acc:?}");
    }

    /// A loop head entered with another value in the accumulators than the back edge
    /// leaves there takes nothing from them.
    #[test]
    fn disagreeing_paths_take_nothing() {
        let (code, acc) = lowered(
            r#"(module
                 (func (param $x i32) (param $y i32) (result i32)
                   (local.set $y (i32.mul (local.get $y) (local.get $y)))
                   (loop $l
                     (local.set $x (i32.add (local.get $x) (i32.const 3)))
                     (local.set $y (i32.sub (local.get $y) (local.get $x)))
                     (br_if $l (i32.gt_s (local.get $y) (i32.const 0))))
                   (local.get $x)))"#,
        );
        let head = code.iter().position(|c| matches!(c, Instr::I32AddImm { .. } | Instr::Const32 { val: 3, .. }));
        assert_eq!(acc[head.unwrap()], None, "{code:?} {acc:?}");
    }
}

#[cfg(test)]
mod dump {
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// An executed transition between two ops, each `(code address, op index)`.
    type Edge = ((usize, usize), (usize, usize));

    thread_local! {
        static HITS: RefCell<Option<HashMap<(usize, usize), u64>>> = const { RefCell::new(None) };
        static EDGES: RefCell<HashMap<Edge, u64>> = RefCell::new(HashMap::new());
        static LAST: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
    }

    /// Counts one execution of the op at `ip` (loop dispatch, while profiling).
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    pub(super) fn hit(code: *const super::CompiledFunc, ip: super::Ip) {
        HITS.with(|h| {
            if let Some(map) = h.borrow_mut().as_mut() {
                // SAFETY: `code` is the running function and `ip` one of its ops.
                let index = unsafe { ip.offset_from((*code).ops.as_ptr()) } as usize;
                *map.entry((code as usize, index)).or_default() += 1;
                let here = (code as usize, index);
                let last = LAST.with(|l| l.replace(here));
                EDGES.with(|e| *e.borrow_mut().entry((last, here)).or_default() += 1);
            }
        });
    }

    /// Runs CoreMark (or `DUMP_WASM`'s `DUMP_INVOKE(DUMP_ARG)`) in loop dispatch (a debug
    /// build: `cargo test --lib dump_profile -- --ignored --nocapture`) and prints the most executed instructions and
    /// pairs of adjacent instructions (an aid for choosing fused ops).
    #[test]
    #[ignore]
    fn dump_profile() {
        let path = std::env::var("DUMP_WASM").unwrap_or_else(|_| "benches/wasm/coremark.wasm".into());
        let bytes = std::fs::read(path).unwrap();
        let engine = crate::Engine::default();
        let module = crate::Module::new(&engine, &bytes).unwrap();
        let mut store = crate::Store::new(&engine, ());
        let linker = crate::Linker::new(&engine);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let name = std::env::var("DUMP_INVOKE").unwrap_or_else(|_| "run".into());
        let arg: u32 = std::env::var("DUMP_ARG").map_or(1, |a| a.parse().unwrap());
        HITS.with(|h| *h.borrow_mut() = Some(HashMap::new()));
        if let Ok(run) = instance.get_typed_func::<u32, u32>(&mut store, &name) {
            run.call(&mut store, arg).unwrap();
        } else {
            let run = instance.get_typed_func::<u32, u64>(&mut store, &name).unwrap();
            run.call(&mut store, arg).unwrap();
        }
        let hits = HITS.with(|h| h.borrow_mut().take().unwrap());
        // Ops that take an operand from the accumulators.
        let mut from_acc = std::collections::HashSet::new();
        for f in module.code.iter() {
            for (i, (_, acc)) in super::lower_with_acc(f, &module.inner).unwrap().iter().enumerate() {
                if acc.is_some() {
                    from_acc.insert((&**f as *const super::CompiledFunc as usize, i));
                }
            }
        }
        let acc_hits: u64 = hits.iter().filter(|(k, _)| from_acc.contains(k)).map(|(_, n)| n).sum();
        let by_ptr: HashMap<usize, &super::CompiledFunc> =
            module.code.iter().map(|f| (&**f as *const super::CompiledFunc as usize, &**f)).collect();
        let name = |i: &super::Instr| format!("{i:?}").split([' ', '{', '(']).next().unwrap().to_string();
        let (mut singles, mut pairs, mut funcs) = (HashMap::new(), HashMap::new(), HashMap::new());
        let mut total = 0;
        for (&(code, index), &n) in &hits {
            let f = by_ptr[&code];
            total += n;
            *funcs.entry(f.func_index).or_insert(0) += n;
            let Some(ins) = f.code.get(index) else { continue };
            let label = match super::fuse(f, index) {
                Some((_, covers)) => {
                    let names: Vec<String> =
                        f.code[index..(index + covers).min(f.code.len())].iter().map(name).collect();
                    format!("F:{}", names.join("+"))
                }
                None => name(ins),
            };
            let label = if from_acc.contains(&(code, index)) { format!("{label}@acc") } else { label };
            *singles.entry(label).or_insert(0) += n;
            if let Some(next) = f.code.get(index + 1) {
                *pairs.entry(format!("{} {}", name(ins), name(next))).or_insert(0) += n;
            }
        }
        let label_of = |(code, index): (usize, usize)| -> String {
            let Some(f) = by_ptr.get(&code) else { return "?".into() };
            let Some(ins) = f.code.get(index) else { return "end".into() };
            match super::fuse(f, index) {
                Some((_, covers)) => {
                    let names: Vec<String> =
                        f.code[index..(index + covers).min(f.code.len())].iter().map(name).collect();
                    format!("F:{}", names.join("+"))
                }
                None => name(ins),
            }
        };
        let mut seq: HashMap<String, u64> = HashMap::new();
        EDGES.with(|e| {
            for (&(a, b), &n) in e.borrow().iter() {
                *seq.entry(format!("{} -> {}", label_of(a), label_of(b))).or_default() += n;
            }
        });
        let top = |m: HashMap<String, u64>, k: usize| {
            let mut v: Vec<_> = m.into_iter().collect();
            v.sort_by_key(|e| std::cmp::Reverse(e.1));
            v.truncate(k);
            v
        };
        println!("total ops executed: {total}, {acc_hits} of them with an operand from the accumulators");
        for (k, n) in top(singles, 60) {
            println!("{:5.2}% {k}", 100.0 * n as f64 / total as f64);
        }
        println!("-- executed pairs");
        for (k, n) in top(seq, 45) {
            println!("{:5.2}% {k}", 100.0 * n as f64 / total as f64);
        }
        println!("-- pairs");
        for (k, n) in top(pairs, 50) {
            println!("{:5.2}% {k}", 100.0 * n as f64 / total as f64);
        }
        println!("-- functions");
        let mut fv: Vec<_> = funcs.into_iter().collect();
        fv.sort_by_key(|e| std::cmp::Reverse(e.1));
        for (f, n) in fv.iter().take(8) {
            println!("{:5.2}% func {f}", 100.0 * *n as f64 / total as f64);
        }
        if let Ok(func) = std::env::var("DUMP_FUNC") {
            for f in module.code.iter() {
                if f.func_index.to_string() == func {
                    for (i, ins) in f.code.iter().enumerate() {
                        let n = hits.get(&(&**f as *const super::CompiledFunc as usize, i)).copied().unwrap_or(0);
                        println!("{i:4} {n:8} {ins:?}");
                    }
                }
            }
        }
    }
}
