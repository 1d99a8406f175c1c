//! Translation of one validated function body into the slot IR ([`super::ir`]).
//!
//! The translator keeps a *virtual operand stack*: each entry has a canonical slot right
//! after the entries below it (a `v128` takes two slots, the first after the locals is
//! `num_locals`) and lives there unless it is a pending `local.get`, which is
//! read straight from the local's slot until something could change that local. At
//! every control-flow join (block entry, `else`, `end`, branches) the values that flow
//! across are in their canonical slots, so all paths agree. Operators are validated by
//! `wasmparser` right before they are translated, so the translator only sees valid code.

use wasmparser::{BlockType, FuncValidator, FunctionBody, Operator, ValidatorResources};

use super::ir::{CompiledFunc, Instr, LoadKind, Slot};
use crate::error::{Error, ErrorKind, Result};
use crate::module::ModuleInner;
use crate::types::ValType;

/// Where a value on the virtual operand stack lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// In its canonical slot.
    Temp,
    /// Still in the slot of a local (a `local.get` not yet copied); holds the local's slot.
    Local(Slot),
}

/// One entry of the virtual operand stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    op: Operand,
    /// The entry's canonical slot: the slot after the entries below it.
    slot: Slot,
    /// A `v128`, occupying `slot` and `slot + 1`.
    wide: bool,
}

impl Entry {
    fn width(&self) -> u32 {
        if self.wide { 2 } else { 1 }
    }
}

/// What a conditional branch tests its operand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    /// An `i32` that is not zero (`br_if`).
    NonZero,
    /// A null reference (`br_on_null`).
    Null,
    /// A reference that is not null (`br_on_non_null`).
    NonNull,
}

impl Test {
    /// The branch to `target` taken if the test holds for `cond`.
    fn taken(self, cond: Slot, target: u32) -> Instr {
        match self {
            Test::NonZero => Instr::BrIfNez { cond, target },
            Test::Null => Instr::BrIfNull { r: cond, target },
            Test::NonNull => Instr::BrIfNonNull { r: cond, target },
        }
    }

    /// The branch to `target` taken if it does not hold.
    fn not_taken(self, cond: Slot, target: u32) -> Instr {
        match self {
            Test::NonZero => Instr::BrIfEqz { cond, target },
            Test::Null => Instr::BrIfNonNull { r: cond, target },
            Test::NonNull => Instr::BrIfNull { r: cond, target },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtrlKind {
    Func,
    Block,
    Loop,
    If,
    Else,
    TryTable,
}

#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
    /// Stack index where this label's values go (block results / loop params).
    height: u32,
    /// Canonical slot of stack index `height`.
    height_slot: Slot,
    /// The block's type (results and parameters pushed at `else` / `end`).
    ty: BlockType,
    params: u32,
    results: u32,
    /// Loop header (branch target of a loop).
    start: u32,
    /// Forward branches to patch with the end of the block.
    patches: Vec<usize>,
    /// The `BrIfEqz` of an `if`, to patch with the start of `else` (or the end).
    else_patch: Option<usize>,
    /// A `try_table`'s catch clauses (their `start` is the body's first instruction;
    /// `end` is set at the `end`).
    catches: Vec<super::ir::Handler>,
}

struct Translator<'m> {
    module: &'m ModuleInner,
    code: Vec<Instr>,
    /// The module offset of the operator each instruction of `code` came from.
    offsets: Vec<u32>,
    /// The module offset of the operator being translated.
    offset: u32,
    stack: Vec<Entry>,
    ctrl: Vec<Ctrl>,
    /// Slots taken by parameters and declared locals (the first operand-stack slot).
    num_locals: u32,
    /// Slot and width (`v128`) of each local, by local index.
    locals: Vec<(Slot, bool)>,
    /// Constants of 16-byte immediates (`v128.const`, `i8x16.shuffle`), by index.
    consts: Vec<u128>,
    max_slots: u32,
    reachable: bool,
    /// Nesting depth of blocks inside unreachable code being skipped.
    dead_depth: u32,
    fuel: bool,
    /// The `ConsumeFuel` instruction counting the current straight-line code.
    fuel_at: Option<usize>,
    /// The last instruction, if it wrote the top stack entry's canonical slot and
    /// nothing else (so `local.set` may retarget it).
    producer: Option<usize>,
    sites: Vec<(u32, u32)>,
    /// The catch clauses of the `try_table`s ended so far.
    handlers: Vec<super::ir::Handler>,
}

/// The `Extra` carrying a generic memory instruction's 64-bit static offset.
pub(super) fn offset_extra(offset: u64) -> Instr {
    Instr::Extra { a: offset as u32, b: (offset >> 32) as u32 }
}

fn too_large() -> Error {
    ErrorKind::Limit("function too large to translate".into()).into()
}

/// The operators that validate but are not translated: casts to the heap types of
/// proposals wasmguard does not enable (shared types, exact types), which the validator only
/// lets through if those are enabled. A module using one is refused as unsupported, at
/// [`Module::new`](crate::Module::new) whether or not its functions are translated then.
pub(super) fn untranslated(op: &Operator<'_>) -> bool {
    use wasmparser::{HeapType as H, UnpackedIndex};
    let hty = match op {
        Operator::RefTestNonNull { hty }
        | Operator::RefTestNullable { hty }
        | Operator::RefCastNonNull { hty }
        | Operator::RefCastNullable { hty } => *hty,
        Operator::BrOnCast { to_ref_type, .. } | Operator::BrOnCastFail { to_ref_type, .. } => to_ref_type.heap_type(),
        _ => return false,
    };
    !matches!(hty, H::Abstract { shared: false, .. } | H::Concrete(UnpackedIndex::Module(_)))
}

/// Checks what the validator leaves to the engine about operator `op` at `offset`, of
/// `len` bytes: that it is one wasmguard translates, and the encodings the enabled
/// features restrict.
fn check_op(module: &ModuleInner, op: &Operator<'_>, offset: u64, len: u64) -> Result<()> {
    if untranslated(op) {
        return Err(untranslated_error(op));
    }
    if matches!(op, Operator::MemorySize { .. } | Operator::MemoryGrow { .. }) {
        check_memory_index(module.engine.config().multi_memory, offset, len)?;
    }
    Ok(())
}

/// The error of a module using operator `op`, one wasmguard does not translate.
pub(super) fn untranslated_error(op: &Operator<'_>) -> Error {
    ErrorKind::Unsupported(format!("operator {op:?}")).into()
}

/// Checks the memory index of the `memory.size` or `memory.grow` at `offset`, of `len`
/// bytes: without multi-memory it is a single reserved zero byte.
pub(super) fn check_memory_index(multi_memory: bool, offset: u64, len: u64) -> Result<()> {
    if !multi_memory && len != 2 {
        return Err(Error::compile(format!("zero byte expected (at offset {offset:#x})")));
    }
    Ok(())
}

/// Translates the body of function `func_index`, validating it on the way with
/// `validator` (`None`: the body was validated before, by
/// [`validate_function`](super::validate::validate_function)).
pub(crate) fn translate_function(
    module: &ModuleInner,
    func_index: u32,
    body: &FunctionBody<'_>,
    mut validator: Option<&mut FuncValidator<ValidatorResources>>,
    fuel: bool,
) -> Result<CompiledFunc> {
    use crate::module::decode_error;
    let ty = module.func_type(func_index);
    let mut local_slots: Vec<(Slot, bool)> = Vec::with_capacity(ty.params_slice().len());
    let mut num_locals: u32 = 0;
    for t in ty.params_slice() {
        let wide = *t == ValType::V128;
        local_slots.push((num_locals, wide));
        num_locals = num_locals.checked_add(if wide { 2 } else { 1 }).ok_or_else(too_large)?;
    }
    let num_params = num_locals;
    let num_results = ty.results_slice().iter().map(|t| t.slot_count() as u32).sum::<u32>();
    let mut locals = body.get_locals_reader().map_err(decode_error)?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read().map_err(decode_error)?;
        // The validator bounds the total number of locals, so the loop below is bounded.
        if let Some(v) = validator.as_deref_mut() {
            v.define_locals(offset, count, ty).map_err(decode_error)?;
        }
        let wide = ty == wasmparser::ValType::V128;
        for _ in 0..count {
            local_slots.push((num_locals, wide));
            num_locals = num_locals.checked_add(if wide { 2 } else { 1 }).ok_or_else(too_large)?;
        }
    }
    let mut t = Translator {
        module,
        code: Vec::new(),
        offsets: Vec::new(),
        offset: 0,
        stack: Vec::new(),
        ctrl: Vec::new(),
        num_locals,
        locals: local_slots,
        consts: Vec::new(),
        max_slots: num_locals.max(num_results),
        reachable: true,
        dead_depth: 0,
        fuel,
        fuel_at: None,
        producer: None,
        sites: Vec::new(),
        handlers: Vec::new(),
    };
    t.ctrl.push(Ctrl {
        kind: CtrlKind::Func,
        height: 0,
        height_slot: num_locals,
        ty: BlockType::Empty,
        params: 0,
        results: ty.results_slice().len() as u32,
        start: 0,
        patches: Vec::new(),
        else_patch: None,
        catches: Vec::new(),
    });
    t.new_fuel_segment();
    let mut ops = body.get_operators_reader().map_err(decode_error)?;
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read().map_err(decode_error)?;
        if let Some(v) = validator.as_deref_mut() {
            v.op(offset, &op).map_err(decode_error)?;
            check_op(module, &op, offset, ops.original_position() - offset)?;
        }
        t.offset = u32::try_from(offset).map_err(|_| too_large())?;
        t.visit(op)?;
    }
    ops.finish().map_err(decode_error)?;
    if t.code.len() > u32::MAX as usize / 2 {
        return Err(too_large());
    }
    let mut compiled = CompiledFunc {
        func_index,
        code: t.code.into(),
        offsets: t.offsets.into(),
        body_offset: u32::try_from(body.range().start).map_err(|_| too_large())?,
        ops: Box::new([]),
        num_params,
        num_locals,
        num_results,
        frame_slots: t.max_slots,
        indirect_sites: t.sites.into(),
        handlers: t.handlers.into(),
        consts: t.consts.into(),
    };
    compiled.ops = super::lower::lower(&compiled, module)?;
    Ok(compiled)
}

impl Translator<'_> {
    // ---- slots and the virtual stack ----

    /// The canonical slot of stack index `index` (at most the stack's length).
    fn canonical(&self, index: usize) -> Slot {
        match self.stack.get(index) {
            Some(e) => e.slot,
            None => self.stack.last().map_or(self.num_locals, |e| e.slot + e.width()),
        }
    }

    /// Slot and width of local `index` (validated, so in range).
    fn local(&self, index: u32) -> (Slot, bool) {
        self.locals.get(index as usize).copied().unwrap_or((0, false))
    }

    fn top_index(&self) -> usize {
        self.stack.len() - 1
    }

    fn slot_of(&self, index: usize) -> Slot {
        match self.stack[index].op {
            Operand::Temp => self.stack[index].slot,
            Operand::Local(l) => l,
        }
    }

    fn pop(&mut self) -> Slot {
        let i = self.top_index();
        let s = self.slot_of(i);
        self.stack.pop();
        s
    }

    fn push_temp(&mut self) -> Result<Slot> {
        self.push_entry(Operand::Temp, false)
    }

    /// Pushes a `v128` temporary; returns its first slot.
    fn push_temp_v128(&mut self) -> Result<Slot> {
        self.push_entry(Operand::Temp, true)
    }

    fn push_typed(&mut self, ty: ValType) -> Result<Slot> {
        self.push_entry(Operand::Temp, ty == ValType::V128)
    }

    /// Pushes an entry; makes sure its canonical slots exist in the frame.
    fn push_entry(&mut self, op: Operand, wide: bool) -> Result<Slot> {
        let slot = self.canonical(self.stack.len());
        let entry = Entry { op, slot, wide };
        let needed = slot.checked_add(entry.width()).ok_or_else(too_large)?;
        self.stack.push(entry);
        self.max_slots = self.max_slots.max(needed);
        Ok(slot)
    }

    /// Pushes the result (or, with `params`, parameter) types of a block type.
    fn push_block_types(&mut self, bt: BlockType, params: bool) -> Result<()> {
        let module = self.module;
        match bt {
            BlockType::Empty => {}
            BlockType::Type(t) => {
                if !params {
                    self.push_entry(Operand::Temp, t == wasmparser::ValType::V128)?;
                }
            }
            BlockType::FuncType(idx) => {
                let ty = &module.types[idx as usize];
                let types = if params { ty.params_slice() } else { ty.results_slice() };
                for &t in types {
                    self.push_typed(t)?;
                }
            }
        }
        Ok(())
    }

    /// `dst = src` for one value (two slots for a `v128`).
    fn emit_copy(&mut self, dst: Slot, src: Slot, wide: bool) {
        self.emit(Instr::Copy { dst, src });
        if wide {
            self.emit(Instr::Copy { dst: dst + 1, src: src + 1 });
        }
    }

    /// Makes sure slots up to `slot_end` exist in the frame.
    fn reserve(&mut self, slot_end: u32) {
        self.max_slots = self.max_slots.max(slot_end);
    }

    fn emit(&mut self, instr: Instr) -> usize {
        self.producer = None;
        self.code.push(instr);
        self.offsets.push(self.offset);
        self.code.len() - 1
    }

    fn emit_producer(&mut self, instr: Instr) {
        let at = self.emit(instr);
        self.producer = Some(at);
    }

    fn pc(&self) -> u32 {
        self.code.len() as u32
    }

    /// Marks the current position as a branch target.
    fn bind_label(&mut self) {
        self.producer = None;
        self.new_fuel_segment();
    }

    fn new_fuel_segment(&mut self) {
        if self.fuel {
            let at = self.emit(Instr::ConsumeFuel { amount: 0 });
            self.fuel_at = Some(at);
        }
    }

    fn charge_fuel(&mut self) {
        if let Some(at) = self.fuel_at
            && let Instr::ConsumeFuel { amount } = &mut self.code[at]
        {
            *amount = amount.saturating_add(1);
        }
    }

    fn materialize(&mut self, index: usize) {
        let e = self.stack[index];
        if let Operand::Local(l) = e.op {
            self.emit_copy(e.slot, l, e.wide);
            self.stack[index].op = Operand::Temp;
        }
    }

    fn materialize_top(&mut self, n: u32) {
        let len = self.stack.len();
        for i in len - n as usize..len {
            self.materialize(i);
        }
    }

    fn materialize_all(&mut self) {
        for i in 0..self.stack.len() {
            self.materialize(i);
        }
    }

    /// Copies pending reads of `local` before it is overwritten.
    fn materialize_local(&mut self, local: u32, below: usize) {
        for i in 0..below {
            if self.stack[i].op == Operand::Local(local) {
                self.materialize(i);
            }
        }
    }

    // ---- control ----

    fn block_arity(&self, bt: BlockType) -> (u32, u32) {
        match bt {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(idx) => {
                let ty = &self.module.types[idx as usize];
                (ty.params_slice().len() as u32, ty.results_slice().len() as u32)
            }
        }
    }

    fn label(&self, depth: u32) -> &Ctrl {
        &self.ctrl[self.ctrl.len() - 1 - depth as usize]
    }

    /// Number of values a branch to `depth` carries and the slot they go to
    /// (`None` for the function frame: the values are returned).
    fn branch_dest(&self, depth: u32) -> (u32, Option<Slot>) {
        let l = self.label(depth);
        let arity = if l.kind == CtrlKind::Loop { l.params } else { l.results };
        let dest = if l.kind == CtrlKind::Func { None } else { Some(l.height_slot) };
        (arity, dest)
    }

    /// Emits the copies moving the top `arity` values to `dest` (0 for a return).
    /// Values must be materialized. Returns whether any copy was emitted.
    fn emit_branch_copies(&mut self, arity: u32, dest: Slot) -> bool {
        let len = self.stack.len();
        let first = self.canonical(len - arity as usize);
        let mut any = false;
        for i in len - arity as usize..len {
            let e = self.stack[i];
            let dst = dest + (e.slot - first);
            if e.slot != dst {
                self.emit_copy(dst, e.slot, e.wide);
                any = true;
            }
        }
        any
    }

    fn needs_copies(&self, arity: u32, dest: Slot) -> bool {
        let first = self.canonical(self.stack.len() - arity as usize);
        arity > 0 && first != dest
    }

    /// Emits the jump part of a branch to `depth` (after copies).
    fn emit_jump(&mut self, depth: u32) {
        let idx = self.ctrl.len() - 1 - depth as usize;
        match self.ctrl[idx].kind {
            CtrlKind::Func => {
                self.emit(Instr::Return);
            }
            CtrlKind::Loop => {
                let target = self.ctrl[idx].start;
                self.emit(Instr::Br { target });
            }
            _ => {
                let at = self.emit(Instr::Br { target: u32::MAX });
                self.ctrl[idx].patches.push(at);
            }
        }
    }

    /// Unconditional branch (also `return`).
    fn branch(&mut self, depth: u32) {
        let (arity, dest) = self.branch_dest(depth);
        self.materialize_top(arity);
        self.emit_branch_copies(arity, dest.unwrap_or(0));
        self.emit_jump(depth);
    }

    fn patch(&mut self, at: usize, target: u32) {
        match &mut self.code[at] {
            Instr::Br { target: t }
            | Instr::BrIfNez { target: t, .. }
            | Instr::BrIfEqz { target: t, .. }
            | Instr::BrIfNull { target: t, .. }
            | Instr::BrIfNonNull { target: t, .. } => *t = target,
            other => unreachable!("patching a non-branch {other:?}"),
        }
    }

    fn push_ctrl(&mut self, kind: CtrlKind, ty: BlockType, params: u32, results: u32) {
        let height = (self.stack.len() - params as usize) as u32;
        let height_slot = self.canonical(height as usize);
        let start = self.pc();
        self.ctrl.push(Ctrl {
            kind,
            height,
            height_slot,
            ty,
            params,
            results,
            start,
            patches: Vec::new(),
            else_patch: None,
            catches: Vec::new(),
        });
    }

    fn visit_else(&mut self) -> Result<()> {
        let Some(frame) = self.ctrl.last() else {
            return Err(Error::compile("else outside if"));
        };
        let (height, height_slot, results, ty) = (frame.height, frame.height_slot, frame.results, frame.ty);
        if self.reachable {
            let dest = height_slot;
            self.materialize_top(results);
            self.emit_branch_copies(results, dest);
            let at = self.emit(Instr::Br { target: u32::MAX });
            if let Some(f) = self.ctrl.last_mut() {
                f.patches.push(at);
            }
        }
        let else_start = self.pc();
        if let Some(f) = self.ctrl.last_mut() {
            f.kind = CtrlKind::Else;
            if let Some(p) = f.else_patch.take() {
                self.patch(p, else_start);
            }
        }
        self.stack.truncate(height as usize);
        self.push_block_types(ty, true)?;
        self.reachable = true;
        self.bind_label();
        Ok(())
    }

    fn visit_end(&mut self) -> Result<()> {
        let Some(frame) = self.ctrl.pop() else {
            return Err(Error::compile("unbalanced end"));
        };
        if frame.kind == CtrlKind::Func {
            if self.reachable {
                self.materialize_top(frame.results);
                self.emit_branch_copies(frame.results, 0);
                self.emit(Instr::Return);
            }
            let end = self.pc();
            for at in frame.patches {
                self.patch(at, end);
            }
            return Ok(());
        }
        if frame.kind == CtrlKind::TryTable {
            // The clauses cover the body; the copies of its results below cannot throw.
            let end = self.pc();
            self.handlers.extend(frame.catches.iter().map(|c| super::ir::Handler { end, ..*c }));
        }
        if self.reachable {
            let dest = frame.height_slot;
            self.materialize_top(frame.results);
            self.emit_branch_copies(frame.results, dest);
        }
        let end = self.pc();
        if let Some(p) = frame.else_patch {
            self.patch(p, end);
        }
        if frame.kind != CtrlKind::Loop {
            for at in frame.patches {
                self.patch(at, end);
            }
        }
        self.stack.truncate(frame.height as usize);
        self.push_block_types(frame.ty, false)?;
        self.reachable = true;
        self.bind_label();
        Ok(())
    }

    /// `try_table`: a block whose catch clauses each get a landing pad, the branch to the
    /// clause's label, before the body (a jump skips them). The driver puts a caught
    /// exception's values where the label takes them and continues at the pad.
    fn visit_try_table(&mut self, try_table: &wasmparser::TryTable) -> Result<()> {
        use wasmparser::Catch;
        let (p, r) = self.block_arity(try_table.ty);
        self.materialize_all();
        let skip = self.emit(Instr::Br { target: u32::MAX });
        let mut catches = Vec::with_capacity(try_table.catches.len());
        for catch in &try_table.catches {
            let (tag, label, with_ref) = match *catch {
                Catch::One { tag, label } => (Some(tag), label, false),
                Catch::OneRef { tag, label } => (Some(tag), label, true),
                Catch::All { label } => (None, label, false),
                Catch::AllRef { label } => (None, label, true),
            };
            let payload: u32 = match tag {
                Some(t) => self.tag_params(t).iter().map(|t| t.slot_count() as u32).sum(),
                None => 0,
            };
            // The label is outside the `try_table` (not yet pushed).
            let (_, dest) = self.branch_dest(label);
            let dst = dest.unwrap_or(0);
            self.reserve(dst.checked_add(payload + u32::from(with_ref)).ok_or_else(too_large)?);
            self.bind_label();
            let pad = self.pc();
            self.emit_jump(label);
            catches.push(super::ir::Handler { start: 0, end: 0, tag, with_ref, dst, pad });
        }
        let body = self.pc();
        self.patch(skip, body);
        self.bind_label();
        for c in &mut catches {
            c.start = body;
        }
        self.push_ctrl(CtrlKind::TryTable, try_table.ty, p, r);
        if let Some(f) = self.ctrl.last_mut() {
            f.catches = catches;
        }
        Ok(())
    }

    /// The payload types of module tag `tag` (validated, so in range).
    fn tag_params(&self, tag: u32) -> &[ValType] {
        let module = self.module;
        match module.tags.get(tag as usize).and_then(|&ty| module.types.get(ty as usize)) {
            Some(ty) => ty.params_slice(),
            None => &[],
        }
    }

    /// `throw` of module tag `tag`: its payload moved to consecutive slots.
    fn visit_throw(&mut self, tag: u32) {
        let n = self.tag_params(tag).len() as u32;
        let base = self.pop_operands_in_place(n);
        self.emit(Instr::Throw { tag, base });
        self.reachable = false;
    }

    fn visit_br_if(&mut self, depth: u32) -> Result<()> {
        let cond = self.pop();
        self.branch_if(cond, depth, Test::NonZero);
        Ok(())
    }

    /// `br_on_null`: branches with the values below the reference if it is null (the
    /// reference is dropped), else leaves it on the stack.
    fn visit_br_on_null(&mut self, depth: u32) {
        let top = self.top_index();
        let entry = self.stack[top];
        let r = self.slot_of(top);
        self.stack.pop();
        self.branch_if(r, depth, Test::Null);
        // The branch's copies write only below the reference's canonical slot, and only
        // on the taken path, so it is still where the entry says.
        self.stack.push(entry);
    }

    /// `br_on_non_null`: branches with the reference as the last value if it is not null,
    /// else drops it.
    fn visit_br_on_non_null(&mut self, depth: u32) {
        let r = self.slot_of(self.top_index());
        self.branch_if(r, depth, Test::NonNull);
        self.stack.pop();
    }

    /// A branch to `depth` taken if `test` holds for slot `cond` (already popped, or left
    /// on the stack above the branch's values).
    fn branch_if(&mut self, cond: Slot, depth: u32, test: Test) {
        let (arity, dest) = self.branch_dest(depth);
        self.materialize_top(arity);
        let direct = match dest {
            Some(d) => !self.needs_copies(arity, d),
            None => false,
        };
        if direct {
            let idx = self.ctrl.len() - 1 - depth as usize;
            if self.ctrl[idx].kind == CtrlKind::Loop {
                let target = self.ctrl[idx].start;
                self.emit(test.taken(cond, target));
            } else {
                let at = self.emit(test.taken(cond, u32::MAX));
                self.ctrl[idx].patches.push(at);
            }
        } else {
            let skip = self.emit(test.not_taken(cond, u32::MAX));
            self.emit_branch_copies(arity, dest.unwrap_or(0));
            self.emit_jump(depth);
            let here = self.pc();
            self.patch(skip, here);
        }
    }

    fn visit_br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Result<()> {
        let index = self.pop();
        let mut depths = Vec::with_capacity(targets.len() as usize + 1);
        for d in targets.targets() {
            depths.push(d.map_err(crate::module::decode_error)?);
        }
        depths.push(targets.default());
        let (arity, _) = self.branch_dest(targets.default());
        self.materialize_top(arity);
        let len = u32::try_from(depths.len() - 1).map_err(|_| too_large())?;
        self.emit(Instr::BrTable { index, len });
        let table_start = self.code.len();
        let mut stubs = Vec::new();
        for (i, &depth) in depths.iter().enumerate() {
            let (_, dest) = self.branch_dest(depth);
            let direct = matches!(dest, Some(d) if !self.needs_copies(arity, d));
            if direct {
                self.emit_jump(depth);
            } else {
                self.emit(Instr::Br { target: u32::MAX });
                stubs.push((table_start + i, depth));
            }
        }
        for (entry, depth) in stubs {
            let here = self.pc();
            self.patch(entry, here);
            let (_, dest) = self.branch_dest(depth);
            self.emit_branch_copies(arity, dest.unwrap_or(0));
            self.emit_jump(depth);
        }
        Ok(())
    }

    /// A call of `func`, or with `tail` a tail call (the rest of the block is then
    /// unreachable; the arguments go where a call's would).
    fn visit_call(&mut self, func: u32, tail: bool) -> Result<()> {
        let ty = self.module.func_type(func);
        let np = ty.params_slice().len() as u32;
        self.materialize_top(np);
        let base = self.canonical(self.stack.len() - np as usize);
        self.emit(if tail { Instr::ReturnCall { func, base } } else { Instr::Call { func, base } });
        self.finish_call(base, ty.params_slice(), ty.results_slice())?;
        self.reachable &= !tail;
        Ok(())
    }

    /// A call through `table`, or with `tail` a tail call (as [`Self::visit_call`]).
    fn visit_call_indirect(&mut self, type_index: u32, table: u32, tail: bool) -> Result<()> {
        let index = self.pop_table_index(self.table_is_64(table));
        let module = self.module;
        let ty = &module.types[type_index as usize];
        let np = ty.params_slice().len() as u32;
        self.materialize_top(np);
        let base = self.canonical(self.stack.len() - np as usize);
        let site = u32::try_from(self.sites.len()).map_err(|_| too_large())?;
        self.sites.push((type_index, table));
        self.emit(if tail {
            Instr::ReturnCallIndirect { index, base, site }
        } else {
            Instr::CallIndirect { index, base, site }
        });
        self.finish_call(base, ty.params_slice(), ty.results_slice())?;
        self.reachable &= !tail;
        Ok(())
    }

    /// A call through the function reference on top of the stack (`call_ref` of module
    /// type `type_index`), or with `tail` a tail call (as [`Self::visit_call`]).
    fn visit_call_ref(&mut self, type_index: u32, tail: bool) -> Result<()> {
        // The reference is above the arguments: as a temporary its slot is past theirs, so
        // moving them into place does not overwrite it (and the call reads it before the
        // callee's frame is set up).
        let func_ref = self.pop();
        let module = self.module;
        let ty = &module.types[type_index as usize];
        let np = ty.params_slice().len() as u32;
        self.materialize_top(np);
        let base = self.canonical(self.stack.len() - np as usize);
        self.emit(if tail {
            Instr::ReturnCallRef { func_ref, base, ty: type_index }
        } else {
            Instr::CallRef { func_ref, base, ty: type_index }
        });
        self.finish_call(base, ty.params_slice(), ty.results_slice())?;
        self.reachable &= !tail;
        Ok(())
    }

    /// Pops the arguments and pushes the results of a call whose frame starts at `base`;
    /// the callee's parameter and result areas (host calls use them in place) are reserved.
    fn finish_call(&mut self, base: Slot, params: &[ValType], results: &[ValType]) -> Result<()> {
        let param_slots: u32 = params.iter().map(|t| t.slot_count() as u32).sum();
        let result_slots: u32 = results.iter().map(|t| t.slot_count() as u32).sum();
        self.reserve(base.checked_add(param_slots.max(result_slots)).ok_or_else(too_large)?);
        self.stack.truncate(self.stack.len() - params.len());
        for &t in results {
            self.push_typed(t)?;
        }
        Ok(())
    }

    fn visit_local_set(&mut self, local_index: u32, tee: bool) -> Result<()> {
        let (local, wide) = self.local(local_index);
        let top = self.top_index();
        let retarget = !wide
            && self.stack[top].op == Operand::Temp
            && self.producer.is_some_and(|p| p + 1 == self.code.len())
            && !self.stack[..top].iter().any(|e| e.op == Operand::Local(local));
        if retarget {
            let canonical = self.canonical(top);
            if let Some(p) = self.producer
                && let Some(dst) = self.code[p].result_slot_mut()
                && *dst == canonical
            {
                *dst = local;
                self.producer = None;
                self.stack.pop();
                if tee {
                    self.push_entry(Operand::Local(local), false)?;
                }
                return Ok(());
            }
        }
        let entry = self.stack[top];
        let src = self.pop();
        self.materialize_local(local, self.stack.len());
        if src != local {
            self.emit_copy(local, src, wide);
        }
        if tee {
            let op = if entry.op == Operand::Temp { Operand::Temp } else { Operand::Local(local) };
            self.push_entry(op, wide)?;
        }
        Ok(())
    }

    // ---- simple operator shapes ----

    fn unop(&mut self, make: fn(Slot, Slot) -> Instr) -> Result<()> {
        let src = self.pop();
        let dst = self.push_temp()?;
        self.emit_producer(make(dst, src));
        Ok(())
    }

    fn binop(&mut self, make: fn(Slot, Slot, Slot) -> Instr) -> Result<()> {
        let b = self.pop();
        let a = self.pop();
        let dst = self.push_temp()?;
        self.emit_producer(make(dst, a, b));
        Ok(())
    }

    /// A scalar load: the fast-path instruction `make` for memory 0 of a 32-bit memory,
    /// the generic [`Instr::MemLoad`] of `kind` otherwise.
    fn load(&mut self, memarg: &wasmparser::MemArg, kind: LoadKind, make: fn(Slot, Slot, u32) -> Instr) -> Result<()> {
        let (mem, offset) = self.memarg(memarg)?;
        let addr = self.pop();
        if let Some(offset) = self.fast_offset(mem, offset) {
            let dst = self.push_temp()?;
            self.emit_producer(make(dst, addr, offset));
        } else {
            let dst = self.push_temp()?;
            self.emit(Instr::MemLoad { kind, dst, addr, mem });
            self.emit(offset_extra(offset));
        }
        Ok(())
    }

    /// A scalar store of `len_bytes` bytes: the fast-path instruction `make` for memory 0
    /// of a 32-bit memory, the generic [`Instr::MemStore`] otherwise.
    fn store(&mut self, memarg: &wasmparser::MemArg, len_bytes: u8, make: fn(Slot, Slot, u32) -> Instr) -> Result<()> {
        let (mem, offset) = self.memarg(memarg)?;
        let val = self.pop();
        let addr = self.pop();
        if let Some(offset) = self.fast_offset(mem, offset) {
            self.emit(make(addr, val, offset));
        } else {
            self.emit(Instr::MemStore { len_bytes, addr, val, mem });
            self.emit(offset_extra(offset));
        }
        Ok(())
    }

    /// Whether memory `index` takes the fast path: memory 0, a 32-bit and unshared memory.
    /// Every other memory (memory N of multi-memory, a 64-bit or shared memory) uses the generic `Mem*`
    /// instructions, which name their memory and carry a 64-bit offset. This is the one
    /// place that decides; the fast-path instructions assume what it checks.
    pub(super) fn is_fast_memory(&self, index: u32) -> bool {
        index == 0 && self.module.memories.first().is_some_and(|m| !m.is_64() && !m.is_shared())
    }

    /// The static offset as the fast-path instructions take it (a `u32`, which validation
    /// guarantees for a 32-bit memory), if memory `mem` takes the fast path.
    pub(super) fn fast_offset(&self, mem: u32, offset: u64) -> Option<u32> {
        if self.is_fast_memory(mem) { u32::try_from(offset).ok() } else { None }
    }

    /// The memory index and static offset of a memory immediate.
    pub(super) fn memarg(&self, memarg: &wasmparser::MemArg) -> Result<(u32, u64)> {
        match memarg.target {
            wasmparser::MemArgTarget::Memory(mem) => Ok((mem, memarg.offset)),
            wasmparser::MemArgTarget::Array(_) => Err(ErrorKind::Unsupported("GC array memory access".into()).into()),
        }
    }

    /// Materializes the top `n` operands and pops them; returns their first slot.
    fn pop_operands_in_place(&mut self, n: u32) -> Slot {
        self.materialize_top(n);
        let base = self.canonical(self.stack.len() - n as usize);
        self.stack.truncate(self.stack.len() - n as usize);
        base
    }

    fn constant(&mut self, bits: u64) -> Result<()> {
        let dst = self.push_temp()?;
        let instr = match u32::try_from(bits) {
            Ok(val) => Instr::Const32 { dst, val },
            Err(_) => Instr::Const64 { dst, lo: bits as u32, hi: (bits >> 32) as u32 },
        };
        self.emit_producer(instr);
        Ok(())
    }

    fn i32_add(&mut self) -> Result<()> {
        // Peephole: `x + const` with the constant just materialized.
        if let Some(p) = self.producer
            && p + 1 == self.code.len()
            && let Instr::Const32 { dst, val } = self.code[p]
            && dst == self.canonical(self.top_index())
            && self.stack[self.top_index()].op == Operand::Temp
        {
            self.code.pop();
            self.offsets.pop();
            self.producer = None;
            self.stack.pop();
            let a = self.pop();
            let dst = self.push_temp()?;
            self.emit_producer(Instr::I32AddImm { dst, a, imm: val });
            return Ok(());
        }
        self.binop(|dst, a, b| Instr::I32Add { dst, a, b })
    }
}

mod atomic;
mod gc;
mod simd;
mod visit;
