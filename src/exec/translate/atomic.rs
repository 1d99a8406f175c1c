//! Translation of the threads proposal's atomic operators: every one becomes a generic
//! `Atomic*` instruction naming its memory, followed by an `Extra` with its 64-bit offset.
//! They run out of line (`exec::mem`), on shared and unshared memories alike.

use wasmparser::Operator;

use super::{Translator, offset_extra};
use crate::error::{ErrorKind, Result};
use crate::exec::ir::{AtomicOp, Instr};

/// The shape of an atomic operator.
enum Atomic {
    Load(u8),
    Store(u8),
    Rmw(AtomicOp, u8),
    Cmpxchg(u8),
    Wait(u8),
    Notify,
}

impl Atomic {
    /// The shape of `op` and its memory immediate, or `None` if `op` is not a memory atomic.
    fn of(op: &Operator<'_>) -> Option<(Atomic, wasmparser::MemArg)> {
        use AtomicOp::{Add, And, Or, Sub, Xchg, Xor};
        use Operator as O;
        let shape = match *op {
            O::I32AtomicLoad { memarg } => (Atomic::Load(4), memarg),
            O::I64AtomicLoad { memarg } => (Atomic::Load(8), memarg),
            O::I32AtomicLoad8U { memarg } | O::I64AtomicLoad8U { memarg } => (Atomic::Load(1), memarg),
            O::I32AtomicLoad16U { memarg } | O::I64AtomicLoad16U { memarg } => (Atomic::Load(2), memarg),
            O::I64AtomicLoad32U { memarg } => (Atomic::Load(4), memarg),
            O::I32AtomicStore { memarg } | O::I64AtomicStore32 { memarg } => (Atomic::Store(4), memarg),
            O::I64AtomicStore { memarg } => (Atomic::Store(8), memarg),
            O::I32AtomicStore8 { memarg } | O::I64AtomicStore8 { memarg } => (Atomic::Store(1), memarg),
            O::I32AtomicStore16 { memarg } | O::I64AtomicStore16 { memarg } => (Atomic::Store(2), memarg),

            O::I32AtomicRmwAdd { memarg } | O::I64AtomicRmw32AddU { memarg } => (Atomic::Rmw(Add, 4), memarg),
            O::I64AtomicRmwAdd { memarg } => (Atomic::Rmw(Add, 8), memarg),
            O::I32AtomicRmw8AddU { memarg } | O::I64AtomicRmw8AddU { memarg } => (Atomic::Rmw(Add, 1), memarg),
            O::I32AtomicRmw16AddU { memarg } | O::I64AtomicRmw16AddU { memarg } => (Atomic::Rmw(Add, 2), memarg),
            O::I32AtomicRmwSub { memarg } | O::I64AtomicRmw32SubU { memarg } => (Atomic::Rmw(Sub, 4), memarg),
            O::I64AtomicRmwSub { memarg } => (Atomic::Rmw(Sub, 8), memarg),
            O::I32AtomicRmw8SubU { memarg } | O::I64AtomicRmw8SubU { memarg } => (Atomic::Rmw(Sub, 1), memarg),
            O::I32AtomicRmw16SubU { memarg } | O::I64AtomicRmw16SubU { memarg } => (Atomic::Rmw(Sub, 2), memarg),
            O::I32AtomicRmwAnd { memarg } | O::I64AtomicRmw32AndU { memarg } => (Atomic::Rmw(And, 4), memarg),
            O::I64AtomicRmwAnd { memarg } => (Atomic::Rmw(And, 8), memarg),
            O::I32AtomicRmw8AndU { memarg } | O::I64AtomicRmw8AndU { memarg } => (Atomic::Rmw(And, 1), memarg),
            O::I32AtomicRmw16AndU { memarg } | O::I64AtomicRmw16AndU { memarg } => (Atomic::Rmw(And, 2), memarg),
            O::I32AtomicRmwOr { memarg } | O::I64AtomicRmw32OrU { memarg } => (Atomic::Rmw(Or, 4), memarg),
            O::I64AtomicRmwOr { memarg } => (Atomic::Rmw(Or, 8), memarg),
            O::I32AtomicRmw8OrU { memarg } | O::I64AtomicRmw8OrU { memarg } => (Atomic::Rmw(Or, 1), memarg),
            O::I32AtomicRmw16OrU { memarg } | O::I64AtomicRmw16OrU { memarg } => (Atomic::Rmw(Or, 2), memarg),
            O::I32AtomicRmwXor { memarg } | O::I64AtomicRmw32XorU { memarg } => (Atomic::Rmw(Xor, 4), memarg),
            O::I64AtomicRmwXor { memarg } => (Atomic::Rmw(Xor, 8), memarg),
            O::I32AtomicRmw8XorU { memarg } | O::I64AtomicRmw8XorU { memarg } => (Atomic::Rmw(Xor, 1), memarg),
            O::I32AtomicRmw16XorU { memarg } | O::I64AtomicRmw16XorU { memarg } => (Atomic::Rmw(Xor, 2), memarg),
            O::I32AtomicRmwXchg { memarg } | O::I64AtomicRmw32XchgU { memarg } => (Atomic::Rmw(Xchg, 4), memarg),
            O::I64AtomicRmwXchg { memarg } => (Atomic::Rmw(Xchg, 8), memarg),
            O::I32AtomicRmw8XchgU { memarg } | O::I64AtomicRmw8XchgU { memarg } => (Atomic::Rmw(Xchg, 1), memarg),
            O::I32AtomicRmw16XchgU { memarg } | O::I64AtomicRmw16XchgU { memarg } => (Atomic::Rmw(Xchg, 2), memarg),

            O::I32AtomicRmwCmpxchg { memarg } | O::I64AtomicRmw32CmpxchgU { memarg } => (Atomic::Cmpxchg(4), memarg),
            O::I64AtomicRmwCmpxchg { memarg } => (Atomic::Cmpxchg(8), memarg),
            O::I32AtomicRmw8CmpxchgU { memarg } | O::I64AtomicRmw8CmpxchgU { memarg } => (Atomic::Cmpxchg(1), memarg),
            O::I32AtomicRmw16CmpxchgU { memarg } | O::I64AtomicRmw16CmpxchgU { memarg } => (Atomic::Cmpxchg(2), memarg),
            O::MemoryAtomicWait32 { memarg } => (Atomic::Wait(4), memarg),
            O::MemoryAtomicWait64 { memarg } => (Atomic::Wait(8), memarg),
            O::MemoryAtomicNotify { memarg } => (Atomic::Notify, memarg),
            _ => return None,
        };
        Some(shape)
    }
}

impl Translator<'_> {
    /// Translates one (already validated) atomic operator; anything else is unsupported.
    pub(super) fn visit_atomic(&mut self, op: Operator<'_>) -> Result<()> {
        if let Operator::AtomicFence { .. } = op {
            self.emit(Instr::AtomicFence);
            return Ok(());
        }
        let Some((shape, memarg)) = Atomic::of(&op) else {
            return Err(ErrorKind::Unsupported(format!("operator {op:?}")).into());
        };
        let (mem, offset) = self.memarg(&memarg)?;
        match shape {
            Atomic::Load(width) => {
                let addr = self.pop();
                let dst = self.push_temp()?;
                self.emit(Instr::AtomicLoad { width, dst, addr, mem });
            }
            Atomic::Store(width) => {
                let val = self.pop();
                let addr = self.pop();
                self.emit(Instr::AtomicStore { width, addr, val, mem });
            }
            Atomic::Rmw(op, width) => {
                let val = self.pop();
                let addr = self.pop();
                let dst = self.push_temp()?;
                self.emit(Instr::AtomicRmw { op, width, dst, addr, val });
                self.emit(offset_extra(offset));
                self.emit(Instr::Extra { a: mem, b: 0 });
                return Ok(());
            }
            Atomic::Cmpxchg(width) => {
                let base = self.pop_operands_in_place(3);
                self.push_temp()?;
                self.emit(Instr::AtomicCmpxchg { width, base, mem });
            }
            Atomic::Wait(width) => {
                let base = self.pop_operands_in_place(3);
                self.push_temp()?;
                self.emit(Instr::AtomicWait { width, base, mem });
            }
            Atomic::Notify => {
                let base = self.pop_operands_in_place(2);
                self.push_temp()?;
                self.emit(Instr::AtomicNotify { base, mem });
            }
        }
        self.emit(offset_extra(offset));
        Ok(())
    }
}
