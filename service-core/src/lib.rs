//! The sub-account book shared by the inference and fine-tuning services: balances, the refund queue, lock
//! rules and settlement arithmetic, as storage-friendly plain values. Unit tests drive them without the ink!
//! environment; the contracts load a [`SubAccount`], call one method and store it back.
//!
//! Invariants of every sub-account (checked by [`SubAccount::check`] after every operation in the tests):
//! * `pending_refund ≤ balance`;
//! * `pending_refund` = the sum of the active refunds;
//! * at most [`MAX_REFUNDS`] active refunds, oldest first.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod book;
pub use serving_common::{emit, fit, indexed, page, try_fit, MAX_VIEW_BYTES};
pub mod error;
pub mod events;
pub mod full;
pub use serving_common::forwarded_types;
#[cfg(feature = "std")]
pub use serving_common::layout;
pub mod provider;
#[cfg(feature = "service-events")]
pub mod registry;
#[cfg(feature = "service-events")]
pub mod service;
pub mod settle;
#[cfg(feature = "service-events")]
pub mod shell;
pub mod tuning;
#[cfg(feature = "service-events")]
pub mod views;

pub use error::{check_count, check_len, Error};

use alloc::vec::Vec;

/// The chain's balance type.
pub type Balance = u128;

/// Most active refunds per sub-account.
pub const MAX_REFUNDS: usize = 5;
/// Shortest lock time a service accepts: 1 hour, in milliseconds. A build for a local test chain only
/// (`SERVING_DEV_LOCK=1` in the environment of the build, used by `scripts/web-node-e2e.sh` so a browser test can
/// wait a lock time out on a dev node's wall clock) accepts 10 seconds; `scripts/bundles.sh` builds the release
/// bundles with that variable removed.
pub const MIN_LOCK_TIME_MS: u64 = if option_env!("SERVING_DEV_LOCK").is_some() { 10_000 } else { 3_600_000 };
/// Longest lock time: 7 days, in milliseconds.
pub const MAX_LOCK_TIME_MS: u64 = 604_800_000;
/// The reference's default lock time: 24 hours.
pub const DEFAULT_LOCK_TIME_MS: u64 = 86_400_000;
/// Longest additional info of a sub-account or a service, in bytes.
pub const MAX_INFO_LENGTH: usize = 4096;
/// Largest page of any list view.
pub const MAX_PAGE: u32 = 50;

/// Why an operation on a sub-account is refused: defined in the interface crate, so the ledger sees the very values
/// the services return (`ServingError::Account(..)`), and nested as `Error::Account(..)` in the services' own errors.
pub use serving_interface::AccountError;

/// A refund the user asked for: `amount` becomes payable to the ledger at `unlock_at` (ms). The lock time is
/// fixed when the refund is requested; later changes of the service's lock time do not move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Refund {
    pub amount: Balance,
    pub created_at: u64,
    pub unlock_at: u64,
}

/// What survives a deleted sub-account, so a re-created one cannot reuse old vouchers or revoked tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Tombstone {
    pub nonce: u128,
    pub generation: u32,
}

/// One (user, provider) sub-account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct SubAccount {
    /// The highest settled voucher nonce; a voucher must carry a larger one.
    pub nonce: u128,
    /// Everything in the sub-account, pending refunds included.
    pub balance: Balance,
    /// The total of the active refunds.
    pub pending_refund: Balance,
    /// Active refunds, oldest first.
    pub refunds: Vec<Refund>,
    /// The user's consent to settlements signed by the provider's acknowledged TEE signer.
    pub acknowledged: bool,
    /// A withdrawal of consent takes effect at this time (ms), a lock time after the user asked, so that the
    /// provider can still settle what it served before (docs/differences.md, D5). `None`: no withdrawal pending.
    pub consent_ends_at: Option<u64>,
    /// Session-token generation; revoking all tokens or deleting the account starts a new one.
    pub generation: u32,
}

/// The outcome of charging a fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Charge {
    /// Taken from the sub-account.
    pub settled: Balance,
    /// Of the fee, what the balance could not cover.
    pub unsettled: Balance,
    /// Of `settled`, what came out of pending refunds (newest first).
    pub from_refunds: Balance,
}

/// Checks a lock time against the allowed range.
pub fn check_lock_time(lock_time_ms: u64) -> Result<(), Error> {
    if (MIN_LOCK_TIME_MS..=MAX_LOCK_TIME_MS).contains(&lock_time_ms) {
        Ok(())
    } else {
        Err(Error::LockTimeOutOfRange)
    }
}

impl SubAccount {
    /// A new sub-account holding `value`, acknowledged (funding a provider is consent to its signer), carrying
    /// over the nonce and the (already advanced) generation of a deleted predecessor.
    pub fn open(value: Balance, previous: Option<Tombstone>) -> Self {
        let t = previous.unwrap_or_default();
        Self {
            nonce: t.nonce,
            balance: value,
            pending_refund: 0,
            refunds: Vec::new(),
            acknowledged: true,
            consent_ends_at: None,
            generation: t.generation,
        }
    }

    /// Whether settlements by the provider's signer are consented to at `now`.
    pub fn consents(&self, now: u64) -> bool {
        self.acknowledged && self.consent_ends_at.is_none_or(|end| now < end)
    }

    /// The user grants (`true`) or withdraws consent at `now`. Granting takes effect at once; a withdrawal a
    /// lock time later, and vouchers keep settling until then. Returns the time the change takes effect, or
    /// `None` when nothing changes (already granted; a withdrawal already pending or in effect).
    pub fn set_consent(&mut self, on: bool, now: u64, lock_time_ms: u64) -> Result<Option<u64>, AccountError> {
        if on {
            if self.acknowledged && self.consent_ends_at.is_none() {
                return Ok(None);
            }
            self.acknowledged = true;
            self.consent_ends_at = None;
            return Ok(Some(now));
        }
        if !self.acknowledged || self.consent_ends_at.is_some() {
            return Ok(None);
        }
        let end = now.checked_add(lock_time_ms).ok_or(AccountError::Overflow)?;
        self.consent_ends_at = Some(end);
        Ok(Some(end))
    }

    /// What is not waiting to be refunded.
    pub fn free(&self) -> Balance {
        self.balance.saturating_sub(self.pending_refund)
    }

    /// Adds `value` and cancels up to `cancel` of pending refunds, newest first. Returns the amount cancelled.
    pub fn deposit(&mut self, value: Balance, cancel: Balance) -> Result<Balance, AccountError> {
        let balance = self.balance.checked_add(value).ok_or(AccountError::Overflow)?;
        let cancelled = self.cancel_refunds(cancel);
        self.balance = balance;
        Ok(cancelled)
    }

    /// Cancels up to `amount` of pending refunds, newest first (a partly cancelled refund keeps its times).
    /// Returns the amount cancelled: `min(amount, pending_refund)`.
    pub fn cancel_refunds(&mut self, amount: Balance) -> Balance {
        let mut remaining = amount.min(self.pending_refund);
        let cancelled = remaining;
        while remaining > 0 {
            let Some(last) = self.refunds.last_mut() else {
                break;
            };
            if last.amount <= remaining {
                remaining = remaining.saturating_sub(last.amount);
                self.refunds.pop();
            } else {
                last.amount = last.amount.saturating_sub(remaining);
                remaining = 0;
            }
        }
        self.pending_refund = self.pending_refund.saturating_sub(cancelled);
        cancelled
    }

    /// Queues a refund of everything not already pending, unlocking `lock_time_ms` after `now`. Returns the
    /// amount queued; 0 means nothing was queued (and no event should be emitted).
    pub fn request_refund_all(&mut self, now: u64, lock_time_ms: u64) -> Result<Balance, AccountError> {
        let amount = self.free();
        if amount == 0 {
            return Ok(0);
        }
        if self.refunds.len() >= MAX_REFUNDS {
            return Err(AccountError::TooManyRefunds);
        }
        let unlock_at = now.checked_add(lock_time_ms).ok_or(AccountError::Overflow)?;
        self.refunds.push(Refund { amount, created_at: now, unlock_at });
        self.pending_refund = self.pending_refund.checked_add(amount).ok_or(AccountError::Overflow)?;
        Ok(amount)
    }

    /// Removes every refund unlocked at `now` (`now ≥ unlock_at`; the boundary counts as unlocked), keeping
    /// the order of the rest, and takes their total out of the balance. Returns the amount to pay the ledger.
    pub fn process_refunds(&mut self, now: u64) -> Balance {
        let mut paid: Balance = 0;
        self.refunds.retain(|r| {
            if now >= r.unlock_at {
                paid = paid.saturating_add(r.amount);
                false
            } else {
                true
            }
        });
        // paid ≤ pending_refund ≤ balance by the invariants.
        self.pending_refund = self.pending_refund.saturating_sub(paid);
        self.balance = self.balance.saturating_sub(paid);
        paid
    }

    /// Charges `fee`: takes `min(fee, balance)`, first from the free balance, then from pending refunds newest
    /// first. The rest of the fee is reported as unsettled (the caller decides what that means).
    pub fn charge(&mut self, fee: Balance) -> Charge {
        let settled = fee.min(self.balance);
        let from_refunds = settled.saturating_sub(self.free());
        let cancelled = self.cancel_refunds(from_refunds);
        debug_assert_eq!(cancelled, from_refunds);
        self.balance = self.balance.saturating_sub(settled);
        Charge { settled, unsettled: fee.saturating_sub(settled), from_refunds }
    }

    /// What survives deletion: the nonce, and a new token generation (so tokens revoked before deletion stay
    /// revoked after the sub-account is re-created).
    pub fn tombstone(&self) -> Tombstone {
        Tombstone { nonce: self.nonce, generation: self.generation.saturating_add(1) }
    }

    /// Checks the invariants; returns a description of the first broken one.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.pending_refund > self.balance {
            return Err("pending refund exceeds balance");
        }
        let sum = self.refunds.iter().try_fold(0u128, |acc, r| acc.checked_add(r.amount));
        if sum != Some(self.pending_refund) {
            return Err("pending refund differs from the sum of active refunds");
        }
        if self.refunds.len() > MAX_REFUNDS {
            return Err("too many active refunds");
        }
        if self.refunds.iter().any(|r| r.amount == 0) {
            return Err("an active refund of zero");
        }
        if self.refunds.windows(2).any(|w| w[0].created_at > w[1].created_at) {
            return Err("refunds out of creation order");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = MIN_LOCK_TIME_MS;

    fn ok(a: &SubAccount) {
        a.check().unwrap_or_else(|e| panic!("{e}: {a:?}"));
    }

    fn with_refunds(amounts: &[Balance], balance: Balance) -> SubAccount {
        let mut a = SubAccount::open(balance, None);
        for (i, x) in amounts.iter().enumerate() {
            a.refunds.push(Refund { amount: *x, created_at: i as u64, unlock_at: i as u64 + H });
            a.pending_refund += x;
        }
        ok(&a);
        a
    }

    #[test]
    fn open_carries_nonce_and_generation() {
        let a = SubAccount::open(5, Some(Tombstone { nonce: 9, generation: 3 }));
        assert_eq!((a.nonce, a.generation, a.balance, a.acknowledged), (9, 3, 5, true));
        let mut b = a.clone();
        b.nonce = 12;
        assert_eq!(b.tombstone(), Tombstone { nonce: 12, generation: 4 });
    }

    #[test]
    fn consent_withdrawal_waits_for_the_lock_time() {
        let mut a = SubAccount::open(5, None);
        assert!(a.consents(0));
        assert_eq!(a.set_consent(true, 0, H), Ok(None), "already granted: no change");
        assert_eq!(a.set_consent(false, 10, H), Ok(Some(10 + H)));
        assert!(a.consents(10 + H - 1), "the provider can still settle until the lock time has passed");
        assert!(!a.consents(10 + H));
        assert_eq!(a.set_consent(false, 20, H), Ok(None), "a pending withdrawal is not restarted");
        assert_eq!(a.consent_ends_at, Some(10 + H));
        assert_eq!(a.set_consent(true, 30, H), Ok(Some(30)), "granting again cancels the withdrawal");
        assert!(a.consents(10 + H));
        assert_eq!(a.set_consent(false, 40, H), Ok(Some(40 + H)));
        assert_eq!(a.set_consent(true, 50 + H, H), Ok(Some(50 + H)), "re-granting after it took effect");
        assert!(a.consents(50 + H));
        let before = a.clone();
        assert_eq!(a.set_consent(false, u64::MAX, H), Err(AccountError::Overflow));
        assert_eq!(a, before);
    }

    #[test]
    fn lifo_cancellation_worked_example() {
        // upstream §4.1: [100, 200, 150], pending 450, cancel 250 → [100, 100], pending 200.
        let mut a = with_refunds(&[100, 200, 150], 1000);
        assert_eq!(a.cancel_refunds(250), 250);
        assert_eq!(a.refunds.iter().map(|r| r.amount).collect::<Vec<_>>(), vec![100, 100]);
        assert_eq!(a.pending_refund, 200);
        assert_eq!(a.refunds[1].created_at, 1, "a partly cancelled refund keeps its time");
        ok(&a);
        assert_eq!(a.cancel_refunds(10_000), 200, "at most what is pending");
        assert!(a.refunds.is_empty());
        ok(&a);
    }

    #[test]
    fn deposit_adds_and_cancels() {
        let mut a = with_refunds(&[100], 300);
        assert_eq!(a.deposit(50, 40), Ok(40));
        assert_eq!((a.balance, a.pending_refund), (350, 60));
        ok(&a);
        let mut big = SubAccount::open(Balance::MAX, None);
        assert_eq!(big.deposit(1, 0), Err(AccountError::Overflow));
        assert_eq!(big.balance, Balance::MAX);
    }

    #[test]
    fn refund_request_and_cap() {
        let mut a = SubAccount::open(100, None);
        assert_eq!(a.request_refund_all(10, H), Ok(100));
        assert_eq!(a.refunds, vec![Refund { amount: 100, created_at: 10, unlock_at: 10 + H }]);
        assert_eq!(a.request_refund_all(11, H), Ok(0), "nothing free: nothing queued");
        assert_eq!(a.refunds.len(), 1);
        for i in 0..4 {
            a.deposit(1, 0).unwrap();
            assert_eq!(a.request_refund_all(20 + i, H), Ok(1));
            ok(&a);
        }
        a.deposit(1, 0).unwrap();
        let before = a.clone();
        assert_eq!(a.request_refund_all(30, H), Err(AccountError::TooManyRefunds));
        assert_eq!(a, before);
    }

    #[test]
    fn process_pays_unlocked_keeps_order() {
        // upstream §4.2: [5 @ t0, 3 @ t1] with t0 + L ≤ now < t1 + L.
        let mut a = SubAccount::open(10, None);
        a.request_refund_all(0, H).unwrap();
        a.deposit(3, 0).unwrap();
        a.request_refund_all(100, H).unwrap();
        a.deposit(2, 0).unwrap(); // free 2
        assert_eq!(a.process_refunds(H - 1), 0, "still locked one ms before");
        assert_eq!(a.process_refunds(H), 10, "the boundary counts as unlocked");
        assert_eq!(a.refunds, vec![Refund { amount: 3, created_at: 100, unlock_at: 100 + H }]);
        assert_eq!((a.balance, a.pending_refund), (5, 3));
        ok(&a);
    }

    #[test]
    fn lock_time_is_fixed_per_refund() {
        let mut a = SubAccount::open(10, None);
        a.request_refund_all(0, MAX_LOCK_TIME_MS).unwrap();
        a.deposit(5, 0).unwrap();
        a.request_refund_all(1, MIN_LOCK_TIME_MS).unwrap();
        // The newer refund with the shorter lock unlocks first; the older keeps its long lock.
        assert_eq!(a.process_refunds(1 + MIN_LOCK_TIME_MS), 5);
        assert_eq!(a.refunds.len(), 1);
        assert_eq!(a.process_refunds(MAX_LOCK_TIME_MS), 10);
        ok(&a);
    }

    #[test]
    fn charge_takes_free_then_newest_refunds() {
        let mut a = with_refunds(&[100, 200], 500); // free 200
        let c = a.charge(250);
        assert_eq!(c, Charge { settled: 250, unsettled: 0, from_refunds: 50 });
        assert_eq!((a.balance, a.pending_refund), (250, 250));
        assert_eq!(a.refunds.iter().map(|r| r.amount).collect::<Vec<_>>(), vec![100, 150]);
        ok(&a);
        let c = a.charge(1000);
        assert_eq!(c, Charge { settled: 250, unsettled: 750, from_refunds: 250 });
        assert_eq!((a.balance, a.pending_refund, a.refunds.len()), (0, 0, 0));
        ok(&a);
        assert_eq!(a.charge(0), Charge::default());
    }

    #[test]
    fn fit_stops_before_the_output_buffer_is_full() {
        let big = vec![7u8; 4096]; // encodes to 4,098 bytes
        let fitted = fit(core::iter::repeat(big.clone()).take(5));
        assert_eq!(fitted.len(), 3, "3 × 4,098 B fit in 15 KiB, 4 do not");
        assert_eq!(fit(core::iter::repeat(1u8).take(50)).len(), 50, "small items: the whole page");
        let mut seen = 0;
        let fitted = fit([1u8, 2, 3].into_iter().inspect(|_| seen += 1));
        assert_eq!((fitted, seen), (vec![1, 2, 3], 3));
        let mut seen = 0;
        let _ = fit(core::iter::repeat(big).take(10).inspect(|_| seen += 1));
        assert_eq!(seen, 4, "stops at the first item that does not fit");
    }

    #[test]
    fn lock_time_range() {
        assert_eq!(check_lock_time(MIN_LOCK_TIME_MS - 1), Err(Error::LockTimeOutOfRange));
        assert_eq!(check_lock_time(MIN_LOCK_TIME_MS), Ok(()));
        assert_eq!(check_lock_time(MAX_LOCK_TIME_MS), Ok(()));
        assert_eq!(check_lock_time(MAX_LOCK_TIME_MS + 1), Err(Error::LockTimeOutOfRange));
    }

    /// A small deterministic random walk over every operation, checking the invariants and conservation
    /// (balance in = balance out + paid + charged) after each step.
    #[test]
    fn random_walk_keeps_invariants() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..200 {
            let mut a = SubAccount::open(next(1000) as Balance, None);
            let (mut put, mut out) = (a.balance, 0u128);
            let mut now = 0u64;
            for _ in 0..200 {
                match next(5) {
                    0 => {
                        let v = next(500) as Balance;
                        let c = next(500) as Balance;
                        a.deposit(v, c).unwrap();
                        put += v;
                    }
                    1 => {
                        let before = a.clone();
                        if a.request_refund_all(now, MIN_LOCK_TIME_MS + next(10)).is_err() {
                            assert_eq!(a, before);
                            assert_eq!(a.refunds.len(), MAX_REFUNDS);
                        }
                    }
                    2 => out += a.process_refunds(now),
                    3 => out += a.charge(next(700) as Balance).settled,
                    _ => now += next(2 * MIN_LOCK_TIME_MS),
                }
                ok(&a);
                assert_eq!(put, a.balance + out, "money created or lost");
            }
        }
    }
}
