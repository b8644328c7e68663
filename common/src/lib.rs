//! What the ledger and the service core share, in a crate that depends only on ink!: the event sink every storage
//! item emits through (`emit`), indexed sets behind every enumeration (`indexed`), paging and views that fit the
//! output buffer (`page`, `fit`), two-step ownership and the administration events (`ownership`, `events`), the
//! full build's lock and one-call upgrade (`full`), and the storage-root check of the upgrade rules (`layout`, std
//! only).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;

pub mod emit;
pub mod events;
pub mod full;
pub mod indexed;
#[cfg(feature = "std")]
pub mod layout;
pub mod ownership;

pub use ownership::{Ownership, OwnershipError};

/// Most bytes a list view returns. ink! 5 encodes a message's return value into a 16 KiB static buffer and traps
/// when it does not fit; list views stop adding items before this much (leaving room for the `Result`, the
/// vector's length and the total), and the caller continues from `offset + returned`.
pub const MAX_VIEW_BYTES: usize = 15 * 1024;

/// Takes `items` in order while their SCALE encoding fits in [`MAX_VIEW_BYTES`]; stops at the first that does not
/// (later items are not looked at, so no item is skipped: the caller continues from where this stopped).
pub fn fit<T: ink::scale::Encode>(items: impl Iterator<Item = T>) -> Vec<T> {
    match try_fit(items.map(Ok::<T, core::convert::Infallible>)) {
        Ok(out) => out,
        Err(never) => match never {},
    }
}

/// [`fit`] for items that are computed on the way and can fail (the ledger's views call the services): stops at
/// the first error or the first item that does not fit, so no item past the budget is computed.
pub fn try_fit<T: ink::scale::Encode, E>(items: impl Iterator<Item = Result<T, E>>) -> Result<Vec<T>, E> {
    let mut used: usize = 0;
    let mut out = Vec::new();
    for item in items {
        let item = item?;
        let next = used.saturating_add(item.encoded_size());
        if next > MAX_VIEW_BYTES {
            break;
        }
        used = next;
        out.push(item);
    }
    Ok(out)
}

/// The page `[offset, offset + limit)` of a list of `len` items, clipped to the list; `limit = 0` means `max`.
/// `None` when `limit > max`.
pub fn page(offset: u32, limit: u32, len: u32, max: u32) -> Option<core::ops::Range<u32>> {
    if limit > max {
        return None;
    }
    let limit = if limit == 0 { max } else { limit };
    let start = offset.min(len);
    Some(start..start.saturating_add(limit).min(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_clip_to_the_list_and_refuse_too_large_limits() {
        assert_eq!(page(0, 0, 120, 50), Some(0..50));
        assert_eq!(page(100, 50, 120, 50), Some(100..120));
        assert_eq!(page(130, 5, 120, 50), Some(120..120));
        assert_eq!(page(0, 51, 120, 50), None);
    }

    #[test]
    fn fit_stops_at_the_output_budget() {
        let items = (0..10).map(|_| alloc::vec![0u8; 4096]);
        assert_eq!(fit(items).len(), 3, "three 4 KiB items fit in 15 KiB, the fourth does not");
        let r: Result<Vec<u8>, &str> = try_fit([Ok(1u8), Err("boom"), Ok(2)].into_iter());
        assert_eq!(r, Err("boom"));
    }
}
