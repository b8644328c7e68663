//! The fine-tuning service contract: providers register training services with a stake and a TEE signer, add
//! one deliverable (a trained model) per task, users acknowledge it, and providers settle each task with a
//! voucher their TEE signed (the full fee with the model's key when the user acknowledged, the penalty share
//! without a key when the user never did).
//!
//! Wiring only: the shared rules live in `service-core` (`ServiceCore`: registry, stakes, sub-accounts,
//! attestations, owner parameters; `tuning`: deliverables, the ring, `judge_task`). Each message reads caller,
//! time and value, forwards, stores, emits what comes back and pays. Settlement never calls the ledger. See
//! `docs/fine-tuning.md` for every message with its checks in order.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

mod data;

#[ink::contract]
pub mod fine_tuning {
    use crate::data::{self, check_penalty, DeliverableKey};
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    pub use service_core::book::AccountFilter;
    use service_core::book::Key;
    pub use service_core::provider::{Attestation, Unbonding};
    use service_core::service::ServiceCore;
    pub use service_core::service::{ProviderState, ServiceConfig};
    use service_core::shell::{caller, now, pay, views};
    use service_core::tuning::Ring;
    use service_core::{check_count, AccountError, Refund};
    use serving_interface::{Retrieval, Serving, ServingError, ServingInfo};
    use serving_verifier::Domain;

    pub use crate::data::{Quota, ServiceParams, MAX_BATCH_USERS, MAX_MODELS, MAX_MODEL_LENGTH, MAX_URL_LENGTH};
    pub use service_core::tuning::{Deliverable, VerifierInput};
    pub use service_core::Error;

    /// A service as the views return it.
    pub type ServiceView = service_core::views::ServiceView<ServiceParams>;

    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct AccountView {
        pub user: AccountId,
        pub provider: AccountId,
        pub nonce: u128,
        pub balance: Balance,
        pub pending_refund: Balance,
        pub refunds: Vec<Refund>,
        pub additional_info: String,
        /// The user's consent to the provider's signer, now.
        pub acknowledged: bool,
        /// When a pending withdrawal of consent takes (or took) effect.
        pub consent_ends_at: Option<u64>,
        pub deliverables: u32,
    }

    #[ink(event)]
    pub struct ServiceUpdated {
        #[ink(topic)]
        pub provider: AccountId,
        pub url: String,
        pub quota: Quota,
        pub price_per_token: Balance,
        pub tee_signer: [u8; 20],
        pub occupied: bool,
    }

    #[ink(event)]
    pub struct DeliverableAdded {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub id: String,
        pub model_root_hash: Vec<u8>,
        pub penalty_percent: u8,
    }

    #[ink(event)]
    pub struct DeliverableEvicted {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub evicted_id: String,
        pub new_id: String,
    }

    /// The provider removed the deliverables of a deleted sub-account.
    #[ink(event)]
    pub struct DeliverablesRemoved {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub count: u32,
    }

    #[ink(event)]
    pub struct DeliverableAcknowledged {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub id: String,
    }

    #[ink(event)]
    pub struct DeliverableAbandoned {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub id: String,
    }

    #[ink(event)]
    pub struct FeesSettled {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub id: String,
        pub fee: Balance,
        pub acknowledged: bool,
        pub nonce: u128,
    }

    #[ink(event)]
    pub struct PenaltyPercentageUpdated {
        pub old: u8,
        pub new: u8,
    }

    #[ink(storage)]
    pub struct FineTuning {
        /// Ownership, parameters, sub-accounts, stakes, the provider registry and attestations.
        pub(crate) core: ServiceCore,
        /// The penalty share (percent) of a task's fee when the user never acknowledged its deliverable.
        pub(crate) penalty_percent: u8,
        /// The providers' published parameters.
        pub(crate) services: Mapping<AccountId, ServiceParams>,
        pub(crate) rings: Mapping<Key, Ring>,
        /// (user, provider, keccak256(id)) → deliverable
        pub(crate) deliverables: Mapping<DeliverableKey, Deliverable>,
        /// Only in the upgrade test's second build (cfg `serving_upgrade_v2`, set by the build script of
        /// `fine_tuning/v2`, `fine_tuning/full-v2`): the kind of state a new version may add, in a field with
        /// its own storage key, so the packed root stays as it was.
        #[cfg(serving_upgrade_v2)]
        v2_note: ink::storage::Lazy<u32>,
        /// The code hash of this contract's full build (`fine_tuning/full`), which the messages used rarely run
        /// in: see [`FULL`]. Set by the constructor and the owner's `set_code`, locked on chain (`service_core::full`).
        full_code: ink::storage::Lazy<Hash>,
    }

    /// Whether this is the full build (`fine_tuning/full`, cfg `serving_full`; unit tests run it too). Every call
    /// loads the whole code it calls, so the code at the address (the thin build) leaves out the rarely used
    /// messages and hands them to the full build, uploaded once and locked on chain, by a delegate call
    /// ([`TwoBuilds::full`]; docs/inference.md, "Two builds"). Same messages, selectors and metadata.
    const FULL: bool = cfg!(any(test, serving_full));

    use service_core::full::TwoBuilds;

    impl TwoBuilds for FineTuning {
        const FULL: bool = FULL;
        type Error = Error;

        fn stored_full_code(&self) -> Option<Hash> {
            self.full_code.get()
        }
    }

    // What the forwarded messages take and return (`Fwd<T>`, `arg::*`): nothing to decode or encode in the thin
    // build's Wasm, which never runs their bodies (`serving_common::forwarded_types`).
    service_core::forwarded_types!(
        ServiceParams = super::ServiceParams,
        String = super::String,
        AccountFilter = super::AccountFilter,
        AccountId = super::AccountId,
        Balance = super::Balance,
        u8 = core::primitive::u8,
        u32 = core::primitive::u32,
        u64 = core::primitive::u64,
        bool = core::primitive::bool,
    );

    impl FineTuning {
        /// `penalty_percent` ≤ 100 (reference default 30); `lock_time_ms` in [1 h, 7 d]; `min_stake` for a
        /// first registration. The caller becomes the owner. `full_code`: the code hash of the full build
        /// (`fine_tuning/full`), uploaded beforehand and locked by this constructor (see [`FULL`]).
        #[ink(constructor)]
        pub fn new(
            ledger: AccountId,
            chain_id: u64,
            lock_time_ms: u64,
            min_stake: Balance,
            penalty_percent: u8,
            full_code: Hash,
        ) -> Result<Self, Error> {
            let core = ServiceCore::new(caller(), ledger, chain_id, lock_time_ms, min_stake)?;
            check_penalty(penalty_percent)?;
            let mut this = Self {
                core,
                penalty_percent,
                services: Mapping::default(),
                rings: Mapping::default(),
                deliverables: Mapping::default(),
                #[cfg(serving_upgrade_v2)]
                v2_note: Default::default(),
                full_code: Default::default(),
            };
            service_core::full::install(&mut this.full_code, service_core::full::own_code(), full_code)
                .map_err(Error::from)?;
            Ok(this)
        }

        // ------------------------------------------------------------------ provider

        /// Registers (with a stake ≥ `min_stake`) or updates (no value) the caller's service. Only a change of
        /// TEE signer clears the owner's acknowledgement and the attestation.
        #[ink(message, payable)]
        pub fn add_or_update_service(&mut self, params: arg::ServiceParams) -> Result<(), Error> {
            self.full(|s| s.register(arg::take(params)))
        }

        /// Removes the caller's service. Its stake unbonds for the lock time (`withdraw_stake` then pays
        /// it); sub-accounts are untouched, so users can still retrieve their funds.
        #[ink(message)]
        pub fn remove_service(&mut self) -> Result<(), Error> {
            self.full(|s| s.core.msg().remove_service().map(|p| s.services.remove(p)))
        }

        /// Pays the caller's unbonded stake once its release time has come.
        #[ink(message)]
        pub fn withdraw_stake(&mut self) -> Result<Fwd<Balance>, Error> {
            self.full(|s| s.core.msg().withdraw_stake())
        }

        /// Owner: sends the tokens the contract holds beyond what it owes to `to`. Never touches sub-accounts or
        /// stakes.
        #[ink(message)]
        pub fn withdraw_surplus(&mut self, to: arg::AccountId) -> Result<Fwd<Balance>, Error> {
            self.full(|s| s.core.msg().withdraw_surplus(arg::take(to)))
        }

        /// Adds the next task's deliverable for `user`. One task at a time: the latest deliverable must be
        /// acknowledged, settled or abandoned. The penalty share in force now applies to this task.
        #[ink(message)]
        pub fn add_deliverable(&mut self, user: AccountId, id: String, model_root_hash: Vec<u8>) -> Result<(), Error> {
            self.add(caller(), user, id, model_root_hash, now())
        }

        /// The provider gives a task up: no fee, and the next task can start.
        #[ink(message)]
        pub fn abandon_deliverable(&mut self, user: AccountId, id: String) -> Result<(), Error> {
            self.close(user, caller(), id, false)
        }

        /// Provider: removes the deliverables it added for `user` once their sub-account is deleted (deleting it
        /// leaves them: pallet-contracts refunds freed storage to the signer of the call that frees it, and the
        /// provider paid for them). Returns how many; `Task(AccountStillOpen)` while the sub-account exists.
        #[ink(message)]
        pub fn remove_deliverables(&mut self, user: arg::AccountId) -> Result<Fwd<u32>, Error> {
            self.full(|s| s.remove_all(caller(), arg::take(user)))
        }

        /// Settles one task (see docs/fine-tuning.md for the checks in order): judge (`tuning::judge_task`) →
        /// store → emit → pay. Charges the full fee with the key when the user acknowledged, the penalty share
        /// without a key otherwise. The ledger is not called: the sub-account is the record of what the user
        /// holds here.
        #[ink(message)]
        pub fn settle_fees(&mut self, input: VerifierInput) -> Result<Balance, Error> {
            let (provider, domain) = (caller(), self.domain());
            let fee = self.settle_task(provider, input, &domain, now())?;
            pay(provider, fee)
        }

        // ------------------------------------------------------------------ user

        /// The user confirms the delivered model (a full settlement then requires its key). Allowed again while
        /// the task is open.
        #[ink(message)]
        pub fn acknowledge_deliverable(&mut self, provider: AccountId, id: String) -> Result<(), Error> {
            self.close(caller(), provider, id, true)
        }

        /// Grants or withdraws the caller's consent to settlements by `provider`'s TEE signer, at any time. A
        /// grant takes effect at once; a withdrawal only after the lock time (docs/differences.md, D5), so the
        /// provider can still settle what it served before; from then on settlements report `NoTeeSigner`.
        /// Emits `UserAcknowledgementChanged` only when something changes.
        #[ink(message)]
        pub fn acknowledge_tee_signer(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            self.core.msg().set_consent(provider, acknowledged)
        }

        // ------------------------------------------------------------------ owner

        #[ink(message)]
        pub fn update_lock_time(&mut self, lock_time_ms: arg::u64) -> Result<(), Error> {
            self.full(|s| s.core.msg().update_lock_time(arg::take(lock_time_ms)))
        }

        /// Sets the penalty share for tasks added from now on.
        #[ink(message)]
        pub fn update_penalty_percentage(&mut self, percent: arg::u8) -> Result<(), Error> {
            self.full(|s| s.set_penalty(caller(), arg::take(percent)))
        }

        #[ink(message)]
        pub fn update_min_stake(&mut self, min_stake: arg::Balance) -> Result<(), Error> {
            self.full(|s| s.core.msg().update_min_stake(arg::take(min_stake)))
        }

        /// The owner vouches for (`true`, after checking its attestation) or stops vouching for the provider's
        /// current TEE signer.
        #[ink(message)]
        pub fn set_tee_signer_acknowledgement(
            &mut self,
            provider: arg::AccountId,
            acknowledged: arg::bool,
        ) -> Result<(), Error> {
            self.full(|s| s.core.msg().set_owner_acknowledgement(arg::take(provider), arg::take(acknowledged)))
        }

        #[ink(message)]
        pub fn transfer_ownership(&mut self, new_owner: arg::AccountId) -> Result<(), Error> {
            self.full(|s| s.core.msg().transfer_ownership(arg::take(new_owner)))
        }

        #[ink(message)]
        pub fn accept_ownership(&mut self) -> Result<(), Error> {
            self.full(|s| s.core.msg().accept_ownership())
        }

        /// Owner: upgrades both builds in one call, keeping the storage: `code_hash` becomes the code at this
        /// address (the thin build) and `full_code` the full build its rarely used messages run in (see [`FULL`]),
        /// the new full build locked on chain and the old one unlocked (`service_core::full`). Never forwarded.
        #[ink(message)]
        pub fn set_code(&mut self, code_hash: Hash, full_code: Hash) -> Result<(), Error> {
            self.core.msg().set_code(&mut self.full_code, code_hash, full_code)
        }

        /// Owner: registers (`true`) or removes an attestor key. Removal ends every attestation it signed.
        #[ink(message)]
        pub fn set_attestor(&mut self, attestor: [u8; 20], registered: arg::bool) -> Result<(), Error> {
            self.full(|s| s.core.msg().set_attestor(attestor, arg::take(registered)))
        }

        /// Owner: accepts (`true`) or removes a TEE measurement. Removal ends every attestation for it.
        #[ink(message)]
        pub fn set_measurement(&mut self, measurement: [u8; 32], accepted: arg::bool) -> Result<(), Error> {
            self.full(|s| s.core.msg().set_measurement(measurement, arg::take(accepted)))
        }

        /// Submits a registered attestor's `TeeAttestation` (in this contract's domain) for `provider`'s current
        /// signer: anyone, unless the provider's current attestation still counts (then only the provider:
        /// `AttestationInPlace`); see inference.
        #[ink(message)]
        pub fn submit_attestation(
            &mut self,
            provider: AccountId,
            measurement: [u8; 32],
            expires_at: u64,
            attestor: [u8; 20],
            signature: Vec<u8>,
        ) -> Result<(), Error> {
            self.full(|s| {
                let domain = s.domain();
                s.core.msg().submit_attestation(&domain, provider, (measurement, expires_at), attestor, &signature)
            })
        }

        // ------------------------------------------------------------------ views

        /// Upgrade test only: what the second build stores in its new field.
        #[cfg(serving_upgrade_v2)]
        #[ink(message)]
        pub fn v2_note(&self) -> u32 {
            self.v2_note.get().unwrap_or(0)
        }

        /// Upgrade test only: writes the second build's new field, in the second version's full build (a message
        /// the first full build does not have: it works only when an upgrade moved both builds).
        #[cfg(serving_upgrade_v2)]
        #[ink(message)]
        pub fn set_v2_note(&mut self, note: arg::u32) -> Result<Fwd<u32>, Error> {
            self.full(|s| {
                let note = arg::take(note);
                s.v2_note.set(&note);
                Ok(note)
            })
        }

        /// Owner, pending owner, ledger, chain id, lock time, minimum stake, liabilities and surplus.
        #[ink(message)]
        pub fn config(&self) -> Fwd<ServiceConfig> {
            self.full_plain(|s| s.core.config_now())
        }

        #[ink(message)]
        pub fn penalty_percentage(&self) -> u8 {
            self.penalty_percent
        }

        /// The code hash of the full build the rarely used messages run in (see [`FULL`]).
        #[ink(message)]
        pub fn full_code(&self) -> Option<Hash> {
            self.full_code.get()
        }

        #[ink(message)]
        pub fn get_account(&self, user: arg::AccountId, provider: arg::AccountId) -> Result<Fwd<AccountView>, Error> {
            self.full_view(|s| {
                let key = (arg::take(user), arg::take(provider));
                s.view(key).ok_or(Error::Account(AccountError::AccountNotExists))
            })
        }

        /// A page of the sub-accounts `filter` selects (all, one provider's, one user's) and their number; limit
        /// 0 = 50, at most 50; as many as fit in the output buffer (continue from `offset + returned`).
        #[ink(message)]
        pub fn get_accounts(
            &self,
            filter: arg::AccountFilter,
            offset: arg::u32,
            limit: arg::u32,
        ) -> Result<Fwd<(Vec<AccountView>, u32)>, Error> {
            self.full_view(|s| {
                let filter = arg::take(filter);
                let offset = arg::take(offset);
                let limit = arg::take(limit);
                s.core.book.page(filter, offset, limit).map(|(k, total)| (views(k, |k| s.view(k)), total))
            })
        }

        /// The sub-accounts of up to 50 users with `provider`, in input order (`None` where there is none).
        #[ink(message)]
        pub fn get_batch_accounts_by_users(
            &self,
            provider: AccountId,
            users: Vec<AccountId>,
        ) -> Result<Fwd<Vec<Option<AccountView>>>, Error> {
            self.full_view(|s| {
                check_count(users.len(), MAX_BATCH_USERS)?;
                Ok(service_core::fit(users.into_iter().map(|u| s.view((u, provider)))))
            })
        }

        #[ink(message)]
        pub fn get_service(&self, provider: arg::AccountId) -> Result<Fwd<ServiceView>, Error> {
            self.full_view(|s| s.service_view(arg::take(provider)).ok_or(Error::ServiceNotExist))
        }

        /// (page, total); limit 0 = 50, at most 50.
        #[ink(message)]
        pub fn get_all_services(
            &self,
            offset: arg::u32,
            limit: arg::u32,
        ) -> Result<Fwd<(Vec<ServiceView>, u32)>, Error> {
            self.full_view(|s| {
                let offset = arg::take(offset);
                let limit = arg::take(limit);
                s.core.providers(offset, limit).map(|(p, total)| (views(p, |p| s.service_view(p)), total))
            })
        }

        /// The provider's stake, unbonding stake, usable TEE signer and accepted attestation (see `ProviderState`).
        #[ink(message)]
        pub fn provider_state(&self, provider: arg::AccountId) -> Fwd<ProviderState> {
            self.full_plain(|s| s.core.provider_state_now(arg::take(provider)))
        }

        /// Whether `attestor` is a registered attestor, and whether `measurement` is an accepted measurement.
        #[ink(message)]
        pub fn attestation_trust(&self, attestor: [u8; 20], measurement: [u8; 32]) -> Fwd<(bool, bool)> {
            self.full_plain(|s| s.core.attestation_trust(attestor, measurement))
        }

        #[ink(message)]
        pub fn get_deliverable(
            &self,
            user: arg::AccountId,
            provider: arg::AccountId,
            id: arg::String,
        ) -> Result<Fwd<Deliverable>, Error> {
            self.full_view(|s| s.deliverable(arg::take(user), arg::take(provider), &arg::take(id)))
        }

        /// A page of the pair's deliverables, oldest first, and their number (at most 20); limit 0 = 50, at most
        /// 50; as many as fit in the output buffer (continue from `offset + returned`). Deliverables outlive a
        /// deleted sub-account until the provider's `remove_deliverables`.
        #[ink(message)]
        pub fn get_deliverables(
            &self,
            user: arg::AccountId,
            provider: arg::AccountId,
            offset: arg::u32,
            limit: arg::u32,
        ) -> Result<Fwd<(Vec<Deliverable>, u32)>, Error> {
            self.full_view(|s| {
                let (user, provider) = (arg::take(user), arg::take(provider));
                s.deliverables_page(user, provider, arg::take(offset), arg::take(limit))
            })
        }

        // ------------------------------------------------------------------ internals

        /// `add_or_update_service` in the full build.
        fn register(&mut self, params: ServiceParams) -> Result<(), Error> {
            params.check()?;
            let critical = self.services.get(caller()).is_none_or(|old| old.tee_signer != params.tee_signer);
            let (provider, _) = self.core.msg().register(params.tee_signer, critical)?;
            self.env().emit_event(params.updated(provider));
            self.services.insert(provider, &params);
            Ok(())
        }

        fn domain(&self) -> Domain {
            Domain::fine_tuning(self.core.chain_id(), service_core::shell::own_account())
        }

        fn view(&self, (user, provider): Key) -> Option<AccountView> {
            let state = self.core.account_now(user, provider)?;
            Some(data::account_view(user, provider, state, self.deliverable_count(user, provider)))
        }

        fn service_view(&self, provider: AccountId) -> Option<ServiceView> {
            self.core.service_view(provider, self.services.get(provider))
        }
    }

    impl Serving for FineTuning {
        #[ink(message)]
        fn serving_info(&self) -> ServingInfo {
            self.core.serving_info()
        }

        #[ink(message)]
        fn user_balance(&self, user: AccountId) -> Balance {
            self.core.book.user_total(user)
        }

        #[ink(message)]
        fn account_exists(&self, user: AccountId, provider: AccountId) -> bool {
            self.core.book.contains(user, provider)
        }

        #[ink(message)]
        fn get_pending_refund(&self, user: AccountId, provider: AccountId) -> Result<Balance, ServingError> {
            self.core.pending_refund(user, provider)
        }

        /// Opens the sub-account with the transferred value; the provider must have a service.
        #[ink(message, payable)]
        fn add_account(
            &mut self,
            user: AccountId,
            provider: AccountId,
            additional_info: String,
        ) -> Result<(), ServingError> {
            self.core.msg().add_account(user, provider, &additional_info)
        }

        #[ink(message, payable)]
        fn deposit_fund(
            &mut self,
            user: AccountId,
            provider: AccountId,
            cancel_refund: Balance,
        ) -> Result<(), ServingError> {
            self.core.msg().deposit_fund(user, provider, cancel_refund)
        }

        #[ink(message)]
        fn retrieve(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<Vec<Retrieval>, ServingError> {
            self.core.msg().retrieve(user, &providers)
        }

        /// The deliverables stay: the provider paid their storage and removes them (`remove_deliverables`).
        #[ink(message)]
        fn delete_accounts(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<(), ServingError> {
            self.core.msg().delete_accounts(user, &providers).map(|_| ())
        }
    }
}

#[cfg(test)]
mod tests;
