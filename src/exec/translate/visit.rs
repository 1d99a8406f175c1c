//! The operator-by-operator part of the translator: one arm per wasm operator.

use wasmparser::Operator;

use super::{CtrlKind, Translator};
use crate::error::Result;
use crate::exec::ir::{Instr, LoadKind};

macro_rules! un {
    ($t:expr, $v:ident) => {
        $t.unop(|dst, src| Instr::$v { dst, src })
    };
}

macro_rules! bin {
    ($t:expr, $v:ident) => {
        $t.binop(|dst, a, b| Instr::$v { dst, a, b })
    };
}

macro_rules! ld {
    ($t:expr, $m:expr, $v:ident, $k:ident) => {
        $t.load($m, LoadKind::$k, |dst, addr, offset| Instr::$v { dst, addr, offset })
    };
}

macro_rules! st {
    ($t:expr, $m:expr, $v:ident, $n:literal) => {
        $t.store($m, $n, |addr, val, offset| Instr::$v { addr, val, offset })
    };
}

/// The translation of the numeric operators of [`for_each_numeric!`], each to the
/// instruction of the same name.
macro_rules! numeric_visit {
    (binary { $($binary:ident,)* } unary { $($unary:ident,)* }) => {
        impl Translator<'_> {
            /// Translates `op` if it is a numeric operator, else returns `false`.
            fn visit_numeric(&mut self, op: &Operator<'_>) -> Result<bool> {
                match op {
                    $(Operator::$binary => bin!(self, $binary)?,)*
                    $(Operator::$unary => un!(self, $unary)?,)*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}

numeric_instrs!(numeric_visit);

impl Translator<'_> {
    /// Translates one (already validated) operator.
    pub(super) fn visit(&mut self, op: Operator<'_>) -> Result<()> {
        if !self.reachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } | Operator::TryTable { .. } => {
                    self.dead_depth += 1
                }
                Operator::Else if self.dead_depth == 0 => return self.visit_else(),
                Operator::End if self.dead_depth == 0 => return self.visit_end(),
                Operator::End => self.dead_depth -= 1,
                _ => {}
            }
            return Ok(());
        }
        self.charge_fuel();
        use Operator as O;
        match op {
            O::Unreachable => {
                self.emit(Instr::Unreachable);
                self.reachable = false;
            }
            O::Nop => {}
            O::Block { blockty } => {
                let (p, r) = self.block_arity(blockty);
                self.materialize_all();
                self.push_ctrl(CtrlKind::Block, blockty, p, r);
            }
            O::Loop { blockty } => {
                let (p, r) = self.block_arity(blockty);
                self.materialize_all();
                self.producer = None;
                self.push_ctrl(CtrlKind::Loop, blockty, p, r);
                self.new_fuel_segment();
            }
            O::If { blockty } => {
                let (p, r) = self.block_arity(blockty);
                let cond = self.pop();
                self.materialize_all();
                let at = self.emit(Instr::BrIfEqz { cond, target: u32::MAX });
                self.push_ctrl(CtrlKind::If, blockty, p, r);
                if p > 0 {
                    // The `then` arm works on copies of the parameters so that the
                    // originals survive for the `else` arm.
                    let len = self.stack.len();
                    for i in 0..p as usize {
                        let src = self.stack[len - p as usize + i];
                        let dst = self.push_entry(super::Operand::Temp, src.wide)?;
                        self.emit_copy(dst, src.slot, src.wide);
                    }
                }
                if let Some(f) = self.ctrl.last_mut() {
                    f.else_patch = Some(at);
                }
                self.new_fuel_segment();
            }
            O::TryTable { try_table } => self.visit_try_table(&try_table)?,
            O::Throw { tag_index } => self.visit_throw(tag_index),
            O::ThrowRef => {
                let r = self.pop();
                self.emit(Instr::ThrowRef { r });
                self.reachable = false;
            }
            O::Else => self.visit_else()?,
            O::End => self.visit_end()?,
            O::Br { relative_depth } => {
                self.branch(relative_depth);
                self.reachable = false;
            }
            O::BrIf { relative_depth } => self.visit_br_if(relative_depth)?,
            O::BrTable { targets } => {
                self.visit_br_table(&targets)?;
                self.reachable = false;
            }
            O::Return => {
                self.branch((self.ctrl.len() - 1) as u32);
                self.reachable = false;
            }
            O::Call { function_index } => self.visit_call(function_index, false)?,
            O::CallIndirect { type_index, table_index } => self.visit_call_indirect(type_index, table_index, false)?,
            O::ReturnCall { function_index } => self.visit_call(function_index, true)?,
            O::ReturnCallIndirect { type_index, table_index } => {
                self.visit_call_indirect(type_index, table_index, true)?;
            }
            O::CallRef { type_index } => self.visit_call_ref(type_index, false)?,
            O::ReturnCallRef { type_index } => self.visit_call_ref(type_index, true)?,
            O::BrOnNull { relative_depth } => self.visit_br_on_null(relative_depth),
            O::BrOnNonNull { relative_depth } => self.visit_br_on_non_null(relative_depth),
            O::RefTestNonNull { hty } => self.ref_test(hty, false)?,
            O::RefTestNullable { hty } => self.ref_test(hty, true)?,
            O::RefCastNonNull { hty } => self.ref_cast(hty, false)?,
            O::RefCastNullable { hty } => self.ref_cast(hty, true)?,
            O::RefAsNonNull => {
                // The reference stays where it is (a pending `local.get` too).
                let r = self.slot_of(self.top_index());
                self.emit(Instr::RefAsNonNull { r });
            }
            O::Drop => {
                self.stack.pop();
                self.producer = None;
            }
            O::Select | O::TypedSelect { .. } => {
                let cond = self.pop();
                let wide = self.stack[self.top_index()].wide;
                let b = self.pop();
                let top = self.top_index();
                self.materialize(top);
                let dst = self.canonical(top);
                self.emit(Instr::Select { dst, b, cond });
                if wide {
                    self.emit(Instr::Select { dst: dst + 1, b: b + 1, cond });
                }
            }
            O::LocalGet { local_index } => {
                let (slot, wide) = self.local(local_index);
                // The entry may be materialized into its canonical slot later.
                self.push_entry(super::Operand::Local(slot), wide)?;
                self.producer = None;
            }
            O::LocalSet { local_index } => self.visit_local_set(local_index, false)?,
            O::LocalTee { local_index } => self.visit_local_set(local_index, true)?,
            O::GlobalGet { global_index } => {
                if self.global_is_v128(global_index) {
                    let dst = self.push_temp_v128()?;
                    self.emit(Instr::GlobalGetV128 { dst, global: global_index });
                } else {
                    let dst = self.push_temp()?;
                    self.emit_producer(Instr::GlobalGet { dst, global: global_index });
                }
            }
            O::GlobalSet { global_index } => {
                let src = self.pop();
                if self.global_is_v128(global_index) {
                    self.emit(Instr::GlobalSetV128 { src, global: global_index });
                } else {
                    self.emit(Instr::GlobalSet { src, global: global_index });
                }
            }
            O::I32Load { memarg } => ld!(self, &memarg, I32Load, U32)?,
            O::I64Load { memarg } => ld!(self, &memarg, I64Load, U64)?,
            O::F32Load { memarg } => ld!(self, &memarg, F32Load, U32)?,
            O::F64Load { memarg } => ld!(self, &memarg, F64Load, U64)?,
            O::I32Load8S { memarg } => ld!(self, &memarg, I32Load8S, I32S8)?,
            O::I32Load8U { memarg } => ld!(self, &memarg, I32Load8U, I32U8)?,
            O::I32Load16S { memarg } => ld!(self, &memarg, I32Load16S, I32S16)?,
            O::I32Load16U { memarg } => ld!(self, &memarg, I32Load16U, I32U16)?,
            O::I64Load8S { memarg } => ld!(self, &memarg, I64Load8S, I64S8)?,
            O::I64Load8U { memarg } => ld!(self, &memarg, I64Load8U, I32U8)?,
            O::I64Load16S { memarg } => ld!(self, &memarg, I64Load16S, I64S16)?,
            O::I64Load16U { memarg } => ld!(self, &memarg, I64Load16U, I32U16)?,
            O::I64Load32S { memarg } => ld!(self, &memarg, I64Load32S, I64S32)?,
            O::I64Load32U { memarg } => ld!(self, &memarg, I64Load32U, U32)?,
            O::I32Store { memarg } => st!(self, &memarg, I32Store, 4)?,
            O::I64Store { memarg } => st!(self, &memarg, I64Store, 8)?,
            O::F32Store { memarg } => st!(self, &memarg, F32Store, 4)?,
            O::F64Store { memarg } => st!(self, &memarg, F64Store, 8)?,
            O::I32Store8 { memarg } => st!(self, &memarg, I32Store8, 1)?,
            O::I32Store16 { memarg } => st!(self, &memarg, I32Store16, 2)?,
            O::I64Store8 { memarg } => st!(self, &memarg, I64Store8, 1)?,
            O::I64Store16 { memarg } => st!(self, &memarg, I64Store16, 2)?,
            O::I64Store32 { memarg } => st!(self, &memarg, I64Store32, 4)?,
            O::MemorySize { mem } => {
                let dst = self.push_temp()?;
                if self.is_fast_memory(mem) {
                    self.emit_producer(Instr::MemorySize { dst });
                } else {
                    self.emit_producer(Instr::MemSize { dst, mem });
                }
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let dst = self.push_temp()?;
                if self.is_fast_memory(mem) {
                    self.emit(Instr::MemoryGrow { dst, delta });
                } else {
                    self.emit(Instr::MemGrow { dst, delta, mem });
                }
            }
            O::MemoryFill { mem } => {
                let base = self.pop_operands_in_place(3);
                if self.is_fast_memory(mem) {
                    self.emit(Instr::MemoryFill { base });
                } else {
                    self.emit(Instr::MemFill { base, mem });
                }
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let base = self.pop_operands_in_place(3);
                if self.is_fast_memory(dst_mem) && self.is_fast_memory(src_mem) {
                    self.emit(Instr::MemoryCopy { base });
                } else {
                    self.emit(Instr::MemCopy { base, dst_mem, src_mem });
                }
            }
            O::MemoryInit { data_index, mem } => {
                let base = self.pop_operands_in_place(3);
                if self.is_fast_memory(mem) {
                    self.emit(Instr::MemoryInit { segment: data_index, base });
                } else {
                    self.emit(Instr::MemInit { base, segment: data_index, mem });
                }
            }
            O::DataDrop { data_index } => {
                self.emit(Instr::DataDrop { segment: data_index });
            }
            O::TableGet { table } => {
                let mut index = self.pop();
                let dst = self.push_temp()?;
                if self.table_is_64(table) {
                    self.emit(Instr::TableIndex64 { dst, src: index });
                    index = dst;
                }
                self.emit_producer(Instr::TableGet { dst, index, table });
            }
            O::TableSet { table } => {
                let val = self.pop();
                let index = self.pop_table_index(self.table_is_64(table));
                self.emit(Instr::TableSet { index, val, table });
            }
            O::TableSize { table } => {
                let dst = self.push_temp()?;
                self.emit_producer(Instr::TableSize { dst, table });
            }
            O::TableGrow { table } => {
                let base = self.pop_operands_in_place(2);
                self.push_temp()?;
                let t64 = self.table_is_64(table);
                self.narrow_in_place(base + 1, t64);
                self.emit(Instr::TableGrow { table, base });
                if t64 {
                    self.emit(Instr::TableGrowResult64 { dst: base });
                }
            }
            O::TableFill { table } => {
                let base = self.pop_operands_in_place(3);
                let t64 = self.table_is_64(table);
                self.narrow_in_place(base, t64);
                self.narrow_in_place(base + 2, t64);
                self.emit(Instr::TableFill { table, base });
            }
            O::TableCopy { dst_table, src_table } => {
                let base = self.pop_operands_in_place(3);
                let (d64, s64) = (self.table_is_64(dst_table), self.table_is_64(src_table));
                self.narrow_in_place(base, d64);
                self.narrow_in_place(base + 1, s64);
                // The length has the smaller of the two index types.
                self.narrow_in_place(base + 2, d64 && s64);
                self.emit(Instr::TableCopy { dst_table, src_table, base });
            }
            O::TableInit { elem_index, table } => {
                let base = self.pop_operands_in_place(3);
                self.narrow_in_place(base, self.table_is_64(table));
                self.emit(Instr::TableInit { base });
                self.emit(Instr::Extra { a: elem_index, b: table });
            }
            O::ElemDrop { elem_index } => {
                self.emit(Instr::ElemDrop { segment: elem_index });
            }
            O::I32Const { value } => self.constant(u64::from(value as u32))?,
            O::I64Const { value } => self.constant(value as u64)?,
            O::F32Const { value } => self.constant(u64::from(value.bits()))?,
            O::F64Const { value } => self.constant(value.bits())?,
            O::RefNull { .. } => self.constant(0)?,
            // References are equal when their slots are: null, the same `i31`.
            O::RefEq => bin!(self, I64Eq)?,
            O::RefFunc { function_index } => {
                let dst = self.push_temp()?;
                self.emit_producer(Instr::RefFunc { dst, func: function_index });
            }

            O::I32Add => self.i32_add()?,

            // Wide arithmetic: two `i64` results, low half first.
            O::I64Add128 | O::I64Sub128 => {
                let base = self.pop_operands_in_place(4);
                self.push_temp()?;
                self.push_temp()?;
                let add = matches!(op, O::I64Add128);
                self.emit(if add { Instr::I64Add128 { base } } else { Instr::I64Sub128 { base } });
            }
            O::I64MulWideS | O::I64MulWideU => {
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp()?;
                self.push_temp()?;
                let signed = matches!(op, O::I64MulWideS);
                self.emit(if signed { Instr::I64MulWideS { dst, a, b } } else { Instr::I64MulWideU { dst, a, b } });
            }

            // Same bits, same slot representation: nothing to do.
            O::I32ReinterpretF32 | O::I64ReinterpretF64 | O::F32ReinterpretI32 | O::F64ReinterpretI64 => {}
            other => {
                if !self.visit_numeric(&other)? && !self.visit_gc(&other)? {
                    self.visit_simd(other)?;
                }
            }
        }
        Ok(())
    }

    /// True if table `table` is a 64-bit table (its index operands are `i64`s).
    pub(super) fn table_is_64(&self, table: u32) -> bool {
        self.module.tables.get(table as usize).is_some_and(|t| t.is_64())
    }

    /// Pops a table index operand; for a 64-bit table, narrows it into the entry's canonical
    /// slot (free once the entry is popped) and returns that slot.
    pub(super) fn pop_table_index(&mut self, table64: bool) -> crate::exec::ir::Slot {
        let tmp = self.canonical(self.top_index());
        let index = self.pop();
        if table64 {
            self.emit(Instr::TableIndex64 { dst: tmp, src: index });
            tmp
        } else {
            index
        }
    }

    /// Narrows the `i64` operand of a 64-bit table in `slot` (a materialized temporary).
    fn narrow_in_place(&mut self, slot: crate::exec::ir::Slot, table64: bool) {
        if table64 {
            self.emit(Instr::TableIndex64 { dst: slot, src: slot });
        }
    }

    fn global_is_v128(&self, global: u32) -> bool {
        self.module.globals.get(global as usize).is_some_and(|g| g.content() == crate::types::ValType::V128)
    }
}
