//! Tables as the store holds them.

use super::{StoreInner, StoreLimits};
use crate::error::{Error, Result, TrapCode};
use crate::types::TableType;

/// A table as the store holds it: references encoded as slots (0 is null).
#[derive(Debug)]
pub(crate) struct TableEntity {
    pub(crate) ty: TableType,
    pub(crate) elems: Vec<u64>,
}

impl TableEntity {
    pub(crate) fn new(ty: TableType, init: u64, limits: &StoreLimits) -> Result<Self> {
        if ty.maximum().is_some_and(|max| ty.minimum() > max) {
            return Err(Error::msg(format!(
                "invalid table type: minimum {} is larger than maximum {}",
                ty.minimum(),
                ty.maximum().unwrap_or(0)
            )));
        }
        if ty.minimum() > limits.table_elements {
            return Err(Error::limit(format!(
                "table of {} elements exceeds the store limit of {}",
                ty.minimum(),
                limits.table_elements
            )));
        }
        let mut elems = Vec::new();
        elems.try_reserve_exact(ty.minimum() as usize).map_err(|_| Error::limit("could not allocate the table"))?;
        elems.resize(ty.minimum() as usize, init);
        Ok(TableEntity { ty, elems })
    }

    pub(crate) fn size(&self) -> u32 {
        self.elems.len() as u32
    }

    /// `table.grow`: the old size, or `None` if the table cannot grow that much.
    pub(crate) fn grow(&mut self, delta: u32, init: u64, limits: &StoreLimits) -> Option<u32> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        if self.ty.maximum().is_some_and(|m| new > m) || new > limits.table_elements {
            return None;
        }
        self.elems.try_reserve_exact(delta as usize).ok()?;
        self.elems.resize(new as usize, init);
        Some(old)
    }

    pub(crate) fn get(&self, index: u32) -> Result<u64, TrapCode> {
        self.elems.get(index as usize).copied().ok_or(TrapCode::TableOutOfBounds)
    }

    pub(crate) fn set(&mut self, index: u32, val: u64) -> Result<(), TrapCode> {
        let slot = self.elems.get_mut(index as usize).ok_or(TrapCode::TableOutOfBounds)?;
        *slot = val;
        Ok(())
    }

    pub(crate) fn fill(&mut self, index: u32, val: u64, len: u32) -> Result<(), TrapCode> {
        let range = table_range(index, len, self.elems.len())?;
        self.elems[range].fill(val);
        Ok(())
    }

    /// `table.init` / active element segments.
    pub(crate) fn init(&mut self, dst: u32, items: &[u64], src: u32, len: u32) -> Result<(), TrapCode> {
        let s = table_range(src, len, items.len())?;
        let d = table_range(dst, len, self.elems.len())?;
        self.elems[d].copy_from_slice(&items[s]);
        Ok(())
    }
}

/// `[start, start + len)` checked against `size`.
pub(crate) fn table_range(start: u32, len: u32, size: usize) -> Result<std::ops::Range<usize>, TrapCode> {
    let end = u64::from(start) + u64::from(len);
    if end > size as u64 {
        return Err(TrapCode::TableOutOfBounds);
    }
    Ok(start as usize..end as usize)
}

/// `table.copy` between two tables of the store (possibly the same one).
pub(crate) fn table_copy(
    inner: &mut StoreInner,
    dst_table: usize,
    src_table: usize,
    dst: u32,
    src: u32,
    len: u32,
) -> Result<(), TrapCode> {
    let s = table_range(src, len, inner.tables[src_table].elems.len())?;
    let d = table_range(dst, len, inner.tables[dst_table].elems.len())?;
    if dst_table == src_table {
        inner.tables[dst_table].elems.copy_within(s, d.start);
    } else {
        // Split borrow of two distinct tables.
        let (a, b) = if dst_table < src_table {
            let (lo, hi) = inner.tables.split_at_mut(src_table);
            (&mut lo[dst_table], &hi[0])
        } else {
            let (lo, hi) = inner.tables.split_at_mut(dst_table);
            (&mut hi[0], &lo[src_table])
        };
        a.elems[d].copy_from_slice(&b.elems[s]);
    }
    Ok(())
}
