//! Validating (and, eagerly, translating) a module's function bodies, on several threads
//! when the code is large enough to repay starting them.
//!
//! Bodies are independent once the module's declarations are decoded, so workers take
//! them one at a time from a shared counter. The outcome does not depend on the schedule:
//! the results come back in function order, and a failure is that of the first failing
//! body, as if they were done one after another (bodies after it are skipped).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmparser::{FuncToValidate, FuncValidator, FuncValidatorAllocations, ValidatorResources};

use super::ir::CompiledFunc;
use super::translate::translate_function;
use super::validate::validate_function;
use crate::engine::Config;
use crate::error::{Error, Result};
use crate::module::{FuncBody, ModuleInner};

/// Code bytes that repay one more thread (starting one costs tens of microseconds;
/// validating this much code takes a few hundred).
const BYTES_PER_THREAD: usize = 64 * 1024;

/// At most this many threads work on one module.
const MAX_THREADS: usize = 8;

/// Validates every body (for translation on first call).
///
/// # Errors
///
/// The first invalid or unsupported body's error.
pub(crate) fn validate_bodies(config: &Config, bodies: &[FuncBody<'_>]) -> Result<()> {
    let multi_memory = config.multi_memory;
    for_each_body(config, bodies, |body, validator| validate_function(multi_memory, &body.body, validator))?;
    Ok(())
}

/// Validates and translates every body of `module`.
///
/// # Errors
///
/// The first invalid, unsupported or untranslatable body's error.
pub(crate) fn translate_bodies(module: &ModuleInner, bodies: &[FuncBody<'_>], fuel: bool) -> Result<Vec<CompiledFunc>> {
    for_each_body(module.engine.config(), bodies, |body, validator| {
        translate_function(module, body.func_index, &body.body, Some(validator), fuel)
    })
}

/// `body`'s validator, made with `allocs`.
fn validator(body: &FuncBody<'_>, allocs: FuncValidatorAllocations) -> FuncValidator<ValidatorResources> {
    let t = &body.to_validate;
    FuncToValidate { resources: t.resources.clone(), index: t.index, ty: t.ty, features: t.features }
        .into_validator(allocs)
}

/// How many threads to spread `bodies` over.
fn threads_for(config: &Config, bodies: &[FuncBody<'_>]) -> usize {
    if !config.parallel_compilation {
        return 1;
    }
    let bytes: usize = bodies.iter().map(|b| b.body.as_bytes().len()).sum();
    let wanted = 1 + bytes / BYTES_PER_THREAD;
    if wanted == 1 {
        return 1;
    }
    // Asking the system costs tens of microseconds (it reads the cgroup limits on Linux),
    // as much as compiling a small module: once per process is enough.
    static AVAILABLE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let available = *AVAILABLE.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    wanted.min(available).min(MAX_THREADS)
}

/// Runs `work` on every body with a validator of its own, returning the results in order.
fn for_each_body<R, W>(config: &Config, bodies: &[FuncBody<'_>], work: W) -> Result<Vec<R>>
where
    R: Send,
    W: Fn(&FuncBody<'_>, &mut FuncValidator<ValidatorResources>) -> Result<R> + Sync,
{
    let threads = threads_for(config, bodies);
    let shared = Shared { next: AtomicUsize::new(0), failed: AtomicUsize::new(usize::MAX), error: Mutex::new(None) };
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        // The calling thread is a worker too: with one thread, no other is started.
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                // A thread that cannot be started leaves its share to the others.
                std::thread::Builder::new()
                    .name("wasmguard-compile".into())
                    .spawn_scoped(s, || shared.work(bodies, &work))
                    .ok()
            })
            .collect();
        let mut done = shared.work(bodies, &work);
        for h in helpers {
            match h.join() {
                Ok(d) => done.extend(d),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    if let Some((_, e)) = shared.error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    done.sort_unstable_by_key(|(i, _)| *i);
    debug_assert!(done.iter().enumerate().all(|(k, (i, _))| k == *i) && done.len() == bodies.len());
    Ok(done.into_iter().map(|(_, r)| r).collect())
}

/// What the workers of [`for_each_body`] share.
struct Shared {
    /// The next body to take.
    next: AtomicUsize,
    /// The smallest index of a body that failed (`usize::MAX`: none).
    failed: AtomicUsize,
    /// That body's error.
    error: Mutex<Option<(usize, Error)>>,
}

impl Shared {
    /// Takes bodies until none is left (or one before them failed), returning each one's
    /// result with its index.
    fn work<R, W>(&self, bodies: &[FuncBody<'_>], work: &W) -> Vec<(usize, R)>
    where
        W: Fn(&FuncBody<'_>, &mut FuncValidator<ValidatorResources>) -> Result<R>,
    {
        let mut allocs = FuncValidatorAllocations::default();
        let mut done = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            // Indices are handed out in order, so every later one is past a failure too.
            if i >= bodies.len() || i > self.failed.load(Ordering::Relaxed) {
                return done;
            }
            let mut v = validator(&bodies[i], allocs);
            match work(&bodies[i], &mut v) {
                Ok(r) => done.push((i, r)),
                Err(e) => {
                    self.failed.fetch_min(i, Ordering::Relaxed);
                    let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
                    if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                        *slot = Some((i, e));
                    }
                }
            }
            allocs = v.into_allocations();
        }
    }
}
