//! Validation of a function body without translating it, for translation on first call.
//!
//! The body is streamed through wasmparser's validator as a visitor, so no [`Operator`]
//! value is built for an operator that validates; a thin wrapper notes the two things the
//! validator leaves to the engine (the operators wasmguard does not translate, and the
//! reserved memory-index byte) and they are checked after the operator, in the order
//! [`translate_function`](super::translate_function) checks them. The errors are the
//! same either way, which `tests/lazy_translation.rs` checks.

use wasmparser::{
    BinaryReader, FrameKind, FrameStack, FuncValidator, FunctionBody, Operator, ValidatorResources, VisitOperator,
    VisitSimdOperator,
};

use super::translate::check_memory_index;
use crate::error::{Error, Result};
use crate::module::decode_error;

/// What the last operator needs checked once the validator has accepted it.
#[derive(Default)]
enum Pending {
    #[default]
    Nothing,
    /// An operator wasmguard validates but does not translate (the module's error).
    Untranslated(Error),
    /// `memory.size` or `memory.grow`, whose memory index must be a single zero byte
    /// unless multi-memory is enabled.
    MemoryIndex,
}

/// The validator's visitor for one operator, noting what [`Pending`] needs.
struct Checking<'p, V> {
    inner: V,
    pending: &'p mut Pending,
}

impl<V: FrameStack> FrameStack for Checking<'_, V> {
    fn current_frame(&self) -> Option<FrameKind> {
        self.inner.current_frame()
    }
}

/// What one visit method does besides delegating: most of the GC proposal's operators are
/// validated (the type system of typed function references needs them) but not translated.
macro_rules! note_pending {
    ($self:ident gc $op:ident { $($arg:ident),* }) => {
        let op = Operator::$op { $($arg),* };
        if super::translate::untranslated(&op) {
            *$self.pending = Pending::Untranslated(super::translate::untranslated_error(&op));
        }
    };
    ($self:ident mvp MemorySize { $($arg:ident),* }) => {
        *$self.pending = Pending::MemoryIndex;
    };
    ($self:ident mvp MemoryGrow { $($arg:ident),* }) => {
        *$self.pending = Pending::MemoryIndex;
    };
    ($self:ident $proposal:ident $op:ident { $($arg:ident),* }) => {};
}

macro_rules! define_checking_visit {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            #[inline]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                note_pending!(self $proposal $op { $($($arg),*)? });
                self.inner.$visit($($($arg),*)?)
            }
        )*
    };
}

impl<'a, V> VisitOperator<'a> for Checking<'_, V>
where
    V: VisitOperator<'a, Output = wasmparser::Result<()>>,
{
    type Output = wasmparser::Result<()>;

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        // No SIMD operator needs a check of ours.
        self.inner.simd_visitor()
    }

    wasmparser::for_each_visit_operator!(define_checking_visit);
}

/// Validates the body of a function without translating it: the same checks, and so the
/// same errors, as [`translate_function`](super::translate_function) with a validator.
pub(crate) fn validate_function(
    multi_memory: bool,
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
) -> Result<()> {
    let mut reader: BinaryReader<'_> = body.get_binary_reader();
    validator.read_locals(&mut reader).map_err(decode_error)?;
    let mut pending = Pending::Nothing;
    while !reader.eof() {
        let offset = reader.original_position();
        let mut visitor = Checking { inner: validator.visitor(offset), pending: &mut pending };
        reader.visit_operator(&mut visitor).and_then(|r| r).map_err(decode_error)?;
        if matches!(pending, Pending::Nothing) {
            continue;
        }
        match std::mem::take(&mut pending) {
            Pending::Nothing => {}
            Pending::Untranslated(e) => return Err(e),
            Pending::MemoryIndex => check_memory_index(multi_memory, offset, reader.original_position() - offset)?,
        }
    }
    reader.finish_expression(&validator.visitor(reader.original_position())).map_err(decode_error)
}
