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

#[ink::contract]
pub mod fine_tuning {
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    pub use service_core::book::AccountFilter;
    use service_core::book::Key;
    pub use service_core::provider::{Attestation, Unbonding};
    use service_core::service::{AccountState, OnChain, ServiceCore};
    pub use service_core::service::{ProviderState, ServiceConfig};
    use service_core::tuning::{self, check_id, judge_task, DeliverableState, Ring, TaskError};
    use service_core::{check_count, check_len, AccountError, Refund};
    use serving_interface::{Retrieval, Serving, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};
    use serving_verifier::{Crypto, Domain, HostCrypto};

    pub use service_core::tuning::{Deliverable, VerifierInput};
    pub use service_core::Error;
    /// Longest url and gpu type, in bytes.
    pub const MAX_URL_LENGTH: u32 = 512;
    /// Most supported models.
    pub const MAX_MODELS: u32 = 20;
    /// Longest model name, in bytes.
    pub const MAX_MODEL_LENGTH: u32 = 256;
    /// Most users in `get_batch_accounts_by_users`.
    pub const MAX_BATCH_USERS: u32 = 50;

    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Quota {
        pub cpu_count: u64,
        pub node_memory: u64,
        pub gpu_count: u64,
        pub node_storage: u64,
        pub gpu_type: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ServiceParams {
        pub url: String,
        pub quota: Quota,
        pub price_per_token: Balance,
        pub occupied: bool,
        pub models: Vec<String>,
        pub tee_signer: [u8; 20],
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct ServiceView {
        pub provider: AccountId,
        pub params: ServiceParams,
        pub updated_at: u64,
        pub tee_signer_acknowledged: bool,
        pub stake: Balance,
    }

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
        core: ServiceCore,
        /// The penalty share (percent) of a task's fee when the user never acknowledged its deliverable.
        penalty_percent: u8,
        /// The providers' published parameters.
        services: Mapping<AccountId, ServiceParams>,
        rings: Mapping<Key, Ring>,
        /// (user, provider, keccak256(id)) → deliverable
        deliverables: Mapping<DeliverableKey, Deliverable>,
        /// Only in the upgrade test's second build (cfg `serving_upgrade_v2`, set by the build script of
        /// `fine_tuning/v2`, `fine_tuning/full-v2`): the kind of state a new version may add, in a field with its own storage key,
        /// so the packed root stays as it was.
        #[cfg(serving_upgrade_v2)]
        v2_note: ink::storage::Lazy<u32>,
        /// The code hash of this contract's full build (`fine_tuning/full`), which the messages used rarely run
        /// in: see [`FULL`]. Set by the constructor and the owner's `set_code`, and locked on chain (`service_core::full`).
        full_code: ink::storage::Lazy<Hash>,
    }

    /// Whether this is the full build. Every call loads the whole code of the contract it calls (pallet-contracts
    /// charges ≈ 33.5 k ps and 1 B of proof per byte, in every call), so the code deployed at the contract's
    /// address (the thin build, the default) carries only what users, providers' tasks and settlement, and the
    /// ledger call; the messages used rarely (the owner's, provider registration, stake withdrawal, attestation
    /// submission and the two paged views) run in the full build of the same source (`fine_tuning/full`, cfg
    /// `serving_full`), uploaded once, which the thin build reaches by a delegate call (`service_core::full::forward`:
    /// same storage, caller and value; the call's input handed over, its output returned as is). Both builds have
    /// the same messages, selectors and metadata; unit tests run the full build.
    const FULL: bool = cfg!(any(test, serving_full));

    /// (user, provider, keccak256(deliverable id))
    type DeliverableKey = (AccountId, AccountId, [u8; 32]);

    fn id_hash(id: &str) -> [u8; 32] {
        HostCrypto.keccak256(id.as_bytes())
    }

    fn check_penalty(percent: u8) -> Result<(), Error> {
        if percent > 100 {
            return Err(Error::PenaltyPercentageTooHigh { percent });
        }
        Ok(())
    }

    impl ServiceParams {
        fn check(&self) -> Result<(), Error> {
            check_len(self.url.len(), MAX_URL_LENGTH)?;
            check_len(self.quota.gpu_type.len(), MAX_URL_LENGTH)?;
            check_count(self.models.len(), MAX_MODELS)?;
            self.models.iter().try_for_each(|m| check_len(m.len(), MAX_MODEL_LENGTH))
        }
    }

    impl FineTuning {
        /// `penalty_percent` ≤ 100 (reference default 30); `lock_time_ms` in [1 h, 7 d]; `min_stake` for a
        /// first registration. The caller becomes the owner. `full_code`: the code hash of the full build
        /// (`fine_tuning/full`), uploaded beforehand (see [`FULL`]).
        #[ink(constructor)]
        pub fn new(
            ledger: AccountId,
            chain_id: u64,
            lock_time_ms: u64,
            min_stake: Balance,
            penalty_percent: u8,
            full_code: Hash,
        ) -> Result<Self, Error> {
            let core = ServiceCore::new(Self::env().caller(), ledger, chain_id, lock_time_ms, min_stake)?;
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
            service_core::full::install(&mut this.full_code, service_core::full::own_code(), full_code)?;
            Ok(this)
        }

        // ------------------------------------------------------------------ provider

        /// Registers (with a stake ≥ `min_stake`) or updates (no value) the caller's service. Only a change of
        /// TEE signer clears the owner's acknowledgement and the attestation.
        #[ink(message, payable)]
        pub fn add_or_update_service(&mut self, params: ServiceParams) -> Result<(), Error> {
            if FULL {
                let (provider, now) = (self.env().caller(), self.env().block_timestamp());
                params.check()?;
                let critical = self.services.get(provider).is_none_or(|old| old.tee_signer != params.tee_signer);
                let value = self.env().transferred_value();
                self.core.register(provider, value, params.tee_signer, critical, now, &mut OnChain)?;
                self.env().emit_event(ServiceUpdated {
                    provider,
                    url: params.url.clone(),
                    quota: params.quota.clone(),
                    price_per_token: params.price_per_token,
                    tee_signer: params.tee_signer,
                    occupied: params.occupied,
                });
                self.services.insert(provider, &params);
                Ok(())
            } else {
                self.forward()
            }
        }

        /// Removes the caller's service. Its stake unbonds for the lock time (`withdraw_stake` then pays
        /// it); sub-accounts are untouched, so users can still retrieve their funds.
        #[ink(message)]
        pub fn remove_service(&mut self) -> Result<(), Error> {
            if FULL {
                let provider = self.env().caller();
                self.core.remove(provider, self.env().block_timestamp(), &mut OnChain)?;
                self.services.remove(provider);
                Ok(())
            } else {
                self.forward()
            }
        }

        /// Pays the caller's unbonded stake once its release time has come.
        #[ink(message)]
        pub fn withdraw_stake(&mut self) -> Result<Balance, Error> {
            if FULL {
                let provider = self.env().caller();
                let amount = self.core.withdraw_stake(provider, self.env().block_timestamp(), &mut OnChain)?;
                self.pay(provider, amount)
            } else {
                self.forward()
            }
        }

        /// Owner: sends the tokens the contract holds beyond what it owes (plain transfers to the contract, which
        /// no code can refuse on pallet-contracts) to `to`. Never touches sub-accounts or stakes.
        #[ink(message)]
        pub fn withdraw_surplus(&mut self, to: AccountId) -> Result<Balance, Error> {
            if FULL {
                let amount = self.core.withdraw_surplus(self.env().caller(), to, self.env().balance(), &mut OnChain)?;
                self.pay(to, amount)
            } else {
                self.forward()
            }
        }

        /// Adds the next task's deliverable for `user`. One task at a time: the latest deliverable must be
        /// acknowledged, settled or abandoned. The penalty share in force now applies to this task.
        #[ink(message)]
        pub fn add_deliverable(&mut self, user: AccountId, id: String, model_root_hash: Vec<u8>) -> Result<(), Error> {
            let provider = self.env().caller();
            check_id(&id)?;
            check_len(model_root_hash.len(), tuning::MAX_ROOT_HASH_LENGTH)?;
            if !self.core.has_service(provider) {
                return Err(Error::ServiceNotExist);
            }
            if !self.core.book.contains(user, provider) {
                return Err(AccountError::AccountNotExists.into());
            }
            let key = id_hash(&id);
            if self.deliverables.contains((user, provider, key)) {
                return Err(TaskError::DeliverableAlreadyExists.into());
            }
            let mut ring = self.rings.get((user, provider)).unwrap_or_default();
            let state =
                |h: Option<[u8; 32]>| h.and_then(|h| self.deliverables.get((user, provider, h))).map(|d| d.state);
            let latest = state(ring.latest());
            let oldest = if ring.is_full() { state(ring.oldest()) } else { None };
            if let Some(evicted) = ring.admit(key, latest, oldest)? {
                if let Some(old) = self.deliverables.take((user, provider, evicted)) {
                    let new_id = id.clone();
                    self.env().emit_event(DeliverableEvicted { user, provider, evicted_id: old.id, new_id });
                }
            }
            self.rings.insert((user, provider), &ring);
            let penalty_percent = self.penalty_percent;
            self.env().emit_event(DeliverableAdded {
                user,
                provider,
                id: id.clone(),
                model_root_hash: model_root_hash.clone(),
                penalty_percent,
            });
            let d = Deliverable {
                id,
                model_root_hash,
                encrypted_secret: Vec::new(),
                state: DeliverableState::Pending,
                added_at: self.env().block_timestamp(),
                penalty_percent,
            };
            self.deliverables.insert((user, provider, key), &d);
            Ok(())
        }

        /// The provider gives a task up: no fee, and the next task can start.
        #[ink(message)]
        pub fn abandon_deliverable(&mut self, user: AccountId, id: String) -> Result<(), Error> {
            let provider = self.env().caller();
            self.move_open_deliverable(user, provider, &id, DeliverableState::Abandoned)?;
            self.env().emit_event(DeliverableAbandoned { user, provider, id });
            Ok(())
        }

        /// Provider: removes the deliverables it added for `user` once their sub-account is deleted (deleting it
        /// leaves them: pallet-contracts refunds freed storage to the signer of the call that frees it, and the
        /// provider paid for them). Returns how many; `Task(AccountStillOpen)` while the sub-account exists.
        #[ink(message)]
        pub fn remove_deliverables(&mut self, user: AccountId) -> Result<u32, Error> {
            if FULL {
                let provider = self.env().caller();
                if self.core.book.contains(user, provider) {
                    return Err(TaskError::AccountStillOpen.into());
                }
                let ids = self.rings.take((user, provider)).map(|r| r.ids).unwrap_or_default();
                for h in &ids {
                    self.deliverables.remove((user, provider, *h));
                }
                let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                if count > 0 {
                    self.env().emit_event(DeliverablesRemoved { user, provider, count });
                }
                Ok(count)
            } else {
                self.forward()
            }
        }

        /// Settles one task (see docs/fine-tuning.md for the checks in order): judge (`tuning::judge_task`) →
        /// store → emit → pay. Charges the full fee with the key when the user acknowledged, the penalty share
        /// without a key otherwise. The ledger is not called: the sub-account is the record of what the user
        /// holds here.
        #[ink(message)]
        pub fn settle_fees(&mut self, input: VerifierInput) -> Result<Balance, Error> {
            let (provider, user, now) = (self.env().caller(), input.user, self.env().block_timestamp());
            let domain = self.domain();
            let settler = self.core.settler(provider, &domain, &HostCrypto, now);
            let account = self.core.book.get(user, provider);
            let key = (user, provider, id_hash(&input.id));
            let settled = judge_task(&HostCrypto, &settler, &domain, account, &input, |_| self.deliverables.get(key))?;
            self.core.book.store(user, provider, settled.old_balance, &settled.account)?;
            self.deliverables.insert(key, &settled.deliverable);
            let (fee, acknowledged, a) = (settled.fee, settled.acknowledged, &settled.account);
            self.env().emit_event(FeesSettled { user, provider, id: input.id, fee, acknowledged, nonce: input.nonce });
            let balance = service_core::events::BalanceUpdated {
                user,
                provider,
                balance: a.balance,
                pending_refund: a.pending_refund,
            };
            self.env().emit_event(balance);
            self.pay(provider, fee)
        }

        // ------------------------------------------------------------------ user

        /// The user confirms the delivered model (a full settlement then requires its key). Allowed again while
        /// the task is open.
        #[ink(message)]
        pub fn acknowledge_deliverable(&mut self, provider: AccountId, id: String) -> Result<(), Error> {
            let user = self.env().caller();
            self.move_open_deliverable(user, provider, &id, DeliverableState::Acknowledged)?;
            self.env().emit_event(DeliverableAcknowledged { user, provider, id });
            Ok(())
        }

        /// Grants or withdraws the caller's consent to settlements by `provider`'s TEE signer, at any time. A
        /// grant takes effect at once; a withdrawal only after the lock time (docs/differences.md, D5), so the
        /// provider can still settle what it served before; from then on settlements report `NoTeeSigner`.
        /// Emits `UserAcknowledgementChanged` only when something changes.
        #[ink(message)]
        pub fn acknowledge_tee_signer(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            let (user, now) = (self.env().caller(), self.env().block_timestamp());
            self.core.set_consent(user, provider, acknowledged, now, &mut OnChain)
        }

        // ------------------------------------------------------------------ owner

        #[ink(message)]
        pub fn update_lock_time(&mut self, lock_time_ms: u64) -> Result<(), Error> {
            if FULL {
                self.core.update_lock_time(self.env().caller(), lock_time_ms, &mut OnChain)
            } else {
                self.forward()
            }
        }

        /// Sets the penalty share for tasks added from now on.
        #[ink(message)]
        pub fn update_penalty_percentage(&mut self, percent: u8) -> Result<(), Error> {
            if FULL {
                self.core.ensure_owner(self.env().caller())?;
                check_penalty(percent)?;
                let old = core::mem::replace(&mut self.penalty_percent, percent);
                if old != percent {
                    self.env().emit_event(PenaltyPercentageUpdated { old, new: percent });
                }
                Ok(())
            } else {
                self.forward()
            }
        }

        #[ink(message)]
        pub fn update_min_stake(&mut self, min_stake: Balance) -> Result<(), Error> {
            if FULL {
                self.core.update_min_stake(self.env().caller(), min_stake, &mut OnChain)
            } else {
                self.forward()
            }
        }

        /// The owner vouches for (`true`, after checking its attestation) or stops vouching for the provider's
        /// current TEE signer.
        #[ink(message)]
        pub fn set_tee_signer_acknowledgement(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            if FULL {
                self.core.set_owner_acknowledgement(self.env().caller(), provider, acknowledged, &mut OnChain)
            } else {
                self.forward()
            }
        }

        #[ink(message)]
        pub fn transfer_ownership(&mut self, new_owner: AccountId) -> Result<(), Error> {
            if FULL {
                self.core.transfer_ownership(self.env().caller(), new_owner, &mut OnChain)
            } else {
                self.forward()
            }
        }

        #[ink(message)]
        pub fn accept_ownership(&mut self) -> Result<(), Error> {
            if FULL {
                self.core.accept_ownership(self.env().caller(), &mut OnChain)
            } else {
                self.forward()
            }
        }

        /// Owner: upgrades both builds in one call, keeping the storage: `code_hash` becomes the code at this
        /// address (the thin build) and `full_code` the full build its rarely used messages run in (see [`FULL`]),
        /// the new full build locked on chain and the old one unlocked (`service_core::full`). Never forwarded.
        #[ink(message)]
        pub fn set_code(&mut self, code_hash: Hash, full_code: Hash) -> Result<(), Error> {
            self.core.ensure_owner(self.env().caller())?;
            service_core::full::upgrade(&mut self.full_code, code_hash, full_code, &mut OnChain)
        }

        /// Owner: registers (`true`) or removes an attestor key. Removal ends every attestation it signed.
        #[ink(message)]
        pub fn set_attestor(&mut self, attestor: [u8; 20], registered: bool) -> Result<(), Error> {
            if FULL {
                self.core.set_attestor(self.env().caller(), attestor, registered, &mut OnChain)
            } else {
                self.forward()
            }
        }

        /// Owner: accepts (`true`) or removes a TEE measurement. Removal ends every attestation for it.
        #[ink(message)]
        pub fn set_measurement(&mut self, measurement: [u8; 32], accepted: bool) -> Result<(), Error> {
            if FULL {
                self.core.set_measurement(self.env().caller(), measurement, accepted, &mut OnChain)
            } else {
                self.forward()
            }
        }

        /// Submits a registered attestor's `TeeAttestation` for `provider`'s current signer: anyone, unless the
        /// provider's current attestation still counts (then only the provider: `AttestationInPlace`). The signer
        /// then counts as acknowledged until `expires_at` (ms), unless the signer changes or the attestor or
        /// measurement is removed first.
        #[ink(message)]
        pub fn submit_attestation(
            &mut self,
            provider: AccountId,
            measurement: [u8; 32],
            expires_at: u64,
            attestor: [u8; 20],
            signature: Vec<u8>,
        ) -> Result<(), Error> {
            if FULL {
                let (domain, now, caller) = (self.domain(), self.env().block_timestamp(), self.env().caller());
                let (c, ev) = (&mut self.core, &mut OnChain);
                c.submit_attestation(
                    &HostCrypto,
                    &domain,
                    caller,
                    provider,
                    measurement,
                    expires_at,
                    attestor,
                    &signature,
                    now,
                    ev,
                )
            } else {
                self.forward()
            }
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
        pub fn set_v2_note(&mut self, note: u32) -> Result<u32, Error> {
            if FULL {
                self.v2_note.set(&note);
                Ok(note)
            } else {
                self.forward()
            }
        }

        /// Owner, pending owner, ledger, chain id, lock time, minimum stake, liabilities and surplus.
        #[ink(message)]
        pub fn config(&self) -> ServiceConfig {
            self.core.config(self.env().balance())
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
        pub fn get_account(&self, user: AccountId, provider: AccountId) -> Result<AccountView, Error> {
            self.view((user, provider)).ok_or(Error::Account(AccountError::AccountNotExists))
        }

        /// A page of the sub-accounts `filter` selects (all, one provider's, one user's) and their number; limit
        /// 0 = 50, at most 50; as many as fit in the output buffer (continue from `offset + returned`).
        #[ink(message)]
        pub fn get_accounts(
            &self,
            filter: AccountFilter,
            offset: u32,
            limit: u32,
        ) -> Result<(Vec<AccountView>, u32), Error> {
            if FULL {
                let (keys, total) = self.core.book.page(filter, offset, limit)?;
                Ok((self.views(keys), total))
            } else {
                self.forward()
            }
        }

        /// The sub-accounts of up to 50 users with `provider`, in input order (`None` where there is none).
        #[ink(message)]
        pub fn get_batch_accounts_by_users(
            &self,
            provider: AccountId,
            users: Vec<AccountId>,
        ) -> Result<Vec<Option<AccountView>>, Error> {
            check_count(users.len(), MAX_BATCH_USERS)?;
            Ok(service_core::fit(users.into_iter().map(|u| self.view((u, provider)))))
        }

        #[ink(message)]
        pub fn get_service(&self, provider: AccountId) -> Result<ServiceView, Error> {
            self.service_view(provider).ok_or(Error::ServiceNotExist)
        }

        /// (page, total); limit 0 = 50, at most 50.
        #[ink(message)]
        pub fn get_all_services(&self, offset: u32, limit: u32) -> Result<(Vec<ServiceView>, u32), Error> {
            if FULL {
                let (providers, total) = self.core.providers(offset, limit)?;
                Ok((service_core::fit(providers.into_iter().filter_map(|p| self.service_view(p))), total))
            } else {
                self.forward()
            }
        }

        /// The provider's stake, unbonding stake, usable TEE signer and accepted attestation (see `ProviderState`).
        #[ink(message)]
        pub fn provider_state(&self, provider: AccountId) -> ProviderState {
            self.core.provider_state(provider, self.env().block_timestamp())
        }

        /// Whether `attestor` is a registered attestor, and whether `measurement` is an accepted measurement.
        #[ink(message)]
        pub fn attestation_trust(&self, attestor: [u8; 20], measurement: [u8; 32]) -> (bool, bool) {
            (self.core.is_attestor(attestor), self.core.is_measurement(measurement))
        }

        #[ink(message)]
        pub fn get_deliverable(&self, user: AccountId, provider: AccountId, id: String) -> Result<Deliverable, Error> {
            if !self.core.book.contains(user, provider) {
                return Err(AccountError::AccountNotExists.into());
            }
            Ok(self.deliverables.get((user, provider, id_hash(&id))).ok_or(TaskError::DeliverableNotExists)?)
        }

        /// A page of the pair's deliverables, oldest first, and their number (at most 20); limit 0 = 50, at most
        /// 50; as many as fit in the output buffer (continue from `offset + returned`). Deliverables outlive a
        /// deleted sub-account until the provider's `remove_deliverables`.
        #[ink(message)]
        pub fn get_deliverables(
            &self,
            user: AccountId,
            provider: AccountId,
            offset: u32,
            limit: u32,
        ) -> Result<(Vec<Deliverable>, u32), Error> {
            let ids = self.rings.get((user, provider)).unwrap_or_default().ids;
            let total = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            let range = service_core::error::page_range(offset, limit, total)?;
            let (skip, take) = (usize::try_from(range.start).unwrap_or(usize::MAX), range.len());
            let page = ids.into_iter().skip(skip).take(take);
            Ok((service_core::fit(page.filter_map(|h| self.deliverables.get((user, provider, h)))), total))
        }

        // ------------------------------------------------------------------ internals

        /// Runs this call's message in the full build (see [`FULL`], `service_core::full::forward`).
        fn forward<T>(&self) -> Result<T, Error> {
            service_core::full::forward(self.full_code.get())
        }

        fn domain(&self) -> Domain {
            Domain::fine_tuning(self.core.chain_id(), *self.env().account_id().as_ref())
        }

        fn pay(&self, to: AccountId, amount: Balance) -> Result<Balance, Error> {
            if amount > 0 {
                self.env().transfer(to, amount).map_err(|_| Error::TransferFailed)?;
            }
            Ok(amount)
        }

        fn move_open_deliverable(
            &mut self,
            user: AccountId,
            provider: AccountId,
            id: &str,
            state: DeliverableState,
        ) -> Result<(), Error> {
            if !self.core.book.contains(user, provider) {
                return Err(AccountError::AccountNotExists.into());
            }
            let key = (user, provider, id_hash(id));
            let mut d = self.deliverables.get(key).ok_or(TaskError::DeliverableNotExists)?;
            d.check_open()?;
            d.state = state;
            self.deliverables.insert(key, &d);
            Ok(())
        }

        fn view(&self, (user, provider): Key) -> Option<AccountView> {
            let AccountState { account: a, additional_info, acknowledged } =
                self.core.account(user, provider, self.env().block_timestamp())?;
            let deliverables =
                self.rings.get((user, provider)).map(|r| u32::try_from(r.ids.len()).unwrap_or(u32::MAX)).unwrap_or(0);
            Some(AccountView {
                user,
                provider,
                nonce: a.nonce,
                balance: a.balance,
                pending_refund: a.pending_refund,
                refunds: a.refunds,
                additional_info,
                acknowledged,
                consent_ends_at: a.consent_ends_at,
                deliverables,
            })
        }

        /// The views of `keys`, in order, as many as fit in the output buffer (`service_core::fit`).
        fn views(&self, keys: Vec<Key>) -> Vec<AccountView> {
            service_core::fit(keys.into_iter().filter_map(|k| self.view(k)))
        }

        fn service_view(&self, provider: AccountId) -> Option<ServiceView> {
            let status = self.core.service_status(provider, self.env().block_timestamp())?;
            Some(ServiceView {
                provider,
                params: self.services.get(provider)?,
                updated_at: status.updated_at,
                tee_signer_acknowledged: status.tee_signer_acknowledged,
                stake: status.stake,
            })
        }
    }

    impl Serving for FineTuning {
        #[ink(message)]
        fn serving_info(&self) -> ServingInfo {
            ServingInfo { interface_version: SERVING_INTERFACE_VERSION, ledger: self.core.ledger() }
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
            Ok(self.core.book.load(user, provider)?.pending_refund)
        }

        /// Opens the sub-account with the transferred value; the provider must have a service.
        #[ink(message, payable)]
        fn add_account(
            &mut self,
            user: AccountId,
            provider: AccountId,
            additional_info: String,
        ) -> Result<(), ServingError> {
            let (caller, value) = (self.env().caller(), self.env().transferred_value());
            self.core.ledger_open(caller, user, provider, value, &additional_info, &mut OnChain)
        }

        #[ink(message, payable)]
        fn deposit_fund(
            &mut self,
            user: AccountId,
            provider: AccountId,
            cancel_refund: Balance,
        ) -> Result<(), ServingError> {
            let (caller, value) = (self.env().caller(), self.env().transferred_value());
            self.core.ledger_deposit(caller, user, provider, value, cancel_refund, &mut OnChain)
        }

        #[ink(message)]
        fn retrieve(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<Vec<Retrieval>, ServingError> {
            let (caller, now) = (self.env().caller(), self.env().block_timestamp());
            let (out, paid) = self.core.retrieve(caller, user, &providers, now, &mut OnChain)?;
            if paid > 0 {
                self.env().transfer(caller, paid).map_err(|_| ServingError::TransferFailed)?;
            }
            Ok(out)
        }

        #[ink(message)]
        fn delete_accounts(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<(), ServingError> {
            // The deliverables stay: the provider paid their storage and removes them (`remove_deliverables`).
            self.core.delete_accounts(self.env().caller(), user, &providers, &mut OnChain).map(|_| ())
        }
    }
}

/// Off-chain tests of the owner messages that make no cross-contract call. Deliverable rules are tested in
/// `service_core::tuning`; the flows between contracts in `e2e-tests/`.
#[cfg(test)]
mod tests {
    use super::fine_tuning::*;
    use ink::env::test;
    use ink::env::DefaultEnvironment as Env;
    use service_core::provider::OwnershipError;

    const HOUR: u64 = 3_600_000;
    const ME: ink::primitives::AccountId = ink::primitives::AccountId([0x42; 32]);

    fn setup() -> FineTuning {
        let a = test::default_accounts::<Env>();
        test::set_caller::<Env>(a.alice);
        test::set_callee::<Env>(ME);
        test::set_account_balance::<Env>(ME, 0);
        FineTuning::new(a.django, 42, HOUR, 100, 30, ink::primitives::Hash::from([7; 32])).unwrap()
    }

    fn events() -> usize {
        test::recorded_events().count()
    }

    #[ink::test]
    fn parameter_updates_emit_only_on_change() {
        let mut c = setup();
        let n = events();
        assert_eq!(c.update_lock_time(HOUR), Ok(()));
        assert_eq!(c.update_penalty_percentage(30), Ok(()));
        assert_eq!(c.update_min_stake(100), Ok(()));
        assert_eq!(events(), n, "no change, no event");
        assert_eq!(c.update_penalty_percentage(40), Ok(()));
        assert_eq!(events(), n + 1);
        assert_eq!(c.penalty_percentage(), 40);
        assert_eq!(c.update_penalty_percentage(101), Err(Error::PenaltyPercentageTooHigh { percent: 101 }));
    }

    #[ink::test]
    fn pending_owner_is_visible_until_accepted() {
        let mut c = setup();
        let a = test::default_accounts::<Env>();
        assert_eq!(c.transfer_ownership(a.bob), Ok(()));
        assert_eq!(c.config().pending_owner, Some(a.bob));
        test::set_caller::<Env>(a.bob);
        assert_eq!(c.accept_ownership(), Ok(()));
        assert_eq!((c.config().owner, c.config().pending_owner), (a.bob, None));
    }

    #[ink::test]
    fn surplus_goes_to_whom_the_owner_names() {
        let mut c = setup();
        let a = test::default_accounts::<Env>();
        assert_eq!(c.withdraw_surplus(a.frank), Err(Error::NoSurplus));
        // A plain transfer to the contract (no code runs for it on chain) is surplus: nobody's balance.
        test::set_account_balance::<Env>(ME, 1_000_077);
        assert_eq!(c.config().surplus, 1_000_077);
        test::set_caller::<Env>(a.bob);
        assert_eq!(c.withdraw_surplus(a.bob), Err(Error::Ownership(OwnershipError::NotOwner)));
        test::set_caller::<Env>(a.alice);
        let frank0 = test::get_account_balance::<Env>(a.frank).unwrap_or(0);
        assert_eq!(c.withdraw_surplus(a.frank), Ok(1_000_077));
        assert_eq!(test::get_account_balance::<Env>(a.frank).unwrap(), frank0 + 1_000_077);
        assert_eq!((c.config().surplus, c.config().liabilities), (0, 0));
        assert_eq!(c.withdraw_surplus(a.frank), Err(Error::NoSurplus));
    }

    /// The packed storage root is frozen (docs/owner-guide.md, "Upgrades"): this fails when it changes.
    #[test]
    fn storage_root_never_changes() {
        service_core::layout::check_root::<FineTuning>(env!("CARGO_MANIFEST_DIR"), "fine_tuning");
    }
}
