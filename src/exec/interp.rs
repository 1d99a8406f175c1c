//! The interpreter: runs the slot IR with an explicit frame stack, so wasm calls never
//! recurse on the host stack and deep recursion ends in a `call stack exhausted` trap.

use std::sync::Arc;

use super::ir::{CompiledFunc, Instr};
use super::num;
use super::simd;
use crate::error::{Error, Result, TrapCode};
use crate::runtime::func::{Caller, FuncEntity};
use crate::runtime::table::table_copy;
use crate::store::{Store, StoreInner};

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

/// The value stack (untyped 64-bit slots) and the frames of suspended callers.
#[derive(Debug, Default)]
pub(crate) struct Stack {
    slots: Vec<u64>,
    frames: Vec<Frame>,
}

#[derive(Debug)]
struct Frame {
    code: Arc<CompiledFunc>,
    ip: usize,
    base: usize,
    instance: u32,
}

#[cold]
#[inline(never)]
pub(super) fn trap(code: TrapCode) -> Error {
    Error::trap(code)
}

fn mem0_of(inner: &StoreInner, instance: u32) -> usize {
    inner.instances[instance as usize].memories.first().map_or(usize::MAX, |&m| m as usize)
}

/// Makes sure `slots` has at least `need` entries, within `max`.
#[inline]
fn ensure_slots(slots: &mut Vec<u64>, need: usize, max: usize) -> Result<()> {
    if need > slots.len() {
        if need > max {
            return Err(trap(TrapCode::StackOverflow));
        }
        let new_len = need.max(slots.len().saturating_mul(2)).min(max).max(need);
        slots.resize(new_len, 0);
    }
    Ok(())
}

/// Calls store function `func`. `io` holds the parameters on entry and the results on
/// return; it is at least `max(params, results)` long.
pub(crate) fn call_func<T>(store: &mut Store<T>, func: usize, io: &mut [u64]) -> Result<()> {
    let (code, instance) = match &store.inner.funcs[func] {
        FuncEntity::Host { host, .. } => {
            let h = store.host_funcs[*host as usize].clone();
            return h(Caller { store, instance: None }, io);
        }
        FuncEntity::Wasm { code, instance, .. } => (code.clone(), *instance),
    };
    let _nesting = NestingGuard::enter()?;
    let mut stack = store.inner.stack.take().unwrap_or_default();
    stack.frames.clear();
    let max_slots = store.inner.engine.config().max_stack_slots;
    ensure_slots(&mut stack.slots, code.frame_slots as usize, max_slots)?;
    let (np, nl, nr) = (code.num_params as usize, code.num_locals as usize, code.num_results as usize);
    stack.slots[..np].copy_from_slice(&io[..np]);
    stack.slots[np..nl].fill(0);
    let result = execute(store, &mut stack, code, instance);
    if result.is_ok() {
        io[..nr].copy_from_slice(&stack.slots[..nr]);
    }
    stack.frames.clear();
    if store.inner.stack.as_ref().is_none_or(|s| s.slots.len() < stack.slots.len()) {
        store.inner.stack = Some(stack);
    }
    result
}
/// Runs `code` (already set up in frame 0 of `stack`) to completion.
/// Runs `code` (already set up in frame 0 of `stack`) to completion; a trap gets the wasm
/// backtrace attached.
fn execute<T>(store: &mut Store<T>, stack: &mut Stack, mut code: Arc<CompiledFunc>, mut instance: u32) -> Result<()> {
    let result = run(store, stack, &mut code, &mut instance);
    result.map_err(|e| {
        let inner = &store.inner;
        let frame_info = |code: &CompiledFunc, instance: u32| {
            let module = &inner.instances[instance as usize].module;
            crate::error::FrameInfo {
                func_index: code.func_index,
                func_name: module.func_name(code.func_index).map(str::to_string),
                module_name: module.name.clone(),
            }
        };
        let mut frames = vec![frame_info(&code, instance)];
        frames.extend(stack.frames.iter().rev().map(|f| frame_info(&f.code, f.instance)));
        e.with_backtrace(crate::error::WasmBacktrace { frames })
    })
}

/// The interpreter loop. `code` and `instance` track the running function, so the caller
/// can report where a trap happened.
fn run<T>(store: &mut Store<T>, stack: &mut Stack, code: &mut Arc<CompiledFunc>, instance: &mut u32) -> Result<()> {
    let max_depth = store.inner.engine.config().max_call_depth as usize;
    let max_slots = store.inner.engine.config().max_stack_slots;
    let Stack { slots, frames } = stack;
    let mut ip: usize = 0;
    let mut base: usize = 0;
    let mut mem0 = mem0_of(&store.inner, *instance);

    macro_rules! s {
        ($x:expr) => {
            slots[base + $x as usize]
        };
    }
    macro_rules! mem {
        () => {
            store.inner.memories[mem0]
        };
    }
    macro_rules! load {
        ($dst:expr, $addr:expr, $off:expr, $n:literal, |$b:ident| $conv:expr) => {{
            let ea = u64::from(s!($addr) as u32) + u64::from($off);
            let data = mem!().data();
            let end = ea + $n;
            if end > data.len() as u64 {
                return Err(trap(TrapCode::MemoryOutOfBounds));
            }
            let mut $b = [0u8; $n];
            $b.copy_from_slice(&data[ea as usize..end as usize]);
            s!($dst) = $conv;
        }};
    }
    macro_rules! store_mem {
        ($addr:expr, $val:expr, $off:expr, $n:literal, |$v:ident| $bytes:expr) => {{
            let ea = u64::from(s!($addr) as u32) + u64::from($off);
            let $v = s!($val);
            let data = mem!().data_mut();
            let end = ea + $n;
            if end > data.len() as u64 {
                return Err(trap(TrapCode::MemoryOutOfBounds));
            }
            data[ea as usize..end as usize].copy_from_slice(&$bytes);
        }};
    }
    macro_rules! bin32 {
        ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let $x = s!($a) as u32;
            let $y = s!($b) as u32;
            s!($dst) = u64::from($e);
        }};
    }
    macro_rules! bin64 {
        ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let $x = s!($a);
            let $y = s!($b);
            s!($dst) = u64::from($e);
        }};
    }
    macro_rules! binf32 {
        ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let $x = f32::from_bits(s!($a) as u32);
            let $y = f32::from_bits(s!($b) as u32);
            s!($dst) = u64::from(($e).to_bits());
        }};
    }
    macro_rules! cmpf32 {
        ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let $x = f32::from_bits(s!($a) as u32);
            let $y = f32::from_bits(s!($b) as u32);
            s!($dst) = u64::from($e);
        }};
    }
    macro_rules! binf64 {
        ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let $x = f64::from_bits(s!($a));
            let $y = f64::from_bits(s!($b));
            s!($dst) = ($e).to_bits();
        }};
    }
    macro_rules! cmpf64 {
        ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let $x = f64::from_bits(s!($a));
            let $y = f64::from_bits(s!($b));
            s!($dst) = u64::from($e);
        }};
    }
    macro_rules! un {
        ($dst:expr, $src:expr, |$x:ident| $e:expr) => {{
            let $x = s!($src);
            s!($dst) = $e;
        }};
    }
    macro_rules! call {
        ($callee:expr, $b:expr) => {{
            let callee: usize = $callee;
            match &store.inner.funcs[callee] {
                FuncEntity::Wasm { code: c, instance: inst, .. } => {
                    let (c, inst) = (c.clone(), *inst);
                    if frames.len() >= max_depth || frames.len() >= max_slots / FRAME_SLOT_COST {
                        return Err(trap(TrapCode::StackOverflow));
                    }
                    let new_base = base + $b as usize;
                    ensure_slots(slots, new_base + c.frame_slots as usize, max_slots)?;
                    slots[new_base + c.num_params as usize..new_base + c.num_locals as usize].fill(0);
                    let caller_code = std::mem::replace(code, c);
                    frames.push(Frame { code: caller_code, ip, base, instance: *instance });
                    ip = 0;
                    base = new_base;
                    if inst != *instance {
                        *instance = inst;
                        mem0 = mem0_of(&store.inner, inst);
                    }
                }
                FuncEntity::Host { host, num_params, num_results, .. } => {
                    let h = store.host_funcs[*host as usize].clone();
                    let start = base + $b as usize;
                    let n = (*num_params).max(*num_results) as usize;
                    h(Caller { store: &mut *store, instance: Some(*instance) }, &mut slots[start..start + n])?;
                }
            }
        }};
    }

    loop {
        let instr = code.code[ip];
        ip += 1;
        match instr {
            Instr::Unreachable => return Err(trap(TrapCode::UnreachableCodeReached)),
            Instr::ConsumeFuel { amount } => {
                let fuel = &mut store.inner.fuel;
                if *fuel < u64::from(amount) {
                    *fuel = 0;
                    return Err(trap(TrapCode::OutOfFuel));
                }
                *fuel -= u64::from(amount);
            }
            Instr::Br { target } => ip = target as usize,
            Instr::BrIfNez { cond, target } => {
                if s!(cond) as u32 != 0 {
                    ip = target as usize;
                }
            }
            Instr::BrIfEqz { cond, target } => {
                if s!(cond) as u32 == 0 {
                    ip = target as usize;
                }
            }
            Instr::BrTable { index, len } => {
                ip += (s!(index) as u32).min(len) as usize;
            }
            Instr::Return => match frames.pop() {
                None => return Ok(()),
                Some(f) => {
                    *code = f.code;
                    ip = f.ip;
                    base = f.base;
                    if f.instance != *instance {
                        *instance = f.instance;
                        mem0 = mem0_of(&store.inner, f.instance);
                    }
                }
            },
            Instr::Call { func, base: b } => {
                let callee = store.inner.instances[*instance as usize].funcs[func as usize] as usize;
                call!(callee, b);
            }
            Instr::CallIndirect { index, base: b, site } => {
                let (type_index, table) = code.indirect_sites[site as usize];
                let inst = &store.inner.instances[*instance as usize];
                let expected = inst.module.type_ids[type_index as usize];
                let t = inst.tables[table as usize] as usize;
                let r = store.inner.tables[t].get(s!(index) as u32).map_err(trap)?;
                if r == 0 {
                    return Err(trap(TrapCode::IndirectCallToNull));
                }
                let callee = (r - 1) as usize;
                if store.inner.funcs[callee].type_id() != expected {
                    return Err(trap(TrapCode::BadSignature));
                }
                call!(callee, b);
            }
            Instr::Copy { dst, src } => s!(dst) = s!(src),
            Instr::Const32 { dst, val } => s!(dst) = u64::from(val),
            Instr::Const64 { dst, lo, hi } => s!(dst) = u64::from(lo) | (u64::from(hi) << 32),
            Instr::Select { dst, b, cond } => {
                if s!(cond) as u32 == 0 {
                    s!(dst) = s!(b);
                }
            }
            Instr::GlobalGet { dst, global } => {
                let g = store.inner.instances[*instance as usize].globals[global as usize];
                s!(dst) = store.inner.globals[g as usize].value;
            }
            Instr::GlobalSet { src, global } => {
                let g = store.inner.instances[*instance as usize].globals[global as usize];
                store.inner.globals[g as usize].value = s!(src);
            }

            Instr::I32Load { dst, addr, offset } => {
                load!(dst, addr, offset, 4, |b| u64::from(u32::from_le_bytes(b)))
            }
            Instr::I64Load { dst, addr, offset } => {
                load!(dst, addr, offset, 8, |b| u64::from_le_bytes(b))
            }
            Instr::F32Load { dst, addr, offset } => {
                load!(dst, addr, offset, 4, |b| u64::from(u32::from_le_bytes(b)))
            }
            Instr::F64Load { dst, addr, offset } => {
                load!(dst, addr, offset, 8, |b| u64::from_le_bytes(b))
            }
            Instr::I32Load8S { dst, addr, offset } => {
                load!(dst, addr, offset, 1, |b| u64::from(b[0] as i8 as i32 as u32))
            }
            Instr::I32Load8U { dst, addr, offset } => {
                load!(dst, addr, offset, 1, |b| u64::from(b[0]))
            }
            Instr::I32Load16S { dst, addr, offset } => {
                load!(dst, addr, offset, 2, |b| u64::from(i16::from_le_bytes(b) as i32 as u32))
            }
            Instr::I32Load16U { dst, addr, offset } => {
                load!(dst, addr, offset, 2, |b| u64::from(u16::from_le_bytes(b)))
            }
            Instr::I64Load8S { dst, addr, offset } => {
                load!(dst, addr, offset, 1, |b| b[0] as i8 as i64 as u64)
            }
            Instr::I64Load8U { dst, addr, offset } => {
                load!(dst, addr, offset, 1, |b| u64::from(b[0]))
            }
            Instr::I64Load16S { dst, addr, offset } => {
                load!(dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i64 as u64)
            }
            Instr::I64Load16U { dst, addr, offset } => {
                load!(dst, addr, offset, 2, |b| u64::from(u16::from_le_bytes(b)))
            }
            Instr::I64Load32S { dst, addr, offset } => {
                load!(dst, addr, offset, 4, |b| i32::from_le_bytes(b) as i64 as u64)
            }
            Instr::I64Load32U { dst, addr, offset } => {
                load!(dst, addr, offset, 4, |b| u64::from(u32::from_le_bytes(b)))
            }
            Instr::I32Store { addr, val, offset } => {
                store_mem!(addr, val, offset, 4, |v| (v as u32).to_le_bytes())
            }
            Instr::I64Store { addr, val, offset } => {
                store_mem!(addr, val, offset, 8, |v| v.to_le_bytes())
            }
            Instr::F32Store { addr, val, offset } => {
                store_mem!(addr, val, offset, 4, |v| (v as u32).to_le_bytes())
            }
            Instr::F64Store { addr, val, offset } => {
                store_mem!(addr, val, offset, 8, |v| v.to_le_bytes())
            }
            Instr::I32Store8 { addr, val, offset } | Instr::I64Store8 { addr, val, offset } => {
                store_mem!(addr, val, offset, 1, |v| [v as u8])
            }
            Instr::I32Store16 { addr, val, offset } | Instr::I64Store16 { addr, val, offset } => {
                store_mem!(addr, val, offset, 2, |v| (v as u16).to_le_bytes())
            }
            Instr::I64Store32 { addr, val, offset } => {
                store_mem!(addr, val, offset, 4, |v| (v as u32).to_le_bytes())
            }
            Instr::MemorySize { dst } => s!(dst) = mem!().size_pages(),
            Instr::MemoryGrow { dst, delta } => {
                let delta = u64::from(s!(delta) as u32);
                let limits = store.inner.limits;
                let old = mem!().grow(delta, &limits);
                s!(dst) = u64::from(old.map_or(u32::MAX, |o| o as u32));
            }
            Instr::MemoryFill { base: b } => {
                let (d, v, n) = (s!(b) as u32, s!(b + 1) as u8, s!(b + 2) as u32);
                mem!().fill(u64::from(d), v, u64::from(n)).map_err(|_| trap(TrapCode::MemoryOutOfBounds))?;
            }
            Instr::MemoryCopy { base: b } => {
                let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
                mem!()
                    .copy_within(u64::from(d), u64::from(src), u64::from(n))
                    .map_err(|_| trap(TrapCode::MemoryOutOfBounds))?;
            }
            Instr::MemoryInit { segment, base: b } => {
                let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
                let bytes = store.inner.instances[*instance as usize].datas[segment as usize].clone();
                mem!()
                    .init(u64::from(d), &bytes, u64::from(src), u64::from(n))
                    .map_err(|_| trap(TrapCode::MemoryOutOfBounds))?;
            }
            Instr::DataDrop { segment } => {
                store.inner.instances[*instance as usize].datas[segment as usize] = Arc::new([]);
            }
            Instr::TableGet { dst, index, table } => {
                let t = store.inner.instances[*instance as usize].tables[table as usize] as usize;
                s!(dst) = store.inner.tables[t].get(s!(index) as u32).map_err(trap)?;
            }
            Instr::TableSet { index, val, table } => {
                let t = store.inner.instances[*instance as usize].tables[table as usize] as usize;
                store.inner.tables[t].set(s!(index) as u32, s!(val)).map_err(trap)?;
            }
            Instr::TableSize { dst, table } => {
                let t = store.inner.instances[*instance as usize].tables[table as usize] as usize;
                s!(dst) = u64::from(store.inner.tables[t].size());
            }
            Instr::TableGrow { table, base: b } => {
                let t = store.inner.instances[*instance as usize].tables[table as usize] as usize;
                let (init, delta) = (s!(b), s!(b + 1) as u32);
                let limits = store.inner.limits;
                let old = store.inner.tables[t].grow(delta, init, &limits);
                s!(b) = u64::from(old.unwrap_or(u32::MAX));
            }
            Instr::TableFill { table, base: b } => {
                let t = store.inner.instances[*instance as usize].tables[table as usize] as usize;
                let (i, v, n) = (s!(b) as u32, s!(b + 1), s!(b + 2) as u32);
                store.inner.tables[t].fill(i, v, n).map_err(trap)?;
            }
            Instr::TableCopy { dst_table, src_table, base: b } => {
                let inst = &store.inner.instances[*instance as usize];
                let (dt, st) = (inst.tables[dst_table as usize] as usize, inst.tables[src_table as usize] as usize);
                let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
                table_copy(&mut store.inner, dt, st, d, src, n).map_err(trap)?;
            }
            Instr::TableInit { base: b } => {
                let Instr::Extra { a: segment, b: table } = code.code[ip] else {
                    return Err(Error::msg("internal error: table.init without its immediates"));
                };
                ip += 1;
                let inst = &store.inner.instances[*instance as usize];
                let t = inst.tables[table as usize] as usize;
                let items = inst.elems[segment as usize].clone();
                let (d, src, n) = (s!(b) as u32, s!(b + 1) as u32, s!(b + 2) as u32);
                store.inner.tables[t].init(d, &items, src, n).map_err(trap)?;
            }
            Instr::ElemDrop { segment } => {
                store.inner.instances[*instance as usize].elems[segment as usize] = Arc::new([]);
            }
            Instr::Extra { .. } => {}
            Instr::RefFunc { dst, func } => {
                s!(dst) = u64::from(store.inner.instances[*instance as usize].funcs[func as usize]) + 1;
            }
            Instr::RefIsNull { dst, src } => un!(dst, src, |x| u64::from(x == 0)),

            Instr::I32Eqz { dst, src } => un!(dst, src, |x| u64::from(x as u32 == 0)),
            Instr::I32Eq { dst, a, b } => bin32!(dst, a, b, |x, y| x == y),
            Instr::I32Ne { dst, a, b } => bin32!(dst, a, b, |x, y| x != y),
            Instr::I32LtS { dst, a, b } => bin32!(dst, a, b, |x, y| (x as i32) < (y as i32)),
            Instr::I32LtU { dst, a, b } => bin32!(dst, a, b, |x, y| x < y),
            Instr::I32GtS { dst, a, b } => bin32!(dst, a, b, |x, y| (x as i32) > (y as i32)),
            Instr::I32GtU { dst, a, b } => bin32!(dst, a, b, |x, y| x > y),
            Instr::I32LeS { dst, a, b } => bin32!(dst, a, b, |x, y| (x as i32) <= (y as i32)),
            Instr::I32LeU { dst, a, b } => bin32!(dst, a, b, |x, y| x <= y),
            Instr::I32GeS { dst, a, b } => bin32!(dst, a, b, |x, y| (x as i32) >= (y as i32)),
            Instr::I32GeU { dst, a, b } => bin32!(dst, a, b, |x, y| x >= y),
            Instr::I32Clz { dst, src } => un!(dst, src, |x| u64::from((x as u32).leading_zeros())),
            Instr::I32Ctz { dst, src } => un!(dst, src, |x| u64::from((x as u32).trailing_zeros())),
            Instr::I32Popcnt { dst, src } => un!(dst, src, |x| u64::from((x as u32).count_ones())),
            Instr::I32Add { dst, a, b } => bin32!(dst, a, b, |x, y| x.wrapping_add(y)),
            Instr::I32AddImm { dst, a, imm } => {
                un!(dst, a, |x| u64::from((x as u32).wrapping_add(imm)))
            }
            Instr::I32Sub { dst, a, b } => bin32!(dst, a, b, |x, y| x.wrapping_sub(y)),
            Instr::I32Mul { dst, a, b } => bin32!(dst, a, b, |x, y| x.wrapping_mul(y)),
            Instr::I32DivS { dst, a, b } => {
                let (x, y) = (s!(a) as u32 as i32, s!(b) as u32 as i32);
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                if x == i32::MIN && y == -1 {
                    return Err(trap(TrapCode::IntegerOverflow));
                }
                s!(dst) = u64::from((x / y) as u32);
            }
            Instr::I32DivU { dst, a, b } => {
                let (x, y) = (s!(a) as u32, s!(b) as u32);
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                s!(dst) = u64::from(x / y);
            }
            Instr::I32RemS { dst, a, b } => {
                let (x, y) = (s!(a) as u32 as i32, s!(b) as u32 as i32);
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                s!(dst) = u64::from(x.wrapping_rem(y) as u32);
            }
            Instr::I32RemU { dst, a, b } => {
                let (x, y) = (s!(a) as u32, s!(b) as u32);
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                s!(dst) = u64::from(x % y);
            }
            Instr::I32And { dst, a, b } => bin32!(dst, a, b, |x, y| x & y),
            Instr::I32Or { dst, a, b } => bin32!(dst, a, b, |x, y| x | y),
            Instr::I32Xor { dst, a, b } => bin32!(dst, a, b, |x, y| x ^ y),
            Instr::I32Shl { dst, a, b } => bin32!(dst, a, b, |x, y| x.wrapping_shl(y)),
            Instr::I32ShrS { dst, a, b } => {
                bin32!(dst, a, b, |x, y| (x as i32).wrapping_shr(y) as u32)
            }
            Instr::I32ShrU { dst, a, b } => bin32!(dst, a, b, |x, y| x.wrapping_shr(y)),
            Instr::I32Rotl { dst, a, b } => bin32!(dst, a, b, |x, y| x.rotate_left(y % 32)),
            Instr::I32Rotr { dst, a, b } => bin32!(dst, a, b, |x, y| x.rotate_right(y % 32)),

            Instr::I64Eqz { dst, src } => un!(dst, src, |x| u64::from(x == 0)),
            Instr::I64Eq { dst, a, b } => bin64!(dst, a, b, |x, y| x == y),
            Instr::I64Ne { dst, a, b } => bin64!(dst, a, b, |x, y| x != y),
            Instr::I64LtS { dst, a, b } => bin64!(dst, a, b, |x, y| (x as i64) < (y as i64)),
            Instr::I64LtU { dst, a, b } => bin64!(dst, a, b, |x, y| x < y),
            Instr::I64GtS { dst, a, b } => bin64!(dst, a, b, |x, y| (x as i64) > (y as i64)),
            Instr::I64GtU { dst, a, b } => bin64!(dst, a, b, |x, y| x > y),
            Instr::I64LeS { dst, a, b } => bin64!(dst, a, b, |x, y| (x as i64) <= (y as i64)),
            Instr::I64LeU { dst, a, b } => bin64!(dst, a, b, |x, y| x <= y),
            Instr::I64GeS { dst, a, b } => bin64!(dst, a, b, |x, y| (x as i64) >= (y as i64)),
            Instr::I64GeU { dst, a, b } => bin64!(dst, a, b, |x, y| x >= y),
            Instr::I64Clz { dst, src } => un!(dst, src, |x| u64::from(x.leading_zeros())),
            Instr::I64Ctz { dst, src } => un!(dst, src, |x| u64::from(x.trailing_zeros())),
            Instr::I64Popcnt { dst, src } => un!(dst, src, |x| u64::from(x.count_ones())),
            Instr::I64Add { dst, a, b } => bin64!(dst, a, b, |x, y| x.wrapping_add(y)),
            Instr::I64Sub { dst, a, b } => bin64!(dst, a, b, |x, y| x.wrapping_sub(y)),
            Instr::I64Mul { dst, a, b } => bin64!(dst, a, b, |x, y| x.wrapping_mul(y)),
            Instr::I64DivS { dst, a, b } => {
                let (x, y) = (s!(a) as i64, s!(b) as i64);
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                if x == i64::MIN && y == -1 {
                    return Err(trap(TrapCode::IntegerOverflow));
                }
                s!(dst) = (x / y) as u64;
            }
            Instr::I64DivU { dst, a, b } => {
                let (x, y) = (s!(a), s!(b));
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                s!(dst) = x / y;
            }
            Instr::I64RemS { dst, a, b } => {
                let (x, y) = (s!(a) as i64, s!(b) as i64);
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                s!(dst) = x.wrapping_rem(y) as u64;
            }
            Instr::I64RemU { dst, a, b } => {
                let (x, y) = (s!(a), s!(b));
                if y == 0 {
                    return Err(trap(TrapCode::IntegerDivisionByZero));
                }
                s!(dst) = x % y;
            }
            Instr::I64And { dst, a, b } => bin64!(dst, a, b, |x, y| x & y),
            Instr::I64Or { dst, a, b } => bin64!(dst, a, b, |x, y| x | y),
            Instr::I64Xor { dst, a, b } => bin64!(dst, a, b, |x, y| x ^ y),
            Instr::I64Shl { dst, a, b } => bin64!(dst, a, b, |x, y| x.wrapping_shl(y as u32)),
            Instr::I64ShrS { dst, a, b } => {
                bin64!(dst, a, b, |x, y| (x as i64).wrapping_shr(y as u32) as u64)
            }
            Instr::I64ShrU { dst, a, b } => bin64!(dst, a, b, |x, y| x.wrapping_shr(y as u32)),
            Instr::I64Rotl { dst, a, b } => {
                bin64!(dst, a, b, |x, y| x.rotate_left((y % 64) as u32))
            }
            Instr::I64Rotr { dst, a, b } => {
                bin64!(dst, a, b, |x, y| x.rotate_right((y % 64) as u32))
            }

            Instr::F32Eq { dst, a, b } => cmpf32!(dst, a, b, |x, y| x == y),
            Instr::F32Ne { dst, a, b } => cmpf32!(dst, a, b, |x, y| x != y),
            Instr::F32Lt { dst, a, b } => cmpf32!(dst, a, b, |x, y| x < y),
            Instr::F32Gt { dst, a, b } => cmpf32!(dst, a, b, |x, y| x > y),
            Instr::F32Le { dst, a, b } => cmpf32!(dst, a, b, |x, y| x <= y),
            Instr::F32Ge { dst, a, b } => cmpf32!(dst, a, b, |x, y| x >= y),
            Instr::F32Abs { dst, src } => un!(dst, src, |x| x & u64::from(!num::F32_SIGN)),
            Instr::F32Neg { dst, src } => un!(dst, src, |x| x ^ u64::from(num::F32_SIGN)),
            Instr::F32Ceil { dst, src } => {
                un!(dst, src, |x| u64::from(num::f32_round(f32::from_bits(x as u32), f32::ceil).to_bits()))
            }
            Instr::F32Floor { dst, src } => {
                un!(dst, src, |x| u64::from(num::f32_round(f32::from_bits(x as u32), f32::floor).to_bits()))
            }
            Instr::F32Trunc { dst, src } => {
                un!(dst, src, |x| u64::from(num::f32_round(f32::from_bits(x as u32), f32::trunc).to_bits()))
            }
            Instr::F32Nearest { dst, src } => {
                un!(dst, src, |x| u64::from(num::f32_round(f32::from_bits(x as u32), f32::round_ties_even).to_bits()))
            }
            Instr::F32Sqrt { dst, src } => un!(dst, src, |x| u64::from(f32::from_bits(x as u32).sqrt().to_bits())),
            Instr::F32Add { dst, a, b } => binf32!(dst, a, b, |x, y| x + y),
            Instr::F32Sub { dst, a, b } => binf32!(dst, a, b, |x, y| x - y),
            Instr::F32Mul { dst, a, b } => binf32!(dst, a, b, |x, y| x * y),
            Instr::F32Div { dst, a, b } => binf32!(dst, a, b, |x, y| x / y),
            Instr::F32Min { dst, a, b } => binf32!(dst, a, b, |x, y| num::f32_min(x, y)),
            Instr::F32Max { dst, a, b } => binf32!(dst, a, b, |x, y| num::f32_max(x, y)),
            Instr::F32Copysign { dst, a, b } => {
                let sign = u64::from(num::F32_SIGN);
                s!(dst) = (s!(a) & !sign & 0xFFFF_FFFF) | (s!(b) & sign);
            }

            Instr::F64Eq { dst, a, b } => cmpf64!(dst, a, b, |x, y| x == y),
            Instr::F64Ne { dst, a, b } => cmpf64!(dst, a, b, |x, y| x != y),
            Instr::F64Lt { dst, a, b } => cmpf64!(dst, a, b, |x, y| x < y),
            Instr::F64Gt { dst, a, b } => cmpf64!(dst, a, b, |x, y| x > y),
            Instr::F64Le { dst, a, b } => cmpf64!(dst, a, b, |x, y| x <= y),
            Instr::F64Ge { dst, a, b } => cmpf64!(dst, a, b, |x, y| x >= y),
            Instr::F64Abs { dst, src } => un!(dst, src, |x| x & !num::F64_SIGN),
            Instr::F64Neg { dst, src } => un!(dst, src, |x| x ^ num::F64_SIGN),
            Instr::F64Ceil { dst, src } => {
                un!(dst, src, |x| num::f64_round(f64::from_bits(x), f64::ceil).to_bits())
            }
            Instr::F64Floor { dst, src } => {
                un!(dst, src, |x| num::f64_round(f64::from_bits(x), f64::floor).to_bits())
            }
            Instr::F64Trunc { dst, src } => {
                un!(dst, src, |x| num::f64_round(f64::from_bits(x), f64::trunc).to_bits())
            }
            Instr::F64Nearest { dst, src } => {
                un!(dst, src, |x| num::f64_round(f64::from_bits(x), f64::round_ties_even).to_bits())
            }
            Instr::F64Sqrt { dst, src } => un!(dst, src, |x| f64::from_bits(x).sqrt().to_bits()),
            Instr::F64Add { dst, a, b } => binf64!(dst, a, b, |x, y| x + y),
            Instr::F64Sub { dst, a, b } => binf64!(dst, a, b, |x, y| x - y),
            Instr::F64Mul { dst, a, b } => binf64!(dst, a, b, |x, y| x * y),
            Instr::F64Div { dst, a, b } => binf64!(dst, a, b, |x, y| x / y),
            Instr::F64Min { dst, a, b } => binf64!(dst, a, b, |x, y| num::f64_min(x, y)),
            Instr::F64Max { dst, a, b } => binf64!(dst, a, b, |x, y| num::f64_max(x, y)),
            Instr::F64Copysign { dst, a, b } => s!(dst) = (s!(a) & !num::F64_SIGN) | (s!(b) & num::F64_SIGN),

            Instr::I32WrapI64 { dst, src } => un!(dst, src, |x| u64::from(x as u32)),
            Instr::I32TruncF32S { dst, src } => {
                let x = f32::from_bits(s!(src) as u32);
                s!(dst) = u64::from(num::i32_trunc_s(f64::from(x)).map_err(trap)? as u32);
            }
            Instr::I32TruncF32U { dst, src } => {
                let x = f32::from_bits(s!(src) as u32);
                s!(dst) = u64::from(num::i32_trunc_u(f64::from(x)).map_err(trap)?);
            }
            Instr::I32TruncF64S { dst, src } => {
                let x = f64::from_bits(s!(src));
                s!(dst) = u64::from(num::i32_trunc_s(x).map_err(trap)? as u32);
            }
            Instr::I32TruncF64U { dst, src } => {
                let x = f64::from_bits(s!(src));
                s!(dst) = u64::from(num::i32_trunc_u(x).map_err(trap)?);
            }
            Instr::I64ExtendI32S { dst, src } => un!(dst, src, |x| x as u32 as i32 as i64 as u64),
            Instr::I64ExtendI32U { dst, src } => un!(dst, src, |x| u64::from(x as u32)),
            Instr::I64TruncF32S { dst, src } => {
                let x = f32::from_bits(s!(src) as u32);
                s!(dst) = num::i64_trunc_s(f64::from(x)).map_err(trap)? as u64;
            }
            Instr::I64TruncF32U { dst, src } => {
                let x = f32::from_bits(s!(src) as u32);
                s!(dst) = num::i64_trunc_u(f64::from(x)).map_err(trap)?;
            }
            Instr::I64TruncF64S { dst, src } => {
                let x = f64::from_bits(s!(src));
                s!(dst) = num::i64_trunc_s(x).map_err(trap)? as u64;
            }
            Instr::I64TruncF64U { dst, src } => {
                let x = f64::from_bits(s!(src));
                s!(dst) = num::i64_trunc_u(x).map_err(trap)?;
            }
            Instr::F32ConvertI32S { dst, src } => {
                un!(dst, src, |x| u64::from((x as u32 as i32 as f32).to_bits()))
            }
            Instr::F32ConvertI32U { dst, src } => {
                un!(dst, src, |x| u64::from((x as u32 as f32).to_bits()))
            }
            Instr::F32ConvertI64S { dst, src } => {
                un!(dst, src, |x| u64::from((x as i64 as f32).to_bits()))
            }
            Instr::F32ConvertI64U { dst, src } => {
                un!(dst, src, |x| u64::from((x as f32).to_bits()))
            }
            Instr::F32DemoteF64 { dst, src } => un!(dst, src, |x| u64::from((f64::from_bits(x) as f32).to_bits())),
            Instr::F64ConvertI32S { dst, src } => {
                un!(dst, src, |x| f64::from(x as u32 as i32).to_bits())
            }
            Instr::F64ConvertI32U { dst, src } => un!(dst, src, |x| f64::from(x as u32).to_bits()),
            Instr::F64ConvertI64S { dst, src } => un!(dst, src, |x| (x as i64 as f64).to_bits()),
            Instr::F64ConvertI64U { dst, src } => un!(dst, src, |x| (x as f64).to_bits()),
            Instr::F64PromoteF32 { dst, src } => {
                un!(dst, src, |x| f64::from(f32::from_bits(x as u32)).to_bits())
            }
            Instr::I32Extend8S { dst, src } => {
                un!(dst, src, |x| u64::from(x as u8 as i8 as i32 as u32))
            }
            Instr::I32Extend16S { dst, src } => {
                un!(dst, src, |x| u64::from(x as u16 as i16 as i32 as u32))
            }
            Instr::I64Extend8S { dst, src } => un!(dst, src, |x| x as u8 as i8 as i64 as u64),
            Instr::I64Extend16S { dst, src } => un!(dst, src, |x| x as u16 as i16 as i64 as u64),
            Instr::I64Extend32S { dst, src } => un!(dst, src, |x| x as u32 as i32 as i64 as u64),
            Instr::I32TruncSatF32S { dst, src } => un!(dst, src, |x| u64::from(f32::from_bits(x as u32) as i32 as u32)),
            Instr::I32TruncSatF32U { dst, src } => {
                un!(dst, src, |x| u64::from(f32::from_bits(x as u32) as u32))
            }
            Instr::I32TruncSatF64S { dst, src } => {
                un!(dst, src, |x| u64::from(f64::from_bits(x) as i32 as u32))
            }
            Instr::I32TruncSatF64U { dst, src } => {
                un!(dst, src, |x| u64::from(f64::from_bits(x) as u32))
            }
            Instr::I64TruncSatF32S { dst, src } => {
                un!(dst, src, |x| f32::from_bits(x as u32) as i64 as u64)
            }
            Instr::I64TruncSatF32U { dst, src } => {
                un!(dst, src, |x| f32::from_bits(x as u32) as u64)
            }
            Instr::I64TruncSatF64S { dst, src } => {
                un!(dst, src, |x| f64::from_bits(x) as i64 as u64)
            }
            Instr::I64TruncSatF64U { dst, src } => un!(dst, src, |x| f64::from_bits(x) as u64),

            Instr::V128Const { .. }
            | Instr::GlobalGetV128 { .. }
            | Instr::GlobalSetV128 { .. }
            | Instr::V128Load { .. }
            | Instr::V128LoadExt { .. }
            | Instr::V128Store { .. }
            | Instr::V128LoadLane { .. }
            | Instr::V128StoreLane { .. }
            | Instr::V128Unary { .. }
            | Instr::V128Binary { .. }
            | Instr::V128Shift { .. }
            | Instr::V128Test { .. }
            | Instr::V128Splat { .. }
            | Instr::V128ExtractLane { .. }
            | Instr::V128ReplaceLane { .. }
            | Instr::I8x16Shuffle { .. }
            | Instr::V128Bitselect { .. }
            | Instr::MemLoad { .. }
            | Instr::MemStore { .. }
            | Instr::MemLoadLane { .. }
            | Instr::MemStoreLane { .. }
            | Instr::MemSize { .. }
            | Instr::MemGrow { .. }
            | Instr::MemFill { .. }
            | Instr::MemCopy { .. }
            | Instr::MemInit { .. }
            | Instr::TableIndex64 { .. }
            | Instr::TableGrowResult64 { .. }
            | Instr::AtomicLoad { .. }
            | Instr::AtomicStore { .. }
            | Instr::AtomicRmw { .. }
            | Instr::AtomicCmpxchg { .. }
            | Instr::AtomicWait { .. }
            | Instr::AtomicNotify { .. }
            | Instr::AtomicFence => {
                // Out of line, so that the scalar arms' code is unaffected: SIMD, and the
                // generic memory instructions (memory N, 64-bit memories), which
                // `exec_simd` hands on to `exec_mem` (as the 64-bit table index conversions).
                // One call site keeps the loop as it was.
                ip = exec_simd(code, ip, &mut slots[base..], &mut store.inner, *instance, mem0)?;
            }
        }
    }
}

/// Runs one SIMD instruction in the frame `frame`, or hands a generic memory instruction on
/// to [`exec_mem`](super::mem::exec_mem); returns the next instruction index (past the
/// instruction's `Extra`s, if it has any).
#[inline(never)]
fn exec_simd(
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
    match instr {
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
        _ => return super::mem::exec_mem(code, ip, frame, inner, instance),
    }
    Ok(ip)
}
