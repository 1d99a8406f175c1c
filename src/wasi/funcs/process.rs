//! Arguments, environment, clocks, randomness and `poll_oneoff`.

use std::time::{Duration, SystemTime};

use crate::GuestType;
use crate::access::{MemoryViewMut, WasmPtr};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::fd::Descriptor;
use crate::wasi::types::{
    Clockid, Errno, Event, EventFdReadwrite, Eventtype, SUBCLOCKFLAGS_ABSTIME, Subscription, SubscriptionU,
};

type Res = Result<(), Errno>;

/// Writes NUL-terminated `strings` into `buf` one after the other, and a pointer to each
/// into `ptrs` (`args_get`, `environ_get`).
fn write_strings(
    view: &mut MemoryViewMut<'_>,
    strings: &[Vec<u8>],
    ptrs: WasmPtr<WasmPtr<u8>>,
    buf: WasmPtr<u8>,
) -> Res {
    let mut packed = Vec::new();
    let mut starts = Vec::with_capacity(strings.len());
    for s in strings {
        starts.push(buf.add_bytes(packed.len() as u64)?);
        packed.extend_from_slice(s);
        packed.push(0);
    }
    let count = u32::try_from(strings.len()).map_err(|_| Errno::OVERFLOW)?;
    let len = u32::try_from(packed.len()).map_err(|_| Errno::OVERFLOW)?;
    ptrs.slice(count).write_from(view, &starts)?;
    Ok(buf.slice(len).write_from(view, &packed)?)
}

/// The count and total size (terminators included) of `strings`.
fn sizes(view: &mut MemoryViewMut<'_>, strings: &[Vec<u8>], count: WasmPtr<u32>, size: WasmPtr<u32>) -> Res {
    let n = u32::try_from(strings.len()).map_err(|_| Errno::OVERFLOW)?;
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    let total = u32::try_from(total).map_err(|_| Errno::OVERFLOW)?;
    count.write(view, n)?;
    Ok(size.write(view, total)?)
}

pub(crate) fn args_get(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    argv: WasmPtr<WasmPtr<u8>>,
    argv_buf: WasmPtr<u8>,
) -> Res {
    write_strings(view, &ctx.args, argv, argv_buf)
}

pub(crate) fn args_sizes_get(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    argc: WasmPtr<u32>,
    argv_buf_size: WasmPtr<u32>,
) -> Res {
    sizes(view, &ctx.args, argc, argv_buf_size)
}

pub(crate) fn environ_get(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    environ: WasmPtr<WasmPtr<u8>>,
    environ_buf: WasmPtr<u8>,
) -> Res {
    write_strings(view, &ctx.env, environ, environ_buf)
}

pub(crate) fn environ_sizes_get(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    count: WasmPtr<u32>,
    size: WasmPtr<u32>,
) -> Res {
    sizes(view, &ctx.env, count, size)
}

fn clock_id(id: u32) -> Result<Clockid, Errno> {
    Ok(Clockid::read_from(&id.to_le_bytes())?)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The time of `clock` in ns: since the epoch (realtime) or since the context was built.
fn now(ctx: &WasiCtx, clock: Clockid) -> u64 {
    match clock {
        Clockid::Realtime => SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, nanos),
        Clockid::Monotonic | Clockid::ProcessCputime | Clockid::ThreadCputime => nanos(ctx.start.elapsed()),
    }
}

pub(crate) fn clock_res_get(_ctx: &mut WasiCtx, view: &mut MemoryViewMut<'_>, id: u32, out: WasmPtr<u64>) -> Res {
    clock_id(id)?;
    Ok(out.write(view, 1_000)?)
}

pub(crate) fn clock_time_get(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    id: u32,
    _precision: u64,
    out: WasmPtr<u64>,
) -> Res {
    let t = now(ctx, clock_id(id)?);
    Ok(out.write(view, t)?)
}

pub(crate) fn random_get(_ctx: &mut WasiCtx, view: &mut MemoryViewMut<'_>, buf: WasmPtr<u8>, len: u32) -> Res {
    let mut guard = view.borrow_mut(buf.slice(len))?;
    getrandom::fill(&mut guard).map_err(|_| Errno::IO)
}

pub(crate) fn sched_yield(_ctx: &mut WasiCtx, _view: &mut MemoryViewMut<'_>) -> Res {
    std::thread::yield_now();
    Ok(())
}

/// Waits for the subscriptions: descriptor subscriptions on open descriptors are ready at
/// once (reads and writes here never block for long), so the call returns at once when
/// there is one; otherwise it sleeps until the earliest clock deadline (`NOTSUP` if that is
/// further away than the context's `max_sleep`). One event per subscription that is ready.
pub(crate) fn poll_oneoff(
    ctx: &mut WasiCtx,
    view: &mut MemoryViewMut<'_>,
    subs: WasmPtr<Subscription>,
    events: WasmPtr<Event>,
    nsubscriptions: u32,
    nevents: WasmPtr<u32>,
) -> Res {
    if nsubscriptions == 0 {
        return Err(Errno::INVAL);
    }
    let subs = subs.slice(nsubscriptions).read_to_vec(view)?;
    // The out slice must be in bounds before anything happens.
    let out = events.slice(nsubscriptions);
    view.bytes(out.ptr().address(), out.len_bytes())?;

    let fd_event = |sub: &Subscription, fd: u32, r#type: Eventtype| {
        let error = if ctx.fds.contains_key(&fd) { Errno::SUCCESS } else { Errno::BADF };
        let nbytes = match ctx.fds.get(&fd) {
            Some(Descriptor::Stdin(_)) | Some(Descriptor::File(_)) => 1,
            _ => 0,
        };
        Event { userdata: sub.userdata, error: error.0, r#type, fd_readwrite: EventFdReadwrite { nbytes, flags: 0 } }
    };
    let mut ready = Vec::new();
    let mut earliest: Option<u64> = None;
    let mut clocks = Vec::new();
    for sub in &subs {
        match sub.u {
            SubscriptionU::FdRead(s) => ready.push(fd_event(sub, s.file_descriptor, Eventtype::FdRead)),
            SubscriptionU::FdWrite(s) => ready.push(fd_event(sub, s.file_descriptor, Eventtype::FdWrite)),
            SubscriptionU::Clock(c) => {
                let wait = if c.flags & SUBCLOCKFLAGS_ABSTIME != 0 {
                    c.timeout.saturating_sub(now(ctx, c.id))
                } else {
                    c.timeout
                };
                earliest = Some(earliest.map_or(wait, |e| e.min(wait)));
                clocks.push((sub.userdata, wait));
            }
        }
    }
    if ready.is_empty()
        && let Some(wait) = earliest
    {
        let wait_for = Duration::from_nanos(wait);
        if ctx.max_sleep.is_some_and(|limit| wait_for > limit) {
            return Err(Errno::NOTSUP);
        }
        std::thread::sleep(wait_for);
        for (userdata, deadline) in clocks {
            if deadline <= wait {
                ready.push(Event {
                    userdata,
                    error: 0,
                    r#type: Eventtype::Clock,
                    fd_readwrite: EventFdReadwrite { nbytes: 0, flags: 0 },
                });
            }
        }
    }
    let n = ready.len() as u32; // <= nsubscriptions
    events.slice(n).write_from(view, &ready)?;
    Ok(nevents.write(view, n)?)
}
