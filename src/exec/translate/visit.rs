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

impl Translator<'_> {
    /// Translates one (already validated) operator.
    pub(super) fn visit(&mut self, op: Operator<'_>) -> Result<()> {
        if !self.reachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => self.dead_depth += 1,
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
            O::RefIsNull => un!(self, RefIsNull)?,
            O::RefFunc { function_index } => {
                let dst = self.push_temp()?;
                self.emit_producer(Instr::RefFunc { dst, func: function_index });
            }

            O::I32Eqz => un!(self, I32Eqz)?,
            O::I32Eq => bin!(self, I32Eq)?,
            O::I32Ne => bin!(self, I32Ne)?,
            O::I32LtS => bin!(self, I32LtS)?,
            O::I32LtU => bin!(self, I32LtU)?,
            O::I32GtS => bin!(self, I32GtS)?,
            O::I32GtU => bin!(self, I32GtU)?,
            O::I32LeS => bin!(self, I32LeS)?,
            O::I32LeU => bin!(self, I32LeU)?,
            O::I32GeS => bin!(self, I32GeS)?,
            O::I32GeU => bin!(self, I32GeU)?,
            O::I32Clz => un!(self, I32Clz)?,
            O::I32Ctz => un!(self, I32Ctz)?,
            O::I32Popcnt => un!(self, I32Popcnt)?,
            O::I32Add => self.i32_add()?,
            O::I32Sub => bin!(self, I32Sub)?,
            O::I32Mul => bin!(self, I32Mul)?,
            O::I32DivS => bin!(self, I32DivS)?,
            O::I32DivU => bin!(self, I32DivU)?,
            O::I32RemS => bin!(self, I32RemS)?,
            O::I32RemU => bin!(self, I32RemU)?,
            O::I32And => bin!(self, I32And)?,
            O::I32Or => bin!(self, I32Or)?,
            O::I32Xor => bin!(self, I32Xor)?,
            O::I32Shl => bin!(self, I32Shl)?,
            O::I32ShrS => bin!(self, I32ShrS)?,
            O::I32ShrU => bin!(self, I32ShrU)?,
            O::I32Rotl => bin!(self, I32Rotl)?,
            O::I32Rotr => bin!(self, I32Rotr)?,

            O::I64Eqz => un!(self, I64Eqz)?,
            O::I64Eq => bin!(self, I64Eq)?,
            O::I64Ne => bin!(self, I64Ne)?,
            O::I64LtS => bin!(self, I64LtS)?,
            O::I64LtU => bin!(self, I64LtU)?,
            O::I64GtS => bin!(self, I64GtS)?,
            O::I64GtU => bin!(self, I64GtU)?,
            O::I64LeS => bin!(self, I64LeS)?,
            O::I64LeU => bin!(self, I64LeU)?,
            O::I64GeS => bin!(self, I64GeS)?,
            O::I64GeU => bin!(self, I64GeU)?,
            O::I64Clz => un!(self, I64Clz)?,
            O::I64Ctz => un!(self, I64Ctz)?,
            O::I64Popcnt => un!(self, I64Popcnt)?,
            O::I64Add => bin!(self, I64Add)?,
            O::I64Sub => bin!(self, I64Sub)?,
            O::I64Mul => bin!(self, I64Mul)?,
            O::I64DivS => bin!(self, I64DivS)?,
            O::I64DivU => bin!(self, I64DivU)?,
            O::I64RemS => bin!(self, I64RemS)?,
            O::I64RemU => bin!(self, I64RemU)?,
            O::I64And => bin!(self, I64And)?,
            O::I64Or => bin!(self, I64Or)?,
            O::I64Xor => bin!(self, I64Xor)?,
            O::I64Shl => bin!(self, I64Shl)?,
            O::I64ShrS => bin!(self, I64ShrS)?,
            O::I64ShrU => bin!(self, I64ShrU)?,
            O::I64Rotl => bin!(self, I64Rotl)?,
            O::I64Rotr => bin!(self, I64Rotr)?,

            O::F32Eq => bin!(self, F32Eq)?,
            O::F32Ne => bin!(self, F32Ne)?,
            O::F32Lt => bin!(self, F32Lt)?,
            O::F32Gt => bin!(self, F32Gt)?,
            O::F32Le => bin!(self, F32Le)?,
            O::F32Ge => bin!(self, F32Ge)?,
            O::F32Abs => un!(self, F32Abs)?,
            O::F32Neg => un!(self, F32Neg)?,
            O::F32Ceil => un!(self, F32Ceil)?,
            O::F32Floor => un!(self, F32Floor)?,
            O::F32Trunc => un!(self, F32Trunc)?,
            O::F32Nearest => un!(self, F32Nearest)?,
            O::F32Sqrt => un!(self, F32Sqrt)?,
            O::F32Add => bin!(self, F32Add)?,
            O::F32Sub => bin!(self, F32Sub)?,
            O::F32Mul => bin!(self, F32Mul)?,
            O::F32Div => bin!(self, F32Div)?,
            O::F32Min => bin!(self, F32Min)?,
            O::F32Max => bin!(self, F32Max)?,
            O::F32Copysign => bin!(self, F32Copysign)?,

            O::F64Eq => bin!(self, F64Eq)?,
            O::F64Ne => bin!(self, F64Ne)?,
            O::F64Lt => bin!(self, F64Lt)?,
            O::F64Gt => bin!(self, F64Gt)?,
            O::F64Le => bin!(self, F64Le)?,
            O::F64Ge => bin!(self, F64Ge)?,
            O::F64Abs => un!(self, F64Abs)?,
            O::F64Neg => un!(self, F64Neg)?,
            O::F64Ceil => un!(self, F64Ceil)?,
            O::F64Floor => un!(self, F64Floor)?,
            O::F64Trunc => un!(self, F64Trunc)?,
            O::F64Nearest => un!(self, F64Nearest)?,
            O::F64Sqrt => un!(self, F64Sqrt)?,
            O::F64Add => bin!(self, F64Add)?,
            O::F64Sub => bin!(self, F64Sub)?,
            O::F64Mul => bin!(self, F64Mul)?,
            O::F64Div => bin!(self, F64Div)?,
            O::F64Min => bin!(self, F64Min)?,
            O::F64Max => bin!(self, F64Max)?,
            O::F64Copysign => bin!(self, F64Copysign)?,

            O::I32WrapI64 => un!(self, I32WrapI64)?,
            O::I32TruncF32S => un!(self, I32TruncF32S)?,
            O::I32TruncF32U => un!(self, I32TruncF32U)?,
            O::I32TruncF64S => un!(self, I32TruncF64S)?,
            O::I32TruncF64U => un!(self, I32TruncF64U)?,
            O::I64ExtendI32S => un!(self, I64ExtendI32S)?,
            O::I64ExtendI32U => un!(self, I64ExtendI32U)?,
            O::I64TruncF32S => un!(self, I64TruncF32S)?,
            O::I64TruncF32U => un!(self, I64TruncF32U)?,
            O::I64TruncF64S => un!(self, I64TruncF64S)?,
            O::I64TruncF64U => un!(self, I64TruncF64U)?,
            O::F32ConvertI32S => un!(self, F32ConvertI32S)?,
            O::F32ConvertI32U => un!(self, F32ConvertI32U)?,
            O::F32ConvertI64S => un!(self, F32ConvertI64S)?,
            O::F32ConvertI64U => un!(self, F32ConvertI64U)?,
            O::F32DemoteF64 => un!(self, F32DemoteF64)?,
            O::F64ConvertI32S => un!(self, F64ConvertI32S)?,
            O::F64ConvertI32U => un!(self, F64ConvertI32U)?,
            O::F64ConvertI64S => un!(self, F64ConvertI64S)?,
            O::F64ConvertI64U => un!(self, F64ConvertI64U)?,
            O::F64PromoteF32 => un!(self, F64PromoteF32)?,
            // Same bits, same slot representation: nothing to do.
            O::I32ReinterpretF32 | O::I64ReinterpretF64 | O::F32ReinterpretI32 | O::F64ReinterpretI64 => {}
            O::I32Extend8S => un!(self, I32Extend8S)?,
            O::I32Extend16S => un!(self, I32Extend16S)?,
            O::I64Extend8S => un!(self, I64Extend8S)?,
            O::I64Extend16S => un!(self, I64Extend16S)?,
            O::I64Extend32S => un!(self, I64Extend32S)?,
            O::I32TruncSatF32S => un!(self, I32TruncSatF32S)?,
            O::I32TruncSatF32U => un!(self, I32TruncSatF32U)?,
            O::I32TruncSatF64S => un!(self, I32TruncSatF64S)?,
            O::I32TruncSatF64U => un!(self, I32TruncSatF64U)?,
            O::I64TruncSatF32S => un!(self, I64TruncSatF32S)?,
            O::I64TruncSatF32U => un!(self, I64TruncSatF32U)?,
            O::I64TruncSatF64S => un!(self, I64TruncSatF64S)?,
            O::I64TruncSatF64U => un!(self, I64TruncSatF64U)?,
            other => self.visit_simd(other)?,
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
