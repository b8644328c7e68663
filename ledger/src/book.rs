//! The ledger's money rules as plain values, driven by unit tests without the ink! environment. The contract
//! loads a user's [`UserBalance`] and the amount a service holds for them, applies one of these, and stores
//! the result; it never does arithmetic on balances itself.
//!
//! Invariants (checked by the tests after every operation):
//! * `available ≤ total`;
//! * `total − available` = the sum, over services, of what each service holds for the user.
use crate::{Balance, Error};

/// A user's main account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct UserBalance {
    /// Held by the ledger itself; the user can withdraw it or fund sub-accounts with it.
    pub available: Balance,
    /// Everything the user owns in the system: available plus what services hold for the user.
    pub total: Balance,
}

impl UserBalance {
    /// A new account holding `amount`, which must be at least `minimum`.
    pub fn open(amount: Balance, minimum: Balance) -> Result<Self, Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        if amount < minimum {
            return Err(Error::MinimumDepositRequired { amount, minimum });
        }
        Ok(Self { available: amount, total: amount })
    }

    /// What services hold for the user.
    pub fn locked(&self) -> Balance {
        self.total.saturating_sub(self.available)
    }

    /// A deposit into an existing account: any positive amount.
    pub fn deposit(&mut self, amount: Balance) -> Result<(), Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        self.available = self.available.checked_add(amount).ok_or(Error::Overflow)?;
        self.total = self.total.checked_add(amount).ok_or(Error::Overflow)?;
        Ok(())
    }

    /// A withdrawal to the user's wallet. What remains available must be zero or at least `minimum`.
    pub fn withdraw(&mut self, amount: Balance, minimum: Balance) -> Result<(), Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        let remaining = self
            .available
            .checked_sub(amount)
            .ok_or(Error::InsufficientBalance { available: self.available, requested: amount })?;
        if remaining != 0 && remaining < minimum {
            return Err(Error::MinimumDepositRequired { amount: remaining, minimum });
        }
        self.available = remaining;
        self.total = self.total.checked_sub(amount).ok_or(Error::Overflow)?;
        Ok(())
    }

    /// Moves `sent` from the ledger to a service, which then holds it (`held`) for the user.
    pub fn fund_service(&mut self, held: &mut Balance, sent: Balance) -> Result<(), Error> {
        let available = self
            .available
            .checked_sub(sent)
            .ok_or(Error::InsufficientAvailableBalance { available: self.available, required: sent })?;
        let new_held = held.checked_add(sent).ok_or(Error::Overflow)?;
        self.available = available;
        *held = new_held;
        Ok(())
    }

    /// A service paid `received` back to the ledger for the user. At most what the service holds for the
    /// user is credited; the rest (a service paying more than it holds) is not the user's and stays surplus.
    /// Returns the amount credited.
    pub fn credit_from_service(&mut self, held: &mut Balance, received: Balance) -> Result<Balance, Error> {
        let credited = received.min(*held);
        self.available = self.available.checked_add(credited).ok_or(Error::Overflow)?;
        *held = held.checked_sub(credited).ok_or(Error::Overflow)?;
        Ok(credited)
    }

    /// A service spent `amount` of what it holds for the user (it pays the provider itself).
    pub fn spend(&mut self, held: &mut Balance, amount: Balance) -> Result<(), Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        let new_held = held.checked_sub(amount).ok_or(Error::InsufficientHeld { held: *held, amount })?;
        self.total = self.total.checked_sub(amount).ok_or(Error::Overflow)?;
        *held = new_held;
        Ok(())
    }
}

/// How much of a transfer to an existing sub-account cancels pending refunds and how much is new money:
/// `(cancel, sent)` with `cancel = min(amount, pending_refund)` and `sent = amount − cancel`.
pub fn split_transfer(amount: Balance, pending_refund: Balance) -> (Balance, Balance) {
    let cancel = amount.min(pending_refund);
    (cancel, amount.saturating_sub(cancel))
}

/// The page `[offset, offset + limit)` of a list of `len` items, clipped to the list; `limit = 0` means
/// `max`, and a limit above `max` is an error.
pub fn page(offset: u32, limit: u32, len: u32, max: u32) -> Result<core::ops::Range<u32>, Error> {
    accounts::page(offset, limit, len, max).ok_or(Error::LimitTooLarge { limit, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One user with two services; checks the invariants after each step.
    struct World {
        user: UserBalance,
        held: [Balance; 2],
    }

    impl World {
        fn check(&self) {
            assert!(self.user.available <= self.user.total, "available > total: {:?}", self.user);
            assert_eq!(self.user.locked(), self.held.iter().sum::<Balance>(), "locked != sum of held");
        }
    }

    #[test]
    fn open_requires_minimum_and_non_zero() {
        assert_eq!(UserBalance::open(0, 3), Err(Error::ZeroAmount));
        assert_eq!(UserBalance::open(2, 3), Err(Error::MinimumDepositRequired { amount: 2, minimum: 3 }));
        assert_eq!(UserBalance::open(3, 3), Ok(UserBalance { available: 3, total: 3 }));
    }

    #[test]
    fn full_cycle_keeps_invariants() {
        let mut w = World { user: UserBalance::open(100, 3).unwrap(), held: [0, 0] };
        w.check();
        w.user.deposit(50).unwrap();
        w.check();
        assert_eq!(w.user, UserBalance { available: 150, total: 150 });
        let (u, h) = (&mut w.user, &mut w.held[0]);
        u.fund_service(h, 60).unwrap();
        w.check();
        let (u, h) = (&mut w.user, &mut w.held[1]);
        u.fund_service(h, 40).unwrap();
        w.check();
        assert_eq!(w.user.available, 50);
        // Service 0 spends 25 of its 60.
        let (u, h) = (&mut w.user, &mut w.held[0]);
        u.spend(h, 25).unwrap();
        w.check();
        assert_eq!((w.user.total, w.held[0]), (125, 35));
        // Service 1 cannot spend what service 0 holds.
        let (u, h) = (&mut w.user, &mut w.held[1]);
        assert_eq!(u.spend(h, 41), Err(Error::InsufficientHeld { held: 40, amount: 41 }));
        w.check();
        // Service 0 returns 35 but pays 50: only 35 credited.
        let (u, h) = (&mut w.user, &mut w.held[0]);
        assert_eq!(u.credit_from_service(h, 50), Ok(35));
        w.check();
        assert_eq!((w.user.available, w.held[0]), (85, 0));
        // A service that pays nothing gets nothing credited.
        let (u, h) = (&mut w.user, &mut w.held[1]);
        assert_eq!(u.credit_from_service(h, 0), Ok(0));
        w.check();
        assert_eq!(w.held[1], 40);
    }

    #[test]
    fn failed_operations_change_nothing() {
        let mut u = UserBalance::open(10, 3).unwrap();
        let mut held = 0;
        let before = (u, held);
        assert_eq!(
            u.fund_service(&mut held, 11),
            Err(Error::InsufficientAvailableBalance { available: 10, required: 11 })
        );
        assert_eq!((u, held), before);
        assert_eq!(u.withdraw(11, 3), Err(Error::InsufficientBalance { available: 10, requested: 11 }));
        assert_eq!(u.withdraw(8, 3), Err(Error::MinimumDepositRequired { amount: 2, minimum: 3 }));
        assert_eq!(u.withdraw(0, 3), Err(Error::ZeroAmount));
        assert_eq!(u.deposit(0), Err(Error::ZeroAmount));
        assert_eq!(u.spend(&mut held, 0), Err(Error::ZeroAmount));
        assert_eq!((u, held), before);
        let mut big = UserBalance { available: Balance::MAX, total: Balance::MAX };
        assert_eq!(big.deposit(1), Err(Error::Overflow));
        assert_eq!(big, UserBalance { available: Balance::MAX, total: Balance::MAX });
    }

    #[test]
    fn withdraw_to_zero_or_above_minimum() {
        let mut u = UserBalance::open(10, 3).unwrap();
        u.withdraw(7, 3).unwrap();
        assert_eq!(u, UserBalance { available: 3, total: 3 });
        u.withdraw(3, 3).unwrap();
        assert_eq!(u, UserBalance::default());
    }

    #[test]
    fn transfer_split_cancels_refunds_first() {
        assert_eq!(split_transfer(150, 100), (100, 50));
        assert_eq!(split_transfer(50, 100), (50, 0));
        assert_eq!(split_transfer(50, 0), (0, 50));
    }

    #[test]
    fn paging() {
        assert_eq!(page(0, 0, 120, 50), Ok(0..50));
        assert_eq!(page(100, 50, 120, 50), Ok(100..120));
        assert_eq!(page(130, 10, 120, 50), Ok(120..120));
        assert_eq!(page(u32::MAX, 50, 120, 50), Ok(120..120));
        assert_eq!(page(0, 51, 120, 50), Err(Error::LimitTooLarge { limit: 51, max: 50 }));
    }
}
