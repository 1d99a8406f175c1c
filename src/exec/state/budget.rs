//! [`CopyBudget`]: how many bytes the typed accessors may still copy during the current
//! host call.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::linear::AccessError;

/// The copy budget of the host call that is running, if one is: reset to
/// [`StoreLimits::host_copy_bytes`](super::StoreLimits::host_copy_bytes) when a host function
/// is entered and restored when it returns, so a nested call (host → wasm → host) has a
/// budget of its own and its caller's is left as it was.
///
/// Views taken while a host call runs hold a reference to it and charge every copy in and
/// out of guest memory; views taken outside host calls hold none and are not limited.
#[derive(Debug, Default)]
pub(crate) struct CopyBudget {
    /// True while a host function runs.
    active: bool,
    /// The budget the running host call started with, in bytes (for error messages).
    limit_bytes: u64,
    // An atomic only so that the store stays `Sync`: a view borrows the store shared, and
    // charging needs no read-modify-write (a racing charge from a second thread holding
    // the same `&Store` may at worst be undercounted once).
    remaining_bytes: AtomicU64,
}

/// A [`CopyBudget`]'s state, saved on entry to a host call and restored on return.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SavedBudget {
    active: bool,
    limit_bytes: u64,
    remaining_bytes: u64,
}

impl CopyBudget {
    /// Starts a host call with a budget of `limit_bytes`; returns the state to restore.
    pub(crate) fn enter(&mut self, limit_bytes: u64) -> SavedBudget {
        let saved = SavedBudget {
            active: self.active,
            limit_bytes: self.limit_bytes,
            remaining_bytes: *self.remaining_bytes.get_mut(),
        };
        self.active = true;
        self.limit_bytes = limit_bytes;
        *self.remaining_bytes.get_mut() = limit_bytes;
        saved
    }

    /// Ends a host call, restoring the state [`CopyBudget::enter`] returned.
    pub(crate) fn leave(&mut self, saved: SavedBudget) {
        self.active = saved.active;
        self.limit_bytes = saved.limit_bytes;
        *self.remaining_bytes.get_mut() = saved.remaining_bytes;
    }

    /// The budget to charge, if a host call is running.
    #[inline]
    pub(crate) fn active(&self) -> Option<&CopyBudget> {
        self.active.then_some(self)
    }

    /// Bytes left to copy in the running host call (`None` outside host calls).
    pub(crate) fn remaining_bytes(&self) -> Option<u64> {
        self.active.then(|| self.remaining_bytes.load(Ordering::Relaxed))
    }

    /// Takes `bytes` from the budget.
    ///
    /// # Errors
    ///
    /// [`AccessError::CopyBudgetExceeded`] if fewer than `bytes` remain; the budget is then
    /// unchanged.
    #[inline]
    pub(crate) fn charge(&self, bytes: u64) -> Result<(), AccessError> {
        let remaining = self.remaining_bytes.load(Ordering::Relaxed);
        if bytes > remaining {
            return Err(AccessError::CopyBudgetExceeded { requested: bytes, remaining, budget: self.limit_bytes });
        }
        self.remaining_bytes.store(remaining - bytes, Ordering::Relaxed);
        Ok(())
    }
}

/// Charges `budget` (if any) `bytes`.
///
/// # Errors
///
/// As [`CopyBudget::charge`].
#[inline]
pub(crate) fn charge(budget: Option<&CopyBudget>, bytes: u64) -> Result<(), AccessError> {
    match budget {
        Some(b) => b.charge(bytes),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_calls_get_their_own_budget() {
        let mut b = CopyBudget::default();
        assert!(b.active().is_none());
        let outer = b.enter(100);
        b.charge(60).unwrap();
        let inner = b.enter(100);
        assert_eq!(b.remaining_bytes(), Some(100));
        assert_eq!(b.charge(101), Err(AccessError::CopyBudgetExceeded { requested: 101, remaining: 100, budget: 100 }));
        b.leave(inner);
        assert_eq!(b.remaining_bytes(), Some(40));
        assert!(b.charge(41).is_err());
        b.charge(40).unwrap();
        b.leave(outer);
        assert_eq!(b.remaining_bytes(), None);
    }
}
