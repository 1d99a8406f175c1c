//! Linear memories as the store holds them.

use super::StoreLimits;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::linear::{AccessError, LinearStorage, SharedMemory, SharedStorage, check_range};
use crate::types::MemoryType;

/// A linear memory as the store holds it.
///
/// A shared memory (threads) lives outside the store, behind its [`SharedMemory`] handle,
/// and is only ever reached through that handle's atomic operations: its `storage` here
/// stays empty, so the byte-slice accessors (`data`, `data_mut`) see a memory of length 0
/// and nothing borrows into shared bytes.
#[derive(Debug)]
pub(crate) struct MemoryEntity {
    pub(crate) ty: MemoryType,
    pub(crate) storage: LinearStorage,
    pub(crate) shared: Option<SharedMemory>,
}

/// The most address space a memory reserves unless [`Config::reserve_memories`](crate::Config::reserve_memories)
/// asks for its whole maximum: the 32-bit space (every 32-bit memory fits, so none ever
/// moves). A larger memory64 moves once past it.
const MAX_RESERVATION: u64 = 1 << 32;

impl MemoryEntity {
    /// Allocates a memory of the type's minimum size, within the store's limits; a shared
    /// type reserves its maximum (which must fit the store's limit) as a [`SharedMemory`].
    pub(crate) fn new(engine: &Engine, ty: MemoryType, limits: &StoreLimits) -> Result<Self> {
        if ty.is_shared() {
            let shared = SharedMemory::with_reservation_limit(engine, ty, limits.memory_size_bytes)?;
            return Ok(MemoryEntity::from_shared(shared));
        }
        if !matches!(ty.page_size_log2(), 0 | 16) {
            return Err(Error::msg(format!(
                "invalid memory type: page size 2^{} (WebAssembly allows 1 byte and 64 KiB)",
                ty.page_size_log2()
            )));
        }
        let cap = ty.page_cap();
        if ty.maximum().is_some_and(|max| max > cap || ty.minimum() > max) || ty.minimum() > cap {
            return Err(Error::msg(format!(
                "invalid memory type: minimum {} / maximum {:?} pages (at most {cap} pages, minimum <= maximum)",
                ty.minimum(),
                ty.maximum()
            )));
        }
        if ty.minimum() > ty.page_limit() {
            return Err(Error::limit(format!("memory minimum of {} pages exceeds its maximum", ty.minimum())));
        }
        let bytes = ty.minimum().saturating_mul(ty.page_size());
        if bytes > limits.memory_size_bytes {
            return Err(Error::limit(format!(
                "memory of {} pages exceeds the store limit of {} bytes",
                ty.minimum(),
                limits.memory_size_bytes
            )));
        }
        let len = usize::try_from(bytes).map_err(|_| Error::limit("memory larger than the host address space"))?;
        // Reserved up to the maximum (or the index type's limit), within the store's limit
        // and a bound on the address space one memory takes.
        let reserve = ty.page_limit().saturating_mul(ty.page_size()).min(limits.memory_size_bytes).max(bytes);
        let storage = if engine.config().reserve_memories {
            let cap =
                usize::try_from(reserve).map_err(|_| Error::limit("memory larger than the host address space"))?;
            LinearStorage::reserved(len, cap)
                .ok_or_else(|| Error::limit(format!("could not reserve a memory of {reserve} bytes")))?
        } else {
            let cap = usize::try_from(reserve.min(MAX_RESERVATION)).unwrap_or(len);
            // Without the reservation (address space exhausted), a plain allocation.
            LinearStorage::reserved(len, cap)
                .or_else(|| LinearStorage::new(len))
                .ok_or_else(|| Error::limit(format!("could not allocate a memory of {bytes} bytes")))?
        };
        Ok(MemoryEntity { ty, storage, shared: None })
    }

    /// The store's entry for an existing shared memory (defined or imported).
    pub(crate) fn from_shared(shared: SharedMemory) -> Self {
        MemoryEntity { ty: shared.ty(), storage: LinearStorage::empty(), shared: Some(shared) }
    }

    /// The shared storage, if this is a shared memory.
    pub(crate) fn shared_storage(&self) -> Option<&SharedStorage> {
        self.shared.as_ref().map(SharedMemory::storage)
    }

    pub(crate) fn size_pages(&self) -> u64 {
        match &self.shared {
            Some(shared) => shared.size(),
            None => self.storage.len() as u64 >> self.ty.page_size_log2(),
        }
    }

    pub(crate) fn data(&self) -> &[u8] {
        self.storage.as_slice()
    }

    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        self.storage.as_mut_slice()
    }

    /// `memory.grow`: the old size in pages, or `None` if the memory cannot grow that much.
    pub(crate) fn grow(&mut self, delta_pages: u64, limits: &StoreLimits) -> Option<u64> {
        if let Some(shared) = &self.shared {
            // Reserved up to its maximum, which the store's limit admitted at creation.
            return shared.grow(delta_pages).ok();
        }
        let old = self.size_pages();
        let new = old.checked_add(delta_pages)?;
        if new > self.ty.page_limit() {
            return None;
        }
        let bytes = new.checked_mul(self.ty.page_size())?;
        if bytes > limits.memory_size_bytes {
            return None;
        }
        let len = usize::try_from(bytes).ok()?;
        self.storage.grow(len).then_some(old)
    }

    /// `memory.fill`.
    pub(crate) fn fill(&mut self, dst: u64, val: u8, len: u64) -> Result<(), AccessError> {
        if let Some(shared) = self.shared_storage() {
            return shared.fill(dst, val, len);
        }
        let range = check_range(dst, len, self.storage.len())?;
        self.data_mut()[range].fill(val);
        Ok(())
    }

    /// `memory.copy` within this memory (ranges may overlap).
    pub(crate) fn copy_within(&mut self, dst: u64, src: u64, len: u64) -> Result<(), AccessError> {
        if let Some(shared) = self.shared_storage() {
            return shared.copy_within(dst, src, len);
        }
        let size = self.storage.len();
        let s = check_range(src, len, size)?;
        let d = check_range(dst, len, size)?;
        self.data_mut().copy_within(s, d.start);
        Ok(())
    }

    /// `memory.init` / active data segments: copies `bytes[src..src + len]` to `dst`.
    pub(crate) fn init(&mut self, dst: u64, bytes: &[u8], src: u64, len: u64) -> Result<(), AccessError> {
        let s = check_range(src, len, bytes.len())?;
        if let Some(shared) = self.shared_storage() {
            return shared.write(dst, &bytes[s]);
        }
        let d = check_range(dst, len, self.storage.len())?;
        self.data_mut()[d].copy_from_slice(&bytes[s]);
        Ok(())
    }
}
