//! [`WasiCtx`] (the state of one WASI program: arguments, environment, descriptor table,
//! clocks) and [`WasiCtxBuilder`], plus the in-memory standard streams [`InputBuffer`] and
//! [`OutputBuffer`].

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::fd::{Descriptor, DirDesc};

/// Where a standard input stream reads from.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    /// End of file at once.
    Empty,
    /// The host process's standard input.
    Inherit,
    /// Bytes in memory.
    Buffer(InputBuffer),
}

impl Input {
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Empty => Ok(0),
            Input::Inherit => io::stdin().read(buf),
            Input::Buffer(b) => b.read(buf),
        }
    }
}

/// Where a standard output stream writes to.
#[derive(Debug, Clone)]
pub(crate) enum Output {
    /// Discarded.
    Null,
    /// The host process's standard output.
    Stdout,
    /// The host process's standard error.
    Stderr,
    /// Bytes in memory.
    Buffer(OutputBuffer),
}

impl Output {
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Null => Ok(buf.len()),
            Output::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(buf)?;
                out.flush()?;
                Ok(buf.len())
            }
            Output::Stderr => {
                io::stderr().write_all(buf)?;
                Ok(buf.len())
            }
            Output::Buffer(b) => {
                b.append(buf);
                Ok(buf.len())
            }
        }
    }
}

/// Standard input from bytes in memory: the guest reads them, then end of file.
#[derive(Debug, Clone, Default)]
pub struct InputBuffer {
    inner: Arc<Mutex<io::Cursor<Vec<u8>>>>,
}

impl InputBuffer {
    /// An input that yields `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        InputBuffer { inner: Arc::new(Mutex::new(io::Cursor::new(bytes.into()))) }
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).read(buf)
    }
}

/// Standard output or error captured in memory. Clones share the same buffer: keep one to
/// read what the guest wrote.
///
/// ```
/// use wasmguard::wasi::OutputBuffer;
/// let out = OutputBuffer::new();
/// assert!(out.contents().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct OutputBuffer {
    inner: Arc<Mutex<Vec<u8>>>,
}

impl OutputBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        OutputBuffer::default()
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn contents_string(&self) -> String {
        String::from_utf8_lossy(&self.contents()).into_owned()
    }

    fn append(&self, bytes: &[u8]) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
    }
}

/// The state of one WASI program. Build it with [`WasiCtxBuilder`], keep it in the store's
/// host state, and give [`add_to_linker`](super::add_to_linker) a way to reach it.
#[derive(Debug)]
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: BTreeMap<u32, Descriptor>,
    pub(crate) start: Instant,
    /// The longest wait `poll_oneoff` may sleep (see [`WasiCtxBuilder::max_sleep`]).
    pub(crate) max_sleep: Option<Duration>,
}

impl WasiCtx {
    /// The lowest free descriptor number.
    pub(crate) fn insert(&mut self, desc: Descriptor) -> Result<u32, super::Errno> {
        let mut fd = 0u32;
        for &used in self.fds.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(super::Errno::MFILE)?;
        }
        self.fds.insert(fd, desc);
        Ok(fd)
    }
}

/// Builds a [`WasiCtx`]: arguments, environment, preopened directories and standard
/// streams. By default there are no arguments, no variables and no preopens, standard
/// input is empty and standard output and error are discarded.
///
/// ```
/// use wasmguard::wasi::{OutputBuffer, WasiCtxBuilder};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let out = OutputBuffer::new();
/// let ctx = WasiCtxBuilder::new()
///     .args(["prog", "--verbose"])
///     .env("HOME", "/home/guest")
///     .preopened_dir(std::env::temp_dir(), "/tmp")?
///     .stdout(out.clone())
///     .build();
/// # drop(ctx);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    preopens: Vec<(Dir, String)>,
    max_sleep: Option<Duration>,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            stdin: Input::Empty,
            stdout: Output::Null,
            stderr: Output::Null,
            preopens: Vec::new(),
            max_sleep: None,
        }
    }

    /// The longest `poll_oneoff` may sleep for a guest: a wait for a clock further away
    /// than this is refused with [`Errno::NOTSUP`](super::Errno::NOTSUP) (58) instead of
    /// blocking the host thread. By default waits are not bounded, as on a native host;
    /// for untrusted code, bound them (or bound the whole run, as the CLI's `--timeout`
    /// does). `Duration::ZERO` refuses every wait.
    pub fn max_sleep(mut self, limit: Duration) -> Self {
        self.max_sleep = Some(limit);
        self
    }

    /// Appends one argument (the first is the program name, by convention).
    pub fn arg(mut self, arg: impl AsRef<str>) -> Self {
        self.args.push(arg.as_ref().as_bytes().to_vec());
        self
    }

    /// Appends arguments.
    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().as_bytes().to_vec()));
        self
    }

    /// Adds the environment variable `key=value`.
    pub fn env(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.env.push(format!("{}={}", key.as_ref(), value.as_ref()).into_bytes());
        self
    }

    /// Adds environment variables.
    pub fn envs<K: AsRef<str>, V: AsRef<str>>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self {
        for (k, v) in vars {
            self = self.env(k, v);
        }
        self
    }

    /// Standard input reads from `input`.
    pub fn stdin(mut self, input: InputBuffer) -> Self {
        self.stdin = Input::Buffer(input);
        self
    }

    /// Standard output goes to `output`.
    pub fn stdout(mut self, output: OutputBuffer) -> Self {
        self.stdout = Output::Buffer(output);
        self
    }

    /// Standard error goes to `output`.
    pub fn stderr(mut self, output: OutputBuffer) -> Self {
        self.stderr = Output::Buffer(output);
        self
    }

    /// Standard input is the host process's.
    pub fn inherit_stdin(mut self) -> Self {
        self.stdin = Input::Inherit;
        self
    }

    /// Standard output is the host process's.
    pub fn inherit_stdout(mut self) -> Self {
        self.stdout = Output::Stdout;
        self
    }

    /// Standard error is the host process's.
    pub fn inherit_stderr(mut self) -> Self {
        self.stderr = Output::Stderr;
        self
    }

    /// All three standard streams are the host process's.
    pub fn inherit_stdio(self) -> Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Gives the guest the host directory `host` under the name `guest` (such as `/data`
    /// or `.`). The guest reaches files only under its preopened directories: paths that
    /// lead outside (`..`, absolute paths, symbolic links pointing out) are refused with
    /// [`Errno::NOTCAPABLE`](super::Errno::NOTCAPABLE).
    ///
    /// # Errors
    ///
    /// If `host` cannot be opened as a directory.
    pub fn preopened_dir(mut self, host: impl AsRef<Path>, guest: impl AsRef<str>) -> io::Result<Self> {
        let host = host.as_ref();
        let dir = Dir::open_ambient_dir(host, ambient_authority())
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open directory {}: {e}", host.display())))?;
        self.preopens.push((dir, guest.as_ref().to_string()));
        Ok(self)
    }

    /// The context: descriptors 0, 1 and 2 are the standard streams, then the preopened
    /// directories from 3 on, in the order they were added.
    pub fn build(self) -> WasiCtx {
        let mut fds = BTreeMap::new();
        fds.insert(0, Descriptor::Stdin(self.stdin));
        fds.insert(1, Descriptor::Stdout(self.stdout));
        fds.insert(2, Descriptor::Stdout(self.stderr));
        for (fd, (dir, name)) in (3u32..).zip(self.preopens) {
            fds.insert(fd, Descriptor::Dir(DirDesc { dir, preopen: Some(name) }));
        }
        WasiCtx { args: self.args, env: self.env, fds, start: Instant::now(), max_sleep: self.max_sleep }
    }
}

/// The error a guest's `proc_exit(code)` unwinds with: not a failure, the program's exit
/// status. Find it with [`Error::host_error`](crate::Error::host_error) and
/// `downcast_ref::<ProcExit>()`, or with [`exit_code`](super::exit_code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the program exited with status {0}")]
pub struct ProcExit(pub u32);
