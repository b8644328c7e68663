//! The state and rules both service contracts share, as one storage item: ownership and parameters, the
//! sub-account book, stakes, the provider registry and attestations. Every method takes the caller, the time and
//! the transferred value as arguments and returns the events it causes (Cardinal's PSP22 `data.rs` style); the
//! contracts forward a message in a few lines and emit what comes back with [`emit`].
use crate::book::AccountBook;
use crate::events::*;
use crate::provider::{Attestation, AttestationBook, Ownership, SignerState, StakeBook};
use crate::registry::{Registration, Registry};
use crate::settle::Settler;
use crate::{check_lock_time, AccountError, Balance, Error, SubAccount};
use ink::prelude::{vec, vec::Vec};
use ink::primitives::AccountId;
use serving_interface::ServingError;
use serving_verifier::{Crypto, Domain};

/// An event a shared rule caused, for the contract to emit.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    OwnershipTransferStarted(OwnershipTransferStarted),
    OwnershipTransferred(OwnershipTransferred),
    SurplusWithdrawn(SurplusWithdrawn),
    BalanceUpdated(BalanceUpdated),
    RefundRequested(RefundRequested),
    AccountDeleted(AccountDeleted),
    UserAcknowledgementChanged(UserAcknowledgementChanged),
    ProviderStaked(ProviderStaked),
    ProviderStakeUnbonding(ProviderStakeUnbonding),
    ProviderStakeReturned(ProviderStakeReturned),
    ServiceRemoved(ServiceRemoved),
    ProviderTeeSignerAcknowledged(ProviderTeeSignerAcknowledged),
    LockTimeUpdated(LockTimeUpdated),
    MinStakeUpdated(MinStakeUpdated),
    AttestorUpdated(AttestorUpdated),
    MeasurementUpdated(MeasurementUpdated),
    TeeAttestationAccepted(TeeAttestationAccepted),
    TeeAttestationCleared(TeeAttestationCleared),
}

/// Emits `events` in order from the running contract.
pub fn emit(events: Vec<Event>) {
    use ink::env::{emit_event, DefaultEnvironment as E};
    for e in events {
        match e {
            Event::OwnershipTransferStarted(x) => emit_event::<E, _>(x),
            Event::OwnershipTransferred(x) => emit_event::<E, _>(x),
            Event::SurplusWithdrawn(x) => emit_event::<E, _>(x),
            Event::BalanceUpdated(x) => emit_event::<E, _>(x),
            Event::RefundRequested(x) => emit_event::<E, _>(x),
            Event::AccountDeleted(x) => emit_event::<E, _>(x),
            Event::UserAcknowledgementChanged(x) => emit_event::<E, _>(x),
            Event::ProviderStaked(x) => emit_event::<E, _>(x),
            Event::ProviderStakeUnbonding(x) => emit_event::<E, _>(x),
            Event::ProviderStakeReturned(x) => emit_event::<E, _>(x),
            Event::ServiceRemoved(x) => emit_event::<E, _>(x),
            Event::ProviderTeeSignerAcknowledged(x) => emit_event::<E, _>(x),
            Event::LockTimeUpdated(x) => emit_event::<E, _>(x),
            Event::MinStakeUpdated(x) => emit_event::<E, _>(x),
            Event::AttestorUpdated(x) => emit_event::<E, _>(x),
            Event::MeasurementUpdated(x) => emit_event::<E, _>(x),
            Event::TeeAttestationAccepted(x) => emit_event::<E, _>(x),
            Event::TeeAttestationCleared(x) => emit_event::<E, _>(x),
        }
    }
}

fn balance_updated(user: AccountId, provider: AccountId, a: &SubAccount) -> Event {
    Event::BalanceUpdated(BalanceUpdated { user, provider, balance: a.balance, pending_refund: a.pending_refund })
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

    pub fn registration(&self, provider: AccountId) -> Option<Registration> {
        self.registry.get(provider)
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
    ) -> Result<Vec<Event>, Error> {
        let staked = self.stakes.on_register(provider, value, self.min_stake)?;
        let (before, after) = self.registry.upsert(provider, signer, critical, now)?;
        let mut events = Vec::new();
        if critical {
            self.end_attestation(provider, before.signer, &mut events);
        }
        if let Some(amount) = staked {
            events.push(Event::ProviderStaked(ProviderStaked { provider, amount }));
        }
        if before.acknowledged && !after.acknowledged {
            // Names the signer whose acknowledgement ended, not the new one.
            let e = ProviderTeeSignerAcknowledged { provider, signer: before.signer, acknowledged: false };
            events.push(Event::ProviderTeeSignerAcknowledged(e));
        }
        Ok(events)
    }

    /// Removes `provider`'s service; its stake unbonds for the lock time. Sub-accounts stay, so users can still
    /// retrieve their funds.
    pub fn remove(&mut self, provider: AccountId, now: u64) -> Result<Vec<Event>, Error> {
        let r = self.registry.remove(provider)?;
        let mut events = Vec::new();
        self.end_attestation(provider, r.signer.signer, &mut events);
        if let Some(u) = self.stakes.unbond(provider, now, self.lock_time_ms)? {
            let e = ProviderStakeUnbonding { provider, amount: u.amount, release_at: u.release_at };
            events.push(Event::ProviderStakeUnbonding(e));
        }
        events.push(Event::ServiceRemoved(ServiceRemoved { provider }));
        Ok(events)
    }

    /// The unbonded stake to pay `provider` once released.
    pub fn withdraw_stake(&mut self, provider: AccountId, now: u64) -> Result<(Balance, Vec<Event>), Error> {
        let amount = self.stakes.withdraw(provider, now)?;
        Ok((amount, vec![Event::ProviderStakeReturned(ProviderStakeReturned { provider, amount })]))
    }

    fn end_attestation(&mut self, provider: AccountId, signer: [u8; 20], events: &mut Vec<Event>) {
        if self.attestations.clear(provider) {
            events.push(Event::TeeAttestationCleared(TeeAttestationCleared { provider, signer }));
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
    ) -> Result<Vec<Event>, Error> {
        Ok(match self.book.set_consent(user, provider, acknowledged, now, self.lock_time_ms)? {
            Some(effective_at) => vec![Event::UserAcknowledgementChanged(UserAcknowledgementChanged {
                user,
                provider,
                acknowledged,
                effective_at,
            })],
            None => Vec::new(),
        })
    }

    // ------------------------------------------------------------------ owner

    pub fn update_lock_time(&mut self, caller: AccountId, new_ms: u64) -> Result<Vec<Event>, Error> {
        self.ensure_owner(caller)?;
        check_lock_time(new_ms)?;
        let old_ms = core::mem::replace(&mut self.lock_time_ms, new_ms);
        Ok(if old_ms == new_ms { Vec::new() } else { vec![Event::LockTimeUpdated(LockTimeUpdated { old_ms, new_ms })] })
    }

    pub fn update_min_stake(&mut self, caller: AccountId, new: Balance) -> Result<Vec<Event>, Error> {
        self.ensure_owner(caller)?;
        let old = core::mem::replace(&mut self.min_stake, new);
        Ok(if old == new { Vec::new() } else { vec![Event::MinStakeUpdated(MinStakeUpdated { old, new })] })
    }

    /// The owner vouches for (or stops vouching for) `provider`'s current signer.
    pub fn set_owner_acknowledgement(
        &mut self,
        caller: AccountId,
        provider: AccountId,
        acknowledged: bool,
    ) -> Result<Vec<Event>, Error> {
        self.ensure_owner(caller)?;
        let SignerState { signer, .. } = self.registry.set_acknowledged(provider, acknowledged)?;
        let e = ProviderTeeSignerAcknowledged { provider, signer, acknowledged };
        Ok(vec![Event::ProviderTeeSignerAcknowledged(e)])
    }

    pub fn transfer_ownership(&mut self, caller: AccountId, pending_owner: AccountId) -> Result<Vec<Event>, Error> {
        self.ownership.propose(caller, pending_owner)?;
        let e = OwnershipTransferStarted { owner: caller, pending_owner };
        Ok(vec![Event::OwnershipTransferStarted(e)])
    }

    pub fn accept_ownership(&mut self, caller: AccountId) -> Result<Vec<Event>, Error> {
        let previous_owner = self.ownership.accept(caller)?;
        Ok(vec![Event::OwnershipTransferred(OwnershipTransferred { previous_owner, new_owner: caller })])
    }

    /// The tokens beyond what the contract owes, given its balance, to send to `to`.
    pub fn withdraw_surplus(
        &self,
        caller: AccountId,
        to: AccountId,
        contract_balance: Balance,
    ) -> Result<(Balance, Vec<Event>), Error> {
        self.ensure_owner(caller)?;
        let amount = contract_balance.saturating_sub(self.liabilities());
        if amount == 0 {
            return Err(Error::NoSurplus);
        }
        Ok((amount, vec![Event::SurplusWithdrawn(SurplusWithdrawn { to, amount })]))
    }

    /// Registers or removes an attestor key (removal ends every attestation it signed).
    pub fn set_attestor(
        &mut self,
        caller: AccountId,
        attestor: [u8; 20],
        registered: bool,
    ) -> Result<Vec<Event>, Error> {
        self.ensure_owner(caller)?;
        if attestor == [0u8; 20] {
            return Err(Error::ZeroAddress);
        }
        let changed = self.attestations.set_attestor(attestor, registered);
        Ok(if changed { vec![Event::AttestorUpdated(AttestorUpdated { attestor, registered })] } else { Vec::new() })
    }

    /// Accepts or removes a TEE measurement (removal ends every attestation for it).
    pub fn set_measurement(
        &mut self,
        caller: AccountId,
        measurement: [u8; 32],
        accepted: bool,
    ) -> Result<Vec<Event>, Error> {
        self.ensure_owner(caller)?;
        let changed = self.attestations.set_measurement(measurement, accepted);
        let e = MeasurementUpdated { measurement, accepted };
        Ok(if changed { vec![Event::MeasurementUpdated(e)] } else { Vec::new() })
    }

    /// Anyone submits a registered attestor's statement for `provider`'s current signer.
    #[allow(clippy::too_many_arguments)]
    pub fn submit_attestation(
        &mut self,
        c: &impl Crypto,
        domain: &Domain,
        provider: AccountId,
        measurement: [u8; 32],
        expires_at: u64,
        attestor: [u8; 20],
        signature: &[u8],
        now: u64,
    ) -> Result<Vec<Event>, Error> {
        let signer = self.registry.get(provider).ok_or(Error::ServiceNotExist)?.signer.signer;
        let a = &mut self.attestations;
        a.submit(c, domain, provider, signer, measurement, expires_at, attestor, signature, now)?;
        let e = TeeAttestationAccepted { provider, signer, attestor, measurement, expires_at };
        Ok(vec![Event::TeeAttestationAccepted(e)])
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
    ) -> Result<Vec<Event>, ServingError> {
        self.only_ledger(caller)?;
        let has_service = self.registry.contains(provider);
        let a = self.book.ledger_open(user, provider, has_service, value, info)?;
        Ok(vec![balance_updated(user, provider, &a)])
    }

    /// `deposit_fund`: adds the transferred value, cancelling up to `cancel` of pending refunds newest first.
    pub fn ledger_deposit(
        &mut self,
        caller: AccountId,
        user: AccountId,
        provider: AccountId,
        value: Balance,
        cancel: Balance,
    ) -> Result<Vec<Event>, ServingError> {
        self.only_ledger(caller)?;
        let a = self.book.ledger_deposit(user, provider, value, cancel)?;
        Ok(vec![balance_updated(user, provider, &a)])
    }

    /// `request_refund_all`: queues the free balance for refund after the lock time; returns the amount.
    pub fn request_refund_all(
        &mut self,
        caller: AccountId,
        user: AccountId,
        provider: AccountId,
        now: u64,
    ) -> Result<(Balance, Vec<Event>), ServingError> {
        self.only_ledger(caller)?;
        let lock = self.lock_time_ms;
        let (amount, a) = self.book.update(user, provider, |a| a.request_refund_all(now, lock))?;
        let mut events = Vec::new();
        if amount > 0 {
            let index = u32::try_from(a.refunds.len()).unwrap_or(u32::MAX).saturating_sub(1);
            let unlock_at = a.refunds.last().map(|r| r.unlock_at).unwrap_or(now);
            events.push(Event::RefundRequested(RefundRequested { user, provider, amount, index, unlock_at }));
        }
        Ok((amount, events))
    }

    /// `process_refund`: the unlocked refunds, to send to the ledger.
    pub fn process_refund(
        &mut self,
        caller: AccountId,
        user: AccountId,
        provider: AccountId,
        now: u64,
    ) -> Result<(Balance, Vec<Event>), ServingError> {
        self.only_ledger(caller)?;
        let (paid, a) = self.book.update(user, provider, |a| Ok(a.process_refunds(now)))?;
        let events = if paid > 0 { vec![balance_updated(user, provider, &a)] } else { Vec::new() };
        Ok((paid, events))
    }

    /// `delete_account`: deletes the sub-account (keeping its nonce and advancing its token generation). Returns
    /// whether one existed (the service then drops its own per-account state).
    pub fn delete_account(
        &mut self,
        caller: AccountId,
        user: AccountId,
        provider: AccountId,
    ) -> Result<(bool, Vec<Event>), ServingError> {
        self.only_ledger(caller)?;
        Ok(match self.book.delete(user, provider)? {
            Some(balance) => (true, vec![Event::AccountDeleted(AccountDeleted { user, provider, balance })]),
            None => (false, Vec::new()),
        })
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
