//! Translation of the fixed-width SIMD operators: each `v128` operand and result takes
//! two slots; 16-byte immediates go to the function's constant table. The relaxed
//! operators run as the operations [`relaxed::of`] chooses.

use wasmparser::Operator;

use super::Translator;
use crate::error::Result;
use crate::exec::ir::{Instr, LoadKind};
use crate::exec::simd::relaxed::{self, Relaxed};
use crate::exec::simd::{LaneShape, SimdBinary, SimdLoad, SimdShift, SimdSplat, SimdTest, SimdUnary};

impl Translator<'_> {
    /// Translates one (already validated) SIMD operator; anything else goes on to
    /// [`Translator::visit_atomic`].
    pub(super) fn visit_simd(&mut self, op: Operator<'_>) -> Result<()> {
        let op = match relaxed::of(&op) {
            Some(Relaxed::Unary(op)) => return self.v128_unary(op),
            Some(Relaxed::Binary(op)) => return self.v128_binary(op),
            Some(Relaxed::Bitselect) => return self.v128_bitselect(),
            Some(Relaxed::Ternary(op)) => {
                let base = self.pop_operands_in_place(3);
                self.push_temp_v128()?;
                self.emit(Instr::V128Ternary { op, base });
                return Ok(());
            }
            None => op,
        };
        if let Some(op) = SimdUnary::of(&op) {
            return self.v128_unary(op);
        }
        if let Some(op) = SimdBinary::of(&op) {
            return self.v128_binary(op);
        }
        if let Some(op) = SimdShift::of(&op) {
            let b = self.pop();
            let a = self.pop();
            let dst = self.push_temp_v128()?;
            self.emit(Instr::V128Shift { op, dst, a, b });
            return Ok(());
        }
        if let Some(op) = SimdTest::of(&op) {
            let src = self.pop();
            let dst = self.push_temp()?;
            self.emit(Instr::V128Test { op, dst, src });
            return Ok(());
        }
        if let Some(op) = SimdSplat::of(&op) {
            let src = self.pop();
            let dst = self.push_temp_v128()?;
            self.emit(Instr::V128Splat { op, dst, src });
            return Ok(());
        }
        use Operator as O;
        match op {
            O::V128Const { value } => {
                let index = self.add_const(u128::from_le_bytes(*value.bytes()))?;
                let dst = self.push_temp_v128()?;
                self.emit(Instr::V128Const { dst, index });
            }
            O::I8x16Shuffle { lanes } => {
                let index = self.add_const(u128::from_le_bytes(lanes))?;
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp_v128()?;
                self.emit(Instr::I8x16Shuffle { dst, a, b });
                self.emit(Instr::Extra { a: index, b: 0 });
            }
            O::V128Bitselect => self.v128_bitselect()?,
            O::V128Load { memarg } => {
                let (mem, offset) = self.memarg(&memarg)?;
                let addr = self.pop();
                let dst = self.push_temp_v128()?;
                match self.fast_offset(mem, offset) {
                    Some(offset) => self.emit(Instr::V128Load { dst, addr, offset }),
                    None => self.emit_mem(Instr::MemLoad { kind: LoadKind::V128, dst, addr, mem }, offset),
                };
            }
            O::V128Store { memarg } => {
                let (mem, offset) = self.memarg(&memarg)?;
                let val = self.pop();
                let addr = self.pop();
                match self.fast_offset(mem, offset) {
                    Some(offset) => self.emit(Instr::V128Store { addr, val, offset }),
                    None => self.emit_mem(Instr::MemStore { len_bytes: 16, addr, val, mem }, offset),
                };
            }
            O::V128Load8x8S { memarg } => self.load_ext(&memarg, SimdLoad::Load8x8S)?,
            O::V128Load8x8U { memarg } => self.load_ext(&memarg, SimdLoad::Load8x8U)?,
            O::V128Load16x4S { memarg } => self.load_ext(&memarg, SimdLoad::Load16x4S)?,
            O::V128Load16x4U { memarg } => self.load_ext(&memarg, SimdLoad::Load16x4U)?,
            O::V128Load32x2S { memarg } => self.load_ext(&memarg, SimdLoad::Load32x2S)?,
            O::V128Load32x2U { memarg } => self.load_ext(&memarg, SimdLoad::Load32x2U)?,
            O::V128Load8Splat { memarg } => self.load_ext(&memarg, SimdLoad::Load8Splat)?,
            O::V128Load16Splat { memarg } => self.load_ext(&memarg, SimdLoad::Load16Splat)?,
            O::V128Load32Splat { memarg } => self.load_ext(&memarg, SimdLoad::Load32Splat)?,
            O::V128Load64Splat { memarg } => self.load_ext(&memarg, SimdLoad::Load64Splat)?,
            O::V128Load32Zero { memarg } => self.load_ext(&memarg, SimdLoad::Load32Zero)?,
            O::V128Load64Zero { memarg } => self.load_ext(&memarg, SimdLoad::Load64Zero)?,
            O::V128Load8Lane { memarg, lane } => self.load_lane(&memarg, 1, lane)?,
            O::V128Load16Lane { memarg, lane } => self.load_lane(&memarg, 2, lane)?,
            O::V128Load32Lane { memarg, lane } => self.load_lane(&memarg, 4, lane)?,
            O::V128Load64Lane { memarg, lane } => self.load_lane(&memarg, 8, lane)?,
            O::V128Store8Lane { memarg, lane } => self.store_lane(&memarg, 1, lane)?,
            O::V128Store16Lane { memarg, lane } => self.store_lane(&memarg, 2, lane)?,
            O::V128Store32Lane { memarg, lane } => self.store_lane(&memarg, 4, lane)?,
            O::V128Store64Lane { memarg, lane } => self.store_lane(&memarg, 8, lane)?,
            O::I8x16ExtractLaneS { lane } => self.extract_lane(LaneShape::I8S, lane)?,
            O::I8x16ExtractLaneU { lane } => self.extract_lane(LaneShape::I8U, lane)?,
            O::I16x8ExtractLaneS { lane } => self.extract_lane(LaneShape::I16S, lane)?,
            O::I16x8ExtractLaneU { lane } => self.extract_lane(LaneShape::I16U, lane)?,
            O::I32x4ExtractLane { lane } | O::F32x4ExtractLane { lane } => self.extract_lane(LaneShape::I32, lane)?,
            O::I64x2ExtractLane { lane } | O::F64x2ExtractLane { lane } => self.extract_lane(LaneShape::I64, lane)?,
            O::I8x16ReplaceLane { lane } => self.replace_lane(LaneShape::I8U, lane)?,
            O::I16x8ReplaceLane { lane } => self.replace_lane(LaneShape::I16U, lane)?,
            O::I32x4ReplaceLane { lane } | O::F32x4ReplaceLane { lane } => self.replace_lane(LaneShape::I32, lane)?,
            O::I64x2ReplaceLane { lane } | O::F64x2ReplaceLane { lane } => self.replace_lane(LaneShape::I64, lane)?,
            other => return self.visit_atomic(other),
        }
        Ok(())
    }

    fn v128_unary(&mut self, op: SimdUnary) -> Result<()> {
        let src = self.pop();
        let dst = self.push_temp_v128()?;
        self.emit(Instr::V128Unary { op, dst, src });
        Ok(())
    }

    fn v128_binary(&mut self, op: SimdBinary) -> Result<()> {
        let b = self.pop();
        let a = self.pop();
        let dst = self.push_temp_v128()?;
        self.emit(Instr::V128Binary { op, dst, a, b });
        Ok(())
    }

    /// `v128.bitselect` (and the relaxed lane selects, which run as it).
    fn v128_bitselect(&mut self) -> Result<()> {
        let base = self.pop_operands_in_place(3);
        self.push_temp_v128()?;
        self.emit(Instr::V128Bitselect { base });
        Ok(())
    }

    fn add_const(&mut self, value: u128) -> Result<u32> {
        let index = u32::try_from(self.consts.len()).map_err(|_| super::too_large())?;
        self.consts.push(value);
        Ok(index)
    }

    /// Emits a generic memory instruction followed by its offset; returns its position.
    fn emit_mem(&mut self, instr: Instr, offset: u64) -> usize {
        let at = self.emit(instr);
        self.emit(super::offset_extra(offset));
        at
    }

    fn load_ext(&mut self, memarg: &wasmparser::MemArg, kind: SimdLoad) -> Result<()> {
        let (mem, offset) = self.memarg(memarg)?;
        let addr = self.pop();
        let dst = self.push_temp_v128()?;
        match self.fast_offset(mem, offset) {
            Some(offset) => self.emit(Instr::V128LoadExt { kind, dst, addr, offset }),
            None => self.emit_mem(Instr::MemLoad { kind: LoadKind::V128Ext(kind), dst, addr, mem }, offset),
        };
        Ok(())
    }

    fn load_lane(&mut self, memarg: &wasmparser::MemArg, len_bytes: u8, lane: u8) -> Result<()> {
        let (mem, offset) = self.memarg(memarg)?;
        let v = self.pop();
        let addr = self.pop();
        let dst = self.push_temp_v128()?;
        match self.fast_offset(mem, offset) {
            Some(offset) => {
                self.emit(Instr::V128LoadLane { len_bytes, lane, dst, v, addr });
                self.emit(Instr::Extra { a: offset, b: 0 });
            }
            None => {
                self.emit_mem(Instr::MemLoadLane { len_bytes, lane, dst, v, addr }, offset);
                self.emit(Instr::Extra { a: mem, b: 0 });
            }
        }
        Ok(())
    }

    fn store_lane(&mut self, memarg: &wasmparser::MemArg, len_bytes: u8, lane: u8) -> Result<()> {
        let (mem, offset) = self.memarg(memarg)?;
        let v = self.pop();
        let addr = self.pop();
        match self.fast_offset(mem, offset) {
            Some(offset) => self.emit(Instr::V128StoreLane { len_bytes, lane, addr, v, offset }),
            None => self.emit_mem(Instr::MemStoreLane { len_bytes, lane, addr, v, mem }, offset),
        };
        Ok(())
    }

    fn extract_lane(&mut self, shape: LaneShape, lane: u8) -> Result<()> {
        let src = self.pop();
        let dst = self.push_temp()?;
        self.emit(Instr::V128ExtractLane { shape, lane, dst, src });
        Ok(())
    }

    fn replace_lane(&mut self, shape: LaneShape, lane: u8) -> Result<()> {
        let x = self.pop();
        let v = self.pop();
        let dst = self.push_temp_v128()?;
        self.emit(Instr::V128ReplaceLane { shape, lane, dst, v, x });
        Ok(())
    }
}
