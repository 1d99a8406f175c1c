//! The translation of the GC proposal's struct and array instructions, casts to concrete
//! types and `br_on_cast`: each to an [`Instr::Gc`] over its operands in place (or, for
//! casts to abstract types, the bit tests of [`ref_test`]).

use wasmparser::{HeapType, Operator, RefType, UnpackedIndex};

use super::{Test, Translator};
use crate::engine::layout::{FieldKind, GcLayout, GcType};
use crate::error::{Error, Result};
use crate::exec::ir::{Instr, gc_op, ref_test};

fn internal(what: &str) -> Error {
    Error::msg(format!("internal error: {what}"))
}

impl Translator<'_> {
    /// The layout of the module's struct or array type `ty`.
    fn layout(&self, ty: u32) -> Result<&GcType> {
        match self.module.gc_types.get(ty as usize) {
            Some(Some(t)) => Ok(t),
            _ => Err(internal("a GC instruction on a type that is not a struct or array")),
        }
    }

    fn struct_field(&self, ty: u32, field: u32) -> Result<(FieldKind, u32)> {
        match &self.layout(ty)?.layout {
            GcLayout::Struct { fields, .. } => {
                let f = fields.get(field as usize).ok_or_else(|| internal("unknown struct field"))?;
                Ok((f.kind, f.slot))
            }
            GcLayout::Array { .. } => Err(internal("a struct instruction on an array type")),
        }
    }

    fn array_elem(&self, ty: u32) -> Result<FieldKind> {
        match self.layout(ty)?.layout {
            GcLayout::Array { elem, .. } => Ok(elem),
            GcLayout::Struct { .. } => Err(internal("an array instruction on a struct type")),
        }
    }

    /// Pops `n` operands into place (in consecutive slots from the first, two for a
    /// `v128`), emits `op` over them and pushes its result (`Some(true)`: a `v128`, `None`:
    /// none).
    fn gc(&mut self, op: u32, n: u32, imm: u32, result: Option<bool>) -> Result<()> {
        let base = self.pop_operands_in_place(n);
        match result {
            Some(true) => {
                self.push_temp_v128()?;
            }
            Some(false) => {
                self.push_temp()?;
            }
            None => {}
        }
        self.emit(Instr::Gc { op, base, imm });
        Ok(())
    }

    /// Translates `op` if it is one of this file's, else returns `false`.
    pub(super) fn visit_gc(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator as O;
        match *op {
            O::StructNew { struct_type_index: t } => {
                let GcLayout::Struct { fields, .. } = &self.layout(t)?.layout else {
                    return Err(internal("struct.new of an array type"));
                };
                let n = fields.len() as u32;
                self.gc(gc_op::STRUCT_NEW, n, t, Some(false))?;
            }
            O::StructNewDefault { struct_type_index: t } => self.gc(gc_op::STRUCT_NEW_DEFAULT, 0, t, Some(false))?,
            O::StructGet { struct_type_index: t, field_index: f }
            | O::StructGetS { struct_type_index: t, field_index: f }
            | O::StructGetU { struct_type_index: t, field_index: f } => {
                let (kind, slot) = self.struct_field(t, f)?;
                let signed = matches!(op, O::StructGetS { .. });
                let code = gc_op::with_kind(gc_op::STRUCT_GET, kind, signed);
                self.gc(code, 1, slot, Some(kind == FieldKind::V128))?;
            }
            O::StructSet { struct_type_index: t, field_index: f } => {
                let (kind, slot) = self.struct_field(t, f)?;
                self.gc(gc_op::with_kind(gc_op::STRUCT_SET, kind, false), 2, slot, None)?;
            }
            O::ArrayNew { array_type_index: t } => {
                self.array_elem(t)?;
                self.gc(gc_op::ARRAY_NEW, 2, t, Some(false))?;
            }
            O::ArrayNewDefault { array_type_index: t } => self.gc(gc_op::ARRAY_NEW_DEFAULT, 1, t, Some(false))?,
            O::ArrayNewFixed { array_type_index: t, array_size: n } => {
                self.array_elem(t)?;
                if n >= 1 << 24 {
                    return Err(internal("array.new_fixed of too many elements"));
                }
                self.gc(gc_op::ARRAY_NEW_FIXED | (n << 8), n, t, Some(false))?;
            }
            O::ArrayNewData { array_type_index: t, array_data_index: d }
            | O::ArrayNewElem { array_type_index: t, array_elem_index: d } => {
                self.array_elem(t)?;
                if d >= 1 << 24 {
                    return Err(internal("segment index too large"));
                }
                let sub =
                    if matches!(op, O::ArrayNewData { .. }) { gc_op::ARRAY_NEW_DATA } else { gc_op::ARRAY_NEW_ELEM };
                self.gc(sub | (d << 8), 2, t, Some(false))?;
            }
            O::ArrayGet { array_type_index: t }
            | O::ArrayGetS { array_type_index: t }
            | O::ArrayGetU { array_type_index: t } => {
                let elem = self.array_elem(t)?;
                let code = gc_op::with_kind(gc_op::ARRAY_GET, elem, matches!(op, O::ArrayGetS { .. }));
                self.gc(code, 2, 0, Some(elem == FieldKind::V128))?;
            }
            O::ArraySet { array_type_index: t } => {
                let elem = self.array_elem(t)?;
                self.gc(gc_op::with_kind(gc_op::ARRAY_SET, elem, false), 3, 0, None)?;
            }
            O::ArrayLen => self.gc(gc_op::ARRAY_LEN, 1, 0, Some(false))?,
            O::ArrayFill { array_type_index: t } => {
                let elem = self.array_elem(t)?;
                self.gc(gc_op::with_kind(gc_op::ARRAY_FILL, elem, false), 4, 0, None)?;
            }
            O::ArrayCopy { .. } => self.gc(gc_op::ARRAY_COPY, 5, 0, None)?,
            O::ArrayInitData { array_data_index: d, .. } => self.gc(gc_op::ARRAY_INIT_DATA, 4, d, None)?,
            O::ArrayInitElem { array_elem_index: e, .. } => self.gc(gc_op::ARRAY_INIT_ELEM, 4, e, None)?,
            // The slot encodings of `any` and `extern` references agree: nothing to do.
            O::AnyConvertExtern | O::ExternConvertAny => {}
            O::BrOnCast { relative_depth, to_ref_type, .. } => self.br_on_cast(relative_depth, to_ref_type, false)?,
            O::BrOnCastFail { relative_depth, to_ref_type, .. } => {
                self.br_on_cast(relative_depth, to_ref_type, true)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The `op` of a cast to the concrete type `hty` (`None` for an abstract one).
    fn concrete_cast(&self, op: u32, hty: HeapType, nullable: bool) -> Result<Option<(u32, u32)>> {
        let HeapType::Concrete(UnpackedIndex::Module(t)) = hty else {
            return Ok(None);
        };
        let id = *self.module.type_ids.get(t as usize).ok_or_else(|| internal("unknown type"))?;
        let depth = self.module.engine.supers(id).len().saturating_sub(1);
        let func = self.module.gc_types.get(t as usize).is_none_or(Option::is_none);
        Ok(Some((gc_op::cast(op, nullable, func, depth), id)))
    }

    /// `ref.test`: replaces the reference on top with whether it is of `(ref null? hty)`.
    pub(super) fn ref_test(&mut self, hty: HeapType, nullable: bool) -> Result<()> {
        match self.concrete_cast(gc_op::REF_TEST, hty, nullable)? {
            Some((code, id)) => self.gc(code, 1, id, Some(false)),
            None => {
                let test = abstract_test(hty, nullable)?;
                let src = self.pop();
                let dst = self.push_temp()?;
                self.emit_producer(Instr::RefTest { dst, src, test });
                Ok(())
            }
        }
    }

    /// `ref.cast`: traps unless the reference on top is of `(ref null? hty)`.
    pub(super) fn ref_cast(&mut self, hty: HeapType, nullable: bool) -> Result<()> {
        match self.concrete_cast(gc_op::REF_CAST, hty, nullable)? {
            Some((code, id)) => {
                let r = self.slot_of(self.top_index());
                self.emit(Instr::Gc { op: code, base: r, imm: id });
            }
            None => {
                let test = abstract_test(hty, nullable)?;
                // The reference stays where it is (a pending `local.get` too).
                let r = self.slot_of(self.top_index());
                self.emit(Instr::RefCast { r, test });
            }
        }
        Ok(())
    }

    /// `br_on_cast` (`fail`: `br_on_cast_fail`): branches with the reference if it is (is
    /// not) of `to`, else leaves it on the stack.
    fn br_on_cast(&mut self, depth: u32, to: RefType, fail: bool) -> Result<()> {
        let r = self.slot_of(self.top_index());
        let t = self.push_temp()?;
        self.emit(Instr::Copy { dst: t, src: r });
        self.ref_test(to.heap_type(), to.is_nullable())?;
        let cond = self.pop();
        if fail {
            self.emit(Instr::I32Eqz { dst: cond, src: cond });
        }
        self.branch_if(cond, depth, Test::NonZero);
        Ok(())
    }
}

fn abstract_test(hty: HeapType, nullable: bool) -> Result<u32> {
    ref_test::of(hty, nullable).ok_or_else(|| internal("a cast to an unknown heap type"))
}
