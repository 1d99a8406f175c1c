//! The internal instruction set every function body is translated into once.
//!
//! The IR is a register-style three-address code over *slots*: the frame of a function is
//! a window of untyped 64-bit cells on the value stack, holding the parameters, then the
//! declared locals, then the operand-stack temporaries. Each operand-stack position has
//! a fixed slot known at translation time, so instructions name their inputs and output
//! directly (`I32Add { dst, a, b }`). `local.get` costs nothing (its local's slot is used
//! as an operand), and `local.set` retargets the producer's `dst` where it can.
//!
//! Branch targets are absolute instruction indices. Calls name the slot where the
//! callee's frame starts: arguments are already there, and results come back there.
//! A reference of any type (`funcref`, `externref`, `(ref $t)`, `(ref null func)` ...) is
//! one slot: 0 is null, a function reference is its store function index + 1, an extern
//! reference its index among the store's interned ones + 1.
//! Memory instructions of memory 0, when it is a 32-bit memory, fold their 32-bit static
//! offset and are the fast path (`I32Load { dst, addr, offset }`). Any other memory (memory
//! N of multi-memory, or a 64-bit memory) uses the generic `Mem*` family instead: the memory
//! index is an operand, the 64-bit offset follows in an [`Instr::Extra`], and the
//! interpreter runs them out of line, so the fast path's code is unaffected. Likewise a
//! 64-bit table's `i64` operands are narrowed (`TableIndex64`) before the table
//! instructions, which are the same for both index types.
//! A `v128` value occupies two consecutive slots (low half first); its 16-byte immediates
//! live in [`CompiledFunc::consts`], named by index, so every instruction stays 16 bytes
//! and the scalar instructions are untouched by SIMD.

pub(crate) use crate::linear::AtomicRmwOp as AtomicOp;

use super::simd::relaxed::SimdTernary;
use super::simd::{LaneShape, SimdBinary, SimdLoad, SimdShift, SimdSplat, SimdTest, SimdUnary};

/// A slot index relative to the current frame's base.
pub(crate) type Slot = u32;

/// Defines [`Instr`]: the variants below, then those of the numeric instructions of
/// [`for_each_numeric!`] (`dst, a, b` for binary ones, `dst, src` for unary ones).
macro_rules! instr_enum {
    ({ $($variants:tt)* } binary { $($binary:ident,)* } unary { $($unary:ident,)* }) => {
        /// One IR instruction. Kept at 16 bytes: at most three 32-bit operands.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub(crate) enum Instr {
            $($variants)*
            $(
                #[doc = concat!("`dst = ", stringify!($binary), "(a, b)`.")]
                $binary { dst: Slot, a: Slot, b: Slot },
            )*
            $(
                #[doc = concat!("`dst = ", stringify!($unary), "(src)`.")]
                $unary { dst: Slot, src: Slot },
            )*
        }

        impl Instr {
            /// The result slot of a numeric instruction.
            fn numeric_result_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    $(Instr::$binary { dst, .. } => Some(dst),)*
                    $(Instr::$unary { dst, .. } => Some(dst),)*
                    _ => None,
                }
            }
        }
    };
}

numeric_instrs!(instr_enum, {
    // ---- control ----
    /// Trap with `unreachable`.
    Unreachable,
    /// Charge fuel for the straight-line code that follows.
    ConsumeFuel {
        amount: u32,
    },
    /// Jump to `target`.
    Br {
        target: u32,
    },
    /// Jump if `cond != 0`.
    BrIfNez {
        cond: Slot,
        target: u32,
    },
    /// Jump if `cond == 0`.
    BrIfEqz {
        cond: Slot,
        target: u32,
    },
    /// Jump table: the next `len + 1` instructions are `Br`s; the `min(index, len)`-th runs.
    BrTable {
        index: Slot,
        len: u32,
    },
    /// Return from the function; results are in slots `0..n`.
    Return,
    /// Call module function `func`; its frame starts at slot `base`.
    Call {
        func: u32,
        base: Slot,
    },
    /// Call through a table; `site` indexes the function's `(type, table)` call sites.
    CallIndirect {
        index: Slot,
        base: Slot,
        site: u32,
    },
    /// Tail-call module function `func` (its arguments are in the slots from `base`): the
    /// callee's frame replaces the running one, and its results are the function's.
    ReturnCall {
        func: u32,
        base: Slot,
    },
    /// Tail call through a table, as [`Instr::CallIndirect`] and [`Instr::ReturnCall`].
    ReturnCallIndirect {
        index: Slot,
        base: Slot,
        site: u32,
    },
    /// Call the function that the reference in slot `func_ref` names (`call_ref` of module
    /// type `ty`), trapping if it is null; its frame starts at slot `base`. No signature
    /// check: validation makes the callee's type a subtype of `ty`.
    CallRef {
        func_ref: Slot,
        base: Slot,
        ty: u32,
    },
    /// Tail call through a function reference, as [`Instr::CallRef`] and [`Instr::ReturnCall`].
    ReturnCallRef {
        func_ref: Slot,
        base: Slot,
        ty: u32,
    },
    /// `throw`: throw a new exception of module tag `tag`, its payload the values in the
    /// slots from `base` (as many as the tag's type takes).
    Throw {
        tag: u32,
        base: Slot,
    },
    /// `throw_ref`: throw the exception that the reference in `r` names again (a null one
    /// traps).
    ThrowRef {
        r: Slot,
    },
    /// Jump if the reference in `r` is null (all 64 bits zero).
    BrIfNull {
        r: Slot,
        target: u32,
    },
    /// Jump if the reference in `r` is not null.
    BrIfNonNull {
        r: Slot,
        target: u32,
    },

    // ---- slots ----
    /// `dst = src`.
    Copy {
        dst: Slot,
        src: Slot,
    },
    /// `dst = val` (zero-extended).
    Const32 {
        dst: Slot,
        val: u32,
    },
    /// `dst = lo | hi << 32`.
    Const64 {
        dst: Slot,
        lo: u32,
        hi: u32,
    },
    /// `if cond == 0 { dst = b }` (`dst` already holds the first operand).
    Select {
        dst: Slot,
        b: Slot,
        cond: Slot,
    },

    // ---- globals ----
    GlobalGet {
        dst: Slot,
        global: u32,
    },
    GlobalSet {
        src: Slot,
        global: u32,
    },

    // ---- memory 0 ----
    I32Load {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I64Load {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    F32Load {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    F64Load {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I32Load8S {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I32Load8U {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I32Load16S {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I32Load16U {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I64Load8S {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I64Load8U {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I64Load16S {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I64Load16U {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I64Load32S {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I64Load32U {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    I32Store {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    I64Store {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    F32Store {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    F64Store {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    I32Store8 {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    I32Store16 {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    I64Store8 {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    I64Store16 {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    I64Store32 {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    MemorySize {
        dst: Slot,
    },
    MemoryGrow {
        dst: Slot,
        delta: Slot,
    },
    /// Operands `dst, val, len` in slots `base..base + 3`.
    MemoryFill {
        base: Slot,
    },
    /// Operands `dst, src, len` in slots `base..base + 3`.
    MemoryCopy {
        base: Slot,
    },
    /// Operands `dst, src, len` in slots `base..base + 3`.
    MemoryInit {
        segment: u32,
        base: Slot,
    },
    DataDrop {
        segment: u32,
    },

    // ---- any memory (memory N, or 64-bit): out of line, see `exec::mem` ----
    /// `dst = load(mem, addr + offset)`; the 64-bit static offset is in the next `Extra`
    /// (`a` low half, `b` high half). The address is an `i64` if the memory is 64-bit.
    MemLoad {
        kind: LoadKind,
        dst: Slot,
        addr: Slot,
        mem: u32,
    },
    /// Stores the low `len_bytes` bytes (1, 2, 4, 8, or 16 for a `v128`) of `val`; the
    /// offset is in the next `Extra`.
    MemStore {
        len_bytes: u8,
        addr: Slot,
        val: Slot,
        mem: u32,
    },
    /// `dst = v` with lane `lane` (of `len_bytes` bytes) loaded; the next two `Extra`s hold
    /// the offset and then `a: mem`.
    MemLoadLane {
        len_bytes: u8,
        lane: u8,
        dst: Slot,
        v: Slot,
        addr: Slot,
    },
    /// Stores lane `lane` (of `len_bytes` bytes) of `v`; the offset is in the next `Extra`.
    MemStoreLane {
        len_bytes: u8,
        lane: u8,
        addr: Slot,
        v: Slot,
        mem: u32,
    },
    /// `memory.size` (an `i64` for a 64-bit memory).
    MemSize {
        dst: Slot,
        mem: u32,
    },
    /// `memory.grow` (`i64` delta and result for a 64-bit memory).
    MemGrow {
        dst: Slot,
        delta: Slot,
        mem: u32,
    },
    /// `memory.fill`: operands `dst, val, len` in slots `base..base + 3`.
    MemFill {
        base: Slot,
        mem: u32,
    },
    /// `memory.copy` from `src_mem` to `dst_mem`: operands `dst, src, len` in `base..base + 3`.
    MemCopy {
        base: Slot,
        dst_mem: u32,
        src_mem: u32,
    },
    /// `memory.init`: operands `dst, src, len` in `base..base + 3`.
    MemInit {
        base: Slot,
        segment: u32,
        mem: u32,
    },

    // ---- 64-bit tables: out of line, see `exec::mem` ----
    /// `dst = min(src, u32::MAX)`: an `i64` index of a 64-bit table as the table
    /// instructions take it (`u32::MAX` is out of bounds of every table).
    TableIndex64 {
        dst: Slot,
        src: Slot,
    },
    /// After `table.grow` of a 64-bit table: its `i32` failure result `-1` becomes `i64` `-1`.
    TableGrowResult64 {
        dst: Slot,
    },

    // ---- atomics (threads): out of line, see `exec::mem`; each is followed by an `Extra`
    // holding its 64-bit offset ----
    /// `dst` = the `width`-byte value at `addr + offset`, zero-extended.
    AtomicLoad {
        width: u8,
        dst: Slot,
        addr: Slot,
        mem: u32,
    },
    /// Stores the low `width` bytes of `val` at `addr + offset`.
    AtomicStore {
        width: u8,
        addr: Slot,
        val: Slot,
        mem: u32,
    },
    /// `dst` = the old `width`-byte value at `addr + offset`, replaced by `op(old, val)`;
    /// a second `Extra` after the offset holds the memory index in `a`.
    AtomicRmw {
        op: AtomicOp,
        width: u8,
        dst: Slot,
        addr: Slot,
        val: Slot,
    },
    /// Operands `addr, expected, replacement` in `base..base + 3`; the old value goes to `base`.
    AtomicCmpxchg {
        width: u8,
        base: Slot,
        mem: u32,
    },
    /// `memory.atomic.wait32/64` (`width` 4 or 8): operands `addr, expected, timeout` in
    /// `base..base + 3`; the result (0 woken, 1 not equal, 2 timed out) goes to `base`.
    AtomicWait {
        width: u8,
        base: Slot,
        mem: u32,
    },
    /// `memory.atomic.notify`: operands `addr, count` in `base..base + 2`; the number of
    /// waiters woken goes to `base`.
    AtomicNotify {
        base: Slot,
        mem: u32,
    },
    /// `atomic.fence`.
    AtomicFence,

    // ---- tables ----
    TableGet {
        dst: Slot,
        index: Slot,
        table: u32,
    },
    TableSet {
        index: Slot,
        val: Slot,
        table: u32,
    },
    TableSize {
        dst: Slot,
        table: u32,
    },
    /// Operands `init, delta` in `base..base + 2`; result to `base`.
    TableGrow {
        table: u32,
        base: Slot,
    },
    /// Operands `index, val, len` in `base..base + 3`.
    TableFill {
        table: u32,
        base: Slot,
    },
    /// Operands `dst, src, len` in `base..base + 3`.
    TableCopy {
        dst_table: u32,
        src_table: u32,
        base: Slot,
    },
    /// Operands `dst, src, len` in `base..base + 3`; `segment` and `table` in the next `Extra`.
    TableInit {
        base: Slot,
    },
    ElemDrop {
        segment: u32,
    },
    /// Immediate data of the previous instruction.
    Extra {
        a: u32,
        b: u32,
    },

    // ---- references ----
    RefFunc {
        dst: Slot,
        func: u32,
    },
    /// `ref.as_non_null`: trap if the reference in `r` is null; it stays where it is.
    RefAsNonNull {
        r: Slot,
    },
    /// `ref.test`: `dst` is 1 if the reference in `src` passes `test` (a mask of
    /// [`ref_test`] bits), else 0.
    RefTest {
        dst: Slot,
        src: Slot,
        test: u32,
    },
    /// `ref.cast`: trap unless the reference in `r` passes `test`; it stays where it is.
    RefCast {
        r: Slot,
        test: u32,
    },
    /// A struct or array instruction, or a cast to a concrete type: `op` says which (see
    /// [`gc_op`]), its operands are in the slots from `base`, where its result goes, and
    /// `imm` is its type, field slot or segment.
    Gc {
        op: u32,
        base: Slot,
        imm: u32,
    },

    // ---- i32 ----
    I32AddImm {
        dst: Slot,
        a: Slot,
        imm: u32,
    },

    // ---- i64 ----
    /// `i64.add128`: operands `lo1, hi1, lo2, hi2` in slots `base..base + 4`; the low and
    /// high halves of the wrapping 128-bit sum go to `base` and `base + 1`.
    I64Add128 {
        base: Slot,
    },
    /// `i64.sub128`: as [`Instr::I64Add128`], the difference.
    I64Sub128 {
        base: Slot,
    },
    /// `i64.mul_wide_s`: the low half of the 128-bit signed product of `a` and `b` goes
    /// to `dst`, the high half to `dst + 1`.
    I64MulWideS {
        dst: Slot,
        a: Slot,
        b: Slot,
    },
    /// `i64.mul_wide_u`: as [`Instr::I64MulWideS`], unsigned.
    I64MulWideU {
        dst: Slot,
        a: Slot,
        b: Slot,
    },

    // ---- f32 ----

    // ---- f64 ----

    // ---- conversions ----

    // ---- v128 (each value in two consecutive slots) ----
    /// `dst = consts[index]`.
    V128Const {
        dst: Slot,
        index: u32,
    },
    GlobalGetV128 {
        dst: Slot,
        global: u32,
    },
    GlobalSetV128 {
        src: Slot,
        global: u32,
    },
    V128Load {
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    /// The widening, splatting and zero-filling loads.
    V128LoadExt {
        kind: SimdLoad,
        dst: Slot,
        addr: Slot,
        offset: u32,
    },
    V128Store {
        addr: Slot,
        val: Slot,
        offset: u32,
    },
    /// `dst = v` with lane `lane` (of `len_bytes` bytes) loaded; the offset is in the next `Extra`.
    V128LoadLane {
        len_bytes: u8,
        lane: u8,
        dst: Slot,
        v: Slot,
        addr: Slot,
    },
    /// Stores lane `lane` (of `len_bytes` bytes) of `v`.
    V128StoreLane {
        len_bytes: u8,
        lane: u8,
        addr: Slot,
        v: Slot,
        offset: u32,
    },
    V128Unary {
        op: SimdUnary,
        dst: Slot,
        src: Slot,
    },
    V128Binary {
        op: SimdBinary,
        dst: Slot,
        a: Slot,
        b: Slot,
    },
    /// `dst = a <op> b` with `b` an `i32` shift amount.
    V128Shift {
        op: SimdShift,
        dst: Slot,
        a: Slot,
        b: Slot,
    },
    /// `dst` (an `i32`) `= op(src)`.
    V128Test {
        op: SimdTest,
        dst: Slot,
        src: Slot,
    },
    /// `dst` (a `v128`) `= op(src)` for a scalar `src`.
    V128Splat {
        op: SimdSplat,
        dst: Slot,
        src: Slot,
    },
    /// `dst` (a scalar) `=` lane `lane` of `src`.
    V128ExtractLane {
        shape: LaneShape,
        lane: u8,
        dst: Slot,
        src: Slot,
    },
    /// `dst = v` with lane `lane` replaced by the scalar `x`.
    V128ReplaceLane {
        shape: LaneShape,
        lane: u8,
        dst: Slot,
        v: Slot,
        x: Slot,
    },
    /// `dst = shuffle(a, b)`; the lane indices are `consts[a]` of the next `Extra`.
    I8x16Shuffle {
        dst: Slot,
        a: Slot,
        b: Slot,
    },
    /// Operands `a, b, c` (two slots each) from `base`; the result goes to `base`.
    V128Bitselect {
        base: Slot,
    },
    /// A relaxed operation with three operands `a, b, c` (two slots each) from `base`;
    /// the result goes to `base`.
    V128Ternary {
        op: SimdTernary,
        base: Slot,
    },
});

impl Instr {
    /// If this instruction writes exactly one slot as its result and nothing else,
    /// a mutable reference to that `dst`, so `local.set` can retarget it.
    pub(crate) fn result_slot_mut(&mut self) -> Option<&mut Slot> {
        use Instr::*;
        match self {
            Copy { dst, .. }
            | Const32 { dst, .. }
            | Const64 { dst, .. }
            | GlobalGet { dst, .. }
            | I32Load { dst, .. }
            | I64Load { dst, .. }
            | F32Load { dst, .. }
            | F64Load { dst, .. }
            | I32Load8S { dst, .. }
            | I32Load8U { dst, .. }
            | I32Load16S { dst, .. }
            | I32Load16U { dst, .. }
            | I64Load8S { dst, .. }
            | I64Load8U { dst, .. }
            | I64Load16S { dst, .. }
            | I64Load16U { dst, .. }
            | I64Load32S { dst, .. }
            | I64Load32U { dst, .. }
            | MemorySize { dst }
            | MemSize { dst, .. }
            | TableGet { dst, .. }
            | TableSize { dst, .. }
            | RefFunc { dst, .. }
            | RefTest { dst, .. }
            | I32AddImm { dst, .. } => Some(dst),
            other => other.numeric_result_mut(),
        }
    }
}

/// What a [`Instr::MemLoad`] reads and how it extends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadKind {
    /// 4 bytes, zero-extended into the slot (`i32.load`, `f32.load`, `i64.load32_u`).
    U32,
    /// 8 bytes (`i64.load`, `f64.load`).
    U64,
    I32S8,
    I32U8,
    I32S16,
    I32U16,
    I64S8,
    I64S16,
    I64S32,
    /// 16 bytes into two slots.
    V128,
    /// A widening, splatting or zero-filling `v128` load.
    V128Ext(SimdLoad),
}

impl LoadKind {
    /// Bytes read from memory.
    pub(crate) fn len_bytes(self) -> usize {
        match self {
            LoadKind::I32S8 | LoadKind::I32U8 | LoadKind::I64S8 => 1,
            LoadKind::I32S16 | LoadKind::I32U16 | LoadKind::I64S16 => 2,
            LoadKind::U32 | LoadKind::I64S32 => 4,
            LoadKind::U64 => 8,
            LoadKind::V128 => 16,
            LoadKind::V128Ext(k) => k.len_bytes(),
        }
    }

    /// The slot value of a scalar load of the little-endian `bits` (`len_bytes()` bytes).
    pub(crate) fn extend(self, bits: u64) -> u64 {
        match self {
            LoadKind::I32S8 => u64::from(bits as u8 as i8 as i32 as u32),
            LoadKind::I32S16 => u64::from(bits as u16 as i16 as i32 as u32),
            LoadKind::I64S8 => bits as u8 as i8 as i64 as u64,
            LoadKind::I64S16 => bits as u16 as i16 as i64 as u64,
            LoadKind::I64S32 => bits as u32 as i32 as i64 as u64,
            _ => bits,
        }
    }
}

/// A catch clause of a `try_table`: where it applies, what it catches, and where the
/// caught exception goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handler {
    /// The ops it covers: `start..end` (the body of its `try_table`).
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// The module tag index it catches (`catch`, `catch_ref`), or `None` for every
    /// exception (`catch_all`, `catch_all_ref`).
    pub(crate) tag: Option<u32>,
    /// Whether the exception reference follows the payload (`catch_ref`, `catch_all_ref`).
    pub(crate) with_ref: bool,
    /// The slot where the payload (then the reference) goes: the label's values.
    pub(crate) dst: Slot,
    /// The op that continues, with the values in place: the branch to the label.
    pub(crate) pad: u32,
}

/// A function body after translation.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    /// Index of the function in its module (for backtraces).
    pub(crate) func_index: u32,
    /// The instructions.
    pub(crate) code: Box<[Instr]>,
    /// The module offset of the wasm operator each instruction was translated from.
    pub(crate) offsets: Box<[u32]>,
    /// The module offset of the function's body.
    pub(crate) body_offset: u32,
    /// The same, lowered to threaded code (one op per instruction, then a sentinel).
    pub(crate) ops: Box<[super::threaded::Op]>,
    /// Slots taken by the parameters (`0..num_params`; two per `v128`).
    pub(crate) num_params: u32,
    /// Slots of parameters plus declared locals (zeroed on entry: `num_params..num_locals`).
    pub(crate) num_locals: u32,
    /// Slots taken by the results (`0..num_results` on return; two per `v128`).
    pub(crate) num_results: u32,
    /// Slots the frame needs, including call argument/result areas.
    pub(crate) frame_slots: u32,
    /// `call_indirect` sites: (module type index, table index).
    pub(crate) indirect_sites: Box<[(u32, u32)]>,
    /// The catch clauses of the function's `try_table`s, innermost `try_table` first and
    /// each one's clauses in order: the first that covers the op and matches catches.
    pub(crate) handlers: Box<[Handler]>,
    /// 16-byte immediates (`v128.const` values, `i8x16.shuffle` lane indices), indexed by
    /// the instructions that use them.
    pub(crate) consts: Box<[u128]>,
}

impl CompiledFunc {
    /// The module offset of the wasm operator that op `ip` (a pointer into `ops`) runs;
    /// with `after`, of the one before it (`ip` is a return address). `None` for a pointer
    /// outside `ops`.
    pub(crate) fn offset_of(&self, ip: *const super::threaded::Op, after: bool) -> Option<u32> {
        let at = (ip as usize).checked_sub(self.ops.as_ptr() as usize)? / std::mem::size_of::<super::threaded::Op>();
        let at = if after { at.checked_sub(1)? } else { at };
        self.offsets.get(at).copied()
    }
}

// The dispatch loop's cache footprint depends on this.
const _: () = assert!(std::mem::size_of::<Instr>() == 16);

#[cfg(test)]
mod tests {
    #[test]
    fn instr_is_16_bytes() {
        assert_eq!(std::mem::size_of::<super::Instr>(), 16);
        assert_eq!(std::mem::size_of::<super::LoadKind>(), 1);
    }
}

/// The tests of `ref.test` and `ref.cast`: which references pass, as a mask. The references
/// that exist are null (0), `i31`s ([`I31`](crate::I31)'s slot encoding) and, outside the
/// `any` hierarchy, functions, host references and exceptions; GC objects do not exist yet,
/// so no reference is a struct or an array.
/// The instructions of [`Instr::Gc`]: bits 0–7 of its `op`. Bits 8–11 are the
/// [`FieldKind`](crate::engine::layout::FieldKind) of a field or element read or written,
/// bit 12 whether a packed read sign-extends; for `array.new_fixed`, `array.new_data` and
/// `array.new_elem` bits 8–31 are the length or segment; for the casts bit 8 says whether
/// null passes, bit 9 whether the type is a function type, and bits 16–31 the depth of the
/// type in its supertype chain.
pub(crate) mod gc_op {
    use crate::engine::layout::FieldKind;

    pub(crate) const STRUCT_NEW: u32 = 1;
    pub(crate) const STRUCT_NEW_DEFAULT: u32 = 2;
    pub(crate) const STRUCT_GET: u32 = 3;
    pub(crate) const STRUCT_SET: u32 = 4;
    pub(crate) const ARRAY_NEW: u32 = 5;
    pub(crate) const ARRAY_NEW_DEFAULT: u32 = 6;
    pub(crate) const ARRAY_NEW_FIXED: u32 = 7;
    pub(crate) const ARRAY_NEW_DATA: u32 = 8;
    pub(crate) const ARRAY_NEW_ELEM: u32 = 9;
    pub(crate) const ARRAY_GET: u32 = 10;
    pub(crate) const ARRAY_SET: u32 = 11;
    pub(crate) const ARRAY_LEN: u32 = 12;
    pub(crate) const ARRAY_FILL: u32 = 13;
    pub(crate) const ARRAY_COPY: u32 = 14;
    pub(crate) const ARRAY_INIT_DATA: u32 = 15;
    pub(crate) const ARRAY_INIT_ELEM: u32 = 16;
    pub(crate) const REF_TEST: u32 = 17;
    pub(crate) const REF_CAST: u32 = 18;

    const KINDS: [FieldKind; 6] =
        [FieldKind::I8, FieldKind::I16, FieldKind::B32, FieldKind::B64, FieldKind::V128, FieldKind::Ref];

    /// `op` reading or writing a value of kind `kind` (`signed`: sign-extending it).
    pub(crate) fn with_kind(op: u32, kind: FieldKind, signed: bool) -> u32 {
        let k = KINDS.iter().position(|&k| k == kind).unwrap_or(0) as u32;
        op | (k << 8) | (u32::from(signed) << 12)
    }

    /// The kind of value `code` reads or writes.
    pub(crate) fn kind(code: u32) -> Option<FieldKind> {
        KINDS.get(((code >> 8) & 0xf) as usize).copied()
    }

    /// Whether `code` sign-extends a packed value.
    pub(crate) fn signed(code: u32) -> bool {
        code & (1 << 12) != 0
    }

    /// A cast to a type at `depth` of its supertype chain.
    pub(crate) fn cast(op: u32, nullable: bool, func: bool, depth: usize) -> u32 {
        op | (u32::from(nullable) << 8) | (u32::from(func) << 9) | ((depth.min(0xffff) as u32) << 16)
    }

    /// Whether null passes the cast `code`.
    pub(crate) fn nullable(code: u32) -> bool {
        code & (1 << 8) != 0
    }

    /// Whether the cast `code` is to a function type.
    pub(crate) fn is_func(code: u32) -> bool {
        code & (1 << 9) != 0
    }

    /// The depth of the cast's type in its supertype chain.
    pub(crate) fn depth(code: u32) -> usize {
        (code >> 16) as usize
    }
}

pub(crate) mod ref_test {
    /// Null passes (the target type is nullable).
    pub(crate) const NULL: u32 = 1;
    /// A host reference passes (in the `any` hierarchy: low bits `10`).
    pub(crate) const HOST: u32 = 2;
    /// An `i31` passes (low bit 1).
    pub(crate) const I31: u32 = 4;
    /// A struct passes (low bits `000`, not null).
    pub(crate) const STRUCT: u32 = 8;
    /// An array passes (low bits `100`).
    pub(crate) const ARRAY: u32 = 16;
    /// Every non-null reference passes: the top of a hierarchy. (Outside the `any`
    /// hierarchy the low bits of a slot mean nothing, so only null and this are told apart.)
    pub(crate) const ANY: u32 = HOST | I31 | STRUCT | ARRAY;

    /// The test of a cast to `(ref null? hty)`, or `None` for a concrete type, which needs
    /// the type of the object ([`GcOp::RefTest`](super::gc_op)).
    pub(crate) fn of(hty: wasmparser::HeapType, nullable: bool) -> Option<u32> {
        use wasmparser::{AbstractHeapType as A, HeapType as H};
        let H::Abstract { shared: false, ty } = hty else {
            return None;
        };
        let passing = match ty {
            A::Any | A::Func | A::Extern | A::Exn | A::Cont => ANY,
            A::Eq => I31 | STRUCT | ARRAY,
            A::I31 => I31,
            A::Struct => STRUCT,
            A::Array => ARRAY,
            // The bottom types.
            A::None | A::NoFunc | A::NoExtern | A::NoExn | A::NoCont => 0,
        };
        Some(passing | if nullable { NULL } else { 0 })
    }

    /// Whether the reference `bits` passes `test`.
    #[inline(always)]
    pub(crate) fn passes(bits: u64, test: u32) -> bool {
        let kind = if bits == 0 {
            NULL
        } else if bits & 1 != 0 {
            I31
        } else if bits & 2 != 0 {
            HOST
        } else if bits & 4 != 0 {
            ARRAY
        } else {
            STRUCT
        };
        test & kind != 0
    }
}
