//! The message bodies both service contracts share, over [`ServiceCore`] and the running contract's environment
//! (caller, time, value, balance, transfers). ink! 5 makes each contract declare its own message list; each
//! declaration then forwards here in one line (`self.core.msg().update_lock_time(ms)`), so no rule is written twice.
//! The rules themselves stay in [`ServiceCore`], whose methods take caller, time and value as arguments and are
//! unit-tested without the environment.
use crate::emit::OnChain;
use crate::service::{AccountState, ProviderState, ServiceConfig, ServiceCore, ServiceStatus};
use crate::{Balance, Error};
use ink::prelude::vec::Vec;
use ink::primitives::AccountId;
use serving_interface::{Retrieval, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};
use serving_verifier::{Domain, HostCrypto};

type E = ink::env::DefaultEnvironment;

/// The account that called the running message.
pub fn caller() -> AccountId {
    ink::env::caller::<E>()
}

/// The block time, in milliseconds.
pub fn now() -> u64 {
    ink::env::block_timestamp::<E>()
}

/// The value transferred with the running message.
pub fn value() -> Balance {
    ink::env::transferred_value::<E>()
}

/// The running contract's 32-byte account.
pub fn own_account() -> [u8; 32] {
    *ink::env::account_id::<E>().as_ref()
}

/// Sends `amount` (when not zero) from the contract to `to`; returns it.
pub fn pay(to: AccountId, amount: Balance) -> Result<Balance, Error> {
    if amount > 0 {
        ink::env::transfer::<E>(to, amount).map_err(|_| Error::TransferFailed)?;
    }
    Ok(amount)
}

/// The views of `keys`, in order, as many as fit in the output buffer ([`crate::fit`]).
pub fn views<K, V: ink::scale::Encode>(keys: Vec<K>, view: impl Fn(K) -> Option<V>) -> Vec<V> {
    crate::fit(keys.into_iter().filter_map(view))
}

/// [`ServiceCore`] seen from a running message: see [`ServiceCore::msg`].
pub struct Msg<'a>(&'a mut ServiceCore);

impl ServiceCore {
    /// The shared message bodies, reading caller, time and value from the running contract.
    pub fn msg(&mut self) -> Msg<'_> {
        Msg(self)
    }

    /// The sub-account of (`user`, `provider`) as the views show it now.
    pub fn account_now(&self, user: AccountId, provider: AccountId) -> Option<AccountState> {
        self.account(user, provider, now())
    }

    /// The registry's record of `provider`'s service as the views show it now.
    pub fn service_now(&self, provider: AccountId) -> Option<ServiceStatus> {
        self.service_status(provider, now())
    }

    /// `config()`: parameters, books and the contract's surplus over what it owes.
    pub fn config_now(&self) -> ServiceConfig {
        self.config(ink::env::balance::<E>())
    }

    /// `provider_state(provider)`.
    pub fn provider_state_now(&self, provider: AccountId) -> ProviderState {
        self.provider_state(provider, now())
    }

    /// `attestation_trust(attestor, measurement)`.
    pub fn attestation_trust(&self, attestor: [u8; 20], measurement: [u8; 32]) -> (bool, bool) {
        (self.is_attestor(attestor), self.is_measurement(measurement))
    }

    /// `Serving::serving_info`.
    pub fn serving_info(&self) -> ServingInfo {
        ServingInfo { interface_version: SERVING_INTERFACE_VERSION, ledger: self.ledger() }
    }

    /// `Serving::get_pending_refund`.
    pub fn pending_refund(&self, user: AccountId, provider: AccountId) -> Result<Balance, ServingError> {
        Ok(self.book.load(user, provider)?.pending_refund)
    }
}

impl Msg<'_> {
    /// `add_or_update_service`'s shared part: the caller registers with the transferred value as stake, or updates
    /// (`critical`: the change ends the owner's acknowledgement and the attestation). Returns (provider, now).
    pub fn register(&mut self, signer: [u8; 20], critical: bool) -> Result<(AccountId, u64), Error> {
        let (provider, now) = (caller(), now());
        self.0.register(provider, value(), signer, critical, now, &mut OnChain)?;
        Ok((provider, now))
    }

    /// `remove_service`: the caller's stake starts unbonding. Returns the provider.
    pub fn remove_service(&mut self) -> Result<AccountId, Error> {
        let provider = caller();
        self.0.remove(provider, now(), &mut OnChain)?;
        Ok(provider)
    }

    /// `withdraw_stake`: pays the caller's unbonded stake.
    pub fn withdraw_stake(&mut self) -> Result<Balance, Error> {
        let provider = caller();
        let amount = self.0.withdraw_stake(provider, now(), &mut OnChain)?;
        pay(provider, amount)
    }

    /// `withdraw_surplus(to)` (owner).
    pub fn withdraw_surplus(&mut self, to: AccountId) -> Result<Balance, Error> {
        let amount = self.0.withdraw_surplus(caller(), to, ink::env::balance::<E>(), &mut OnChain)?;
        pay(to, amount)
    }

    /// `acknowledge_tee_signer(provider, acknowledged)` (user).
    pub fn set_consent(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
        self.0.set_consent(caller(), provider, acknowledged, now(), &mut OnChain)
    }

    pub fn update_lock_time(&mut self, lock_time_ms: u64) -> Result<(), Error> {
        self.0.update_lock_time(caller(), lock_time_ms, &mut OnChain)
    }

    pub fn update_min_stake(&mut self, min_stake: Balance) -> Result<(), Error> {
        self.0.update_min_stake(caller(), min_stake, &mut OnChain)
    }

    pub fn set_owner_acknowledgement(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
        self.0.set_owner_acknowledgement(caller(), provider, acknowledged, &mut OnChain)
    }

    pub fn transfer_ownership(&mut self, new_owner: AccountId) -> Result<(), Error> {
        self.0.transfer_ownership(caller(), new_owner, &mut OnChain)
    }

    pub fn accept_ownership(&mut self) -> Result<(), Error> {
        self.0.accept_ownership(caller(), &mut OnChain)
    }

    pub fn set_attestor(&mut self, attestor: [u8; 20], registered: bool) -> Result<(), Error> {
        self.0.set_attestor(caller(), attestor, registered, &mut OnChain)
    }

    pub fn set_measurement(&mut self, measurement: [u8; 32], accepted: bool) -> Result<(), Error> {
        self.0.set_measurement(caller(), measurement, accepted, &mut OnChain)
    }

    /// `submit_attestation` in the service's signature `domain`.
    pub fn submit_attestation(
        &mut self,
        domain: &Domain,
        provider: AccountId,
        (measurement, expires_at): ([u8; 32], u64),
        attestor: [u8; 20],
        signature: &[u8],
    ) -> Result<(), Error> {
        let (c, ev) = (&HostCrypto, &mut OnChain);
        self.0.submit_attestation(
            c,
            domain,
            caller(),
            provider,
            measurement,
            expires_at,
            attestor,
            signature,
            now(),
            ev,
        )
    }

    /// `set_code(code_hash, full_code)` (owner): both builds at once ([`crate::full::upgrade`]).
    pub fn set_code<K: ink::storage::traits::StorageKey>(
        &mut self,
        full: &mut ink::storage::Lazy<ink::primitives::Hash, K>,
        code_hash: ink::primitives::Hash,
        full_code: ink::primitives::Hash,
    ) -> Result<(), Error> {
        self.0.ensure_owner(caller())?;
        Ok(crate::full::upgrade(full, code_hash, full_code, &mut OnChain)?)
    }

    // ------------------------------------------------------------------ the ledger's calls (`Serving`)

    /// `Serving::add_account`: opens the sub-account with the transferred value.
    pub fn add_account(&mut self, user: AccountId, provider: AccountId, info: &str) -> Result<(), ServingError> {
        self.0.ledger_open(caller(), user, provider, value(), info, &mut OnChain)
    }

    /// `Serving::deposit_fund`.
    pub fn deposit_fund(&mut self, user: AccountId, provider: AccountId, cancel: Balance) -> Result<(), ServingError> {
        self.0.ledger_deposit(caller(), user, provider, value(), cancel, &mut OnChain)
    }

    /// `Serving::retrieve`: collects and requests refunds, and pays the ledger what was collected in one transfer.
    pub fn retrieve(&mut self, user: AccountId, providers: &[AccountId]) -> Result<Vec<Retrieval>, ServingError> {
        let ledger = caller();
        let (out, paid) = self.0.retrieve(ledger, user, providers, now(), &mut OnChain)?;
        if paid > 0 {
            ink::env::transfer::<E>(ledger, paid).map_err(|_| ServingError::TransferFailed)?;
        }
        Ok(out)
    }

    /// `Serving::delete_accounts`; returns the providers whose sub-account existed.
    pub fn delete_accounts(
        &mut self,
        user: AccountId,
        providers: &[AccountId],
    ) -> Result<Vec<AccountId>, ServingError> {
        self.0.delete_accounts(caller(), user, providers, &mut OnChain)
    }
}
