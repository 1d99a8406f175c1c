//! Handlers of control flow: branches, calls and returns, and the slow path.

use super::*;
use std::sync::atomic::Ordering;

// ---- control ----

family! {
    br_if_nez / BR_IF_NEZ [A] -> - (S, T, T, I) 0 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let cond = arg!(M & 1, sp, acc, facc, op.a, u32) != 0;
        branch!(cond, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
    }

    br_if_eqz / BR_IF_EQZ [A] -> - (S, T, T, I) 0 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let cond = arg!(M & 1, sp, acc, facc, op.a, u32) == 0;
        branch!(cond, step!(ip, op.b as i32), step!(ip, op.c as i32), sp, mem, len, cx, acc, facc)
    }

    /// `ref.as_non_null`: traps if the reference in slot `a` is null, else does nothing.
    ref_as_non_null / REF_AS_NON_NULL [A] -> - (S, I, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        if arg!(M & 1, sp, acc, facc, op.a, u64) == 0 {
            return trap_at(cx, ip, TrapCode::NullReference);
        }
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    /// `ref.test`: slot `a` is whether the reference in slot `b` passes test `c`.
    ref_test / REF_TEST [B] -> A (S, S, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let r = arg!(M & 1, sp, acc, facc, op.b, u64);
        set!(sp, acc, facc, op.a, u32::from(crate::exec::ir::ref_test::passes(r, op.c)));
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    /// `ref.cast`: traps unless the reference in slot `a` passes test `b`; it stays where it is.
    ref_cast / REF_CAST [A] -> - (S, I, I, I) 1 {false, false} <M>(ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        if !crate::exec::ir::ref_test::passes(arg!(M & 1, sp, acc, facc, op.a, u64), op.b) {
            return trap_at(cx, ip, TrapCode::CastFailure);
        }
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }
}

handlers! {
    unreachable / UNREACHABLE (I, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        trap_at(cx, ip, TrapCode::UnreachableCodeReached)
    }

    /// Ends every op array; never reached by valid code.
    sentinel / SENTINEL (E, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        cx.regs.error = Some(Error::msg("internal error: execution ran past the end of a function"));
        Exit::Error
    }

    /// The first op of a function's stub (lazy translation): translates defined function
    /// `a` of the running instance's module, then runs it in this frame (see `exec::code`).
    lazy / LAZY (I, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        // SAFETY: forwarded registers; the running function is the stub of function `a`.
        unsafe { lazy_enter(ip, sp, mem, len, cx) }
    }

    /// The immediates of the previous op; never executed.
    extra / EXTRA (I, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        cx.regs.error = Some(Error::msg("internal error: executed an immediate"));
        Exit::Error
    }

    consume_fuel / CONSUME_FUEL (I, I, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let amount = u64::from(op!(ip).a);
        let fuel = &mut cx.inner.fuel;
        if *fuel < amount {
            *fuel = 0;
            return trap_at(cx, ip, TrapCode::OutOfFuel);
        }
        *fuel -= amount;
        next!(step!(ip, 1), sp, mem, len, cx, acc, facc)
    }

    br / BR (T, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let rel = op!(ip).a as i32;
        next!(step!(ip, rel), sp, mem, len, cx, acc, facc)
    }

    br_table / BR_TABLE (S, N, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let i = get!(sp, op.a, u32).min(op.b);
        // Straight to the target of the chosen arm (its field `a` a target inside the function, checked by `lower::verify`).
        let arm = step!(ip, 1 + i as usize);
        let rel = op!(arm).a as i32;
        next!(step!(arm, rel), sp, mem, len, cx, acc, facc)
    }

    ret / RET (I, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        // SAFETY: forwarded registers.
        unsafe { leave(mem, len, cx) }
    }

    /// `slot 0 = src` and return (a single result moved into place).
    copy_ret / COPY_RET (S, S, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        set!(sp, acc, facc, op.a, get!(sp, op.b, u64));
        // SAFETY: forwarded registers.
        unsafe { leave(mem, len, cx) }
    }

    /// A call of a function of the same module: `a` is its index among the module's
    /// defined functions, `b` the slot where its frame starts.
    call_internal / CALL_INTERNAL (I, F, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        if op.a as usize >= cx.regs.module_len {
            return internal(cx, "call of an unknown function");
        }
        // SAFETY: `module_code` points at the `module_len` slots of the running module's
        // code table, which the running instance keeps alive; checked above. A slot
        // points at a function (or its stub) that lives as long as the table.
        let code: *const CompiledFunc = unsafe { (*cx.regs.module_code.add(op.a as usize)).load(Ordering::Acquire) };
        // SAFETY: forwarded registers; the callee belongs to the running instance.
        unsafe { enter_wasm::<true>(ip, mem, len, cx, code, cx.regs.instance, op.b) }
    }

    /// A call of any function (an import): `a` is its index in the instance.
    call / CALL (I, F, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let inst = &cx.inner.instances[cx.regs.instance as usize];
        let Some(&callee) = inst.funcs.get(op.a as usize) else {
            return internal(cx, "call of an unknown function");
        };
        // SAFETY: forwarded registers.
        unsafe { enter(ip, mem, len, cx, callee as usize, op.b) }
    }

    call_indirect / CALL_INDIRECT (S, F, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        // SAFETY: forwarded registers; field `a` is a slot.
        let callee = match unsafe { indirect_callee(ip, sp, cx, op.a, op.c) } {
            Ok(callee) => callee,
            Err(exit) => return exit,
        };
        // SAFETY: forwarded registers.
        unsafe { enter(ip, mem, len, cx, callee, op.b) }
    }

    /// A tail call of a function of the same module: `a` is its index among the module's
    /// defined functions, its arguments the `c` slots from slot `b`.
    return_call_internal / RETURN_CALL_INTERNAL (I, F, P, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        if op.a as usize >= cx.regs.module_len {
            return internal(cx, "call of an unknown function");
        }
        // SAFETY: as for `call_internal`.
        let code: *const CompiledFunc = unsafe { (*cx.regs.module_code.add(op.a as usize)).load(Ordering::Acquire) };
        // SAFETY: forwarded registers; the callee belongs to the running instance.
        unsafe { tail_wasm::<true>(ip, mem, len, cx, code, cx.regs.instance, op.b, op.c) }
    }

    /// A tail call of any function (an import): `a` is its index in the instance, its
    /// arguments the `c` slots from slot `b`.
    return_call / RETURN_CALL (I, F, P, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let inst = &cx.inner.instances[cx.regs.instance as usize];
        let Some(&callee) = inst.funcs.get(op.a as usize) else {
            return internal(cx, "call of an unknown function");
        };
        // SAFETY: forwarded registers.
        unsafe { tail(ip, mem, len, cx, callee as usize, op.b, op.c) }
    }

    /// A tail call through a table: as `call_indirect`, with the arguments the `d` slots
    /// from slot `b`.
    return_call_indirect / RETURN_CALL_INDIRECT (S, F, I, P) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        // SAFETY: forwarded registers; field `a` is a slot.
        let callee = match unsafe { indirect_callee(ip, sp, cx, op.a, op.c) } {
            Ok(callee) => callee,
            Err(exit) => return exit,
        };
        // SAFETY: forwarded registers.
        unsafe { tail(ip, mem, len, cx, callee, op.b, op.d) }
    }

    /// `throw`: a new exception of the running module's tag `a`, its payload the `c` slots
    /// from slot `b`.
    throw / THROW (I, F, P, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let inst = &cx.inner.instances[cx.regs.instance as usize];
        let Some(&tag) = inst.tags.get(op.a as usize) else {
            return internal(cx, "throw of an unknown tag");
        };
        let start = cx.regs.base + op.b as usize;
        // The payload is inside the running frame (`b + c <= frame_slots`, verified).
        let Some(payload) = cx.slots.get(start..start + op.c as usize) else {
            return internal(cx, "throw payload out of the stack");
        };
        let max = cx.inner.limits.exceptions;
        match cx.inner.exns.alloc(tag, payload, max) {
            Ok(id) => {
                cx.regs.thrown = id;
                cx.regs.at = ip;
                Exit::Throw
            }
            Err(e) => {
                cx.regs.error = Some(e);
                cx.regs.at = ip;
                Exit::Error
            }
        }
    }

    /// `throw_ref`: throws the exception that the reference in slot `a` names again.
    throw_ref / THROW_REF (S, I, I, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        let r = get!(sp, op.a, u64);
        if r == 0 {
            return trap_at(cx, ip, TrapCode::NullReference);
        }
        // An exception reference is its object's index + 1.
        let Some(id) = u32::try_from(r - 1).ok().filter(|&id| cx.inner.exns.get(id).is_some()) else {
            return internal(cx, "throw_ref of an unknown exception");
        };
        cx.regs.thrown = id;
        cx.regs.at = ip;
        Exit::Throw
    }

    /// A call through a function reference: `a` is the slot of the reference (a null one
    /// traps), `b` the slot where the callee's frame starts. Validation makes the callee's
    /// type a subtype of the one `call_ref` names, so there is no signature check.
    call_ref / CALL_REF (S, F, I, I) 1 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        // SAFETY: forwarded registers; field `a` is a slot.
        let callee = match unsafe { ref_callee(ip, sp, cx, op.a) } {
            Ok(callee) => callee,
            Err(exit) => return exit,
        };
        // SAFETY: forwarded registers.
        unsafe { enter(ip, mem, len, cx, callee, op.b) }
    }

    /// A tail call through a function reference: as `call_ref`, with the arguments the `c`
    /// slots from slot `b`.
    return_call_ref / RETURN_CALL_REF (S, F, P, I) 0 (ip, sp, mem, len, cx, acc, facc) {
        let op = op!(ip);
        // SAFETY: forwarded registers; field `a` is a slot.
        let callee = match unsafe { ref_callee(ip, sp, cx, op.a) } {
            Ok(callee) => callee,
            Err(exit) => return exit,
        };
        // SAFETY: forwarded registers.
        unsafe { tail(ip, mem, len, cx, callee, op.b, op.c) }
    }
}

/// The store function that the function reference in slot `r` names, or how the call
/// ends (a trap if it is null, recorded at `ip`).
///
/// # Safety
///
/// `sp` is the running frame and `r` one of its slots (checked by `lower::verify`).
#[inline(always)]
unsafe fn ref_callee(ip: Ip, sp: Sp, cx: &mut Cx<'_>, r: u32) -> Result<usize, Exit> {
    match get!(sp, r, u64) {
        0 => Err(trap_at(cx, ip, TrapCode::NullFunctionReference)),
        // A function reference is its store function index + 1.
        r if r <= cx.inner.funcs.len() as u64 => Ok((r - 1) as usize),
        _ => Err(internal(cx, "call of an unknown function reference")),
    }
}

/// The store function that `call_indirect` site `site` of the running function calls
/// with the table index in slot `index`, or how the call ends (a trap, recorded at `ip`).
///
/// # Safety
///
/// `sp` is the running frame and `index` one of its slots (checked by `lower::verify`).
#[inline(always)]
unsafe fn indirect_callee(ip: Ip, sp: Sp, cx: &mut Cx<'_>, index: u32, site: u32) -> Result<usize, Exit> {
    // SAFETY: `regs.code` is the running function (module invariants).
    let code = unsafe { &*cx.regs.code };
    let Some(&(type_index, table)) = code.indirect_sites.get(site as usize) else {
        return Err(internal(cx, "unknown call_indirect site"));
    };
    let inst = &cx.inner.instances[cx.regs.instance as usize];
    let expected = inst.module.type_ids[type_index as usize];
    let t = inst.tables[table as usize] as usize;
    let r = match cx.inner.tables[t].get(get!(sp, index, u32)) {
        Ok(0) => return Err(trap_at(cx, ip, TrapCode::IndirectCallToNull)),
        Ok(r) => r,
        Err(code) => return Err(trap_at(cx, ip, code)),
    };
    let callee = (r - 1) as usize;
    // The same canonical type is the common case; a declared subtype is the other match.
    let actual = cx.inner.funcs[callee].type_id();
    if actual != expected && !cx.inner.engine.func_subtype(actual, expected) {
        return Err(trap_at(cx, ip, TrapCode::BadSignature));
    }
    Ok(callee)
}

/// Translates the function whose stub is running (the op at `ip` is its `LAZY` op) and
/// runs it in the stub's frame, which holds its arguments: the frame becomes the
/// translation's (its locals zeroed), after making room for it if it needs more slots.
///
/// # Safety
///
/// The registers are the `LAZY` handler's (module invariants).
#[cold]
#[inline(never)]
unsafe fn lazy_enter(ip: Ip, sp: Sp, mem: Mem, len: usize, cx: &mut Cx<'_>) -> Exit {
    let index = op!(ip).a;
    let inst = &cx.inner.instances[cx.regs.instance as usize];
    if index as usize >= inst.code.len() {
        return internal(cx, "stub of an unknown function");
    }
    let (code, module) = (inst.code.clone(), inst.module.clone());
    let c: *const CompiledFunc = match code.translate(index, &module) {
        Ok(c) => c,
        Err(e) => {
            cx.regs.error = Some(e);
            cx.regs.at = ip;
            return Exit::Error;
        }
    };
    // SAFETY: the translation lives as long as the module's code table, which the
    // running instance keeps alive.
    let c = unsafe { &*c };
    let need = cx.regs.base + c.frame_slots as usize;
    if need > cx.slots.len() {
        // The driver makes room and runs this op again, which finds the translation.
        cx.regs.ip = ip;
        cx.regs.need = need;
        return Exit::Grow;
    }
    // The translation has the stub's parameters, which are in place.
    cx.regs.code = c;
    // SAFETY: the frame's `c.frame_slots` slots are inside the stack, checked above (and
    // the stack did not move since `sp` was computed: nothing here grows it).
    unsafe { zero_locals(sp, c) };
    next!(c.ops.as_ptr(), sp, mem, len, cx, 0, 0.0)
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

/// Calls store function `callee` with its frame at slot `b` of the running frame.
///
/// # Safety
///
/// The registers are the calling handler's (module invariants).
#[inline(always)]
unsafe fn enter(ip: Ip, mem: Mem, len: usize, cx: &mut Cx<'_>, callee: usize, b: u32) -> Exit {
    let (code, inst) = match &cx.inner.funcs[callee] {
        FuncEntity::Wasm { code, index, instance, .. } => (code.get(*index), *instance),
        FuncEntity::Host { .. } => {
            // SAFETY: the driver created `host_call` and `host` together.
            if let Err(e) = unsafe { (cx.host_call)(cx, callee, cx.regs.base + b as usize) } {
                cx.regs.error = Some(e);
                cx.regs.at = ip;
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
            return trap_at(cx, ip, TrapCode::StackOverflow);
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
    // SAFETY: the new frame has `c.frame_slots` slots at `new_sp`; forwarded registers.
    unsafe { start::<SAME_INSTANCE>(mem, len, cx, c, inst, new_sp) }
}

/// Tail-calls store function `callee`, its arguments the `args` slots from slot `b` of the
/// running frame: a wasm function's frame replaces the running one; a host function runs
/// with its frame at `b`, and its results are moved to the running frame's base and
/// returned.
///
/// # Safety
///
/// The registers are the calling handler's (module invariants); `b + args` is at most the
/// running function's `frame_slots`.
#[inline(always)]
unsafe fn tail(ip: Ip, mem: Mem, len: usize, cx: &mut Cx<'_>, callee: usize, b: u32, args: u32) -> Exit {
    let (code, inst) = match &cx.inner.funcs[callee] {
        FuncEntity::Wasm { code, index, instance, .. } => (code.get(*index), *instance),
        &FuncEntity::Host { num_results, .. } => {
            let start = cx.regs.base + b as usize;
            // SAFETY: the driver created `host_call` and `host` together.
            if let Err(e) = unsafe { (cx.host_call)(cx, callee, start) } {
                cx.regs.error = Some(e);
                cx.regs.at = ip;
                return Exit::Error;
            }
            // The host call made room for its results at `start`.
            cx.slots.copy_within(start..start + num_results as usize, cx.regs.base);
            // The host function may have grown the memory or the stack.
            let (mem, len) = mem_view(cx.inner, cx.regs.mem0);
            // SAFETY: forwarded registers.
            return unsafe { leave(mem, len, cx) };
        }
    };
    // SAFETY: forwarded registers; `code` is owned by the store.
    unsafe { tail_wasm::<false>(ip, mem, len, cx, code, inst, b, args) }
}

/// Replaces the running frame with one of wasm function `code` of instance `inst`, its
/// arguments the `args` slots from slot `b` of the running frame; no frame record is
/// pushed, so a chain of tail calls runs in constant space. Without room for the new
/// frame, exits to the driver, which makes room and runs the tail call again.
///
/// # Safety
///
/// As [`enter_wasm`]; `b + args` is at most the running function's `frame_slots`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tail_wasm<const SAME_INSTANCE: bool>(
    ip: Ip,
    mem: Mem,
    len: usize,
    cx: &mut Cx<'_>,
    code: *const CompiledFunc,
    inst: u32,
    b: u32,
    args: u32,
) -> Exit {
    // SAFETY: see above.
    let c = unsafe { &*code };
    let base = cx.regs.base;
    let need = base + c.frame_slots as usize;
    if need > cx.slots.len() {
        cx.regs.ip = ip;
        cx.regs.need = need;
        return Exit::Grow;
    }
    let slots = cx.slots.as_mut_ptr();
    // SAFETY: the arguments are inside the running frame (`b + args <= frame_slots`), which
    // is inside the stack; `copy` allows the ranges to overlap.
    unsafe { std::ptr::copy(slots.add(base + b as usize), slots.add(base), args as usize) };
    cx.regs.code = code;
    // SAFETY: `need <= slots.len()`, so the new frame is inside the stack.
    let new_sp = unsafe { slots.add(base) };
    // SAFETY: the new frame has `c.frame_slots` slots at `new_sp`; forwarded registers.
    unsafe { start::<SAME_INSTANCE>(mem, len, cx, c, inst, new_sp) }
}

/// Starts running `c` (of instance `inst`) in its frame at `sp`, already holding its
/// arguments: zeroes its declared locals and switches to its instance if that differs.
///
/// # Safety
///
/// The registers are the calling handler's, with `regs.code` and `regs.base` already the
/// new frame's; `sp` points at `c.frame_slots` slots of the stack.
#[inline(always)]
unsafe fn start<const SAME_INSTANCE: bool>(
    mem: Mem,
    len: usize,
    cx: &mut Cx<'_>,
    c: &CompiledFunc,
    inst: u32,
    sp: Sp,
) -> Exit {
    // SAFETY: see above.
    unsafe { zero_locals(sp, c) };
    let (mut mem, mut len) = (mem, len);
    if !SAME_INSTANCE && inst != cx.regs.instance {
        set_instance(cx, inst);
        (mem, len) = mem_view(cx.inner, cx.regs.mem0);
    }
    next!(c.ops.as_ptr(), sp, mem, len, cx, 0, 0.0)
}

/// Zeroes the declared locals of a frame of `c` at `sp` (`num_params..num_locals`).
///
/// # Safety
///
/// `sp` points at `c.frame_slots` slots of the stack.
#[inline(always)]
unsafe fn zero_locals(sp: Sp, c: &CompiledFunc) {
    // One slot at a time: few functions have many locals, and a simple loop keeps few
    // values live.
    // SAFETY: `num_params <= num_locals <= frame_slots`, so both are inside the frame.
    let (mut p, end) = unsafe { (sp.add(c.num_params as usize), sp.add(c.num_locals as usize)) };
    while p < end {
        // SAFETY: `p` is below `num_locals <= frame_slots`. (Volatile, so that the loop is
        // neither turned into a call of `memset` nor unrolled, either of which would make
        // the handler save registers.)
        unsafe { p.write_volatile(0) };
        // SAFETY: `p < end`, so one past it is at most `end`.
        p = unsafe { p.add(1) };
    }
}

/// Runs the instruction of the op at `ip` out of line; returns the op to continue with, or
/// null after storing the error in `cx`.
///
/// # Safety
///
/// The registers are the calling handler's (module invariants).
#[inline(never)]
pub(super) unsafe fn run_slow(ip: Ip, sp: Sp, cx: &mut Cx<'_>) -> Ip {
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
            cx.regs.at = ip;
            std::ptr::null()
        }
    }
}
