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
//! pointers without bounds checks. Where they read and jump is established by one
//! function, `lower::verify`, which lowering runs over the finished ops of every function
//! (it returns an internal error, and the function is not run, if they fail): each
//! handler family's [`Fam`] says what its fields are ([`Kind`]: slot, callee frame base,
//! range of three slots, relative target, `br_table` arm count, immediate) and how far it
//! falls through ([`Fam::next`]), and `verify` checks every field of every op against
//! that description:
//!
//! * every slot field is below the function's `frame_slots` (a callee frame base at most
//!   `frame_slots`; the three slots from a `memory.copy`/`memory.fill` base below it), and
//!   `sp` always points at `frame_slots` initialised slots of the running function's frame
//!   inside the value stack (calls grow the stack before entering a frame; the stack
//!   never shrinks during an execution, and `sp` is recomputed after anything that may
//!   reallocate it);
//! * every relative target and every fall-through stays in the op array, each `br_table`
//!   is followed by its `len + 1` arms whose targets stay in it, and the ops end with the
//!   [`sentinel`], which stops execution, so `ip` never leaves the op array, which lives
//!   as long as the store (functions are never removed from a store);
//! * memory accesses check `address + size <= len` before touching `mem`, and `mem`/`len`
//!   are reloaded from memory 0 after every operation that could grow or otherwise
//!   reborrow it (`memory.grow`, calls and returns, slow instructions, host calls).
//!
//! A handler family's [`Kind`]s must therefore describe every field its handler uses as a
//! slot or a target: that description, next to the handler, is what a new family must
//! get right.

use super::interp::{Frame, exec_slow};
use super::ir::CompiledFunc;
use super::num;
use crate::error::{Error, TrapCode};
use crate::exec::state::{FuncEntity, StoreInner};
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
    pub(crate) h: Handler,
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) c: u32,
    pub(crate) d: u32,
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
    /// A wasm exception was thrown: [`Regs::thrown`] names it and [`Regs::at`] is the op
    /// that threw it. The driver looks for the `try_table` that catches it.
    Throw,
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
    pub(crate) module_code: *const std::sync::atomic::AtomicPtr<CompiledFunc>,
    pub(crate) module_len: usize,
    /// The store indices of that instance's globals, and how many there are.
    pub(crate) globals: *const u32,
    pub(crate) globals_len: usize,
    /// Stack slots needed by a call that exited with [`Exit::Grow`].
    pub(crate) need: usize,
    pub(crate) error: Option<Error>,
    /// The exception object thrown by an op that exited with [`Exit::Throw`].
    pub(crate) thrown: u32,
    /// The op of the running function at which the execution trapped or failed, for the
    /// backtrace's code offset (null if not known).
    pub(crate) at: Ip,
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
            thrown: 0,
            at: std::ptr::null(),
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
        profile::hit(cx.regs.code, ip);
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
        // SAFETY: slot operands are below `frame_slots` (checked by `lower::verify`).
        <$t as SlotVal>::get(unsafe { *$sp.add($s as usize) })
    };
}

/// Writes `$v` to slot `$s` of the frame and to the accumulators (the float one only for
/// an `f64`).
macro_rules! set {
    ($sp:expr, $acc:ident, $facc:ident, $s:expr, $v:expr) => {{
        let x = $v;
        let v = SlotVal::put(x);
        // SAFETY: slot operands are below `frame_slots` (checked by `lower::verify`).
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
/// continuing, each with a [`Fam`] constant `NAME` without variants: the [`Kind`]s of its
/// operand fields `(a, b, c, d)` and how many ops on it continues ([`Fam::next`]).
macro_rules! handlers {
    ($( $(#[$attr:meta])* $name:ident / $fam:ident ($($k:ident),*) $next:literal ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident, $facc:ident) $body:block )*) => {
        $(
            $(#[$attr])*
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::unnecessary_cast)]
            pub(crate) unsafe fn $name($ip: Ip, $sp: Sp, $mem: Mem, $len: usize, $cx: &mut Cx<'_>, mut $acc: u64, mut $facc: f64) -> Exit $body
            pub(crate) const $fam: Fam = Fam { ops: [$(Kind::$k),*], next: $next, ..Fam::plain($name) };
        )*
    };
}

/// Defines handler families: a handler generic over its variant `M` (bit 0: the operand
/// in field `r0` comes from the accumulators, bit 1: the one in `r1`), and a [`Fam`]
/// constant `NAME` with the variants and what `lower` needs to know about them: the
/// operand fields `[r0, r1]`, after `->` the field of the slot it writes last on every
/// path that continues (`-` if none), then the [`Kind`]s of its fields `(a, b, c, d)` and
/// how many ops on it continues ([`Fam::next`]).
macro_rules! family {
    ($( $(#[$attr:meta])* $name:ident / $fam:ident [$($r:ident),*] -> $out:tt ($($k:ident),*) $next:literal {$rf:expr, $of:expr} <$m:ident>($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident, $facc:ident) $body:block )*) => {
        $(
            $(#[$attr])*
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::unnecessary_cast)]
            pub(crate) unsafe fn $name<const $m: u8>($ip: Ip, $sp: Sp, $mem: Mem, $len: usize, $cx: &mut Cx<'_>, mut $acc: u64, mut $facc: f64) -> Exit $body
            pub(crate) const $fam: Fam = Fam { reads_f64: $rf, out_f64: $of, keeps: family!(@keeps $out), ops: [$(Kind::$k),*], next: $next, ..family!(@fam $name [$($r),*] $out) };
        )*
    };
    (@fam $name:ident [] $out:tt) => {
        Fam { v: [$name::<0> as Handler; 4], reads: [Field::None, Field::None], out: family!(@out $out), ..Fam::plain($name::<0>) }
    };
    (@fam $name:ident [$r0:ident] $out:tt) => {
        Fam { v: [$name::<0>, $name::<1>, $name::<0>, $name::<1>], reads: [Field::$r0, Field::None], out: family!(@out $out), ..Fam::plain($name::<0>) }
    };
    (@fam $name:ident [$r0:ident, $r1:ident] $out:tt) => {
        Fam { v: [$name::<0>, $name::<1>, $name::<2>, $name::<3>], reads: [Field::$r0, Field::$r1], out: family!(@out $out), ..Fam::plain($name::<0>) }
    };
    (@out -) => { Field::None };
    (@out $f:ident) => { Field::$f };
    // Handlers without a result (stores and branches) write no slot and pass the
    // accumulators on unchanged.
    (@keeps -) => { true };
    (@keeps $f:ident) => { false };
}

/// Traps at `ip` (recorded for the backtrace).
#[cold]
#[inline(never)]
fn trap_at(cx: &mut Cx<'_>, ip: Ip, code: TrapCode) -> Exit {
    cx.regs.at = ip;
    Exit::Trap(code)
}

#[cold]
#[inline(never)]
fn internal(cx: &mut Cx<'_>, what: &str) -> Exit {
    cx.regs.error = Some(Error::msg(format!("internal error: {what}")));
    Exit::Error
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
    cx.regs.module_code = entity.code.slots();
    cx.regs.module_len = entity.code.len();
    cx.regs.globals = entity.globals.as_ptr();
    cx.regs.globals_len = entity.globals.len();
}

/// A field of an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    A,
    B,
    C,
    None,
}

/// A handler and its variants ([`family!`]): `v[m]` takes the operands in the fields
/// `reads[k]` for which bit `k` of `m` is set from the accumulators; `out` is the field
/// of the slot the handler leaves in the accumulators whenever it continues.
#[derive(Clone, Copy)]
pub(crate) struct Fam {
    pub(crate) v: [Handler; 4],
    pub(crate) reads: [Field; 2],
    pub(crate) out: Field,
    /// Whether the operands are read as `f64`s (from the float accumulator).
    pub(crate) reads_f64: bool,
    /// Whether the handler leaves an `f64` in the float accumulator too.
    pub(crate) out_f64: bool,
    /// Whether the handler writes no slot and passes the accumulators on unchanged to
    /// the op it falls through to.
    pub(crate) keeps: bool,
    /// What each field `a`, `b`, `c`, `d` of its ops is to the handler (checked by
    /// `lower::verify`).
    pub(crate) ops: [Kind; 4],
    /// How many ops on the handler continues when it falls through (0: it never does,
    /// or only to where its target fields lead).
    pub(crate) next: u8,
}

/// What a handler does with a field of its op (see [`Fam::ops`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An immediate, or unused.
    I,
    /// A slot of the frame it reads or writes: below `frame_slots`.
    S,
    /// Where a callee's frame starts: at most `frame_slots`.
    F,
    /// How many argument slots a tail call moves, from the slot in field `b`: `b + field`
    /// is at most `frame_slots`.
    P,
    /// The first of three slots it reads: the last one below `frame_slots`.
    R3,
    /// A relative target: the op at `ip + field` (as an `i32`) is in the array.
    T,
    /// The number of arms of a `br_table` minus one: the ops `ip + 1 ..= ip + 1 + field`
    /// are in the array, and each one's field `a` is a relative target from itself.
    N,
    /// The end: only the sentinel has it, and only the last op of a function is one.
    /// (Verification tells the sentinel by its family, not by comparing handler addresses,
    /// which need not be unique to a function.)
    E,
}

impl Fam {
    /// A handler without variants that is not known to leave a slot in the accumulators,
    /// with immediate fields only and never falling through (see [`handlers!`]).
    pub(crate) const fn plain(h: Handler) -> Fam {
        Fam {
            v: [h; 4],
            reads: [Field::None; 2],
            out: Field::None,
            reads_f64: false,
            out_f64: false,
            keeps: false,
            ops: [Kind::I; 4],
            next: 0,
        }
    }
}

mod control;
mod fused;
mod gc;
mod memory;
mod numeric;

pub(crate) use control::*;
pub(crate) use fused::*;
pub(crate) use gc::*;
pub(crate) use memory::*;
pub(crate) use numeric::*;

/// Counts of executed ops and transitions, for the profile in `lower::dump` (loop
/// dispatch only).
#[cfg(test)]
pub(crate) mod profile {
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// An executed transition between two ops, each `(code address, op index)`.
    pub(crate) type Edge = ((usize, usize), (usize, usize));

    thread_local! {
        pub(crate) static HITS: RefCell<Option<HashMap<(usize, usize), u64>>> = const { RefCell::new(None) };
        pub(crate) static EDGES: RefCell<HashMap<Edge, u64>> = RefCell::new(HashMap::new());
        static LAST: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
    }

    /// Counts one execution of the op at `ip` (loop dispatch, while profiling).
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    pub(crate) fn hit(code: *const super::CompiledFunc, ip: super::Ip) {
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
}
