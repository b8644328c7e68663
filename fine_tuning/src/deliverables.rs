//! Deliverables of one (user, provider) pair as plain values: their states, the serial-task rule and the ring
//! of at most [`MAX_DELIVERABLES`] that evicts only finished ones. Unit-tested without the ink! environment.
use ink::prelude::vec::Vec;

/// Most deliverables kept per (user, provider).
pub const MAX_DELIVERABLES: usize = 20;
/// Longest deliverable id, in bytes (ids are 1..=256 bytes).
pub const MAX_ID_LENGTH: usize = 256;
/// Longest model root hash, in bytes.
pub const MAX_ROOT_HASH_LENGTH: usize = 256;
/// Longest encrypted secret, in bytes.
pub const MAX_SECRET_LENGTH: usize = 4096;

/// Where a deliverable is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum DeliverableState {
    /// Added by the provider, not yet acknowledged by the user.
    Pending,
    /// The user acknowledged the delivered model: a settlement needs the secret and charges the full fee.
    Acknowledged,
    /// Settled; `penalized` when the user never acknowledged and only the penalty share was charged.
    Settled { penalized: bool },
    /// The provider gave the task up; no fee.
    Abandoned,
}

impl DeliverableState {
    /// Settled or abandoned: nothing more can happen to it.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Settled { .. } | Self::Abandoned)
    }
}

/// Why a deliverable operation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingError {
    /// The latest deliverable is still pending (neither acknowledged, settled nor abandoned).
    PreviousDeliverableNotAcknowledged,
    /// The ring is full and its oldest deliverable is not closed.
    CannotEvictUnsettledDeliverable,
}

/// The ids (keccak256 of the id string) of one pair's deliverables, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Ring {
    pub ids: Vec<[u8; 32]>,
}

impl Ring {
    pub fn latest(&self) -> Option<[u8; 32]> {
        self.ids.last().copied()
    }

    pub fn oldest(&self) -> Option<[u8; 32]> {
        self.ids.first().copied()
    }

    pub fn is_full(&self) -> bool {
        self.ids.len() >= MAX_DELIVERABLES
    }

    /// Admits `id`, given the states of the latest and (when the ring is full) the oldest deliverable.
    /// Serial tasks: the latest must be acknowledged, settled or abandoned. A full ring evicts its oldest,
    /// which must be closed. Returns the evicted id. Nothing changes on error.
    pub fn admit(
        &mut self,
        id: [u8; 32],
        latest: Option<DeliverableState>,
        oldest: Option<DeliverableState>,
    ) -> Result<Option<[u8; 32]>, RingError> {
        if latest == Some(DeliverableState::Pending) {
            return Err(RingError::PreviousDeliverableNotAcknowledged);
        }
        let evicted = if self.is_full() {
            if !oldest.is_some_and(DeliverableState::is_closed) {
                return Err(RingError::CannotEvictUnsettledDeliverable);
            }
            Some(self.ids.remove(0))
        } else {
            None
        };
        self.ids.push(id);
        Ok(evicted)
    }
}

/// The fee charged for a task: all of it when the user acknowledged, else `penalty_percent` of it (rounded
/// down). `None` on overflow.
pub fn fee_for(task_fee: u128, acknowledged: bool, penalty_percent: u8) -> Option<u128> {
    if acknowledged {
        Some(task_fee)
    } else {
        task_fee.checked_mul(u128::from(penalty_percent)).map(|x| x / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliverableState::*;

    fn h(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn serial_rule_accepts_every_finished_state() {
        let mut r = Ring::default();
        assert_eq!(r.admit(h(1), None, None), Ok(None));
        assert_eq!(r.admit(h(2), Some(Pending), None), Err(RingError::PreviousDeliverableNotAcknowledged));
        for state in [Acknowledged, Settled { penalized: false }, Settled { penalized: true }, Abandoned] {
            let mut r2 = r.clone();
            assert_eq!(r2.admit(h(2), Some(state), None), Ok(None), "{state:?}");
        }
        // The old deadlock: a penalty settlement (settled, never acknowledged) does not block the next task.
        assert_eq!(r.admit(h(2), Some(Settled { penalized: true }), None), Ok(None));
        assert_eq!(r.ids, vec![h(1), h(2)]);
    }

    #[test]
    fn full_ring_evicts_only_closed() {
        let mut r = Ring::default();
        for n in 0..MAX_DELIVERABLES as u8 {
            r.admit(h(n), Some(Acknowledged), None).unwrap();
        }
        assert!(r.is_full());
        let before = r.clone();
        assert_eq!(
            r.admit(h(99), Some(Abandoned), Some(Acknowledged)),
            Err(RingError::CannotEvictUnsettledDeliverable)
        );
        assert_eq!(r.admit(h(99), Some(Abandoned), Some(Pending)), Err(RingError::CannotEvictUnsettledDeliverable));
        assert_eq!(r.admit(h(99), Some(Abandoned), None), Err(RingError::CannotEvictUnsettledDeliverable));
        assert_eq!(r, before);
        assert_eq!(r.admit(h(99), Some(Abandoned), Some(Settled { penalized: false })), Ok(Some(h(0))));
        assert_eq!((r.oldest(), r.latest(), r.ids.len()), (Some(h(1)), Some(h(99)), MAX_DELIVERABLES));
    }

    #[test]
    fn penalty_fee() {
        assert_eq!(fee_for(1000, true, 30), Some(1000));
        assert_eq!(fee_for(1000, false, 30), Some(300));
        assert_eq!(fee_for(999, false, 30), Some(299), "rounded down");
        assert_eq!(fee_for(1000, false, 0), Some(0));
        assert_eq!(fee_for(1000, false, 100), Some(1000));
        assert_eq!(fee_for(u128::MAX, false, 30), None);
        assert_eq!(fee_for(u128::MAX, true, 30), Some(u128::MAX));
    }
}
