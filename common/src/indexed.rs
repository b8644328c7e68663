//! Dense enumerations in contract storage: items at slots `0..len`; removal moves the last item into the freed
//! slot (swap and pop), so enumeration stays a plain range and every operation is O(1). The six enumerations of
//! the three contracts (sub-accounts: all, by provider, by user; services of each service contract; the
//! ledger's users and services) go through [`push`] and [`swap_remove`].
use ink::prelude::vec::Vec;
use ink::scale::EncodeLike;
use ink::storage::traits::{Packed, StorageKey};
use ink::storage::Mapping;

/// Storage slots addressed by position.
pub trait Slots {
    type Item;
    fn slot(&self, i: u32) -> Option<Self::Item>;
    fn put(&mut self, i: u32, item: &Self::Item);
    fn free(&mut self, i: u32);
}

impl<V: Packed + EncodeLike, KT: StorageKey> Slots for Mapping<u32, V, KT> {
    type Item = V;
    fn slot(&self, i: u32) -> Option<V> {
        self.get(i)
    }
    fn put(&mut self, i: u32, item: &V) {
        self.insert(i, item);
    }
    fn free(&mut self, i: u32) {
        self.remove(i);
    }
}

/// The slots of one group in a mapping keyed by (group, position), e.g. one provider's users.
pub struct Group<'a, P: Copy, V: Packed, KT: StorageKey> {
    pub map: &'a mut Mapping<(P, u32), V, KT>,
    pub group: P,
}

impl<P: Copy + EncodeLike, V: Packed + EncodeLike, KT: StorageKey> Slots for Group<'_, P, V, KT> {
    type Item = V;
    fn slot(&self, i: u32) -> Option<V> {
        self.map.get((self.group, i))
    }
    fn put(&mut self, i: u32, item: &V) {
        self.map.insert((self.group, i), item);
    }
    fn free(&mut self, i: u32) {
        self.map.remove((self.group, i));
    }
}

/// Appends `item` after the `len` items; returns the new length (`None` on overflow, nothing written).
pub fn push<S: Slots>(s: &mut S, len: u32, item: &S::Item) -> Option<u32> {
    let next = len.checked_add(1)?;
    s.put(len, item);
    Some(next)
}

/// Removes the item at `index` of `len`: the last item moves into `index`. Returns the new length and the moved
/// item (whose recorded position the caller sets to `index`), or `None` when `len` is 0 or `index` is out of
/// range (nothing written).
pub fn swap_remove<S: Slots>(s: &mut S, index: u32, len: u32) -> Option<(u32, Option<S::Item>)> {
    let last = len.checked_sub(1)?;
    if index > last {
        return None;
    }
    let moved = if index == last {
        None
    } else {
        let m = s.slot(last);
        if let Some(m) = &m {
            s.put(index, m);
        }
        m
    };
    s.free(last);
    Some((last, moved))
}

/// The items at the slots of `range`, in order (missing slots are skipped).
pub fn read<S: Slots>(s: &S, range: core::ops::Range<u32>) -> Vec<S::Item> {
    range.filter_map(|i| s.slot(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[ink::test]
    fn swap_and_pop_keeps_a_dense_range() {
        let mut m: Mapping<u32, u8> = Mapping::default();
        let mut len = 0;
        for x in [10u8, 11, 12, 13] {
            len = push(&mut m, len, &x).unwrap();
        }
        assert_eq!(read(&m, 0..len), vec![10, 11, 12, 13]);
        assert_eq!(swap_remove(&mut m, 1, len), Some((3, Some(13))), "the last moves into the hole");
        len = 3;
        assert_eq!(read(&m, 0..4), vec![10, 13, 12]);
        assert_eq!(swap_remove(&mut m, 2, len), Some((2, None)), "removing the last moves nothing");
        len = 2;
        assert_eq!(swap_remove(&mut m, 2, len), None, "out of range: nothing written");
        assert_eq!(read(&m, 0..4), vec![10, 13]);
        assert_eq!(swap_remove(&mut m, 0, 0), None);
        assert_eq!(push(&mut m, u32::MAX, &1), None);
    }

    #[ink::test]
    fn groups_are_separate() {
        let mut m: Mapping<(u8, u32), u8> = Mapping::default();
        let (mut a, mut b) = (0, 0);
        a = push(&mut Group { map: &mut m, group: 1 }, a, &1).unwrap();
        a = push(&mut Group { map: &mut m, group: 1 }, a, &2).unwrap();
        b = push(&mut Group { map: &mut m, group: 2 }, b, &9).unwrap();
        assert_eq!(swap_remove(&mut Group { map: &mut m, group: 1 }, 0, a), Some((1, Some(2))));
        assert_eq!(read(&Group { map: &mut m, group: 1 }, 0..2), vec![2]);
        assert_eq!(read(&Group { map: &mut m, group: 2 }, 0..b), vec![9]);
    }
}
