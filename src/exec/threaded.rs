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
//! forms. Rare instructions (SIMD, bulk memory, tables, generic memory and atomic
//! instructions) share one handler, [`slow`], which runs the `Instr` out of line with
//! bounds-checked frame access.
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
use crate::module::ModuleInner;
use crate::runtime::func::FuncEntity;
use crate::store::StoreInner;

/// The instruction pointer.
pub(crate) type Ip = *const Op;
/// Slot 0 of the running frame.
type Sp = *mut u64;
/// Base of memory 0 (dangling when its length is 0).
type Mem = *mut u8;

/// A handler: runs the op at `ip` and continues with the next one.
pub(crate) type Handler = unsafe fn(Ip, Sp, Mem, usize, &mut Cx<'_>) -> Exit;

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
    /// A host function is to be called ([`Regs::host`]); execution resumes at
    /// [`Regs::ip`] afterwards.
    HostCall,
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
    /// Stack slots needed by a call that exited with [`Exit::Grow`].
    pub(crate) need: usize,
    /// A pending host call: store function index and the frame-relative slot of its
    /// arguments.
    pub(crate) host: (usize, u32),
    pub(crate) error: Option<Error>,
    /// Loop dispatch: the other registers.
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    sp: Sp,
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    mem: Mem,
    #[cfg_attr(all(wasmguard_threaded, not(miri)), allow(dead_code))]
    len: usize,
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
            need: 0,
            host: (0, 0),
            error: None,
            sp: std::ptr::null_mut(),
            mem: std::ptr::null_mut(),
            len: 0,
        }
    }
}

/// What the handlers work with besides their registers.
pub(crate) struct Cx<'a> {
    pub(crate) inner: &'a mut StoreInner,
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

#[cfg(all(wasmguard_threaded, not(miri)))]
fn dispatch(ip: Ip, sp: Sp, mem: Mem, len: usize, cx: &mut Cx<'_>) -> Exit {
    // SAFETY: the registers satisfy the module invariants (see the module docs).
    unsafe { ((*ip).h)(ip, sp, mem, len, cx) }
}

#[cfg(not(all(wasmguard_threaded, not(miri))))]
fn dispatch(mut ip: Ip, mut sp: Sp, mut mem: Mem, mut len: usize, cx: &mut Cx<'_>) -> Exit {
    loop {
        #[cfg(test)]
        dump::hit(cx.regs.code, ip);
        // SAFETY: the registers satisfy the module invariants (see the module docs).
        match unsafe { ((*ip).h)(ip, sp, mem, len, cx) } {
            Exit::Continue => (ip, sp, mem, len) = (cx.regs.ip, cx.regs.sp, cx.regs.mem, cx.regs.len),
            exit => return exit,
        }
    }
}

/// Continues with the op at `$ip`: a tail call in threaded builds, a return to the loop in
/// the others.
macro_rules! next {
    ($ip:expr, $sp:expr, $mem:expr, $len:expr, $cx:expr) => {{
        let ip: Ip = $ip;
        #[cfg(all(wasmguard_threaded, not(miri)))]
        {
            // SAFETY: `ip` is an op of the running function (module invariants).
            return unsafe { ((*ip).h)(ip, $sp, $mem, $len, $cx) };
        }
        #[cfg(not(all(wasmguard_threaded, not(miri))))]
        {
            let cx: &mut Cx<'_> = $cx;
            cx.regs.ip = ip;
            cx.regs.sp = $sp;
            cx.regs.mem = $mem;
            cx.regs.len = $len;
            return Exit::Continue;
        }
    }};
}

/// Continues with `$taken` if `$cond` holds, else with `$not_taken`, each outcome with a
/// dispatch jump of its own: a conditional branch followed by two indirect jumps lets the
/// predictor use the outcome, where one jump to a selected target would not. The markers
/// keep LLVM from merging the two jumps back into one.
macro_rules! branch {
    ($cond:expr, $taken:expr, $not_taken:expr, $sp:expr, $mem:expr, $len:expr, $cx:expr) => {{
        if $cond {
            let ip: Ip = $taken;
            marker!("/* taken */");
            next!(ip, $sp, $mem, $len, $cx)
        } else {
            let ip: Ip = $not_taken;
            marker!("/* not taken */");
            next!(ip, $sp, $mem, $len, $cx)
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
    fn get(x: u64) -> Self;
    fn put(self) -> u64;
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
    #[inline(always)]
    fn get(x: u64) -> Self {
        f64::from_bits(x)
    }
    #[inline(always)]
    fn put(self) -> u64 {
        self.to_bits()
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

/// Writes `$v` to slot `$s` of the frame.
macro_rules! set {
    ($sp:expr, $s:expr, $v:expr) => {{
        let v = SlotVal::put($v);
        // SAFETY: slot operands are below `frame_slots` (checked by `lower`).
        unsafe { *$sp.add($s as usize) = v };
    }};
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

/// Defines handlers `fn(ip, sp, mem, len, cx)` from bodies that end by continuing.
macro_rules! handlers {
    ($( $(#[$attr:meta])* $name:ident($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident) $body:block )*) => {
        $(
            $(#[$attr])*
            #[allow(unused_variables, clippy::unnecessary_cast)]
            unsafe fn $name($ip: Ip, $sp: Sp, $mem: Mem, $len: usize, $cx: &mut Cx<'_>) -> Exit $body
        )*
    };
}

/// `dst = f(a, b)` handlers.
macro_rules! binary {
    ($( $name:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.b, $t);
                let $y = get!(sp, op.c, $t);
                set!(sp, op.a, $e);
                next!(step!(ip, 1), sp, mem, len, cx)
            }
        )* }
    };
}

/// `dst = f(src)` handlers.
macro_rules! unary {
    ($( $name:ident: $t:ty => |$x:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.b, $t);
                set!(sp, op.a, $e);
                next!(step!(ip, 1), sp, mem, len, cx)
            }
        )* }
    };
}

/// `dst = f(a, b)?` handlers for operations that can trap.
macro_rules! binary_trap {
    ($( $name:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.b, $t);
                let $y = get!(sp, op.c, $t);
                let r: Result<_, TrapCode> = $e;
                match r {
                    Ok(v) => set!(sp, op.a, v),
                    Err(code) => return Exit::Trap(code),
                }
                next!(step!(ip, 1), sp, mem, len, cx)
            }
        )* }
    };
}

/// `dst = f(src)?` handlers for conversions that can trap.
macro_rules! unary_trap {
    ($( $name:ident: $t:ty => |$x:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.b, $t);
                let r: Result<_, TrapCode> = $e;
                match r {
                    Ok(v) => set!(sp, op.a, v),
                    Err(code) => return Exit::Trap(code),
                }
                next!(step!(ip, 1), sp, mem, len, cx)
            }
        )* }
    };
}

/// Fused compare-and-branch handlers: `if f(a, b) { goto ip + c } else { goto ip + d }`
/// (`d` skips the covered instructions, or goes straight on to where a jump after them
/// leads).
macro_rules! branch_cmp {
    ($( $name:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.a, $t);
                let $y = get!(sp, op.b, $t);
                branch!($e, step!(ip, op.c as i32), step!(ip, op.d as i32), sp, mem, len, cx)
            }
        )* }
    };
}

/// Loads from memory 0: `dst = f(mem[addr + offset..][..N])`.
macro_rules! load {
    ($( $name:ident: $n:literal => |$b:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let ea = u64::from(get!(sp, op.b, u32)) + u64::from(op.c);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `ea + N <= len`, and `mem` is valid for `len` bytes.
                let $b: [u8; $n] = unsafe { std::ptr::read_unaligned(mem.add(ea as usize).cast()) };
                set!(sp, op.a, $e);
                next!(step!(ip, 1), sp, mem, len, cx)
            }
        )* }
    };
}

/// Stores to memory 0: `mem[addr + offset..][..N] = f(val)`.
macro_rules! store {
    ($( $name:ident: $n:literal => |$v:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let ea = u64::from(get!(sp, op.a, u32)) + u64::from(op.c);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                let $v = get!(sp, op.b, u64);
                let bytes: [u8; $n] = $e;
                // SAFETY: `ea + N <= len`, and `mem` is valid for writes of `len` bytes.
                unsafe { std::ptr::write_unaligned(mem.add(ea as usize).cast(), bytes) };
                next!(step!(ip, 1), sp, mem, len, cx)
            }
        )* }
    };
}

// ---- control ----

handlers! {
    unreachable(ip, sp, mem, len, cx) {
        Exit::Trap(TrapCode::UnreachableCodeReached)
    }

    /// Ends every op array; never reached by valid code.
    sentinel(ip, sp, mem, len, cx) {
        cx.regs.error = Some(Error::msg("internal error: execution ran past the end of a function"));
        Exit::Error
    }

    /// The immediates of the previous op; never executed.
    extra(ip, sp, mem, len, cx) {
        cx.regs.error = Some(Error::msg("internal error: executed an immediate"));
        Exit::Error
    }

    consume_fuel(ip, sp, mem, len, cx) {
        let amount = u64::from(op!(ip).a);
        let fuel = &mut cx.inner.fuel;
        if *fuel < amount {
            *fuel = 0;
            return Exit::Trap(TrapCode::OutOfFuel);
        }
        *fuel -= amount;
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    br(ip, sp, mem, len, cx) {
        let rel = op!(ip).a as i32;
        next!(step!(ip, rel), sp, mem, len, cx)
    }

    br_if_nez(ip, sp, mem, len, cx) {
        let op = op!(ip);
        branch!(get!(sp, op.a, u32) != 0, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx)
    }

    br_if_eqz(ip, sp, mem, len, cx) {
        let op = op!(ip);
        branch!(get!(sp, op.a, u32) == 0, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx)
    }

    br_table(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let i = get!(sp, op.a, u32).min(op.b);
        // Straight to the target of the chosen arm (a `Br`, checked by `lower`).
        let arm = step!(ip, 1 + i as usize);
        let rel = op!(arm).a as i32;
        next!(step!(arm, rel), sp, mem, len, cx)
    }

    ret(ip, sp, mem, len, cx) {
        // SAFETY: forwarded registers.
        unsafe { leave(mem, len, cx) }
    }

    /// `slot 0 = src` and return (a single result moved into place).
    copy_ret(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, get!(sp, op.b, u64));
        // SAFETY: forwarded registers.
        unsafe { leave(mem, len, cx) }
    }

    /// A call of a function of the same module: `a` is its index among the module's
    /// defined functions, `b` the slot where its frame starts.
    call_internal(ip, sp, mem, len, cx) {
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
    call(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let inst = &cx.inner.instances[cx.regs.instance as usize];
        let Some(&callee) = inst.funcs.get(op.a as usize) else {
            return internal(cx, "call of an unknown function");
        };
        // SAFETY: forwarded registers.
        unsafe { enter(ip, mem, len, cx, callee as usize, op.b) }
    }

    call_indirect(ip, sp, mem, len, cx) {
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
    next!(f.ip, sp, mem, len, cx)
}

/// Makes `instance` the running instance (its memory 0 and its module's functions).
#[inline(never)]
pub(crate) fn set_instance(cx: &mut Cx<'_>, instance: u32) {
    cx.regs.instance = instance;
    cx.regs.mem0 = super::interp::mem0_of(cx.inner, instance);
    let code = &cx.inner.instances[instance as usize].module.code;
    cx.regs.module_code = code.as_ptr();
    cx.regs.module_len = code.len();
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
            cx.regs.host = (callee, b);
            cx.regs.ip = step!(ip, 1);
            return Exit::HostCall;
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
    // SAFETY: `need <= slots.len()`, so the callee's frame is inside the stack.
    let new_sp = unsafe { cx.slots.as_mut_ptr().add(new_base) };
    // Zero the declared locals (`num_params <= num_locals <= frame_slots`).
    let (np, nl) = (c.num_params as usize, c.num_locals as usize);
    for k in np..nl {
        // SAFETY: `k < num_locals <= frame_slots`. (Volatile, so that the loop is not
        // turned into a call of `memset`, which would make the handler save registers.)
        unsafe { new_sp.add(k).write_volatile(0) };
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
    let (mut mem, mut len) = (mem, len);
    if !SAME_INSTANCE && inst != cx.regs.instance {
        set_instance(cx, inst);
        (mem, len) = mem_view(cx.inner, cx.regs.mem0);
    }
    next!(c.ops.as_ptr(), new_sp, mem, len, cx)
}

// ---- slots, globals, memory 0 ----

handlers! {
    copy(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, get!(sp, op.b, u64));
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    const32(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, op.b);
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    const64(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, u64::from(op.b) | (u64::from(op.c) << 32));
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    select(ip, sp, mem, len, cx) {
        let op = op!(ip);
        if get!(sp, op.c, u32) == 0 {
            set!(sp, op.a, get!(sp, op.b, u64));
        }
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    global_get(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let g = cx.inner.instances[cx.regs.instance as usize].globals[op.b as usize];
        set!(sp, op.a, cx.inner.globals[g as usize].value);
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    global_set(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let g = cx.inner.instances[cx.regs.instance as usize].globals[op.b as usize];
        cx.inner.globals[g as usize].value = get!(sp, op.a, u64);
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    memory_size(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let pages = cx.inner.memories.get(cx.regs.mem0).map_or(0, |m| m.size_pages());
        set!(sp, op.a, pages);
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    memory_grow(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let delta = u64::from(get!(sp, op.b, u32));
        let limits = cx.inner.limits;
        let old = match cx.inner.memories.get_mut(cx.regs.mem0) {
            Some(m) => m.grow(delta, &limits),
            None => return internal(cx, "memory.grow without a memory"),
        };
        set!(sp, op.a, old.map_or(u32::MAX, |o| o as u32));
        let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    ref_func(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let f = cx.inner.instances[cx.regs.instance as usize].funcs[op.b as usize];
        set!(sp, op.a, u64::from(f) + 1);
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    /// Any instruction without a handler of its own, run by [`exec_slow`].
    slow(ip, sp, mem, len, cx) {
        // SAFETY: forwarded registers.
        let next = unsafe { run_slow(ip, sp, cx) };
        if next.is_null() {
            return Exit::Error;
        }
        let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
        next!(next, sp, mem, len, cx)
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

load! {
    i32_load: 4 => |b| u32::from_le_bytes(b);
    i64_load: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s: 1 => |b| b[0] as i8 as i32;
    i32_load8_u: 1 => |b| u32::from(b[0]);
    i32_load16_s: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u: 2 => |b| u32::from(u16::from_le_bytes(b));
    i64_load8_s: 1 => |b| b[0] as i8 as i64;
    i64_load8_u: 1 => |b| u64::from(b[0]);
    i64_load16_s: 2 => |b| i16::from_le_bytes(b) as i64;
    i64_load16_u: 2 => |b| u64::from(u16::from_le_bytes(b));
    i64_load32_s: 4 => |b| i32::from_le_bytes(b) as i64;
    i64_load32_u: 4 => |b| u64::from(u32::from_le_bytes(b));
}

store! {
    i32_store: 4 => |v| (v as u32).to_le_bytes();
    i64_store: 8 => |v| v.to_le_bytes();
    store8: 1 => |v| [v as u8];
    store16: 2 => |v| (v as u16).to_le_bytes();
}

// ---- numeric ----

binary! {
    i32_eq: u32 => |x, y| x == y;
    i32_ne: u32 => |x, y| x != y;
    i32_lt_s: i32 => |x, y| x < y;
    i32_lt_u: u32 => |x, y| x < y;
    i32_gt_s: i32 => |x, y| x > y;
    i32_gt_u: u32 => |x, y| x > y;
    i32_le_s: i32 => |x, y| x <= y;
    i32_le_u: u32 => |x, y| x <= y;
    i32_ge_s: i32 => |x, y| x >= y;
    i32_ge_u: u32 => |x, y| x >= y;
    i32_add: u32 => |x, y| x.wrapping_add(y);
    i32_sub: u32 => |x, y| x.wrapping_sub(y);
    i32_mul: u32 => |x, y| x.wrapping_mul(y);
    i32_and: u32 => |x, y| x & y;
    i32_or: u32 => |x, y| x | y;
    i32_xor: u32 => |x, y| x ^ y;
    i32_shl: u32 => |x, y| x.wrapping_shl(y);
    i32_shr_s: i32 => |x, y| x.wrapping_shr(y as u32);
    i32_shr_u: u32 => |x, y| x.wrapping_shr(y);
    i32_rotl: u32 => |x, y| x.rotate_left(y % 32);
    i32_rotr: u32 => |x, y| x.rotate_right(y % 32);

    i64_eq: u64 => |x, y| x == y;
    i64_ne: u64 => |x, y| x != y;
    i64_lt_s: i64 => |x, y| x < y;
    i64_lt_u: u64 => |x, y| x < y;
    i64_gt_s: i64 => |x, y| x > y;
    i64_gt_u: u64 => |x, y| x > y;
    i64_le_s: i64 => |x, y| x <= y;
    i64_le_u: u64 => |x, y| x <= y;
    i64_ge_s: i64 => |x, y| x >= y;
    i64_ge_u: u64 => |x, y| x >= y;
    i64_add: u64 => |x, y| x.wrapping_add(y);
    i64_sub: u64 => |x, y| x.wrapping_sub(y);
    i64_mul: u64 => |x, y| x.wrapping_mul(y);
    i64_and: u64 => |x, y| x & y;
    i64_or: u64 => |x, y| x | y;
    i64_xor: u64 => |x, y| x ^ y;
    i64_shl: u64 => |x, y| x.wrapping_shl(y as u32);
    i64_shr_s: i64 => |x, y| x.wrapping_shr(y as u32);
    i64_shr_u: u64 => |x, y| x.wrapping_shr(y as u32);
    i64_rotl: u64 => |x, y| x.rotate_left((y % 64) as u32);
    i64_rotr: u64 => |x, y| x.rotate_right((y % 64) as u32);

    f32_eq: f32 => |x, y| x == y;
    f32_ne: f32 => |x, y| x != y;
    f32_lt: f32 => |x, y| x < y;
    f32_gt: f32 => |x, y| x > y;
    f32_le: f32 => |x, y| x <= y;
    f32_ge: f32 => |x, y| x >= y;
    f32_add: f32 => |x, y| x + y;
    f32_sub: f32 => |x, y| x - y;
    f32_mul: f32 => |x, y| x * y;
    f32_div: f32 => |x, y| x / y;
    f32_min: f32 => |x, y| num::f32_min(x, y);
    f32_max: f32 => |x, y| num::f32_max(x, y);
    f32_copysign: u32 => |x, y| (x & !num::F32_SIGN) | (y & num::F32_SIGN);

    f64_eq: f64 => |x, y| x == y;
    f64_ne: f64 => |x, y| x != y;
    f64_lt: f64 => |x, y| x < y;
    f64_gt: f64 => |x, y| x > y;
    f64_le: f64 => |x, y| x <= y;
    f64_ge: f64 => |x, y| x >= y;
    f64_add: f64 => |x, y| x + y;
    f64_sub: f64 => |x, y| x - y;
    f64_mul: f64 => |x, y| x * y;
    f64_div: f64 => |x, y| x / y;
    f64_min: f64 => |x, y| num::f64_min(x, y);
    f64_max: f64 => |x, y| num::f64_max(x, y);
    f64_copysign: u64 => |x, y| (x & !num::F64_SIGN) | (y & num::F64_SIGN);
}

binary_trap! {
    i32_div_s: i32 => |x, y| match (x, y) {
        (_, 0) => Err(TrapCode::IntegerDivisionByZero),
        (i32::MIN, -1) => Err(TrapCode::IntegerOverflow),
        _ => Ok(x / y),
    };
    i32_div_u: u32 => |x, y| x.checked_div(y).ok_or(TrapCode::IntegerDivisionByZero);
    i32_rem_s: i32 => |x, y| if y == 0 { Err(TrapCode::IntegerDivisionByZero) } else { Ok(x.wrapping_rem(y)) };
    i32_rem_u: u32 => |x, y| x.checked_rem(y).ok_or(TrapCode::IntegerDivisionByZero);
    i64_div_s: i64 => |x, y| match (x, y) {
        (_, 0) => Err(TrapCode::IntegerDivisionByZero),
        (i64::MIN, -1) => Err(TrapCode::IntegerOverflow),
        _ => Ok(x / y),
    };
    i64_div_u: u64 => |x, y| x.checked_div(y).ok_or(TrapCode::IntegerDivisionByZero);
    i64_rem_s: i64 => |x, y| if y == 0 { Err(TrapCode::IntegerDivisionByZero) } else { Ok(x.wrapping_rem(y)) };
    i64_rem_u: u64 => |x, y| x.checked_rem(y).ok_or(TrapCode::IntegerDivisionByZero);
}

unary! {
    i32_eqz: u32 => |x| x == 0;
    i32_clz: u32 => |x| x.leading_zeros();
    i32_ctz: u32 => |x| x.trailing_zeros();
    i32_popcnt: u32 => |x| x.count_ones();
    i64_eqz: u64 => |x| x == 0;
    i64_clz: u64 => |x| u64::from(x.leading_zeros());
    i64_ctz: u64 => |x| u64::from(x.trailing_zeros());
    i64_popcnt: u64 => |x| u64::from(x.count_ones());
    ref_is_null: u64 => |x| x == 0;

    f32_abs: u32 => |x| x & !num::F32_SIGN;
    f32_neg: u32 => |x| x ^ num::F32_SIGN;
    f32_ceil: f32 => |x| num::f32_round(x, f32::ceil);
    f32_floor: f32 => |x| num::f32_round(x, f32::floor);
    f32_trunc: f32 => |x| num::f32_round(x, f32::trunc);
    f32_nearest: f32 => |x| num::f32_round(x, f32::round_ties_even);
    f32_sqrt: f32 => |x| x.sqrt();
    f64_abs: u64 => |x| x & !num::F64_SIGN;
    f64_neg: u64 => |x| x ^ num::F64_SIGN;
    f64_ceil: f64 => |x| num::f64_round(x, f64::ceil);
    f64_floor: f64 => |x| num::f64_round(x, f64::floor);
    f64_trunc: f64 => |x| num::f64_round(x, f64::trunc);
    f64_nearest: f64 => |x| num::f64_round(x, f64::round_ties_even);
    f64_sqrt: f64 => |x| x.sqrt();

    i32_wrap_i64: u64 => |x| x as u32;
    i64_extend_i32_s: i32 => |x| i64::from(x);
    i64_extend_i32_u: u32 => |x| u64::from(x);
    f32_convert_i32_s: i32 => |x| x as f32;
    f32_convert_i32_u: u32 => |x| x as f32;
    f32_convert_i64_s: i64 => |x| x as f32;
    f32_convert_i64_u: u64 => |x| x as f32;
    f32_demote_f64: f64 => |x| x as f32;
    f64_convert_i32_s: i32 => |x| f64::from(x);
    f64_convert_i32_u: u32 => |x| f64::from(x);
    f64_convert_i64_s: i64 => |x| x as f64;
    f64_convert_i64_u: u64 => |x| x as f64;
    f64_promote_f32: f32 => |x| f64::from(x);
    i32_extend8_s: u32 => |x| x as u8 as i8 as i32;
    i32_extend16_s: u32 => |x| x as u16 as i16 as i32;
    i64_extend8_s: u64 => |x| x as u8 as i8 as i64;
    i64_extend16_s: u64 => |x| x as u16 as i16 as i64;
    i64_extend32_s: u64 => |x| x as u32 as i32 as i64;
    i32_trunc_sat_f32_s: f32 => |x| x as i32;
    i32_trunc_sat_f32_u: f32 => |x| x as u32;
    i32_trunc_sat_f64_s: f64 => |x| x as i32;
    i32_trunc_sat_f64_u: f64 => |x| x as u32;
    i64_trunc_sat_f32_s: f32 => |x| x as i64;
    i64_trunc_sat_f32_u: f32 => |x| x as u64;
    i64_trunc_sat_f64_s: f64 => |x| x as i64;
    i64_trunc_sat_f64_u: f64 => |x| x as u64;
}

unary_trap! {
    i32_trunc_f32_s: f32 => |x| num::i32_trunc_s(f64::from(x));
    i32_trunc_f32_u: f32 => |x| num::i32_trunc_u(f64::from(x));
    i32_trunc_f64_s: f64 => |x| num::i32_trunc_s(x);
    i32_trunc_f64_u: f64 => |x| num::i32_trunc_u(x);
    i64_trunc_f32_s: f32 => |x| num::i64_trunc_s(f64::from(x));
    i64_trunc_f32_u: f32 => |x| num::i64_trunc_u(f64::from(x));
    i64_trunc_f64_s: f64 => |x| num::i64_trunc_s(x);
    i64_trunc_f64_u: f64 => |x| num::i64_trunc_u(x);
}

branch_cmp! {
    br_i32_eq: u32 => |x, y| x == y;
    br_i32_ne: u32 => |x, y| x != y;
    br_i32_lt_s: i32 => |x, y| x < y;
    br_i32_lt_u: u32 => |x, y| x < y;
    br_i32_gt_s: i32 => |x, y| x > y;
    br_i32_gt_u: u32 => |x, y| x > y;
    br_i32_le_s: i32 => |x, y| x <= y;
    br_i32_le_u: u32 => |x, y| x <= y;
    br_i32_ge_s: i32 => |x, y| x >= y;
    br_i32_ge_u: u32 => |x, y| x >= y;
    br_i64_eq: u64 => |x, y| x == y;
    br_i64_ne: u64 => |x, y| x != y;
    br_i64_lt_s: i64 => |x, y| x < y;
    br_i64_lt_u: u64 => |x, y| x < y;
    br_i64_gt_s: i64 => |x, y| x > y;
    br_i64_gt_u: u64 => |x, y| x > y;
    br_i64_le_s: i64 => |x, y| x <= y;
    br_i64_le_u: u64 => |x, y| x <= y;
    br_i64_ge_s: i64 => |x, y| x >= y;
    br_i64_ge_u: u64 => |x, y| x >= y;
}

/// `dst = f(a, k)` handlers, `k` an immediate; they cover a constant and the operation,
/// so they continue two ops further.
macro_rules! binary_imm {
    ($( $name:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.b, $t);
                let $y = <$t as SlotVal>::get(u64::from(op.c) | (u64::from(op.d) << 32));
                set!(sp, op.a, $e);
                next!(step!(ip, 2), sp, mem, len, cx)
            }
        )* }
    };
}

/// `if f(a, k) { goto ip + b } else { goto ip + d }` handlers, `k` the sign-extended
/// 32-bit immediate `c`; they cover a constant, a comparison and a branch.
macro_rules! branch_cmp_imm {
    ($( $name:ident: $t:ty => |$x:ident, $y:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.a, $t);
                let $y = <$t as SlotVal>::get(op.c as i32 as i64 as u64);
                branch!($e, step!(ip, op.b as i32), step!(ip, op.d as i32), sp, mem, len, cx)
            }
        )* }
    };
}

/// `if f(a) { goto ip + b } else { goto ip + c }` handlers covering an `eqz` and a branch.
macro_rules! branch_test {
    ($( $name:ident: $t:ty => |$x:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let $x = get!(sp, op.a, $t);
                branch!($e, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx)
            }
        )* }
    };
}

binary_imm! {
    i32_sub_imm: u32 => |x, y| x.wrapping_sub(y);
    i32_mul_imm: u32 => |x, y| x.wrapping_mul(y);
    i32_and_imm: u32 => |x, y| x & y;
    i32_or_imm: u32 => |x, y| x | y;
    i32_xor_imm: u32 => |x, y| x ^ y;
    i32_shl_imm: u32 => |x, y| x.wrapping_shl(y);
    i32_shr_s_imm: i32 => |x, y| x.wrapping_shr(y as u32);
    i32_shr_u_imm: u32 => |x, y| x.wrapping_shr(y);
    i32_rotl_imm: u32 => |x, y| x.rotate_left(y % 32);
    i32_rotr_imm: u32 => |x, y| x.rotate_right(y % 32);
    i32_eq_imm: u32 => |x, y| x == y;
    i32_ne_imm: u32 => |x, y| x != y;
    i32_lt_s_imm: i32 => |x, y| x < y;
    i32_lt_u_imm: u32 => |x, y| x < y;
    i32_gt_s_imm: i32 => |x, y| x > y;
    i32_gt_u_imm: u32 => |x, y| x > y;
    i32_le_s_imm: i32 => |x, y| x <= y;
    i32_le_u_imm: u32 => |x, y| x <= y;
    i32_ge_s_imm: i32 => |x, y| x >= y;
    i32_ge_u_imm: u32 => |x, y| x >= y;
    i64_add_imm: u64 => |x, y| x.wrapping_add(y);
    i64_sub_imm: u64 => |x, y| x.wrapping_sub(y);
    i64_mul_imm: u64 => |x, y| x.wrapping_mul(y);
    i64_and_imm: u64 => |x, y| x & y;
    i64_or_imm: u64 => |x, y| x | y;
    i64_xor_imm: u64 => |x, y| x ^ y;
    i64_shl_imm: u64 => |x, y| x.wrapping_shl(y as u32);
    i64_shr_s_imm: i64 => |x, y| x.wrapping_shr(y as u32);
    i64_shr_u_imm: u64 => |x, y| x.wrapping_shr(y as u32);
    i64_rotl_imm: u64 => |x, y| x.rotate_left((y % 64) as u32);
    i64_rotr_imm: u64 => |x, y| x.rotate_right((y % 64) as u32);
    i64_eq_imm: u64 => |x, y| x == y;
    i64_ne_imm: u64 => |x, y| x != y;
    i64_lt_s_imm: i64 => |x, y| x < y;
    i64_lt_u_imm: u64 => |x, y| x < y;
    i64_gt_s_imm: i64 => |x, y| x > y;
    i64_gt_u_imm: u64 => |x, y| x > y;
    i64_le_s_imm: i64 => |x, y| x <= y;
    i64_le_u_imm: u64 => |x, y| x <= y;
    i64_ge_s_imm: i64 => |x, y| x >= y;
    i64_ge_u_imm: u64 => |x, y| x >= y;
}

handlers! {
    /// `i32.add` with an immediate, as the translator emits it (one op, no constant).
    i32_add_imm(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, get!(sp, op.b, u32).wrapping_add(op.c));
        next!(step!(ip, 1), sp, mem, len, cx)
    }

    /// `i32.add` with a constant operand (two ops).
    i32_add_imm2(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, get!(sp, op.b, u32).wrapping_add(op.c));
        next!(step!(ip, 2), sp, mem, len, cx)
    }
}

branch_cmp_imm! {
    br_i32_eq_imm: u32 => |x, y| x == y;
    br_i32_ne_imm: u32 => |x, y| x != y;
    br_i32_lt_s_imm: i32 => |x, y| x < y;
    br_i32_lt_u_imm: u32 => |x, y| x < y;
    br_i32_gt_s_imm: i32 => |x, y| x > y;
    br_i32_gt_u_imm: u32 => |x, y| x > y;
    br_i32_le_s_imm: i32 => |x, y| x <= y;
    br_i32_le_u_imm: u32 => |x, y| x <= y;
    br_i32_ge_s_imm: i32 => |x, y| x >= y;
    br_i32_ge_u_imm: u32 => |x, y| x >= y;
    br_i64_eq_imm: u64 => |x, y| x == y;
    br_i64_ne_imm: u64 => |x, y| x != y;
    br_i64_lt_s_imm: i64 => |x, y| x < y;
    br_i64_lt_u_imm: u64 => |x, y| x < y;
    br_i64_gt_s_imm: i64 => |x, y| x > y;
    br_i64_gt_u_imm: u64 => |x, y| x > y;
    br_i64_le_s_imm: i64 => |x, y| x <= y;
    br_i64_le_u_imm: u64 => |x, y| x <= y;
    br_i64_ge_s_imm: i64 => |x, y| x >= y;
    br_i64_ge_u_imm: u64 => |x, y| x >= y;
}

branch_test! {
    br_i32_eqz: u32 => |x| x == 0;
    br_i32_nez: u32 => |x| x != 0;
    br_i64_eqz: u64 => |x| x == 0;
    br_i64_nez: u64 => |x| x != 0;
}

handlers! {
    /// `dst = a + (b << k)` (covers a constant, a shift and an add).
    i32_add_shl_imm(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let v = get!(sp, op.b, u32).wrapping_add(get!(sp, op.c, u32) << op.d);
        set!(sp, op.a, v);
        next!(step!(ip, 3), sp, mem, len, cx)
    }
}

/// Loads at an address computed by an add: `dst = f(mem[a + b + offset..][..N])`
/// (fields `dst`, `a`, `b`, `offset`; covers the add and the load).
macro_rules! load_add {
    ($( $name:ident: $n:literal => |$b:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let addr = get!(sp, op.b, u32).wrapping_add(get!(sp, op.c, u32));
                let ea = u64::from(addr) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `ea + N <= len`, and `mem` is valid for `len` bytes.
                let $b: [u8; $n] = unsafe { std::ptr::read_unaligned(mem.add(ea as usize).cast()) };
                set!(sp, op.a, $e);
                next!(step!(ip, 2), sp, mem, len, cx)
            }
        )* }
    };
}

/// Stores at an address computed by an add: `mem[a + b + offset..][..N] = f(val)`
/// (fields `val`, `a`, `b`, `offset`; covers the add and the store).
macro_rules! store_add {
    ($( $name:ident: $n:literal => |$v:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let addr = get!(sp, op.b, u32).wrapping_add(get!(sp, op.c, u32));
                let ea = u64::from(addr) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                let $v = get!(sp, op.a, u64);
                let bytes: [u8; $n] = $e;
                // SAFETY: `ea + N <= len`, and `mem` is valid for writes of `len` bytes.
                unsafe { std::ptr::write_unaligned(mem.add(ea as usize).cast(), bytes) };
                next!(step!(ip, 2), sp, mem, len, cx)
            }
        )* }
    };
}

load_add! {
    i32_load_add: 4 => |b| u32::from_le_bytes(b);
    i64_load_add: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s_add: 1 => |b| b[0] as i8 as i32;
    i32_load8_u_add: 1 => |b| u32::from(b[0]);
    i32_load16_s_add: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_add: 2 => |b| u32::from(u16::from_le_bytes(b));
}

store_add! {
    i32_store_add: 4 => |v| (v as u32).to_le_bytes();
    i64_store_add: 8 => |v| v.to_le_bytes();
    store8_add: 1 => |v| [v as u8];
    store16_add: 2 => |v| (v as u16).to_le_bytes();
}

/// Loads at an address computed by an immediate add: `dst = f(mem[(a + k) + offset..][..N])`
/// (fields `dst`, `a`, `k`, `offset`; covers the add and the load).
macro_rules! load_imm {
    ($( $name:ident: $n:literal => |$b:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let addr = get!(sp, op.b, u32).wrapping_add(op.c);
                let ea = u64::from(addr) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `ea + N <= len`, and `mem` is valid for `len` bytes.
                let $b: [u8; $n] = unsafe { std::ptr::read_unaligned(mem.add(ea as usize).cast()) };
                set!(sp, op.a, $e);
                next!(step!(ip, 2), sp, mem, len, cx)
            }
        )* }
    };
}

/// Stores at an address computed by an immediate add: `mem[(a + k) + offset..][..N] = f(val)`
/// (fields `val`, `a`, `k`, `offset`; covers the add and the store).
macro_rules! store_imm {
    ($( $name:ident: $n:literal => |$v:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let addr = get!(sp, op.b, u32).wrapping_add(op.c);
                let ea = u64::from(addr) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                let $v = get!(sp, op.a, u64);
                let bytes: [u8; $n] = $e;
                // SAFETY: `ea + N <= len`, and `mem` is valid for writes of `len` bytes.
                unsafe { std::ptr::write_unaligned(mem.add(ea as usize).cast(), bytes) };
                next!(step!(ip, 2), sp, mem, len, cx)
            }
        )* }
    };
}

load_imm! {
    i32_load_imm: 4 => |b| u32::from_le_bytes(b);
    i64_load_imm: 8 => |b| u64::from_le_bytes(b);
    i32_load8_s_imm: 1 => |b| b[0] as i8 as i32;
    i32_load8_u_imm: 1 => |b| u32::from(b[0]);
    i32_load16_s_imm: 2 => |b| i16::from_le_bytes(b) as i32;
    i32_load16_u_imm: 2 => |b| u32::from(u16::from_le_bytes(b));
}

store_imm! {
    i32_store_imm: 4 => |v| (v as u32).to_le_bytes();
    i64_store_imm: 8 => |v| v.to_le_bytes();
}

handlers! {
    /// `t = if cond != 0 { t } else { b }; dst = t` (a `select` and a copy of its result).
    select_copy(ip, sp, mem, len, cx) {
        let op = op!(ip);
        let v = if get!(sp, op.d, u32) != 0 { get!(sp, op.b, u64) } else { get!(sp, op.c, u64) };
        set!(sp, op.b, v);
        set!(sp, op.a, v);
        next!(step!(ip, 2), sp, mem, len, cx)
    }

    /// Two copies, in order.
    copy2(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, get!(sp, op.b, u64));
        set!(sp, op.c, get!(sp, op.d, u64));
        next!(step!(ip, 2), sp, mem, len, cx)
    }
}

/// Stores of an immediate: `mem[addr + offset..][..N] = k` (fields `addr`, `k`, `offset`;
/// covers the constant and the store).
macro_rules! store_k {
    ($( $name:ident: $n:literal; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let ea = u64::from(get!(sp, op.a, u32)) + u64::from(op.c);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                let bytes = u64::from(op.b).to_le_bytes();
                // SAFETY: `ea + N <= len`, and `mem` is valid for writes of `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.add(ea as usize), $n) };
                next!(step!(ip, 2), sp, mem, len, cx)
            }
        )* }
    };
}

/// Stores of an immediate at an address computed by an add:
/// `mem[a + b + offset..][..N] = k` (fields `k`, `a`, `b`, `offset`; covers the add, the
/// constant and the store).
macro_rules! store_add_k {
    ($( $name:ident: $n:literal; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let addr = get!(sp, op.b, u32).wrapping_add(get!(sp, op.c, u32));
                let ea = u64::from(addr) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                let bytes = u64::from(op.a).to_le_bytes();
                // SAFETY: `ea + N <= len`, and `mem` is valid for writes of `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.add(ea as usize), $n) };
                next!(step!(ip, 3), sp, mem, len, cx)
            }
        )* }
    };
}

store_k! {
    store8_k: 1;
    store16_k: 2;
    store32_k: 4;
    store64_k: 8;
}

store_add_k! {
    store8_add_k: 1;
    store16_add_k: 2;
    store32_add_k: 4;
    store64_add_k: 8;
}

handlers! {
    /// `a = b; c = d` (two constants).
    const2(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, op.b);
        set!(sp, op.c, op.d);
        next!(step!(ip, 2), sp, mem, len, cx)
    }

    /// `a = b`, then jump to `ip + c`.
    const_br(ip, sp, mem, len, cx) {
        let op = op!(ip);
        set!(sp, op.a, op.b);
        next!(step!(ip, op.c as i32), sp, mem, len, cx)
    }
}

/// Loads from a constant address: `dst = f(mem[k + offset..][..N])` (fields `dst`, -,
/// `k`, `offset`; covers the constant and the load).
macro_rules! load_k {
    ($( $name:ident: $n:literal => |$b:ident| $e:expr; )*) => {
        handlers! { $(
            $name(ip, sp, mem, len, cx) {
                let op = op!(ip);
                let ea = u64::from(op.c) + u64::from(op.d);
                if ea + $n > len as u64 {
                    return Exit::Trap(TrapCode::MemoryOutOfBounds);
                }
                // SAFETY: `ea + N <= len`, and `mem` is valid for `len` bytes.
                let $b: [u8; $n] = unsafe { std::ptr::read_unaligned(mem.add(ea as usize).cast()) };
                set!(sp, op.a, $e);
                next!(step!(ip, 2), sp, mem, len, cx)
            }
        )* }
    };
}

load_k! {
    i32_load_k: 4 => |b| u32::from_le_bytes(b);
    i64_load_k: 8 => |b| u64::from_le_bytes(b);
}

// ---- lowering ----

fn op(h: Handler, a: u32, b: u32, c: u32) -> Op {
    Op { h, a, b, c, d: 0 }
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

/// Handlers by [`Cmp`], in declaration order.
type CmpTable = [Handler; 10];
const BR_I32: CmpTable = [
    br_i32_eq,
    br_i32_ne,
    br_i32_lt_s,
    br_i32_lt_u,
    br_i32_gt_s,
    br_i32_gt_u,
    br_i32_le_s,
    br_i32_le_u,
    br_i32_ge_s,
    br_i32_ge_u,
];
const BR_I64: CmpTable = [
    br_i64_eq,
    br_i64_ne,
    br_i64_lt_s,
    br_i64_lt_u,
    br_i64_gt_s,
    br_i64_gt_u,
    br_i64_le_s,
    br_i64_le_u,
    br_i64_ge_s,
    br_i64_ge_u,
];
const BR_I32_IMM: CmpTable = [
    br_i32_eq_imm,
    br_i32_ne_imm,
    br_i32_lt_s_imm,
    br_i32_lt_u_imm,
    br_i32_gt_s_imm,
    br_i32_gt_u_imm,
    br_i32_le_s_imm,
    br_i32_le_u_imm,
    br_i32_ge_s_imm,
    br_i32_ge_u_imm,
];
const BR_I64_IMM: CmpTable = [
    br_i64_eq_imm,
    br_i64_ne_imm,
    br_i64_lt_s_imm,
    br_i64_lt_u_imm,
    br_i64_gt_s_imm,
    br_i64_gt_u_imm,
    br_i64_le_s_imm,
    br_i64_le_u_imm,
    br_i64_ge_s_imm,
    br_i64_ge_u_imm,
];
const CMP_I32_IMM: CmpTable = [
    i32_eq_imm,
    i32_ne_imm,
    i32_lt_s_imm,
    i32_lt_u_imm,
    i32_gt_s_imm,
    i32_gt_u_imm,
    i32_le_s_imm,
    i32_le_u_imm,
    i32_ge_s_imm,
    i32_ge_u_imm,
];
const CMP_I64_IMM: CmpTable = [
    i64_eq_imm,
    i64_ne_imm,
    i64_lt_s_imm,
    i64_lt_u_imm,
    i64_gt_s_imm,
    i64_gt_u_imm,
    i64_le_s_imm,
    i64_le_u_imm,
    i64_ge_s_imm,
    i64_ge_u_imm,
];

/// The handler of `dst = a op imm` for a binary instruction with `(dst, a, b)`, and
/// whether the operation is commutative (so the constant may be either operand).
fn with_imm(instr: &Instr) -> Option<(Handler, bool, Slot, Slot, Slot)> {
    use Instr::*;
    if let Some((is_64, cmp, dst, a, b)) = comparison(instr) {
        let table = if is_64 { &CMP_I64_IMM } else { &CMP_I32_IMM };
        // Not commutative: `fuse` swaps comparisons itself.
        return Some((table[cmp as usize], false, dst, a, b));
    }
    let (h, commutative, dst, a, b): (Handler, bool, Slot, Slot, Slot) = match *instr {
        I32Add { dst, a, b } => (i32_add_imm2, true, dst, a, b),
        I32Sub { dst, a, b } => (i32_sub_imm, false, dst, a, b),
        I32Mul { dst, a, b } => (i32_mul_imm, true, dst, a, b),
        I32And { dst, a, b } => (i32_and_imm, true, dst, a, b),
        I32Or { dst, a, b } => (i32_or_imm, true, dst, a, b),
        I32Xor { dst, a, b } => (i32_xor_imm, true, dst, a, b),
        I32Shl { dst, a, b } => (i32_shl_imm, false, dst, a, b),
        I32ShrS { dst, a, b } => (i32_shr_s_imm, false, dst, a, b),
        I32ShrU { dst, a, b } => (i32_shr_u_imm, false, dst, a, b),
        I32Rotl { dst, a, b } => (i32_rotl_imm, false, dst, a, b),
        I32Rotr { dst, a, b } => (i32_rotr_imm, false, dst, a, b),
        I64Add { dst, a, b } => (i64_add_imm, true, dst, a, b),
        I64Sub { dst, a, b } => (i64_sub_imm, false, dst, a, b),
        I64Mul { dst, a, b } => (i64_mul_imm, true, dst, a, b),
        I64And { dst, a, b } => (i64_and_imm, true, dst, a, b),
        I64Or { dst, a, b } => (i64_or_imm, true, dst, a, b),
        I64Xor { dst, a, b } => (i64_xor_imm, true, dst, a, b),
        I64Shl { dst, a, b } => (i64_shl_imm, false, dst, a, b),
        I64ShrS { dst, a, b } => (i64_shr_s_imm, false, dst, a, b),
        I64ShrU { dst, a, b } => (i64_shr_u_imm, false, dst, a, b),
        I64Rotl { dst, a, b } => (i64_rotl_imm, false, dst, a, b),
        I64Rotr { dst, a, b } => (i64_rotr_imm, false, dst, a, b),
        _ => return None,
    };
    Some((h, commutative, dst, a, b))
}

/// Handlers of stores of an immediate value, by width: 1, 2, 4, 8 bytes.
const STORE_K: [Handler; 4] = [store8_k, store16_k, store32_k, store64_k];
const STORE_ADD_K: [Handler; 4] = [store8_add_k, store16_add_k, store32_add_k, store64_add_k];

/// If `instr` stores slot `k` (to memory 0), the handler for its width from `table`, its
/// address slot and its offset.
fn store_of(instr: Option<&Instr>, k: Slot, table: &[Handler; 4]) -> Option<(Handler, Slot, u32)> {
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

/// A fused op.
enum Fused {
    /// `if a op b { goto target }` (covers a comparison and a branch).
    Branch { h: Handler, a: Slot, b: Slot, target: u32 },
    /// `if a op k { goto target }` (covers a constant, a comparison and a branch).
    BranchImm { h: Handler, a: Slot, k: u64, target: u32 },
    /// `if test(a) { goto target }` (covers an `eqz` and a branch).
    BranchOne { h: Handler, a: Slot, target: u32 },
    /// `dst = a op k` (covers a constant and a binary instruction).
    Imm { h: Handler, dst: Slot, a: Slot, k: u64 },
    /// Three slots and a 32-bit immediate (`dst`, `a`, `b`, `k` in the op's fields).
    Imm3 { h: Handler, dst: Slot, a: Slot, b: Slot, k: u32 },
    /// Two slots and two 32-bit immediates.
    Imm2 { h: Handler, dst: Slot, a: Slot, k1: u32, k2: u32 },
    /// `mem[addr + offset] = k`.
    StoreK { h: Handler, addr: Slot, k: u32, offset: u32 },
    /// `mem[a + b + offset] = k`.
    StoreAddK { h: Handler, k: u32, a: Slot, b: Slot, offset: u32 },
    /// Two constants.
    Const2 { d1: Slot, v1: u32, d2: Slot, v2: u32 },
    /// A constant, then a jump.
    ConstBr { dst: Slot, val: u32, target: u32 },
    /// Four slots.
    Quad { h: Handler, a: Slot, b: Slot, c: Slot, d: Slot },
}

/// Tries to fuse the instructions starting at `i` into one op. The instructions it covers stay in place (they are lowered
/// on their own too), so paths that jump into the middle of the sequence still run
/// them; the fused op itself continues after the whole sequence. A value passed between
/// the fused instructions must be a temporary (a slot above the locals) that nothing
/// reads after its consumer, which the translator guarantees for operand-stack slots
/// consumed by the next instruction.
fn fuse(f: &CompiledFunc, i: usize) -> Option<Fused> {
    fuse_at(f, i, true)
}

/// [`fuse`], with pairs of constants only if `const_pairs`.
fn fuse_at(f: &CompiledFunc, i: usize, const_pairs: bool) -> Option<Fused> {
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
        return Some(Fused::StoreK { h, addr, k: imm, offset });
    }
    // An address computed by an add, then a constant, stored.
    if let I32Add { dst: t, a, b } = code[i]
        && temp(t)
        && let Some((k, imm)) = code.get(i + 1).and_then(|c| konst_of(*c))
        && let Ok(imm) = u32::try_from(imm)
        && let Some((h, addr, offset)) = store_of(code.get(i + 2), k, &STORE_ADD_K)
        && addr == t
    {
        return Some(Fused::StoreAddK { h, k: imm, a, b, offset });
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
        return Some(Fused::Imm3 { h: i32_add_shl_imm, dst, a: y, b: x, k: k as u32 });
    }
    // A load from a constant address.
    if let Some((k, addr)) = konst_of(code[i])
        && let Ok(addr) = u32::try_from(addr)
    {
        let load = match code.get(i + 1) {
            Some(&I32Load { dst, addr, offset } | &F32Load { dst, addr, offset }) if addr == k => {
                Some((i32_load_k as Handler, dst, offset))
            }
            Some(&I64Load { dst, addr, offset } | &F64Load { dst, addr, offset }) if addr == k => {
                Some((i64_load_k as Handler, dst, offset))
            }
            _ => None,
        };
        if let Some((h, dst, offset)) = load {
            return Some(Fused::Imm2 { h, dst, a: 0, k1: addr, k2: offset });
        }
    }
    // Two constants (unless the second one fuses with what follows).
    if let Const32 { dst: d1, val: v1 } = code[i]
        && let Some(&Const32 { dst: d2, val: v2 }) = code.get(i + 1)
        && const_pairs
        && fuse_at(f, i + 1, false).is_none()
    {
        return Some(Fused::Const2 { d1, v1, d2, v2 });
    }
    // A constant, then a jump.
    if let Const32 { dst, val } = code[i]
        && let Some(&Br { target }) = code.get(i + 1)
    {
        return Some(Fused::ConstBr { dst, val, target });
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
                return Some(Fused::BranchImm { h: table[cmp as usize], a: x, k: imm, target });
            }
            let table = if is_64 { &CMP_I64_IMM } else { &CMP_I32_IMM };
            return Some(Fused::Imm { h: table[cmp as usize], dst, a: x, k: imm });
        }
        if let Some((h, commutative, dst, a, b)) = with_imm(next) {
            if b == k && a != k {
                return Some(Fused::Imm { h, dst, a, k: imm });
            }
            if commutative && a == k && b != k {
                return Some(Fused::Imm { h, dst, a: b, k: imm });
            }
        }
        return None;
    }
    // An address computed by an add, consumed by a load or a store.
    if let I32Add { dst: t, a, b } = code[i]
        && temp(t)
    {
        let (h, x, offset): (Handler, Slot, u32) = match code.get(i + 1) {
            Some(&I32Load { dst, addr, offset } | &F32Load { dst, addr, offset }) if addr == t => {
                (i32_load_add, dst, offset)
            }
            Some(&I64Load { dst, addr, offset } | &F64Load { dst, addr, offset }) if addr == t => {
                (i64_load_add, dst, offset)
            }
            Some(&I32Load8U { dst, addr, offset }) if addr == t => (i32_load8_u_add, dst, offset),
            Some(&I32Load8S { dst, addr, offset }) if addr == t => (i32_load8_s_add, dst, offset),
            Some(&I32Load16U { dst, addr, offset }) if addr == t => (i32_load16_u_add, dst, offset),
            Some(&I32Load16S { dst, addr, offset }) if addr == t => (i32_load16_s_add, dst, offset),
            Some(&I32Store { addr, val, offset } | &F32Store { addr, val, offset }) if addr == t && val != t => {
                (i32_store_add, val, offset)
            }
            Some(&I64Store { addr, val, offset } | &F64Store { addr, val, offset }) if addr == t && val != t => {
                (i64_store_add, val, offset)
            }
            Some(&I32Store8 { addr, val, offset }) if addr == t && val != t => (store8_add, val, offset),
            Some(&I32Store16 { addr, val, offset }) if addr == t && val != t => (store16_add, val, offset),
            _ => return None,
        };
        return Some(Fused::Imm3 { h, dst: x, a, b, k: offset });
    }
    // An address computed by an immediate add, consumed by a load or a store.
    if let I32AddImm { dst: t, a, imm } = code[i]
        && temp(t)
    {
        let (h, x, offset): (Handler, Slot, u32) = match code.get(i + 1) {
            Some(&I32Load { dst, addr, offset } | &F32Load { dst, addr, offset }) if addr == t => {
                (i32_load_imm, dst, offset)
            }
            Some(&I64Load { dst, addr, offset } | &F64Load { dst, addr, offset }) if addr == t => {
                (i64_load_imm, dst, offset)
            }
            Some(&I32Load8U { dst, addr, offset }) if addr == t => (i32_load8_u_imm, dst, offset),
            Some(&I32Load8S { dst, addr, offset }) if addr == t => (i32_load8_s_imm, dst, offset),
            Some(&I32Load16U { dst, addr, offset }) if addr == t => (i32_load16_u_imm, dst, offset),
            Some(&I32Load16S { dst, addr, offset }) if addr == t => (i32_load16_s_imm, dst, offset),
            Some(&I32Store { addr, val, offset } | &F32Store { addr, val, offset }) if addr == t && val != t => {
                (i32_store_imm, val, offset)
            }
            Some(&I64Store { addr, val, offset } | &F64Store { addr, val, offset }) if addr == t && val != t => {
                (i64_store_imm, val, offset)
            }
            _ => return None,
        };
        return Some(Fused::Imm2 { h, dst: x, a, k1: imm, k2: offset });
    }
    // A `select` whose result is copied to a local (the result stays where it was too,
    // since the copy may be a `local.tee`).
    if let Select { dst: t, b, cond } = code[i]
        && let Some(&Copy { dst, src }) = code.get(i + 1)
        && src == t
    {
        return Some(Fused::Quad { h: select_copy, a: dst, b: t, c: b, d: cond });
    }
    // A copy to the result slot, then a return.
    if let Copy { dst, src } = code[i]
        && let Some(Return) = code.get(i + 1)
    {
        return Some(Fused::Imm2 { h: copy_ret, dst, a: src, k1: 0, k2: 0 });
    }
    // Two copies.
    if let Copy { dst: d1, src: s1 } = code[i]
        && let Some(&Copy { dst: d2, src: s2 }) = code.get(i + 1)
    {
        return Some(Fused::Quad { h: copy2, a: d1, b: s1, c: d2, d: s2 });
    }
    // A comparison consumed by a conditional branch.
    if let Some((is_64, cmp, dst, a, b)) = comparison(&code[i])
        && temp(dst)
        && let Some((nez, target)) = branch(code.get(i + 1), dst)
    {
        let cmp = if nez { cmp } else { cmp.negate() };
        let table = if is_64 { &BR_I64 } else { &BR_I32 };
        return Some(Fused::Branch { h: table[cmp as usize], a, b, target });
    }
    // `eqz` consumed by a conditional branch: branch on the operand instead.
    if let I32Eqz { dst, src } | I64Eqz { dst, src } = code[i]
        && temp(dst)
        && let Some((nez, target)) = branch(code.get(i + 1), dst)
    {
        let is_64 = matches!(code[i], I64Eqz { .. });
        let h: Handler = match (is_64, nez) {
            (false, true) => br_i32_eqz,
            (false, false) => br_i32_nez,
            (true, true) => br_i64_eqz,
            (true, false) => br_i64_nez,
        };
        return Some(Fused::BranchOne { h, a: src, target });
    }
    None
}

/// Lowers the instructions of `f` into ops, checking what the handlers rely on (see the
/// module docs): slot operands inside the frame, branch targets inside the function, the
/// `Br`s of every `BrTable`.
pub(crate) fn lower(f: &CompiledFunc, module: &ModuleInner) -> Result<Box<[Op]>, Error> {
    use Instr::*;
    let num_imported = module.num_imported_funcs;
    let num_funcs = module.funcs.len() as u32;
    let code = &f.code;
    let n = code.len();
    let bad = |what: &str, i: usize| {
        Error::msg(format!("internal error: {what} in instruction {i} of function {}", f.func_index))
    };
    let mut ops = Vec::with_capacity(n + 1);
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
            && let Some(fused) = fuse(f, i)
        {
            let imm = |h: Handler, a: u32, b: u32, k: u64| Op { h, a, b, c: k as u32, d: (k >> 32) as u32 };
            ops.push(match fused {
                Fused::Branch { h, a, b, target } => {
                    Op { h, a: s(a)?, b: s(b)?, c: rel(target)?, d: rel(i as u32 + 2)? }
                }
                Fused::BranchImm { h, a, k, target } => {
                    Op { h, a: s(a)?, b: rel(target)?, c: k as u32, d: rel(i as u32 + 3)? }
                }
                Fused::BranchOne { h, a, target } => op(h, s(a)?, rel(target)?, rel(i as u32 + 2)?),
                Fused::Imm2 { h, dst, a, k1, k2 } => Op { h, a: s(dst)?, b: s(a)?, c: k1, d: k2 },
                Fused::StoreK { h, addr, k, offset } => op(h, s(addr)?, k, offset),
                Fused::StoreAddK { h, k, a, b, offset } => Op { h, a: k, b: s(a)?, c: s(b)?, d: offset },
                Fused::Const2 { d1, v1, d2, v2 } => Op { h: const2, a: s(d1)?, b: v1, c: s(d2)?, d: v2 },
                Fused::ConstBr { dst, val, target } => op(const_br, s(dst)?, val, rel(target)?),
                Fused::Quad { h, a, b, c, d } => Op { h, a: s(a)?, b: s(b)?, c: s(c)?, d: s(d)? },
                Fused::Imm { h, dst, a, k } => imm(h, s(dst)?, s(a)?, k),
                Fused::Imm3 { h, dst, a, b, k } => Op { h, a: s(dst)?, b: s(a)?, c: s(b)?, d: k },
            });
            i += 1;
            continue;
        }
        let o = match code[i] {
            Unreachable => op(unreachable, 0, 0, 0),
            ConsumeFuel { amount } => op(consume_fuel, amount, 0, 0),
            Br { target } => op(br, rel(target)?, 0, 0),
            BrIfNez { cond, target } => op(br_if_nez, s(cond)?, rel(target)?, rel(i as u32 + 1)?),
            BrIfEqz { cond, target } => op(br_if_eqz, s(cond)?, rel(target)?, rel(i as u32 + 1)?),
            BrTable { index, len } => {
                let end = (i + 2).checked_add(len as usize).filter(|&e| e <= n);
                table_arms_end = end.ok_or_else(|| bad("br_table arms past the end", i))?;
                op(br_table, s(index)?, len, 0)
            }
            Return => op(ret, 0, 0, 0),
            Call { func, base } => match func.checked_sub(num_imported) {
                Some(k) if func < num_funcs => op(call_internal, k, frame_end(base)?, 0),
                _ => op(call, func, frame_end(base)?, 0),
            },
            CallIndirect { index, base, site } => op(call_indirect, s(index)?, frame_end(base)?, site),
            Copy { dst, src } => op(copy, s(dst)?, s(src)?, 0),
            Const32 { dst, val } => op(const32, s(dst)?, val, 0),
            Const64 { dst, lo, hi } => op(const64, s(dst)?, lo, hi),
            Select { dst, b, cond } => op(select, s(dst)?, s(b)?, s(cond)?),
            GlobalGet { dst, global } => op(global_get, s(dst)?, global, 0),
            GlobalSet { src, global } => op(global_set, s(src)?, global, 0),
            I32Load { dst, addr, offset } | F32Load { dst, addr, offset } => op(i32_load, s(dst)?, s(addr)?, offset),
            I64Load { dst, addr, offset } | F64Load { dst, addr, offset } => op(i64_load, s(dst)?, s(addr)?, offset),
            I32Load8S { dst, addr, offset } => op(i32_load8_s, s(dst)?, s(addr)?, offset),
            I32Load8U { dst, addr, offset } => op(i32_load8_u, s(dst)?, s(addr)?, offset),
            I32Load16S { dst, addr, offset } => op(i32_load16_s, s(dst)?, s(addr)?, offset),
            I32Load16U { dst, addr, offset } => op(i32_load16_u, s(dst)?, s(addr)?, offset),
            I64Load8S { dst, addr, offset } => op(i64_load8_s, s(dst)?, s(addr)?, offset),
            I64Load8U { dst, addr, offset } => op(i64_load8_u, s(dst)?, s(addr)?, offset),
            I64Load16S { dst, addr, offset } => op(i64_load16_s, s(dst)?, s(addr)?, offset),
            I64Load16U { dst, addr, offset } => op(i64_load16_u, s(dst)?, s(addr)?, offset),
            I64Load32S { dst, addr, offset } => op(i64_load32_s, s(dst)?, s(addr)?, offset),
            I64Load32U { dst, addr, offset } => op(i64_load32_u, s(dst)?, s(addr)?, offset),
            I32Store { addr, val, offset } | F32Store { addr, val, offset } | I64Store32 { addr, val, offset } => {
                op(i32_store, s(addr)?, s(val)?, offset)
            }
            I64Store { addr, val, offset } | F64Store { addr, val, offset } => op(i64_store, s(addr)?, s(val)?, offset),
            I32Store8 { addr, val, offset } | I64Store8 { addr, val, offset } => op(store8, s(addr)?, s(val)?, offset),
            I32Store16 { addr, val, offset } | I64Store16 { addr, val, offset } => {
                op(store16, s(addr)?, s(val)?, offset)
            }
            MemorySize { dst } => op(memory_size, s(dst)?, 0, 0),
            MemoryGrow { dst, delta } => op(memory_grow, s(dst)?, s(delta)?, 0),
            Extra { .. } => op(extra, 0, 0, 0),
            RefFunc { dst, func } => op(ref_func, s(dst)?, func, 0),
            RefIsNull { dst, src } => op(ref_is_null, s(dst)?, s(src)?, 0),
            I32AddImm { dst, a, imm } => op(i32_add_imm, s(dst)?, s(a)?, imm),
            ref other => match numeric(other) {
                Some((h, dst, a, b)) => op(h, s(dst)?, s(a)?, s(b)?),
                None => op(slow, 0, 0, 0),
            },
        };
        ops.push(o);
        i += 1;
    }
    ops.push(op(sentinel, 0, 0, 0));
    Ok(ops.into_boxed_slice())
}

/// The handler and `(dst, a, b)` slots of a numeric instruction (`b` repeats `a` for
/// unary ones).
fn numeric(instr: &Instr) -> Option<(Handler, Slot, Slot, Slot)> {
    use Instr::*;
    macro_rules! pick {
        ($($v:ident => $h:ident),* $(,)?; $($u:ident => $g:ident),* $(,)?) => {
            match *instr {
                $($v { dst, a, b } => Some(($h as Handler, dst, a, b)),)*
                $($u { dst, src } => Some(($g as Handler, dst, src, src)),)*
                _ => None,
            }
        };
    }
    pick! {
        I32Eq => i32_eq, I32Ne => i32_ne, I32LtS => i32_lt_s, I32LtU => i32_lt_u,
        I32GtS => i32_gt_s, I32GtU => i32_gt_u, I32LeS => i32_le_s, I32LeU => i32_le_u,
        I32GeS => i32_ge_s, I32GeU => i32_ge_u, I32Add => i32_add, I32Sub => i32_sub,
        I32Mul => i32_mul, I32DivS => i32_div_s, I32DivU => i32_div_u, I32RemS => i32_rem_s,
        I32RemU => i32_rem_u, I32And => i32_and, I32Or => i32_or, I32Xor => i32_xor,
        I32Shl => i32_shl, I32ShrS => i32_shr_s, I32ShrU => i32_shr_u, I32Rotl => i32_rotl,
        I32Rotr => i32_rotr,
        I64Eq => i64_eq, I64Ne => i64_ne, I64LtS => i64_lt_s, I64LtU => i64_lt_u,
        I64GtS => i64_gt_s, I64GtU => i64_gt_u, I64LeS => i64_le_s, I64LeU => i64_le_u,
        I64GeS => i64_ge_s, I64GeU => i64_ge_u, I64Add => i64_add, I64Sub => i64_sub,
        I64Mul => i64_mul, I64DivS => i64_div_s, I64DivU => i64_div_u, I64RemS => i64_rem_s,
        I64RemU => i64_rem_u, I64And => i64_and, I64Or => i64_or, I64Xor => i64_xor,
        I64Shl => i64_shl, I64ShrS => i64_shr_s, I64ShrU => i64_shr_u, I64Rotl => i64_rotl,
        I64Rotr => i64_rotr,
        F32Eq => f32_eq, F32Ne => f32_ne, F32Lt => f32_lt, F32Gt => f32_gt, F32Le => f32_le,
        F32Ge => f32_ge, F32Add => f32_add, F32Sub => f32_sub, F32Mul => f32_mul,
        F32Div => f32_div, F32Min => f32_min, F32Max => f32_max, F32Copysign => f32_copysign,
        F64Eq => f64_eq, F64Ne => f64_ne, F64Lt => f64_lt, F64Gt => f64_gt, F64Le => f64_le,
        F64Ge => f64_ge, F64Add => f64_add, F64Sub => f64_sub, F64Mul => f64_mul,
        F64Div => f64_div, F64Min => f64_min, F64Max => f64_max, F64Copysign => f64_copysign;
        I32Eqz => i32_eqz, I32Clz => i32_clz, I32Ctz => i32_ctz, I32Popcnt => i32_popcnt,
        I64Eqz => i64_eqz, I64Clz => i64_clz, I64Ctz => i64_ctz, I64Popcnt => i64_popcnt,
        F32Abs => f32_abs, F32Neg => f32_neg, F32Ceil => f32_ceil, F32Floor => f32_floor,
        F32Trunc => f32_trunc, F32Nearest => f32_nearest, F32Sqrt => f32_sqrt,
        F64Abs => f64_abs, F64Neg => f64_neg, F64Ceil => f64_ceil, F64Floor => f64_floor,
        F64Trunc => f64_trunc, F64Nearest => f64_nearest, F64Sqrt => f64_sqrt,
        I32WrapI64 => i32_wrap_i64, I32TruncF32S => i32_trunc_f32_s, I32TruncF32U => i32_trunc_f32_u,
        I32TruncF64S => i32_trunc_f64_s, I32TruncF64U => i32_trunc_f64_u,
        I64ExtendI32S => i64_extend_i32_s, I64ExtendI32U => i64_extend_i32_u,
        I64TruncF32S => i64_trunc_f32_s, I64TruncF32U => i64_trunc_f32_u,
        I64TruncF64S => i64_trunc_f64_s, I64TruncF64U => i64_trunc_f64_u,
        F32ConvertI32S => f32_convert_i32_s, F32ConvertI32U => f32_convert_i32_u,
        F32ConvertI64S => f32_convert_i64_s, F32ConvertI64U => f32_convert_i64_u,
        F32DemoteF64 => f32_demote_f64, F64ConvertI32S => f64_convert_i32_s,
        F64ConvertI32U => f64_convert_i32_u, F64ConvertI64S => f64_convert_i64_s,
        F64ConvertI64U => f64_convert_i64_u, F64PromoteF32 => f64_promote_f32,
        I32Extend8S => i32_extend8_s, I32Extend16S => i32_extend16_s,
        I64Extend8S => i64_extend8_s, I64Extend16S => i64_extend16_s, I64Extend32S => i64_extend32_s,
        I32TruncSatF32S => i32_trunc_sat_f32_s, I32TruncSatF32U => i32_trunc_sat_f32_u,
        I32TruncSatF64S => i32_trunc_sat_f64_s, I32TruncSatF64U => i32_trunc_sat_f64_u,
        I64TruncSatF32S => i64_trunc_sat_f32_s, I64TruncSatF32U => i64_trunc_sat_f32_u,
        I64TruncSatF64S => i64_trunc_sat_f64_s, I64TruncSatF64U => i64_trunc_sat_f64_u,
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
        let by_ptr: HashMap<usize, &super::CompiledFunc> =
            module.inner.code.iter().map(|f| (&**f as *const super::CompiledFunc as usize, &**f)).collect();
        let name = |i: &super::Instr| format!("{i:?}").split([' ', '{', '(']).next().unwrap().to_string();
        let (mut singles, mut pairs, mut funcs) = (HashMap::new(), HashMap::new(), HashMap::new());
        let mut total = 0;
        for (&(code, index), &n) in &hits {
            let f = by_ptr[&code];
            total += n;
            *funcs.entry(f.func_index).or_insert(0) += n;
            let Some(ins) = f.code.get(index) else { continue };
            let label = match super::fuse(f, index) {
                Some(fused) => {
                    let covers = match fused {
                        super::Fused::BranchImm { .. } | super::Fused::StoreAddK { .. } => 3,
                        super::Fused::Imm3 { h, .. } if h as *const () == super::i32_add_shl_imm as *const () => 3,
                        _ => 2,
                    };
                    let names: Vec<String> =
                        f.code[index..(index + covers).min(f.code.len())].iter().map(name).collect();
                    format!("F:{}", names.join("+"))
                }
                None => name(ins),
            };
            *singles.entry(label).or_insert(0) += n;
            if let Some(next) = f.code.get(index + 1) {
                *pairs.entry(format!("{} {}", name(ins), name(next))).or_insert(0) += n;
            }
        }
        let label_of = |(code, index): (usize, usize)| -> String {
            let Some(f) = by_ptr.get(&code) else { return "?".into() };
            let Some(ins) = f.code.get(index) else { return "end".into() };
            match super::fuse(f, index) {
                Some(fused) => {
                    let covers = match fused {
                        super::Fused::BranchImm { .. } | super::Fused::StoreAddK { .. } => 3,
                        super::Fused::Imm3 { h, .. } if h as *const () == super::i32_add_shl_imm as *const () => 3,
                        _ => 2,
                    };
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
        println!("total ops executed: {total}");
        for (k, n) in top(singles, 40) {
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
            for f in &module.inner.code {
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
