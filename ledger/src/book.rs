//! The ledger's money rules as plain values, driven by unit tests without the ink! environment. The contract
//! loads a user's [`UserBalance`] and what the user has funded a service with, applies one of these, and
//! stores the result; it does no arithmetic on balances itself.
//!
//! The model (docs/ledger.md, design.md difference 3): the ledger holds each user's `available` balance. What a
//! user gives a service sits in that service's contract and the service's sub-accounts are its only record;
//! settlement happens in the service alone and never calls the ledger. The ledger keeps, per (user, service),
//! `funded`: what it sent the service for the user minus what came back. A refund from a service is credited by
//! the tokens actually received and at most `funded`, so no service can credit a user more than the user put
//! in there, and no service can reach what the user gave another service. The user's total is reported live:
//! `available` plus the balances the user's services report.
//!
//! Invariants (checked by the tests after every operation):
//! * `available` only grows by deposits and credited refunds, and only shrinks by withdrawals and funding;
//! * a credit never exceeds `funded`, and `funded` never goes below zero.
use crate::{Balance, Error};

/// A user's main account at the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct UserBalance {
    /// Held by the ledger itself; the user can withdraw it or fund sub-accounts with it.
    pub available: Balance,
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
        Ok(Self { available: amount })
    }

    /// A deposit into an existing account: any positive amount.
    pub fn deposit(&mut self, amount: Balance) -> Result<(), Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        self.available = self.available.checked_add(amount).ok_or(Error::Overflow)?;
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
        Ok(())
    }

    /// Moves `sent` from the ledger to a service; `funded` (what the user gave that service, net of what came
    /// back) grows by it.
    pub fn fund_service(&mut self, funded: &mut Balance, sent: Balance) -> Result<(), Error> {
        let available = self
            .available
            .checked_sub(sent)
            .ok_or(Error::InsufficientAvailableBalance { available: self.available, required: sent })?;
        let new_funded = funded.checked_add(sent).ok_or(Error::Overflow)?;
        self.available = available;
        *funded = new_funded;
        Ok(())
    }

    /// A service paid `received` back to the ledger for the user. At most `funded` is credited; the rest (a
    /// service paying more than the user ever gave it) is not the user's and stays surplus. Returns the amount
    /// credited.
    pub fn credit_from_service(&mut self, funded: &mut Balance, received: Balance) -> Result<Balance, Error> {
        let credited = received.min(*funded);
        self.available = self.available.checked_add(credited).ok_or(Error::Overflow)?;
        *funded = funded.checked_sub(credited).ok_or(Error::Overflow)?;
        Ok(credited)
    }
}

/// The user's total as the views report it: `available` plus the live sub-account balances the user's services
/// report (saturating: a service reporting absurd numbers cannot make the view trap).
pub fn total(available: Balance, at_services: impl IntoIterator<Item = Balance>) -> Balance {
    at_services.into_iter().fold(available, Balance::saturating_add)
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
    service_core::page(offset, limit, len, max).ok_or(Error::LimitTooLarge { limit, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_requires_minimum_and_non_zero() {
        assert_eq!(UserBalance::open(0, 3), Err(Error::ZeroAmount));
        assert_eq!(UserBalance::open(2, 3), Err(Error::MinimumDepositRequired { amount: 2, minimum: 3 }));
        assert_eq!(UserBalance::open(3, 3), Ok(UserBalance { available: 3 }));
    }

    /// One user, two services that each hold the user's money in their own sub-accounts (`live`), and what the
    /// ledger records as funded. Settlement happens in a service alone: `live` shrinks, `funded` does not.
    struct World {
        user: UserBalance,
        funded: [Balance; 2],
        live: [Balance; 2],
        /// What left the system to providers.
        fees: Balance,
        deposited: Balance,
        withdrawn: Balance,
    }

    impl World {
        fn check(&self) {
            let total = total(self.user.available, self.live);
            assert_eq!(total + self.fees + self.withdrawn, self.deposited, "money created or lost");
            for i in 0..2 {
                assert!(self.live[i] <= self.funded[i], "a service holds more than it was given net");
            }
        }
    }

    #[test]
    fn full_cycle_keeps_invariants() {
        let mut w = World {
            user: UserBalance::open(100, 3).unwrap(),
            funded: [0, 0],
            live: [0, 0],
            fees: 0,
            deposited: 100,
            withdrawn: 0,
        };
        w.check();
        w.user.deposit(50).unwrap();
        w.deposited += 50;
        w.check();
        assert_eq!(w.user, UserBalance { available: 150 });
        w.user.fund_service(&mut w.funded[0], 60).unwrap();
        w.live[0] += 60;
        w.check();
        w.user.fund_service(&mut w.funded[1], 40).unwrap();
        w.live[1] += 40;
        w.check();
        assert_eq!(w.user.available, 50);
        // Service 0 settles 25 of its 60 on its own: the ledger is not told, the live total is.
        w.live[0] -= 25;
        w.fees += 25;
        w.check();
        assert_eq!((total(w.user.available, w.live), w.funded[0]), (125, 60));
        // Service 0 refunds the 35 it still holds: 35 credited, funded keeps the 25 that was spent.
        assert_eq!(w.user.credit_from_service(&mut w.funded[0], 35), Ok(35));
        w.live[0] -= 35;
        w.check();
        assert_eq!((w.user.available, w.funded[0]), (85, 25));
        // A misbehaving service 0 now pays 70 more (from other users' money in its own contract): at most what
        // the user ever gave it net (25) is credited; the rest stays ledger surplus. Service 1's 40 is untouched.
        let mut u = w.user;
        let mut f = w.funded[0];
        assert_eq!(u.credit_from_service(&mut f, 70), Ok(25));
        assert_eq!((u.available, f, w.funded[1]), (110, 0, 40));
        // A service that pays nothing gets nothing credited.
        assert_eq!(w.user.credit_from_service(&mut w.funded[1], 0), Ok(0));
        assert_eq!(w.funded[1], 40);
    }

    #[test]
    fn failed_operations_change_nothing() {
        let mut u = UserBalance::open(10, 3).unwrap();
        let mut funded = 0;
        let before = (u, funded);
        assert_eq!(
            u.fund_service(&mut funded, 11),
            Err(Error::InsufficientAvailableBalance { available: 10, required: 11 })
        );
        assert_eq!((u, funded), before);
        assert_eq!(u.withdraw(11, 3), Err(Error::InsufficientBalance { available: 10, requested: 11 }));
        assert_eq!(u.withdraw(8, 3), Err(Error::MinimumDepositRequired { amount: 2, minimum: 3 }));
        assert_eq!(u.withdraw(0, 3), Err(Error::ZeroAmount));
        assert_eq!(u.deposit(0), Err(Error::ZeroAmount));
        assert_eq!((u, funded), before);
        let mut big = UserBalance { available: Balance::MAX };
        assert_eq!(big.deposit(1), Err(Error::Overflow));
        assert_eq!(big, UserBalance { available: Balance::MAX });
        let mut f = Balance::MAX;
        assert_eq!(UserBalance { available: 5 }.fund_service(&mut f, 1), Err(Error::Overflow));
        assert_eq!(total(Balance::MAX, [5]), Balance::MAX, "a lying service cannot make the view trap");
    }

    #[test]
    fn withdraw_to_zero_or_above_minimum() {
        let mut u = UserBalance::open(10, 3).unwrap();
        u.withdraw(7, 3).unwrap();
        assert_eq!(u, UserBalance { available: 3 });
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
