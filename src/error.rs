//! Errors of the whole crate: [`Error`], its [`ErrorKind`], and the spec traps ([`TrapCode`]).

use std::fmt;

/// A convenient alias: `Result<T, wasmguard::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// A WebAssembly trap: the reason execution stopped abnormally.
///
/// `Display` gives the message the specification's test suite uses for the trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapCode {
    /// `unreachable` was executed.
    UnreachableCodeReached,
    /// A load, store or bulk memory operation went past the end of a memory.
    MemoryOutOfBounds,
    /// A table access or `call_indirect` index was past the end of a table.
    TableOutOfBounds,
    /// `call_indirect` found a null reference in the table.
    IndirectCallToNull,
    /// `call_indirect` found a function of the wrong type.
    BadSignature,
    /// Integer overflow (`INT_MIN / -1`, or a float too large for the integer type).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Conversion of NaN to an integer.
    BadConversionToInteger,
    /// Wasm call depth or value stack exhausted.
    StackOverflow,
    /// The store ran out of fuel.
    OutOfFuel,
    /// An atomic memory access at an address that is not a multiple of its size.
    UnalignedAtomic,
    /// `memory.atomic.wait32/64` on a memory that is not shared (nothing could wake it).
    AtomicWaitOnUnsharedMemory,
    /// `call_ref` or `return_call_ref` of a null function reference.
    NullFunctionReference,
    /// `ref.as_non_null` of a null reference.
    NullReference,
    /// `i31.get_s` or `i31.get_u` of a null reference.
    NullI31Reference,
    /// `ref.cast` of a reference that is not of the target type.
    CastFailure,
    /// A `struct.get` or `struct.set` of a null reference.
    NullStructReference,
    /// An `array.*` instruction on a null reference.
    NullArrayReference,
    /// An array element index (or range) past the array's length.
    ArrayOutOfBounds,
    /// A GC allocation the store's heap cannot hold, even after a collection
    /// ([`StoreLimits::gc_heap_bytes`](crate::StoreLimits::gc_heap_bytes)).
    GcHeapExhausted,
}

impl TrapCode {
    /// The message the WebAssembly spec tests use for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::UnreachableCodeReached => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::IndirectCallToNull => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::OutOfFuel => "all fuel consumed",
            TrapCode::UnalignedAtomic => "unaligned atomic",
            TrapCode::AtomicWaitOnUnsharedMemory => "expected shared memory",
            TrapCode::NullFunctionReference => "null function reference",
            TrapCode::NullReference => "null reference",
            TrapCode::NullI31Reference => "null i31 reference",
            TrapCode::CastFailure => "cast failure",
            TrapCode::NullStructReference => "null structure reference",
            TrapCode::NullArrayReference => "null array reference",
            TrapCode::ArrayOutOfBounds => "out of bounds array access",
            TrapCode::GcHeapExhausted => "out of GC heap memory",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// What went wrong, by area.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The module bytes are malformed or invalid (the decoder's message).
    #[error("invalid module: {0}")]
    Compile(String),
    /// The module uses a WebAssembly feature wasmguard does not support (yet).
    #[error("unsupported WebAssembly feature: {0}")]
    Unsupported(String),
    /// Imports could not be resolved or do not match the module's import types.
    #[error("{0}")]
    Link(String),
    /// Wasm execution trapped.
    #[error("wasm trap: {0}")]
    Trap(TrapCode),
    /// A wasm exception that no `try_table` caught: `throw` in wasm, or a host function
    /// that returned [`Error::from`] an [`ExnRef`]. Its tag and payload are in the store
    /// ([`ExnRef::tag`], [`ExnRef::values`]).
    #[error("uncaught wasm exception")]
    Exception(ExnRef),
    /// A resource limit of the store was exceeded.
    #[error("resource limit exceeded: {0}")]
    Limit(String),
    /// A value or function had the wrong type for the operation.
    #[error("type mismatch: {0}")]
    Type(String),
    /// An error raised by host code (a host function returning `Err`, for example).
    #[error("{0}")]
    Host(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// Any other error, with a message.
    #[error("{0}")]
    Message(String),
}

/// A reference to a wasm exception (an `exnref`): a handle, used together with the store
/// that owns the exception.
///
/// An exception that escapes a call is the error's [`ExnRef`] ([`Error::exception`]); a host
/// function throws one to wasm by returning it as its error (`Err(exn.into())`), which a
/// `try_table` in the calling wasm code can catch. [`ExnRef::new`] makes one,
/// [`ExnRef::tag`] and [`ExnRef::values`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExnRef {
    pub(crate) store_id: u64,
    pub(crate) index: u32,
}

impl From<ExnRef> for Error {
    /// The error that throws `exn`: returned by a host function, wasm can catch it.
    fn from(exn: ExnRef) -> Error {
        ErrorKind::Exception(exn).into()
    }
}

/// One frame of a [`WasmBacktrace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// Index of the function in its module.
    pub func_index: u32,
    /// The function's name from the name section, if any.
    pub func_name: Option<String>,
    /// The module's name from the name section, if any.
    pub module_name: Option<String>,
    /// The byte offset in the module of the instruction the frame was at (the one that
    /// trapped, failed or called the next frame), if known.
    pub module_offset: Option<usize>,
    /// The same offset from the start of the function's body.
    pub func_offset: Option<usize>,
}

/// The wasm call stack when a trap happened, innermost frame first.
///
/// A deep stack (a runaway recursion ends with a quarter of a million frames) keeps its
/// [`MAX_FRAMES`](Self::MAX_FRAMES) innermost and outermost frames; the ones between are
/// counted in [`elided`](Self::elided), so an error stays small and its message readable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasmBacktrace {
    /// The frames kept, innermost first: the innermost ones, then (if frames were elided)
    /// the outermost ones.
    pub frames: Vec<FrameInfo>,
    /// How many frames were left out between the innermost and the outermost ones kept
    /// (after `frames[MAX_FRAMES - OUTERMOST_KEPT - 1]`).
    pub elided: usize,
}

impl WasmBacktrace {
    /// The most frames a backtrace keeps.
    pub const MAX_FRAMES: usize = 100;
    /// How many of the kept frames are the outermost ones when frames are elided.
    pub const OUTERMOST_KEPT: usize = 20;

    /// A backtrace of `frames` (innermost first, `total` of them), keeping at most
    /// [`MAX_FRAMES`](Self::MAX_FRAMES).
    pub(crate) fn capped(total: usize, mut frame: impl FnMut(usize) -> FrameInfo) -> WasmBacktrace {
        if total <= Self::MAX_FRAMES {
            return WasmBacktrace { frames: (0..total).map(frame).collect(), elided: 0 };
        }
        let inner = Self::MAX_FRAMES - Self::OUTERMOST_KEPT;
        let mut frames: Vec<FrameInfo> = (0..inner).map(&mut frame).collect();
        frames.extend((total - Self::OUTERMOST_KEPT..total).map(frame));
        WasmBacktrace { frames, elided: total - Self::MAX_FRAMES }
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wasm backtrace:")?;
        let inner = if self.elided > 0 { Self::MAX_FRAMES - Self::OUTERMOST_KEPT } else { self.frames.len() };
        for (k, frame) in self.frames.iter().enumerate() {
            if k == inner && self.elided > 0 {
                writeln!(f, "  ... {} frames elided ...", self.elided)?;
            }
            let i = if k < inner { k } else { k + self.elided };
            write!(f, "  {i:>3}: ")?;
            if let Some(m) = &frame.module_name {
                write!(f, "{m}!")?;
            }
            match &frame.func_name {
                Some(name) => write!(f, "{name} (func {})", frame.func_index)?,
                None => write!(f, "<func {}>", frame.func_index)?,
            }
            match frame.module_offset {
                Some(offset) => writeln!(f, " at {offset:#x}")?,
                None => writeln!(f)?,
            }
        }
        Ok(())
    }
}

/// The error type of wasmguard: a boxed [`ErrorKind`] (one pointer wide, cheap to return),
/// plus the wasm backtrace for traps.
pub struct Error {
    inner: Box<ErrorInner>,
}

struct ErrorInner {
    kind: ErrorKind,
    backtrace: Option<WasmBacktrace>,
}

impl Error {
    /// An error carrying just a message; convenient in host functions.
    pub fn msg(message: impl fmt::Display) -> Self {
        ErrorKind::Message(message.to_string()).into()
    }

    /// Wraps any error raised by host code.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ErrorKind::Host(Box::new(error)).into()
    }

    /// A trap error.
    pub fn trap(code: TrapCode) -> Self {
        ErrorKind::Trap(code).into()
    }

    /// What kind of error this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The wasm call stack at the trap, innermost first, if this error came out of wasm
    /// execution.
    pub fn wasm_backtrace(&self) -> Option<&WasmBacktrace> {
        self.inner.backtrace.as_ref()
    }

    pub(crate) fn with_backtrace(mut self, backtrace: WasmBacktrace) -> Self {
        if self.inner.backtrace.is_none() {
            self.inner.backtrace = Some(backtrace);
        }
        self
    }

    /// The trap code, if this error is a wasm trap.
    pub fn trap_code(&self) -> Option<TrapCode> {
        match self.inner.kind {
            ErrorKind::Trap(code) => Some(code),
            _ => None,
        }
    }

    /// The exception, if this error is an uncaught wasm exception.
    pub fn exception(&self) -> Option<ExnRef> {
        match self.inner.kind {
            ErrorKind::Exception(exn) => Some(exn),
            _ => None,
        }
    }

    /// True for a link error (unknown import, incompatible import type).
    pub fn is_link(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Link(_))
    }

    /// True for a decode or validation error of a module, or an unsupported feature.
    pub fn is_compile(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Compile(_) | ErrorKind::Unsupported(_))
    }

    /// The host error inside, if this error came from host code, for downcasting.
    pub fn host_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match &self.inner.kind {
            ErrorKind::Host(e) => Some(&**e),
            _ => None,
        }
    }

    pub(crate) fn compile(message: impl fmt::Display) -> Self {
        ErrorKind::Compile(message.to_string()).into()
    }

    pub(crate) fn link(message: impl fmt::Display) -> Self {
        ErrorKind::Link(message.to_string()).into()
    }

    pub(crate) fn type_mismatch(message: impl fmt::Display) -> Self {
        ErrorKind::Type(message.to_string()).into()
    }

    pub(crate) fn limit(message: impl fmt::Display) -> Self {
        ErrorKind::Limit(message.to_string()).into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error { inner: Box::new(ErrorInner { kind, backtrace: None }) }
    }
}

/// An `anyhow::Error` from host code (feature `anyhow`, on by default): kept as the host
/// error, so [`Error::host_error`] finds it and its message and sources are shown.
#[cfg(feature = "anyhow")]
impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        ErrorKind::Host(error.into()).into()
    }
}

impl From<TrapCode> for Error {
    fn from(code: TrapCode) -> Self {
        Error::trap(code)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner.kind, f)?;
        if let Some(bt) = &self.inner.backtrace {
            write!(f, "\n{bt}")?;
        }
        Ok(())
    }
}

/// Shows the error message; the alternate form (`{:#}`) adds the wasm backtrace.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.kind, f)?;
        if f.alternate()
            && let Some(bt) = &self.inner.backtrace
        {
            write!(f, "\n{bt}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            ErrorKind::Host(e) => Some(&**e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_send_sync<T: Send + Sync + std::error::Error>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn trap_display_has_spec_message() {
        let e = Error::trap(TrapCode::IntegerDivisionByZero);
        assert!(e.to_string().contains("integer divide by zero"));
        assert_eq!(e.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    }
}
