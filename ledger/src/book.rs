//! The ledger's money rules as plain values, driven by unit tests without the ink! environment. The contract
//! loads a user's [`UserBalance`] and what the user has funded a service with, applies one of these, and
//! stores the result; it does no arithmetic on balances itself.
//!
//! The model (docs/ledger.md; docs/differences.md, D3): the ledger holds each user's `available` balance. What a
//! user gives a service sits in that service's contract and the service's sub-accounts are its only record;
//! settlement happens in the service alone and never calls the ledger. The ledger keeps, per (user, service),
//! `funded`: what it sent the service for the user minus what came back. A refund from a service is credited by
//! the tokens actually received and at most `funded`, so no service can credit a user more than the user put
//! in there, and no service can reach what the user gave another service. The user's total is reported live:
//! `available` plus the balances the user's services report.
//!
//! [`LedgerBook`] is the storage item that applies these rules to the records: users' main accounts and their
//! enumeration, additional info, per-(user, service) providers, the services each user uses, the liabilities
//! total and orphaned sub-accounts. Its methods take the caller, amounts and minimums as arguments and emit the
//! events they cause through an [`Emit`] sink; the contract adds the cross-contract calls around them.
//!
//! Invariants (checked by the tests after every operation):
//! * `available` only grows by deposits and credited refunds, and only shrinks by withdrawals and funding;
//! * a credit never exceeds `funded`, and `funded` never goes below zero.
use crate::events::{
    FundDeposited, FundTransferred, LedgerAdded, LedgerDeleted, LedgerDeletionProgress, LedgerInfoUpdated,
    LedgerRefunded, SubAccountDeleteFailed,
};
use crate::{
    Balance, Error, MAX_ADDITIONAL_INFO_LENGTH, MAX_PAGE, MAX_PROVIDERS_PER_USER_PER_SERVICE, MAX_SERVICES_PER_USER,
};
use ink::prelude::{string::String, vec::Vec};
use ink::primitives::AccountId;
use ink::storage::Mapping;
use serving_common::emit::Emit;
use serving_common::indexed::{push, read, swap_remove};

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
    serving_common::page(offset, limit, len, max).ok_or(Error::LimitTooLarge { limit, max })
}

/// A user's main account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct LedgerRecord {
    pub balance: UserBalance,
    /// Position in the enumeration of ledgers.
    pub index: u32,
    /// (service, what the ledger sent it for the user minus what came back), non-zero amounts only; at most
    /// `MAX_SERVICES_PER_USER` entries. It caps what a refund from that service can credit. It is not what the
    /// service holds now: settlement happens in the service alone (docs/differences.md, D3).
    pub funded: Vec<(AccountId, Balance)>,
}

impl LedgerRecord {
    /// What the user funded `service` with, net of what came back.
    pub fn funded(&self, service: &AccountId) -> Balance {
        self.funded.iter().find(|(s, _)| s == service).map(|(_, h)| *h).unwrap_or(0)
    }

    /// Sets the net funding of `service` (an entry exists only while the amount is non-zero).
    pub fn set_funded(&mut self, service: AccountId, amount: Balance) {
        if amount == 0 {
            self.funded.retain(|(s, _)| *s != service);
            return;
        }
        match self.funded.iter_mut().find(|(s, _)| *s == service) {
            Some(entry) => entry.1 = amount,
            None => self.funded.push((service, amount)),
        }
    }
}

/// A transfer to a sub-account as the book applied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Funding {
    /// Pending refunds the transfer cancels (an existing sub-account).
    pub cancelled: Balance,
    /// What leaves the ledger for the service.
    pub sent: Balance,
    /// The sub-account is new: the service must open it (`add_account`), not top it up.
    pub opens: bool,
}

/// A `retrieve_fund` under way: the user's record and net funding of one service, credited provider by provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieval {
    user: AccountId,
    service: AccountId,
    record: LedgerRecord,
    funded: Balance,
    tracked: Vec<AccountId>,
    credited: Balance,
}

impl Retrieval {
    /// The user has a sub-account with `provider` at this service (others are skipped).
    pub fn tracks(&self, provider: &AccountId) -> bool {
        self.tracked.contains(provider)
    }

    /// Credits what the service paid back for one provider (at most what is still funded); returns the credit.
    pub fn credit(&mut self, received: Balance) -> Result<Balance, Error> {
        let credited = self.record.balance.credit_from_service(&mut self.funded, received)?;
        self.credited = self.credited.checked_add(credited).ok_or(Error::Overflow)?;
        Ok(credited)
    }

    /// Credits the tokens that actually arrived (the ledger's balance after the service's call less before it), shared out over the service's report in its order
    /// (each provider up to what the service says it paid for it, any excess to the last one), each share capped
    /// by what is still funded. Returns (provider, credited, refund requested) per report entry.
    pub fn credit_report(
        &mut self,
        (balance_before, balance_after): (Balance, Balance),
        report: &[serving_interface::Retrieval],
    ) -> Result<Vec<(AccountId, Balance, Balance)>, Error> {
        let mut left = balance_after.saturating_sub(balance_before);
        let last = report.len().saturating_sub(1);
        let mut out = Vec::with_capacity(report.len());
        for (i, x) in report.iter().enumerate() {
            let share = if i == last { left } else { x.paid.min(left) };
            left = left.saturating_sub(share);
            out.push((x.provider, self.credit(share)?, x.requested));
        }
        Ok(out)
    }
}

/// One sub-account `delete_ledger` asked a service to delete, and whether the service did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    pub service: AccountId,
    pub provider: AccountId,
    pub deleted: bool,
}

/// (user, service)
pub type UserService = (AccountId, AccountId);
/// (user, service, provider)
pub type SubAccountKey = (AccountId, AccountId, AccountId);

/// Users' main accounts and what the ledger tracks of their sub-accounts.
#[ink::storage_item]
#[derive(Default, Debug)]
pub struct LedgerBook {
    /// Σ available over all ledgers: what the ledger owes in native tokens.
    liabilities: Balance,
    records: Mapping<AccountId, LedgerRecord>,
    infos: Mapping<AccountId, String>,
    at: Mapping<u32, AccountId>,
    count: u32,
    /// (user, service) → providers the user has sub-accounts with there.
    providers: Mapping<UserService, Vec<AccountId>>,
    /// user → services the user has sub-accounts in.
    services: Mapping<AccountId, Vec<AccountId>>,
    /// (user, service, provider) sub-accounts a service failed to delete during `delete_ledger`. The ledger stopped
    /// tracking them; funding the pair again first retries the deletion, so the pair is never stuck.
    orphans: Mapping<SubAccountKey, ()>,
}

/// `TooLong` for a string longer than `max` bytes.
pub fn check_len(s: &str, max: u32) -> Result<(), Error> {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    if len > max {
        return Err(Error::TooLong { len, max });
    }
    Ok(())
}

impl LedgerBook {
    pub fn liabilities(&self) -> Balance {
        self.liabilities
    }

    /// What a contract holding `balance` has beyond what it owes.
    pub fn surplus(&self, balance: Balance) -> Balance {
        balance.saturating_sub(self.liabilities)
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn record(&self, user: AccountId) -> Result<LedgerRecord, Error> {
        self.records.get(user).ok_or(Error::LedgerNotExists)
    }

    pub fn info(&self, user: AccountId) -> String {
        self.infos.get(user).unwrap_or_default()
    }

    /// A page of users with a ledger (limit 0 = 50, at most 50).
    pub fn users(&self, offset: u32, limit: u32) -> Result<Vec<AccountId>, Error> {
        Ok(read(&self.at, page(offset, limit, self.count, MAX_PAGE)?))
    }

    pub fn providers_of(&self, user: AccountId, service: AccountId) -> Vec<AccountId> {
        self.providers.get((user, service)).unwrap_or_default()
    }

    pub fn services_of(&self, user: AccountId) -> Vec<AccountId> {
        self.services.get(user).unwrap_or_default()
    }

    /// `add_ledger`: opens `user`'s ledger with `amount` (≥ `minimum`).
    pub fn open(
        &mut self,
        user: AccountId,
        amount: Balance,
        minimum: Balance,
        info: String,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        let balance = UserBalance::open(amount, minimum)?;
        check_len(&info, MAX_ADDITIONAL_INFO_LENGTH)?;
        if self.records.contains(user) {
            return Err(Error::LedgerExists);
        }
        self.create(user, balance)?;
        self.infos.insert(user, &info);
        ev.emit(LedgerAdded { user, amount });
        Ok(())
    }

    /// Replaces the user's additional info (copied into sub-accounts opened from now on).
    pub fn set_info(&mut self, user: AccountId, info: String, ev: &mut impl Emit) -> Result<(), Error> {
        check_len(&info, MAX_ADDITIONAL_INFO_LENGTH)?;
        if !self.records.contains(user) {
            return Err(Error::LedgerNotExists);
        }
        self.infos.insert(user, &info);
        ev.emit(LedgerInfoUpdated { user, additional_info: info });
        Ok(())
    }

    /// A deposit of `amount` by `from` into `user`'s ledger, which it opens (with at least `minimum`) if needed.
    pub fn deposit(
        &mut self,
        user: AccountId,
        from: AccountId,
        amount: Balance,
        minimum: Balance,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        match self.records.get(user) {
            Some(mut record) => {
                record.balance.deposit(amount)?;
                self.liabilities = self.liabilities.checked_add(amount).ok_or(Error::Overflow)?;
                self.records.insert(user, &record);
                ev.emit(FundDeposited { user, from, amount });
            }
            None => {
                self.create(user, UserBalance::open(amount, minimum)?)?;
                ev.emit(LedgerAdded { user, amount });
                if from != user {
                    ev.emit(FundDeposited { user, from, amount });
                }
            }
        }
        Ok(())
    }

    /// `refund`: takes `amount` out of the available balance (the contract pays it). What remains must be zero
    /// or at least `minimum`; a ledger left with nothing and no sub-accounts is removed.
    pub fn withdraw(
        &mut self,
        user: AccountId,
        amount: Balance,
        minimum: Balance,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        let mut record = self.record(user)?;
        record.balance.withdraw(amount, minimum)?;
        self.liabilities = self.liabilities.checked_sub(amount).ok_or(Error::Overflow)?;
        let emptied = record.balance.available == 0 && self.services_of(user).is_empty();
        if emptied {
            self.remove(user, record.index)?;
        } else {
            self.records.insert(user, &record);
        }
        ev.emit(LedgerRefunded { user, amount });
        if emptied {
            ev.emit(LedgerDeleted { user });
        }
        Ok(())
    }

    /// `transfer_fund` after the contract checked the service: moves what the transfer sends out of `record`
    /// (the user's, read by the caller) into the service's net funding, tracks the provider and service for a new
    /// sub-account, and says what the service must be asked to do. For a sub-account the ledger already tracks,
    /// `pending_refund` asks the service for its pending refund (not called for a new one).
    #[allow(clippy::too_many_arguments)]
    pub fn fund(
        &mut self,
        user: AccountId,
        mut record: LedgerRecord,
        service: AccountId,
        provider: AccountId,
        amount: Balance,
        pending_refund: impl FnOnce() -> Result<Balance, Error>,
        min_transfer: Balance,
        ev: &mut impl Emit,
    ) -> Result<Funding, Error> {
        let mut providers = self.providers_of(user, service);
        let funding = if providers.contains(&provider) {
            let (cancelled, sent) = split_transfer(amount, pending_refund()?);
            Funding { cancelled, sent, opens: false }
        } else {
            if amount < min_transfer {
                return Err(Error::MinimumDepositRequired { amount, minimum: min_transfer });
            }
            if providers.len() >= MAX_PROVIDERS_PER_USER_PER_SERVICE as usize {
                return Err(Error::TooManyProvidersForService { max: MAX_PROVIDERS_PER_USER_PER_SERVICE });
            }
            providers.push(provider);
            Funding { cancelled: 0, sent: amount, opens: true }
        };
        let mut funded = record.funded(&service);
        record.balance.fund_service(&mut funded, funding.sent)?;
        record.set_funded(service, funded);
        if funding.opens {
            self.track_service(user, service)?;
            self.providers.insert((user, service), &providers);
        }
        self.liabilities = self.liabilities.checked_sub(funding.sent).ok_or(Error::Overflow)?;
        self.records.insert(user, &record);
        let Funding { cancelled, sent, .. } = funding;
        ev.emit(FundTransferred { user, service, provider, amount, cancelled, sent });
        Ok(funding)
    }

    /// Whether (user, service, provider) was orphaned by a failed deletion; forgets it (the caller deletes the
    /// sub-account at the service before opening it again, in the same transaction).
    pub fn take_orphan(&mut self, user: AccountId, service: AccountId, provider: AccountId) -> bool {
        self.orphans.take((user, service, provider)).is_some()
    }

    /// Starts a `retrieve_fund` of `user` at `service`.
    pub fn start_retrieval(&self, user: AccountId, service: AccountId) -> Result<Retrieval, Error> {
        let record = self.record(user)?;
        let funded = record.funded(&service);
        Ok(Retrieval { user, service, funded, record, tracked: self.providers_of(user, service), credited: 0 })
    }

    /// Stores a finished retrieval; returns the total credited.
    pub fn finish_retrieval(&mut self, r: Retrieval) -> Result<Balance, Error> {
        let Retrieval { user, service, mut record, funded, credited, .. } = r;
        self.liabilities = self.liabilities.checked_add(credited).ok_or(Error::Overflow)?;
        record.set_funded(service, funded);
        self.records.insert(user, &record);
        Ok(credited)
    }

    /// The next sub-accounts `delete_ledger` deletes, at most `max`: the last service's providers from the last.
    pub fn deletions(&self, user: AccountId, max: u32) -> Vec<(AccountId, AccountId)> {
        let mut out = Vec::new();
        for service in self.services_of(user).into_iter().rev() {
            for provider in self.providers_of(user, service).into_iter().rev() {
                if out.len() >= max as usize {
                    return out;
                }
                out.push((service, provider));
            }
        }
        out
    }

    /// Applies what the services did with [`Self::deletions`]: every asked sub-account stops being tracked (a
    /// failed one is remembered as an orphan); a ledger with nothing left to delete is removed. Returns how many
    /// sub-accounts are still to delete.
    /// `index` is the ledger's enumeration slot (from the record the caller read).
    pub fn finish_deletions(
        &mut self,
        user: AccountId,
        index: u32,
        done: &[Deletion],
        ev: &mut impl Emit,
    ) -> Result<u32, Error> {
        let mut services = self.services_of(user);
        let mut deleted: u32 = 0;
        for d in done {
            let mut providers = self.providers_of(user, d.service);
            providers.retain(|p| *p != d.provider);
            if providers.is_empty() {
                services.retain(|s| *s != d.service);
                self.providers.remove((user, d.service));
            } else {
                self.providers.insert((user, d.service), &providers);
            }
            if d.deleted {
                deleted = deleted.saturating_add(1);
            } else {
                self.orphans.insert((user, d.service, d.provider), &());
                ev.emit(SubAccountDeleteFailed { user, service: d.service, provider: d.provider });
            }
        }
        let remaining: u32 = services
            .iter()
            .map(|s| self.providers.get((user, *s)).map(|p| p.len()).unwrap_or(0))
            .sum::<usize>()
            .try_into()
            .unwrap_or(u32::MAX);
        if services.is_empty() {
            self.services.remove(user);
            self.remove(user, index)?;
            ev.emit(LedgerDeleted { user });
        } else {
            self.services.insert(user, &services);
            ev.emit(LedgerDeletionProgress { user, deleted, remaining });
        }
        Ok(remaining)
    }

    fn create(&mut self, user: AccountId, balance: UserBalance) -> Result<(), Error> {
        let index = self.count;
        self.liabilities = self.liabilities.checked_add(balance.available).ok_or(Error::Overflow)?;
        self.count = push(&mut self.at, index, &user).ok_or(Error::Overflow)?;
        self.records.insert(user, &LedgerRecord { balance, index, funded: Vec::new() });
        Ok(())
    }

    /// Removes the record, moving the last ledger into its enumeration slot.
    fn remove(&mut self, user: AccountId, index: u32) -> Result<(), Error> {
        let (count, moved) = swap_remove(&mut self.at, index, self.count).ok_or(Error::Overflow)?;
        self.count = count;
        if let Some(moved) = moved {
            if let Some(mut r) = self.records.get(moved) {
                r.index = index;
                self.records.insert(moved, &r);
            }
        }
        self.records.remove(user);
        self.infos.remove(user);
        Ok(())
    }

    /// Adds `service` to the user's services if it is not there yet.
    fn track_service(&mut self, user: AccountId, service: AccountId) -> Result<(), Error> {
        let mut services = self.services_of(user);
        if services.contains(&service) {
            return Ok(());
        }
        if services.len() >= MAX_SERVICES_PER_USER as usize {
            return Err(Error::TooManyServicesForUser { max: MAX_SERVICES_PER_USER });
        }
        services.push(service);
        self.services.insert(user, &services);
        Ok(())
    }
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

    mod storage {
        use super::super::*;
        use serving_common::emit::Recorder;

        fn acc(b: u8) -> AccountId {
            AccountId::from([b; 32])
        }
        const U: u8 = 1;
        const S: u8 = 2;

        fn names(r: &Recorder) -> Vec<&str> {
            r.0.iter().map(|e| e.split([' ', '{']).next().unwrap_or("")).collect()
        }

        #[ink::test]
        fn funding_retrieval_and_deletion() {
            let mut b = LedgerBook::default();
            let mut r = Recorder::default();
            assert_eq!(
                b.open(acc(U), 5, 10, String::new(), &mut r),
                Err(Error::MinimumDepositRequired { amount: 5, minimum: 10 })
            );
            b.open(acc(U), 100, 10, "hi".into(), &mut r).unwrap();
            assert_eq!(b.open(acc(U), 100, 10, String::new(), &mut r), Err(Error::LedgerExists));
            // A new sub-account with provider 7, then a top-up that cancels 5 of a pending refund.
            let rec = b.record(acc(U)).unwrap();
            assert_eq!(
                b.fund(acc(U), rec.clone(), acc(S), acc(7), 3, || unreachable!("a new sub-account"), 4, &mut r),
                Err(Error::MinimumDepositRequired { amount: 3, minimum: 4 })
            );
            let f = b.fund(acc(U), rec, acc(S), acc(7), 40, || unreachable!("a new sub-account"), 4, &mut r).unwrap();
            assert_eq!(f, Funding { cancelled: 0, sent: 40, opens: true });
            let f = b.fund(acc(U), b.record(acc(U)).unwrap(), acc(S), acc(7), 20, || Ok(5), 4, &mut r).unwrap();
            assert_eq!(f, Funding { cancelled: 5, sent: 15, opens: false });
            assert_eq!((b.record(acc(U)).unwrap().balance.available, b.liabilities()), (45, 45));
            assert_eq!(b.record(acc(U)).unwrap().funded(&acc(S)), 55);
            assert_eq!((b.providers_of(acc(U), acc(S)), b.services_of(acc(U))), (vec![acc(7)], vec![acc(S)]));
            // The service pays back 60: only the 55 funded is credited.
            let mut ret = b.start_retrieval(acc(U), acc(S)).unwrap();
            assert!(ret.tracks(&acc(7)) && !ret.tracks(&acc(8)));
            assert_eq!(ret.credit(60), Ok(55));
            assert_eq!(b.finish_retrieval(ret), Ok(55));
            assert_eq!((b.record(acc(U)).unwrap().balance.available, b.liabilities()), (100, 100));
            // Everything out: the ledger stays while a sub-account is tracked.
            b.withdraw(acc(U), 100, 10, &mut r).unwrap();
            assert!(b.record(acc(U)).is_ok());
            // Deletion: the service fails once (orphan), then nothing is left and the ledger goes.
            assert_eq!(b.deletions(acc(U), 25), vec![(acc(S), acc(7))]);
            let mut r = Recorder::default();
            let done = [Deletion { service: acc(S), provider: acc(7), deleted: false }];
            let index = b.record(acc(U)).unwrap().index;
            assert_eq!(b.finish_deletions(acc(U), index, &done, &mut r), Ok(0));
            assert_eq!(names(&r), ["SubAccountDeleteFailed", "LedgerDeleted"]);
            assert_eq!(b.record(acc(U)), Err(Error::LedgerNotExists));
            assert!(b.take_orphan(acc(U), acc(S), acc(7)));
            assert!(!b.take_orphan(acc(U), acc(S), acc(7)));
            assert_eq!((b.count(), b.liabilities()), (0, 0));
        }

        #[ink::test]
        fn a_refund_is_shared_out_as_the_service_reported_and_capped_by_funding() {
            let mut b = LedgerBook::default();
            let mut r = Recorder::default();
            b.open(acc(U), 100, 10, String::new(), &mut r).unwrap();
            for p in [7, 8] {
                b.fund(acc(U), b.record(acc(U)).unwrap(), acc(S), acc(p), 30, || unreachable!(), 4, &mut r).unwrap();
            }
            let report = |paid: [u128; 2]| {
                [7u8, 8]
                    .iter()
                    .zip(paid)
                    .map(|(p, paid)| serving_interface::Retrieval { provider: acc(*p), paid, requested: 1 })
                    .collect::<Vec<_>>()
            };
            // 25 arrived for a report of 10 + 15: each gets what the service says.
            let mut ret = b.start_retrieval(acc(U), acc(S)).unwrap();
            assert_eq!(
                ret.credit_report((1_000, 1_025), &report([10, 15])),
                Ok(vec![(acc(7), 10, 1), (acc(8), 15, 1)])
            );
            assert_eq!(b.finish_retrieval(ret), Ok(25));
            // The service claims 20 + 20 but 12 arrived: the first takes what is there, the last nothing.
            let mut ret = b.start_retrieval(acc(U), acc(S)).unwrap();
            assert_eq!(ret.credit_report((0, 12), &report([20, 20])), Ok(vec![(acc(7), 12, 1), (acc(8), 0, 1)]));
            assert_eq!(b.finish_retrieval(ret), Ok(12));
            // More arrives than reported: the excess goes to the last, all capped by the 23 still funded.
            let mut ret = b.start_retrieval(acc(U), acc(S)).unwrap();
            assert_eq!(ret.credit_report((0, 50), &report([0, 1])), Ok(vec![(acc(7), 0, 1), (acc(8), 23, 1)]));
            assert_eq!(b.finish_retrieval(ret), Ok(23));
            assert_eq!((b.record(acc(U)).unwrap().funded(&acc(S)), b.liabilities()), (0, 100));
            assert_eq!((b.surplus(100), b.surplus(150), b.surplus(7)), (0, 50, 0));
        }

        #[ink::test]
        fn deposits_open_or_top_up_and_removal_keeps_the_enumeration_dense() {
            let mut b = LedgerBook::default();
            let mut r = Recorder::default();
            assert_eq!(b.deposit(acc(U), acc(9), 0, 10, &mut r), Err(Error::ZeroAmount));
            b.deposit(acc(U), acc(9), 10, 10, &mut r).unwrap();
            b.deposit(acc(U), acc(9), 1, 10, &mut r).unwrap();
            assert_eq!(names(&r), ["LedgerAdded", "FundDeposited", "FundDeposited"]);
            b.deposit(acc(2), acc(2), 10, 10, &mut r).unwrap();
            b.deposit(acc(3), acc(3), 10, 10, &mut r).unwrap();
            assert_eq!(b.users(0, 0).unwrap(), vec![acc(U), acc(2), acc(3)]);
            b.withdraw(acc(U), 11, 10, &mut r).unwrap();
            assert_eq!(b.users(0, 0).unwrap(), vec![acc(3), acc(2)], "the last moved into the freed slot");
            assert_eq!(b.record(acc(3)).unwrap().index, 0);
            assert_eq!(b.liabilities(), 20);
            assert_eq!(b.users(0, 51), Err(Error::LimitTooLarge { limit: 51, max: 50 }));
        }
    }
}
