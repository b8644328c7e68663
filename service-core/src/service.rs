//! The state and rules both service contracts share, as one storage item: ownership and parameters, the
//! sub-account book, stakes, the provider registry and attestations. Every method takes the caller, the time and
//! the transferred value as arguments and hands the events it causes to an [`Emit`] sink (on chain [`OnChain`], in
//! unit tests a [`Recorder`]); the contracts forward a message in a few lines.
use crate::book::AccountBook;
use crate::events::*;
use crate::provider::{Attestation, AttestationBook, Ownership, SignerState, StakeBook};
use crate::registry::Registry;
use crate::settle::Settler;
use crate::{check_lock_time, AccountError, Balance, Error, SubAccount};
use ink::prelude::vec::Vec;
use ink::primitives::AccountId;
use serving_interface::{Retrieval, ServingError, MAX_ACCOUNTS_PER_CALL};
use serving_verifier::{Crypto, Domain};

#[cfg(feature = "std")]
pub use crate::emit::Recorder;
pub use crate::emit::{Emit, OnChain};

fn balance_updated(ev: &mut impl Emit, user: AccountId, provider: AccountId, a: &SubAccount) {
    ev.emit(BalanceUpdated { user, provider, balance: a.balance, pending_refund: a.pending_refund });
}

/// The service's parameters and books in one view (one message instead of eight getters: every message is
/// code in the contract, and code is paid by every call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct ServiceConfig {
    pub owner: AccountId,
    /// Proposed by `transfer_ownership` and not yet accepted.
    pub pending_owner: Option<AccountId>,
    pub ledger: AccountId,
    pub chain_id: u64,
    pub lock_time_ms: u64,
    pub min_stake: Balance,
    /// What the contract owes: all sub-account balances plus active and unbonding stakes.
    pub liabilities: Balance,
    /// Native tokens beyond what it owes.
    pub surplus: Balance,
    /// The most vouchers one settlement call may carry (inference: the owner's limit; fine-tuning: 1).
    pub max_batch: u32,
}

/// Everything a provider has with the service besides its published parameters, in one view (`provider_state`,
/// in place of four getters): its active stake, its unbonding stake if any, the TEE signer settlements are checked
/// against right now if any (owner-acknowledged or attested), and its accepted attestation if any (it counts only
/// while its signer is current, it has not expired, and its attestor and measurement are still registered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct ProviderState {
    pub stake: Balance,
    pub unbonding: Option<crate::provider::Unbonding>,
    pub usable_signer: Option<[u8; 20]>,
    pub attestation: Option<Attestation>,
}

/// A sub-account as the views show it (each service adds its own fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub account: SubAccount,
    pub additional_info: ink::prelude::string::String,
    /// The user's consent to the provider's signer, now.
    pub acknowledged: bool,
}

/// What a service view shows beside the service's own parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceStatus {
    pub updated_at: u64,
    pub tee_signer_acknowledged: bool,
    pub stake: Balance,
}

#[ink::storage_item]
#[derive(Debug)]
pub struct ServiceCore {
    ownership: Ownership,
    ledger: AccountId,
    chain_id: u64,
    lock_time_ms: u64,
    min_stake: Balance,
    /// Sub-accounts: the record of what each user holds at each provider of this service.
    pub book: AccountBook,
    stakes: StakeBook,
    registry: Registry,
    /// Attestors, accepted measurements and providers' attestations (the verifiable path to a usable signer).
    attestations: AttestationBook,
}

impl ServiceCore {
    /// `lock_time_ms` in [1 h, 7 d]; `min_stake` for a first registration; `owner` is the deployer.
    pub fn new(
        owner: AccountId,
        ledger: AccountId,
        chain_id: u64,
        lock_time_ms: u64,
        min_stake: Balance,
    ) -> Result<Self, Error> {
        if ledger == AccountId::from([0u8; 32]) {
            return Err(Error::ZeroAddress);
        }
        check_lock_time(lock_time_ms)?;
        Ok(Self {
            ownership: Ownership::new(owner),
            ledger,
            chain_id,
            lock_time_ms,
            min_stake,
            book: AccountBook::default(),
            stakes: StakeBook::default(),
            registry: Registry::default(),
            attestations: AttestationBook::default(),
        })
    }

    // ------------------------------------------------------------------ parameters and views

    pub fn owner(&self) -> AccountId {
        self.ownership.owner
    }
    pub fn pending_owner(&self) -> Option<AccountId> {
        self.ownership.pending
    }
    pub fn ledger(&self) -> AccountId {
        self.ledger
    }
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }
    pub fn lock_time_ms(&self) -> u64 {
        self.lock_time_ms
    }
    pub fn min_stake(&self) -> Balance {
        self.min_stake
    }

    /// The parameters and books, given the contract's native balance.
    pub fn config(&self, contract_balance: Balance) -> ServiceConfig {
        let liabilities = self.liabilities();
        ServiceConfig {
            owner: self.ownership.owner,
            pending_owner: self.ownership.pending,
            ledger: self.ledger,
            chain_id: self.chain_id,
            lock_time_ms: self.lock_time_ms,
            min_stake: self.min_stake,
            liabilities,
            surplus: contract_balance.saturating_sub(liabilities),
            max_batch: 1,
        }
    }

    /// What the contract owes: all sub-account balances plus active and unbonding stakes.
    pub fn liabilities(&self) -> Balance {
        self.book.total_balance().saturating_add(self.stakes.total())
    }

    pub fn ensure_owner(&self, caller: AccountId) -> Result<(), Error> {
        Ok(self.ownership.ensure(caller)?)
    }

    pub fn has_service(&self, provider: AccountId) -> bool {
        self.registry.contains(provider)
    }

    /// A page of registered providers and their number.
    pub fn providers(&self, offset: u32, limit: u32) -> Result<(Vec<AccountId>, u32), Error> {
        self.registry.page(offset, limit)
    }

    pub fn stake(&self, provider: AccountId) -> (Balance, Option<crate::provider::Unbonding>) {
        (self.stakes.active(provider), self.stakes.unbonding(provider))
    }

    pub fn attestation(&self, provider: AccountId) -> Option<Attestation> {
        self.attestations.get(provider)
    }
    pub fn is_attestor(&self, attestor: [u8; 20]) -> bool {
        self.attestations.is_attestor(attestor)
    }
    pub fn is_measurement(&self, measurement: [u8; 32]) -> bool {
        self.attestations.is_measurement(measurement)
    }

    /// See [`ProviderState`].
    pub fn provider_state(&self, provider: AccountId, now: u64) -> ProviderState {
        let (stake, unbonding) = self.stake(provider);
        ProviderState {
            stake,
            unbonding,
            usable_signer: self.usable_signer(provider, now),
            attestation: self.attestation(provider),
        }
    }

    /// The signer settlements are checked against at `now`, if any (owner-acknowledged or attested).
    pub fn usable_signer(&self, provider: AccountId, now: u64) -> Option<[u8; 20]> {
        let r = self.registry.get(provider)?;
        self.attestations.usable_signer(provider, r.signer, now)
    }

    /// The service-side facts a settlement is judged against, read once.
    pub fn settler(&self, provider: AccountId, domain: &Domain, c: &impl Crypto, now: u64) -> Settler {
        let r = self.registry.get(provider);
        Settler {
            provider,
            has_service: r.is_some(),
            signer: r.and_then(|r| self.attestations.usable_signer(provider, r.signer, now)),
            separator: domain.separator(c),
            now,
            max_batch: crate::settle::MAX_SETTLEMENTS,
        }
    }

    pub fn service_status(&self, provider: AccountId, now: u64) -> Option<ServiceStatus> {
        let r = self.registry.get(provider)?;
        Some(ServiceStatus {
            updated_at: r.updated_at,
            tee_signer_acknowledged: self.attestations.usable_signer(provider, r.signer, now).is_some(),
            stake: self.stakes.active(provider),
        })
    }

    pub fn account(&self, user: AccountId, provider: AccountId, now: u64) -> Option<AccountState> {
        let account = self.book.get(user, provider)?;
        Some(AccountState {
            acknowledged: account.consents(now),
            additional_info: self.book.info(user, provider),
            account,
        })
    }

    // ------------------------------------------------------------------ provider

    /// Registers (with a stake of at least `min_stake` as `value`) or updates (no value) `provider`'s service with
    /// `signer`. `critical` (decided by the service from its parameters; a first registration always is) ends the
    /// owner's acknowledgement and the attestation.
    pub fn register(
        &mut self,
        provider: AccountId,
        value: Balance,
        signer: [u8; 20],
        critical: bool,
        now: u64,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        let staked = self.stakes.on_register(provider, value, self.min_stake)?;
        let (before, after) = self.registry.upsert(provider, signer, critical, now)?;
        if critical {
            self.end_attestation(provider, before.signer, ev);
        }
        if let Some(amount) = staked {
            ev.emit(ProviderStaked { provider, amount });
        }
        if before.acknowledged && !after.acknowledged {
            // Names the signer whose acknowledgement ended, not the new one.
            let e = ProviderTeeSignerAcknowledged { provider, signer: before.signer, acknowledged: false };
            ev.emit(e);
        }
        Ok(())
    }

    /// Removes `provider`'s service; its stake unbonds for the lock time. Sub-accounts stay, so users can still
    /// retrieve their funds.
    pub fn remove(&mut self, provider: AccountId, now: u64, ev: &mut impl Emit) -> Result<(), Error> {
        let r = self.registry.remove(provider)?;
        self.end_attestation(provider, r.signer.signer, ev);
        if let Some(u) = self.stakes.unbond(provider, now, self.lock_time_ms)? {
            let e = ProviderStakeUnbonding { provider, amount: u.amount, release_at: u.release_at };
            ev.emit(e);
        }
        ev.emit(ServiceRemoved { provider });
        Ok(())
    }

    /// The unbonded stake to pay `provider` once released.
    pub fn withdraw_stake(&mut self, provider: AccountId, now: u64, ev: &mut impl Emit) -> Result<Balance, Error> {
        let amount = self.stakes.withdraw(provider, now)?;
        ev.emit(ProviderStakeReturned { provider, amount });
        Ok(amount)
    }

    fn end_attestation(&mut self, provider: AccountId, signer: [u8; 20], ev: &mut impl Emit) {
        if self.attestations.clear(provider) {
            ev.emit(TeeAttestationCleared { provider, signer });
        }
    }

    // ------------------------------------------------------------------ user

    /// The user grants or withdraws consent to `provider`'s signer (a withdrawal takes effect a lock time later).
    pub fn set_consent(
        &mut self,
        user: AccountId,
        provider: AccountId,
        acknowledged: bool,
        now: u64,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        if let Some(effective_at) = self.book.set_consent(user, provider, acknowledged, now, self.lock_time_ms)? {
            ev.emit(UserAcknowledgementChanged { user, provider, acknowledged, effective_at });
        }
        Ok(())
    }

    // ------------------------------------------------------------------ owner

    pub fn update_lock_time(&mut self, caller: AccountId, new_ms: u64, ev: &mut impl Emit) -> Result<(), Error> {
        self.ensure_owner(caller)?;
        check_lock_time(new_ms)?;
        let old_ms = core::mem::replace(&mut self.lock_time_ms, new_ms);
        if old_ms != new_ms {
            ev.emit(LockTimeUpdated { old_ms, new_ms });
        }
        Ok(())
    }

    pub fn update_min_stake(&mut self, caller: AccountId, new: Balance, ev: &mut impl Emit) -> Result<(), Error> {
        self.ensure_owner(caller)?;
        let old = core::mem::replace(&mut self.min_stake, new);
        if old != new {
            ev.emit(MinStakeUpdated { old, new });
        }
        Ok(())
    }

    /// The owner vouches for (or stops vouching for) `provider`'s current signer.
    pub fn set_owner_acknowledgement(
        &mut self,
        caller: AccountId,
        provider: AccountId,
        acknowledged: bool,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        self.ensure_owner(caller)?;
        let SignerState { signer, .. } = self.registry.set_acknowledged(provider, acknowledged)?;
        let e = ProviderTeeSignerAcknowledged { provider, signer, acknowledged };
        ev.emit(e);
        Ok(())
    }

    pub fn transfer_ownership(
        &mut self,
        caller: AccountId,
        pending_owner: AccountId,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        self.ownership.propose(caller, pending_owner)?;
        let e = OwnershipTransferStarted { owner: caller, pending_owner };
        ev.emit(e);
        Ok(())
    }

    pub fn accept_ownership(&mut self, caller: AccountId, ev: &mut impl Emit) -> Result<(), Error> {
        let previous_owner = self.ownership.accept(caller)?;
        ev.emit(OwnershipTransferred { previous_owner, new_owner: caller });
        Ok(())
    }

    /// The tokens beyond what the contract owes, given its balance, to send to `to`.
    pub fn withdraw_surplus(
        &self,
        caller: AccountId,
        to: AccountId,
        contract_balance: Balance,
        ev: &mut impl Emit,
    ) -> Result<Balance, Error> {
        self.ensure_owner(caller)?;
        let amount = contract_balance.saturating_sub(self.liabilities());
        if amount == 0 {
            return Err(Error::NoSurplus);
        }
        ev.emit(SurplusWithdrawn { to, amount });
        Ok(amount)
    }

    /// Registers or removes an attestor key (removal ends every attestation it signed).
    pub fn set_attestor(
        &mut self,
        caller: AccountId,
        attestor: [u8; 20],
        registered: bool,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        self.ensure_owner(caller)?;
        if attestor == [0u8; 20] {
            return Err(Error::ZeroAddress);
        }
        let changed = self.attestations.set_attestor(attestor, registered);
        if changed {
            ev.emit(AttestorUpdated { attestor, registered });
        }
        Ok(())
    }

    /// Accepts or removes a TEE measurement (removal ends every attestation for it).
    pub fn set_measurement(
        &mut self,
        caller: AccountId,
        measurement: [u8; 32],
        accepted: bool,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        self.ensure_owner(caller)?;
        let changed = self.attestations.set_measurement(measurement, accepted);
        if changed {
            ev.emit(MeasurementUpdated { measurement, accepted });
        }
        Ok(())
    }

    /// `caller` submits a registered attestor's statement for `provider`'s current signer (anyone, unless the
    /// current attestation still counts: then only the provider).
    #[allow(clippy::too_many_arguments)]
    pub fn submit_attestation(
        &mut self,
        c: &impl Crypto,
        domain: &Domain,
        caller: AccountId,
        provider: AccountId,
        measurement: [u8; 32],
        expires_at: u64,
        attestor: [u8; 20],
        signature: &[u8],
        now: u64,
        ev: &mut impl Emit,
    ) -> Result<(), Error> {
        let signer = self.registry.get(provider).ok_or(Error::ServiceNotExist)?.signer.signer;
        let a = &mut self.attestations;
        a.submit(c, domain, caller, provider, signer, measurement, expires_at, attestor, signature, now)?;
        let e = TeeAttestationAccepted { provider, signer, attestor, measurement, expires_at };
        ev.emit(e);
        Ok(())
    }

    // ------------------------------------------------------------------ the ledger's calls (`Serving`)

    pub fn only_ledger(&self, caller: AccountId) -> Result<(), ServingError> {
        if caller != self.ledger {
            return Err(ServingError::CallerNotLedger);
        }
        Ok(())
    }

    /// `add_account`: opens the sub-account with the transferred value; the provider must have a service.
    pub fn ledger_open(
        &mut self,
        caller: AccountId,
        user: AccountId,
        provider: AccountId,
        value: Balance,
        info: &str,
        ev: &mut impl Emit,
    ) -> Result<(), ServingError> {
        self.only_ledger(caller)?;
        let has_service = self.registry.contains(provider);
        let a = self.book.ledger_open(user, provider, has_service, value, info)?;
        balance_updated(ev, user, provider, &a);
        Ok(())
    }

    /// `deposit_fund`: adds the transferred value, cancelling up to `cancel` of pending refunds newest first.
    pub fn ledger_deposit(
        &mut self,
        caller: AccountId,
        user: AccountId,
        provider: AccountId,
        value: Balance,
        cancel: Balance,
        ev: &mut impl Emit,
    ) -> Result<(), ServingError> {
        self.only_ledger(caller)?;
        let a = self.book.ledger_deposit(user, provider, value, cancel)?;
        balance_updated(ev, user, provider, &a);
        Ok(())
    }

    /// `retrieve`: for each provider (each with a sub-account of `user`), collects the unlocked refunds and then
    /// queues a refund of the free balance after the lock time: one read and one write per sub-account. Returns
    /// what happened per provider and the total to pay the ledger (the caller makes the one transfer).
    pub fn retrieve(
        &mut self,
        caller: AccountId,
        user: AccountId,
        providers: &[AccountId],
        now: u64,
        ev: &mut impl Emit,
    ) -> Result<(Vec<Retrieval>, Balance), ServingError> {
        self.only_ledger(caller)?;
        check_providers(providers.len())?;
        let lock = self.lock_time_ms;
        let mut out = Vec::with_capacity(providers.len());
        let mut total: Balance = 0;
        for &provider in providers {
            let ((paid, requested), a) = self.book.update(user, provider, |a| {
                let paid = a.process_refunds(now);
                Ok((paid, a.request_refund_all(now, lock)?))
            })?;
            if paid > 0 {
                balance_updated(ev, user, provider, &a);
            }
            if requested > 0 {
                let index = u32::try_from(a.refunds.len()).unwrap_or(u32::MAX).saturating_sub(1);
                let unlock_at = a.refunds.last().map(|r| r.unlock_at).unwrap_or(now);
                ev.emit(RefundRequested { user, provider, amount: requested, index, unlock_at });
            }
            total = total.checked_add(paid).ok_or(ServingError::Account(AccountError::Overflow))?;
            out.push(Retrieval { provider, paid, requested });
        }
        Ok((out, total))
    }

    /// `delete_accounts`: deletes `user`'s sub-accounts with `providers` (keeping their nonces and advancing
    /// their token generations). Returns the providers whose sub-account existed (the service then drops its own
    /// per-account state).
    pub fn delete_accounts(
        &mut self,
        caller: AccountId,
        user: AccountId,
        providers: &[AccountId],
        ev: &mut impl Emit,
    ) -> Result<Vec<AccountId>, ServingError> {
        self.only_ledger(caller)?;
        check_providers(providers.len())?;
        let mut deleted = Vec::new();
        for &provider in providers {
            if let Some(balance) = self.book.delete(user, provider)? {
                ev.emit(AccountDeleted { user, provider, balance });
                deleted.push(provider);
            }
        }
        Ok(deleted)
    }

    /// Stores sub-accounts changed by a settlement (user, balance before, state after).
    pub fn store_settled(
        &mut self,
        provider: AccountId,
        changed: &[(AccountId, Balance, SubAccount)],
    ) -> Result<(), Error> {
        for (user, old_balance, account) in changed {
            self.book.store(*user, provider, *old_balance, account)?;
        }
        Ok(())
    }

    /// Applies `f` to an existing sub-account of the caller's and stores it.
    pub fn update_account<T>(
        &mut self,
        user: AccountId,
        provider: AccountId,
        f: impl FnOnce(&mut SubAccount) -> Result<T, AccountError>,
    ) -> Result<T, Error> {
        Ok(self.book.update(user, provider, f)?.0)
    }
}

/// `TooManyProviders` for a list longer than [`MAX_ACCOUNTS_PER_CALL`].
fn check_providers(len: usize) -> Result<(), ServingError> {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    if len > MAX_ACCOUNTS_PER_CALL {
        return Err(ServingError::TooManyProviders { len, max: MAX_ACCOUNTS_PER_CALL });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{OwnershipError, StakeError};
    use crate::MIN_LOCK_TIME_MS as H;

    fn acc(b: u8) -> AccountId {
        AccountId::from([b; 32])
    }
    const OWNER: u8 = 1;
    const LEDGER: u8 = 2;
    const P: u8 = 3;
    const U: u8 = 4;

    fn core() -> ServiceCore {
        ServiceCore::new(acc(OWNER), acc(LEDGER), 42, H, 100).unwrap()
    }

    fn names(r: &Recorder) -> Vec<&str> {
        r.0.iter().map(|e| e.split([' ', '{']).next().unwrap_or("")).collect()
    }

    #[ink::test]
    fn constructor_checks() {
        assert_eq!(ServiceCore::new(acc(OWNER), acc(0), 42, H, 1).err(), Some(Error::ZeroAddress));
        assert_eq!(ServiceCore::new(acc(OWNER), acc(LEDGER), 42, H - 1, 1).err(), Some(Error::LockTimeOutOfRange));
    }

    #[ink::test]
    fn registration_acknowledgement_removal_and_stake() {
        let mut c = core();
        let mut r = Recorder::default();
        let signer = [9u8; 20];
        assert_eq!(
            c.register(acc(P), 99, signer, true, 10, &mut r),
            Err(Error::Stake(StakeError::InsufficientStake { value: 99, minimum: 100 }))
        );
        assert!(r.0.is_empty(), "a refusal emits nothing");
        c.register(acc(P), 100, signer, true, 10, &mut r).unwrap();
        assert_eq!(names(&r), ["ProviderStaked"]);
        assert_eq!(c.usable_signer(acc(P), 10), None, "not acknowledged yet");
        let mut r = Recorder::default();
        assert_eq!(
            c.set_owner_acknowledgement(acc(P), acc(P), true, &mut r),
            Err(Error::Ownership(OwnershipError::NotOwner))
        );
        c.set_owner_acknowledgement(acc(OWNER), acc(P), true, &mut r).unwrap();
        assert_eq!(c.usable_signer(acc(P), 10), Some(signer));
        // A non-critical update keeps the acknowledgement; a critical one ends it and says which signer it was.
        c.register(acc(P), 0, signer, false, 11, &mut r).unwrap();
        assert_eq!(c.usable_signer(acc(P), 11), Some(signer));
        let mut r = Recorder::default();
        c.register(acc(P), 0, [8u8; 20], true, 12, &mut r).unwrap();
        assert_eq!(names(&r), ["ProviderTeeSignerAcknowledged"]);
        assert!(r.0[0].contains("acknowledged: false") && r.0[0].contains("[9, 9"), "{:?}", r.0);
        assert_eq!(c.service_status(acc(P), 12).map(|s| (s.updated_at, s.stake)), Some((12, 100)));
        assert_eq!(c.liabilities(), 100);
        // Removal unbonds the stake for the lock time.
        let mut r = Recorder::default();
        c.remove(acc(P), 20, &mut r).unwrap();
        assert_eq!(names(&r), ["ProviderStakeUnbonding", "ServiceRemoved"]);
        assert_eq!(c.remove(acc(P), 20, &mut r), Err(Error::ServiceNotExist));
        assert_eq!(
            c.withdraw_stake(acc(P), 20, &mut r),
            Err(Error::Stake(StakeError::StakeLocked { release_at: 20 + H }))
        );
        assert_eq!(c.withdraw_stake(acc(P), 20 + H, &mut r), Ok(100));
        assert_eq!(c.liabilities(), 0);
    }

    #[ink::test]
    fn ledger_calls_and_surplus() {
        let mut c = core();
        let mut r = Recorder::default();
        c.register(acc(P), 100, [9; 20], true, 0, &mut r).unwrap();
        let mut r = Recorder::default();
        assert_eq!(c.ledger_open(acc(U), acc(U), acc(P), 50, "", &mut r), Err(ServingError::CallerNotLedger));
        c.ledger_open(acc(LEDGER), acc(U), acc(P), 50, "", &mut r).unwrap();
        let p = [acc(P)];
        let got = |paid, requested| Ok((vec![Retrieval { provider: acc(P), paid, requested }], paid));
        assert_eq!(c.retrieve(acc(U), acc(U), &p, 5, &mut r), Err(ServingError::CallerNotLedger));
        // First call queues everything; one ms before the unlock nothing is paid or queued; at it, all is paid.
        assert_eq!(c.retrieve(acc(LEDGER), acc(U), &p, 5, &mut r), got(0, 50));
        assert_eq!(c.retrieve(acc(LEDGER), acc(U), &p, 5 + H - 1, &mut r), got(0, 0));
        assert_eq!(c.retrieve(acc(LEDGER), acc(U), &p, 5 + H, &mut r), got(50, 0));
        assert_eq!(names(&r), ["BalanceUpdated", "RefundRequested", "BalanceUpdated"]);
        // A provider without a sub-account refuses the call; too many providers too.
        assert_eq!(
            c.retrieve(acc(LEDGER), acc(U), &[acc(P), acc(9)], 6 + H, &mut r),
            Err(ServingError::Account(AccountError::AccountNotExists))
        );
        let many = vec![acc(P); 26];
        assert_eq!(
            c.retrieve(acc(LEDGER), acc(U), &many, 6 + H, &mut r),
            Err(ServingError::TooManyProviders { len: 26, max: 25 })
        );
        assert_eq!(c.liabilities(), 100, "the stake is what is left");
        assert_eq!(c.withdraw_surplus(acc(OWNER), acc(7), 100, &mut r), Err(Error::NoSurplus));
        assert_eq!(c.withdraw_surplus(acc(OWNER), acc(7), 130, &mut r), Ok(30));
        assert_eq!(c.delete_accounts(acc(LEDGER), acc(U), &[acc(9), acc(P)], &mut r), Ok(vec![acc(P)]));
        assert_eq!(c.delete_accounts(acc(LEDGER), acc(U), &p, &mut r), Ok(vec![]));
    }

    #[ink::test]
    fn parameters_emit_only_on_change() {
        let mut c = core();
        let mut r = Recorder::default();
        c.update_lock_time(acc(OWNER), H, &mut r).unwrap();
        c.update_min_stake(acc(OWNER), 100, &mut r).unwrap();
        assert!(r.0.is_empty());
        c.update_lock_time(acc(OWNER), 2 * H, &mut r).unwrap();
        assert_eq!(c.update_lock_time(acc(OWNER), 1, &mut r), Err(Error::LockTimeOutOfRange));
        assert_eq!(c.update_min_stake(acc(P), 1, &mut r), Err(Error::Ownership(OwnershipError::NotOwner)));
        assert_eq!(names(&r), ["LockTimeUpdated"]);
        assert_eq!(c.lock_time_ms(), 2 * H);
    }
}
