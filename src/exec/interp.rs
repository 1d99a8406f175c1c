//! The interpreter's driver: sets up an execution, runs the threaded code
//! ([`super::threaded`]) with an explicit frame stack, so wasm calls never recurse on the
//! host stack and deep recursion ends in a `call stack exhausted` trap, gives it the
//! function through which it calls host functions ([`call_host`]), and runs the rare
//! instructions out of line ([`exec_slow`]).

use std::sync::Arc;

use super::ir::{CompiledFunc, Instr};
use super::simd;
use super::threaded::{Cx, Exit, Ip, Regs, resume, set_instance};
use crate::error::{Error, ExnRef, Result, TrapCode};
use crate::exec::state::{FuncEntity, StoreInner, table_copy};

/// How many nested wasm executions one thread may run (host code calling back into wasm
/// from a host function nests them). Each level uses some native stack: about 1 KiB in
/// optimised builds, tens of KiB in unoptimised ones, so the bound keeps either well
/// within a 512 KiB thread stack.
const MAX_REENTRY: u32 = if cfg!(debug_assertions) { 12 } else { 64 };

/// Per-slot cost of a suspended frame against [`Config::max_stack_slots`](crate::Config),
/// so frames of functions without locals are bounded too.
const FRAME_SLOT_COST: usize = 4;

thread_local! {
    /// Nesting depth of wasm executions on this thread.
    static NESTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Counts one nested execution for as long as it lives (also when unwinding).
struct NestingGuard;

impl NestingGuard {
    fn enter() -> Result<NestingGuard> {
        NESTING.with(|n| {
            if n.get() >= MAX_REENTRY {
                return Err(trap(TrapCode::StackOverflow));
            }
            n.set(n.get() + 1);
            Ok(NestingGuard)
        })
    }
}

impl Drop for NestingGuard {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// The value stack (untyped 64-bit slots) and the records of suspended callers, kept by
/// the store between executions.
#[derive(Debug, Default)]
pub(crate) struct Stack {
    slots: Vec<u64>,
    frames: Vec<Frame>,
}

/// A suspended caller.
#[derive(Debug)]
pub(crate) struct Frame {
    /// Its code, owned by the store (functions are never removed from a store).
    pub(crate) code: *const CompiledFunc,
    /// Where it continues.
    pub(crate) ip: Ip,
    /// Index of its slot 0 in the value stack.
    pub(crate) base: usize,
    /// Its instance.
    pub(crate) instance: u32,
}

// SAFETY: a `Frame` is plain data: its pointers are only dereferenced by the execution
// that created it, on the thread that runs it, while the store owning their targets is
// borrowed by that execution; records left from a finished execution are cleared before
// the next one starts and never dereferenced.
unsafe impl Send for Frame {}
// SAFETY: as above; shared references to a `Frame` never reach its pointers' targets.
unsafe impl Sync for Frame {}

#[cold]
#[inline(never)]
pub(super) fn trap(code: TrapCode) -> Error {
    Error::trap(code)
}

pub(super) fn mem0_of(inner: &StoreInner, instance: u32) -> usize {
    inner.instances[instance as usize].memories.first().map_or(usize::MAX, |&m| m as usize)
}

/// Makes sure `slots` has at least `need` entries, within `max`.
#[inline]
pub(super) fn ensure_slots(slots: &mut Vec<u64>, need: usize, max: usize) -> Result<()> {
    if need > slots.len() {
        if need > max {
            return Err(trap(TrapCode::StackOverflow));
        }
        let new_len = need.max(slots.len().saturating_mul(2)).min(max).max(need);
        slots.resize(new_len, 0);
    }
    Ok(())
}

/// The store the executor runs in, as the executor sees it: its state, and its host
/// functions, which only the layer that knows the host state's type can call. `Store<T>`
/// implements it.
pub(crate) trait Host {
    /// A host function, held by an execution so that a loop calling the same one does not
    /// touch its reference count on every call.
    type Func;

    /// The store's state.
    fn inner(&mut self) -> &mut StoreInner;

    /// Host function `index` of the store.
    fn host_func(&self, index: u32) -> Self::Func;

    /// Calls `func` with the slots holding its parameters (and then its results), from
    /// `instance` (`None`: called from the host).
    ///
    /// # Errors
    ///
    /// Whatever the host function returns.
    fn call_host(&mut self, func: &Self::Func, instance: Option<u32>, slots: &mut [u64]) -> Result<()>;
}

/// Calls store function `func`. `io` holds the parameters on entry and the results on
/// return; it is at least `max(params, results)` long.
pub(crate) fn call_func<S: Host>(store: &mut S, func: usize, io: &mut [u64]) -> Result<()> {
    let (code, instance) = match &store.inner().funcs[func] {
        &FuncEntity::Host { host, .. } => {
            let h = store.host_func(host);
            return store.call_host(&h, None, io);
        }
        FuncEntity::Wasm { code, index, instance, .. } => ((code.clone(), *index), *instance),
    };
    let (table, index) = code;
    // SAFETY: a slot points at a function (or its stub) that lives as long as the table,
    // which `table` keeps alive until this function returns.
    let code = unsafe { &*table.get(index) };
    let _nesting = NestingGuard::enter()?;
    let mut stack = store.inner().stack.take().unwrap_or_default();
    let max_slots = store.inner().engine.config().max_stack_slots;
    ensure_slots(&mut stack.slots, code.frame_slots as usize, max_slots)?;
    let (np, nl, nr) = (code.num_params as usize, code.num_locals as usize, code.num_results as usize);
    stack.slots[..np].copy_from_slice(&io[..np]);
    stack.slots[np..nl].fill(0);
    let result = execute(store, &mut stack, code, instance);
    if result.is_ok() {
        io[..nr].copy_from_slice(&stack.slots[..nr]);
    }
    let inner = store.inner();
    if inner.stack.as_ref().is_none_or(|s| s.slots.len() < stack.slots.len()) {
        inner.stack = Some(stack);
    }
    result
}

/// What [`call_host`] needs besides the handlers' context: the store (which the handlers'
/// context borrows the inner part of) and the host function called last, with its index (a
/// loop calling the same function does not touch the reference count on every call).
struct HostCx<S: Host> {
    store: *mut S,
    last: Option<(u32, S::Func)>,
}

/// Calls host function `callee` for the handlers (a [`HostCaller`](super::threaded::HostCaller)).
///
/// # Safety
///
/// `cx.host` points at the live `HostCx<S>` of the [`execute`] running `cx`, and `cx.inner`
/// is the inner part of its store.
unsafe fn call_host<S: Host>(cx: &mut Cx<'_>, callee: usize, start: usize) -> Result<()> {
    // SAFETY: see the function's contract.
    let hcx = unsafe { &mut *cx.host.cast::<HostCx<S>>() };
    let FuncEntity::Host { host, num_params, num_results, .. } = cx.inner.funcs[callee] else {
        return Err(Error::msg("internal error: host call of a wasm function"));
    };
    let end = start + num_params.max(num_results) as usize;
    ensure_slots(cx.slots, end, cx.inner.engine.config().max_stack_slots)?;
    // SAFETY: `cx.inner` borrows from this store and is not used again until it is
    // renewed below; nothing else borrows the store while the handlers run.
    let store = unsafe { &mut *hcx.store };
    let h = match &hcx.last {
        Some((i, h)) if *i == host => h,
        _ => &hcx.last.insert((host, store.host_func(host))).1,
    };
    // The host function may call wasm, which may collect garbage: the values of this
    // activation (which that collection cannot see: it runs on a stack of its own) are
    // pinned until the call returns. With no GC object in the store, none can be among them.
    let pinned = store.inner().gc.pinned.len();
    if !store.inner().gc.is_empty() {
        let live = &cx.slots[..end];
        store.inner().gc.pinned.extend_from_slice(live);
    }
    let result = store.call_host(h, Some(cx.regs.instance), &mut cx.slots[start..end]);
    // SAFETY: as above; the host function's borrow of the store has ended. (Through a raw
    // pointer: the state lives as long as the store, which outlives the execution.)
    let inner: *mut StoreInner = unsafe { (*hcx.store).inner() };
    // SAFETY: as above.
    cx.inner = unsafe { &mut *inner };
    cx.inner.gc.pinned.truncate(pinned);
    result
}

/// Runs `code` (already set up in frame 0 of `stack`) to completion (the handlers call
/// host functions through [`call_host`]); a trap or error gets the wasm backtrace attached.
fn execute<S: Host>(store: &mut S, stack: &mut Stack, code: &CompiledFunc, instance: u32) -> Result<()> {
    let config = store.inner().engine.config();
    let max_slots = config.max_stack_slots;
    let max_frames = (config.max_call_depth as usize).min(max_slots / FRAME_SLOT_COST);
    stack.frames.clear();
    if stack.frames.capacity() == 0 {
        stack.frames.reserve(16);
    }
    let mut regs = Regs::new(code);
    // The instance to switch to before running on (at the start, and after a catch).
    let mut enter_instance = Some(instance);
    let mut hcx = HostCx { store: std::ptr::null_mut(), last: None };
    let error = loop {
        let store_ptr: *mut S = &mut *store;
        hcx.store = store_ptr;
        let mut cx = Cx {
            // SAFETY: `store_ptr` is the live `store`, not used otherwise until `cx` ends.
            inner: unsafe { (*store_ptr).inner() },
            host_call: call_host::<S>,
            host: (&raw mut hcx).cast(),
            slots: &mut stack.slots,
            frames: &mut stack.frames,
            regs,
            max_frames,
            frame_limit: 0,
        };
        cx.frame_limit = cx.frames.capacity().min(max_frames);
        if let Some(instance) = enter_instance.take() {
            set_instance(&mut cx, instance);
        }
        let exit = resume(&mut cx);
        regs = cx.regs;
        let thrown = match exit {
            Exit::Done => return Ok(()),
            Exit::Trap(code) => break trap(code),
            Exit::Throw => regs.thrown,
            Exit::Error => {
                let error = regs.error.take().unwrap_or_else(|| Error::msg("internal error: missing error"));
                // A host function threw a wasm exception (of this store: another store's
                // cannot be caught here, and stays an error).
                match error.exception() {
                    Some(exn) if exn.store_id == store.inner().id && store.inner().exns.get(exn.index).is_some() => {
                        exn.index
                    }
                    _ => break error,
                }
            }
            Exit::Continue => break Error::msg("internal error: unexpected dispatch state"),
            Exit::Grow => {
                let frames = &mut stack.frames;
                if frames.len() == frames.capacity() {
                    frames.reserve_exact(frames.len().min(max_frames - frames.len()));
                }
                if let Err(e) = ensure_slots(&mut stack.slots, regs.need, max_slots) {
                    break e;
                }
                continue;
            }
        };
        match catch(store.inner(), stack, &mut regs, thrown) {
            Ok(Some(instance)) => enter_instance = Some(instance),
            // Uncaught: the exception escapes to the host, which may keep its reference.
            Ok(None) => {
                let inner = store.inner();
                inner.exns.mark_referenced(thrown);
                return Err(ExnRef { store_id: inner.id, index: thrown }.into());
            }
            Err(e) => break e,
        }
    };
    // SAFETY: the code of the running function and of every suspended frame is owned by
    // the store (or by `code`), which outlives this call.
    let running = unsafe { &*regs.code };
    let inner = &*store.inner();
    let frame_info = |code: &CompiledFunc, instance: u32, offset: Option<u32>| {
        let module = &inner.instances[instance as usize].module;
        crate::error::FrameInfo {
            func_index: code.func_index,
            func_name: module.func_name(code.func_index).map(str::to_string),
            module_name: module.name.clone(),
            module_offset: offset.map(|o| o as usize),
            func_offset: offset.and_then(|o| o.checked_sub(code.body_offset)).map(|o| o as usize),
        }
    };
    let suspended = &stack.frames;
    let trace = crate::error::WasmBacktrace::capped(suspended.len() + 1, |k| match k {
        0 => frame_info(running, regs.instance, running.offset_of(regs.at, false)),
        k => {
            let f = &suspended[suspended.len() - k];
            // SAFETY: as above.
            let code = unsafe { &*f.code };
            // A suspended frame continues after its call.
            frame_info(code, f.instance, code.offset_of(f.ip, true))
        }
    });
    Err(error.with_backtrace(trace))
}

/// Unwinds the stack to the innermost catch clause that catches exception `id`, thrown (or
/// passed on by a call) at op `regs.at` of the running function: puts the exception's
/// values where the clause's label takes them and sets `regs` to continue at the clause's
/// pad. Returns the instance of the frame that caught it, or `None` (and no frames left)
/// if nothing did.
fn catch(inner: &mut StoreInner, stack: &mut Stack, regs: &mut Regs, id: u32) -> Result<Option<u32>> {
    let missing = || Error::msg("internal error: a thrown exception is missing");
    let tag = inner.exns.get(id).ok_or_else(missing)?.tag;
    // SAFETY: the code of the running function and of every suspended frame is owned by
    // the store (or by the caller of `execute`), which outlives this call.
    let mut code = unsafe { &*regs.code };
    let mut at = op_index(code, regs.at);
    let mut instance = regs.instance;
    loop {
        // A tail call has left its frame already: what its callee throws passes it by.
        let in_frame = at.filter(|&k| {
            !matches!(
                code.code.get(k),
                Some(Instr::ReturnCall { .. } | Instr::ReturnCallIndirect { .. } | Instr::ReturnCallRef { .. })
            )
        });
        let tags = &inner.instances[instance as usize].tags;
        let handler = in_frame.and_then(|k| {
            code.handlers.iter().find(|h| {
                (h.start as usize..h.end as usize).contains(&k)
                    && h.tag.is_none_or(|t| tags.get(t as usize) == Some(&tag))
            })
        });
        if let Some(h) = handler {
            let exn = inner.exns.get(id).ok_or_else(missing)?;
            let n = if h.tag.is_some() { exn.payload.len() } else { 0 };
            let start = regs.base + h.dst as usize;
            let dst = stack
                .slots
                .get_mut(start..start + n + usize::from(h.with_ref))
                .ok_or_else(|| Error::msg("internal error: caught values out of the stack"))?;
            dst[..n].copy_from_slice(&exn.payload[..n]);
            if h.with_ref {
                // An exception reference is its object's index + 1.
                dst[n] = u64::from(id) + 1;
                inner.exns.mark_referenced(id);
            } else {
                inner.exns.release(id);
            }
            let pad = code
                .ops
                .get(h.pad as usize..)
                .ok_or_else(|| Error::msg("internal error: catch pad out of the function"))?;
            regs.ip = pad.as_ptr();
            return Ok(Some(instance));
        }
        let Some(f) = stack.frames.pop() else {
            return Ok(None);
        };
        regs.code = f.code;
        regs.base = f.base;
        instance = f.instance;
        // SAFETY: as above.
        code = unsafe { &*f.code };
        // A suspended frame continues after its call.
        at = op_index(code, f.ip).and_then(|k| k.checked_sub(1));
    }
}

/// The index of op `ip` in `code`'s ops, if it is one of them.
fn op_index(code: &CompiledFunc, ip: Ip) -> Option<usize> {
    let at = (ip as usize).checked_sub(code.ops.as_ptr() as usize)? / std::mem::size_of::<super::threaded::Op>();
    (at < code.ops.len()).then_some(at)
}

/// Runs one instruction that has no handler of its own in the frame `frame`: SIMD, bulk
/// memory, tables, or (handed on to [`exec_mem`](super::mem::exec_mem)) the generic
/// memory and atomic instructions. `ip` is the index after the instruction; returns the
/// index to continue with (past the instruction's `Extra`s, if it has any).
#[inline(never)]
pub(super) fn exec_slow(
    code: &CompiledFunc,
    mut ip: usize,
    frame: &mut [u64],
    inner: &mut StoreInner,
    instance: u32,
    mem0: usize,
) -> Result<usize> {
    macro_rules! s {
        ($x:expr) => {
            frame[$x as usize]
        };
    }
    macro_rules! get_v128 {
        ($x:expr) => {
            u128::from(s!($x)) | (u128::from(s!($x + 1)) << 64)
        };
    }
    macro_rules! set_v128 {
        ($dst:expr, $v:expr) => {{
            let v: u128 = $v;
            s!($dst) = v as u64;
            s!($dst + 1) = (v >> 64) as u64;
        }};
    }
    let instr = code.code[ip - 1];
    macro_rules! mem {
        () => {
            inner.memories.get_mut(mem0).ok_or_else(|| Error::msg("internal error: no memory 0"))?
        };
    }
    let oob = |_| trap(TrapCode::MemoryOutOfBounds);
    match instr {
        Instr::MemoryFill { base: b } => {
            let (d, v, n) = (s!(b) as u32, s!(b + 1) as u8, s!(b + 2) as u32);
            mem!().fill(u64::from(d), v, u64::from(n)).map_err(oob)?;
        }
        Instr::MemoryCopy { base: b } => {
            let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
            mem!().copy_within(u64::from(d), u64::from(src), u64::from(n)).map_err(oob)?;
        }
        Instr::MemoryInit { segment, base: b } => {
            let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
            let bytes = inner.instances[instance as usize].datas[segment as usize].clone();
            mem!().init(u64::from(d), &bytes, u64::from(src), u64::from(n)).map_err(oob)?;
        }
        Instr::DataDrop { segment } => {
            inner.instances[instance as usize].datas[segment as usize] = Arc::new([]);
        }
        Instr::TableGet { dst, index, table } => {
            let t = inner.instances[instance as usize].tables[table as usize] as usize;
            s!(dst) = inner.tables[t].get(s!(index) as u32).map_err(trap)?;
        }
        Instr::TableSet { index, val, table } => {
            let t = inner.instances[instance as usize].tables[table as usize] as usize;
            inner.tables[t].set(s!(index) as u32, s!(val)).map_err(trap)?;
        }
        Instr::TableSize { dst, table } => {
            let t = inner.instances[instance as usize].tables[table as usize] as usize;
            s!(dst) = u64::from(inner.tables[t].size());
        }
        Instr::TableGrow { table, base: b } => {
            let t = inner.instances[instance as usize].tables[table as usize] as usize;
            let (init, delta) = (s!(b), s!(b + 1) as u32);
            let limits = inner.limits;
            let old = inner.tables[t].grow(delta, init, &limits);
            s!(b) = u64::from(old.unwrap_or(u32::MAX));
        }
        Instr::TableFill { table, base: b } => {
            let t = inner.instances[instance as usize].tables[table as usize] as usize;
            let (i, v, n) = (s!(b) as u32, s!(b + 1), s!(b + 2) as u32);
            inner.tables[t].fill(i, v, n).map_err(trap)?;
        }
        Instr::TableCopy { dst_table, src_table, base: b } => {
            let inst = &inner.instances[instance as usize];
            let (dt, st) = (inst.tables[dst_table as usize] as usize, inst.tables[src_table as usize] as usize);
            let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
            table_copy(inner, dt, st, d, src, n).map_err(trap)?;
        }
        Instr::TableInit { base: b } => {
            let Some(&Instr::Extra { a: segment, b: table }) = code.code.get(ip) else {
                return Err(Error::msg("internal error: table.init without its immediates"));
            };
            ip += 1;
            let inst = &inner.instances[instance as usize];
            let t = inst.tables[table as usize] as usize;
            let items = inst.elems[segment as usize].clone();
            let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
            inner.tables[t].init(d, &items, src, n).map_err(trap)?;
        }
        Instr::ElemDrop { segment } => {
            inner.instances[instance as usize].elems[segment as usize] = Arc::new([]);
        }
        Instr::V128Const { dst, index } => set_v128!(dst, code.consts[index as usize]),
        Instr::GlobalGetV128 { dst, global } => {
            let g = inner.instances[instance as usize].globals[global as usize];
            let g = &inner.globals[g as usize];
            let (lo, hi) = (g.value, g.value_hi);
            s!(dst) = lo;
            s!(dst + 1) = hi;
        }
        Instr::GlobalSetV128 { src, global } => {
            let g = inner.instances[instance as usize].globals[global as usize];
            let (lo, hi) = (s!(src), s!(src + 1));
            let g = &mut inner.globals[g as usize];
            g.value = lo;
            g.value_hi = hi;
        }
        Instr::V128Load { dst, addr, offset } => {
            let mut b = [0u8; 16];
            simd::read_mem(inner.memories[mem0].data(), s!(addr) as u32, offset, &mut b).map_err(trap)?;
            set_v128!(dst, u128::from_le_bytes(b));
        }
        Instr::V128LoadExt { kind, dst, addr, offset } => {
            let bits =
                simd::read_le(inner.memories[mem0].data(), s!(addr) as u32, offset, kind.len_bytes()).map_err(trap)?;
            set_v128!(dst, kind.apply(bits));
        }
        Instr::V128Store { addr, val, offset } => {
            let bytes = get_v128!(val).to_le_bytes();
            let a = s!(addr) as u32;
            simd::write_mem(inner.memories[mem0].data_mut(), a, offset, &bytes).map_err(trap)?;
        }
        Instr::V128LoadLane { len_bytes, lane, dst, v, addr } => {
            let Instr::Extra { a: offset, .. } = code.code[ip] else {
                return Err(Error::msg("internal error: v128 lane load without its offset"));
            };
            ip += 1;
            let len = usize::from(len_bytes);
            let bits = simd::read_le(inner.memories[mem0].data(), s!(addr) as u32, offset, len).map_err(trap)?;
            let shape = simd::lane_shape_of_len(len);
            let r = simd::replace_lane(shape, lane, get_v128!(v), bits);
            set_v128!(dst, r);
        }
        Instr::V128StoreLane { len_bytes, lane, addr, v, offset } => {
            let len = usize::from(len_bytes);
            let x = simd::extract_lane(simd::lane_shape_of_len(len), lane, get_v128!(v));
            let a = s!(addr) as u32;
            simd::write_mem(inner.memories[mem0].data_mut(), a, offset, &x.to_le_bytes()[..len.min(8)])
                .map_err(trap)?;
        }
        Instr::V128Unary { op, dst, src } => set_v128!(dst, simd::unary(op, get_v128!(src))),
        Instr::V128Binary { op, dst, a, b } => {
            let r = simd::binary(op, get_v128!(a), get_v128!(b));
            set_v128!(dst, r);
        }
        Instr::V128Shift { op, dst, a, b } => {
            let r = simd::shift(op, get_v128!(a), s!(b) as u32);
            set_v128!(dst, r);
        }
        Instr::V128Test { op, dst, src } => s!(dst) = u64::from(simd::test(op, get_v128!(src))),
        Instr::V128Splat { op, dst, src } => set_v128!(dst, simd::splat(op, s!(src))),
        Instr::V128ExtractLane { shape, lane, dst, src } => {
            s!(dst) = simd::extract_lane(shape, lane, get_v128!(src));
        }
        Instr::V128ReplaceLane { shape, lane, dst, v, x } => {
            let r = simd::replace_lane(shape, lane, get_v128!(v), s!(x));
            set_v128!(dst, r);
        }
        Instr::I8x16Shuffle { dst, a, b } => {
            let Instr::Extra { a: index, .. } = code.code[ip] else {
                return Err(Error::msg("internal error: i8x16.shuffle without its lanes"));
            };
            ip += 1;
            let r = simd::shuffle(code.consts[index as usize], get_v128!(a), get_v128!(b));
            set_v128!(dst, r);
        }
        Instr::V128Bitselect { base: b } => {
            let r = simd::bitselect(get_v128!(b), get_v128!(b + 2), get_v128!(b + 4));
            set_v128!(b, r);
        }
        Instr::V128Ternary { op, base: b } => {
            let r = simd::relaxed::ternary(op, get_v128!(b), get_v128!(b + 2), get_v128!(b + 4));
            set_v128!(b, r);
        }
        _ => return super::mem::exec_mem(code, ip, frame, inner, instance),
    }
    Ok(ip)
}
