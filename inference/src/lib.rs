//! The inference service contract: providers register services with a stake, prices and a TEE signer; users'
//! sub-accounts (opened and funded only through the ledger) hold funds per provider; providers settle fees
//! in batches of vouchers signed inside their TEE.
//!
//! Wiring only: the shared rules live in `service-core` (`ServiceCore`: registry, stakes, sub-accounts,
//! attestations, owner parameters; `settle::judge_batch`: batch judging) and the signed-message rules in
//! `serving-verifier`. Each message reads caller, time and value, forwards, emits what comes back and pays.
//! Settlement never calls the ledger. See `docs/inference.md` for every message with its checks in order.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

#[ink::contract]
pub mod inference {
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    pub use service_core::book::AccountFilter;
    use service_core::book::Key;
    pub use service_core::provider::{Attestation, Unbonding};
    use service_core::service::{AccountState, OnChain, ServiceCore};
    pub use service_core::service::{ProviderState, ServiceConfig};
    use service_core::settle::{judge_batch, judge_signed_batch, BatchError, Judgement, Settler};
    use service_core::{check_count, check_len, AccountError, Refund};
    use serving_interface::{Retrieval, Serving, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};
    use serving_verifier::{Domain, HostCrypto};

    pub use service_core::settle::{
        batch_digest, BatchEntry, SettlementOutcome, SettlementStatus, TeeSettlementData, MAX_SETTLEMENTS,
        MAX_SETTLEMENTS_LIMIT,
    };
    pub use service_core::Error;
    /// Most users in `get_batch_accounts_by_users`.
    pub const MAX_BATCH_USERS: u32 = 50;
    /// Most token ids in one `revoke_tokens`.
    pub const MAX_TOKEN_IDS: u32 = 256;
    /// Longest service type and verifiability, in bytes.
    pub const MAX_SHORT_FIELD: u32 = 64;
    /// Longest url and model, in bytes.
    pub const MAX_URL_LENGTH: u32 = 512;
    /// Longest additional info, in bytes.
    pub const MAX_INFO_LENGTH: u32 = 4096;

    /// What a provider publishes.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ServiceParams {
        pub service_type: String,
        pub url: String,
        /// Price per input token, in the smallest unit.
        pub input_price: Balance,
        /// Price per output token.
        pub output_price: Balance,
        pub model: String,
        pub verifiability: String,
        pub additional_info: String,
        /// Ethereum address of the key inside the provider's TEE that signs vouchers.
        pub tee_signer: [u8; 20],
    }

    /// A service as the views return it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct ServiceView {
        pub provider: AccountId,
        pub params: ServiceParams,
        pub updated_at: u64,
        pub tee_signer_acknowledged: bool,
        pub stake: Balance,
    }

    /// A sub-account as the views return it.
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
        pub generation: u32,
    }

    #[ink(event)]
    pub struct ServiceUpdated {
        #[ink(topic)]
        pub provider: AccountId,
        pub service_type: String,
        pub url: String,
        pub input_price: Balance,
        pub output_price: Balance,
        pub updated_at: u64,
        pub model: String,
        pub verifiability: String,
        pub tee_signer: [u8; 20],
    }

    /// One voucher's outcome in a [`TeeSettlementResults`] event.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct TeeSettlementResult {
        pub user: AccountId,
        pub status: SettlementStatus,
        pub settled: Balance,
        pub unsettled: Balance,
        pub nonce: u128,
    }

    /// A sub-account's balances after a settlement batch, in a [`TeeSettlementResults`] event.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct SubAccountBalance {
        pub user: AccountId,
        pub balance: Balance,
        pub pending_refund: Balance,
    }

    /// Every voucher's outcome in one settlement batch, in order, with the provider (so indexers need no
    /// transaction context), and the new balances of the sub-accounts it changed (one per user; settlement emits
    /// no `BalanceUpdated`). One event per batch rather than per voucher and per user: in pallet-contracts'
    /// weights every event topic (the signature topic included) costs a storage read and write, about 128 M ps
    /// and 2.5 KB of proof (docs/performance.md).
    #[ink(event)]
    pub struct TeeSettlementResults {
        #[ink(topic)]
        pub provider: AccountId,
        pub results: Vec<TeeSettlementResult>,
        pub balances: Vec<SubAccountBalance>,
    }

    /// The owner changed the largest settlement batch.
    #[ink(event)]
    pub struct MaxSettlementsUpdated {
        pub max: u32,
    }

    #[ink(event)]
    pub struct TokensRevoked {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub token_ids: Vec<u8>,
    }

    #[ink(event)]
    pub struct AllTokensRevoked {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub generation: u32,
    }

    #[ink(storage)]
    pub struct Inference {
        /// Ownership, parameters, sub-accounts, stakes, the provider registry and attestations.
        core: ServiceCore,
        /// The providers' published parameters.
        services: Mapping<AccountId, ServiceParams>,
        /// (user, provider) → (generation the bitmap belongs to, revoked token ids 0..=255 as bits)
        revoked: Mapping<Key, RevokedBits>,
        /// The most vouchers (or batch-signed entries) one settlement call may carry: `MAX_SETTLEMENTS` (50) at
        /// first, the owner may set 1..=`MAX_SETTLEMENTS_LIMIT` (80).
        max_settlements: u32,
        /// Only in the upgrade test's second build (cfg `serving_upgrade_v2`, set by the build script of
        /// `inference/v2`, `inference/full-v2`): the kind of state a new version may add, in a field with its own storage key,
        /// so the packed root stays as it was.
        #[cfg(serving_upgrade_v2)]
        v2_note: ink::storage::Lazy<u32>,
        /// The code hash of this contract's full build (`inference/full`), which the messages used rarely run
        /// in: see [`FULL`]. Set by the constructor and the owner's `set_code`, and locked on chain (`service_core::full`).
        full_code: ink::storage::Lazy<Hash>,
    }

    /// Whether this is the full build. Every call loads the whole code of the contract it calls (pallet-contracts
    /// charges ≈ 33.5 k ps and 1 B of proof per byte, in every call), so the code deployed at the contract's
    /// address (the thin build, the default) carries only what users, settlement and the ledger call; the
    /// messages used rarely (the owner's, provider registration, stake withdrawal, attestation submission and
    /// the two paged views) run in the full build of the same source (`inference/full`, cfg `serving_full`),
    /// uploaded once, which the thin build reaches by a delegate call (same storage, same caller and value) that
    /// hands over the call's input and ends the call with the full build's output. Both builds have the same
    /// messages, selectors and metadata; unit tests run the full build.
    const FULL: bool = cfg!(any(test, serving_full));

    /// (the token generation the bits belong to, revoked token ids 0..=255 as bits)
    type RevokedBits = (u32, [u8; 32]);

    impl ServiceParams {
        fn check(&self) -> Result<(), Error> {
            check_len(self.service_type.len(), MAX_SHORT_FIELD)?;
            check_len(self.verifiability.len(), MAX_SHORT_FIELD)?;
            check_len(self.url.len(), MAX_URL_LENGTH)?;
            check_len(self.model.len(), MAX_URL_LENGTH)?;
            check_len(self.additional_info.len(), MAX_INFO_LENGTH)
        }

        /// A change that ends the owner's acknowledgement and the attestation (url and prices do not).
        fn critical_change(&self, new: &Self) -> bool {
            self.service_type != new.service_type
                || self.model != new.model
                || self.verifiability != new.verifiability
                || self.tee_signer != new.tee_signer
                || self.additional_info != new.additional_info
        }
    }

    impl Inference {
        /// `lock_time_ms` in [1 h, 7 d] (reference default 24 h); `min_stake` for a first registration
        /// (reference: 100·10^18). The caller becomes the owner.
        ///
        /// `full_code`: the code hash of the full build (`inference/full`), uploaded beforehand (see [`FULL`]).
        #[ink(constructor)]
        pub fn new(
            ledger: AccountId,
            chain_id: u64,
            lock_time_ms: u64,
            min_stake: Balance,
            full_code: Hash,
        ) -> Result<Self, Error> {
            let mut this = Self {
                core: ServiceCore::new(Self::env().caller(), ledger, chain_id, lock_time_ms, min_stake)?,
                services: Mapping::default(),
                revoked: Mapping::default(),
                max_settlements: MAX_SETTLEMENTS,
                #[cfg(serving_upgrade_v2)]
                v2_note: Default::default(),
                full_code: Default::default(),
            };
            service_core::full::install(&mut this.full_code, service_core::full::own_code(), full_code)?;
            Ok(this)
        }

        // ------------------------------------------------------------------ provider

        /// Registers (with a stake of at least `min_stake` as value) or updates (no value) the caller's
        /// service. Changing service type, model, verifiability, TEE signer or additional info clears the
        /// owner's acknowledgement of the signer and the attestation; url and price changes keep them.
        #[ink(message, payable)]
        pub fn add_or_update_service(&mut self, params: ServiceParams) -> Result<(), Error> {
            if FULL {
                let (provider, now) = (self.env().caller(), self.env().block_timestamp());
                params.check()?;
                let critical = self.services.get(provider).is_none_or(|old| old.critical_change(&params));
                let value = self.env().transferred_value();
                self.core.register(provider, value, params.tee_signer, critical, now, &mut OnChain)?;
                self.env().emit_event(ServiceUpdated {
                    provider,
                    service_type: params.service_type.clone(),
                    url: params.url.clone(),
                    input_price: params.input_price,
                    output_price: params.output_price,
                    updated_at: now,
                    model: params.model.clone(),
                    verifiability: params.verifiability.clone(),
                    tee_signer: params.tee_signer,
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

        /// Settles 1..=`config().max_batch` (default 50) vouchers for the caller (the provider). Each entry gets a status; a bad entry does
        /// not revert the batch. Fees come from the free balance first, then from pending refunds newest first.
        /// Judge, store, emit, pay: the sub-accounts are the only record of what users hold here, so the ledger
        /// is not called; the provider is paid once for the whole batch.
        #[ink(message)]
        pub fn settle_fees_with_tee(
            &mut self,
            settlements: Vec<TeeSettlementData>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            let provider = self.env().caller();
            let judgement = self.judge(provider, &settlements)?;
            self.settle(provider, judgement, &mut settlements.iter().map(|e| e.nonce))
        }

        /// Settles 1..=`config().max_batch` entries for the caller (the provider) under one signature by its TEE signer over
        /// `TEESettlementBatch(bytes32 provider,TEESettlement[] settlements)` (every entry's provider is the
        /// caller). A bad signature refuses the whole call (`InvalidBatchSignature`; `NoTeeSigner` when the
        /// provider has no usable signer); otherwise each entry is judged as a voucher of
        /// `settle_fees_with_tee` is, with the same statuses, event and payment.
        #[ink(message)]
        pub fn settle_fees_with_tee_batch(
            &mut self,
            entries: Vec<BatchEntry>,
            signature: Vec<u8>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            let provider = self.env().caller();
            let judgement = self.judge_signed(provider, &entries, &signature)?;
            self.settle(provider, judgement, &mut entries.iter().map(|e| e.nonce))
        }

        /// What `settle_fees_with_tee` would do with these vouchers if the caller (`provider`) sent them now,
        /// entries judged in order against the state left by the earlier ones. Writes nothing.
        #[ink(message)]
        pub fn preview_settlement_results(
            &self,
            provider: AccountId,
            settlements: Vec<TeeSettlementData>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            Ok(self.judge(provider, &settlements)?.outcomes)
        }

        // ------------------------------------------------------------------ user

        /// Grants or withdraws the caller's consent to settlements by `provider`'s TEE signer, at any time. A
        /// grant takes effect at once; a withdrawal only after the lock time (docs/differences.md, D5), so the
        /// provider can still settle what it served before; from then on settlements report `NoTeeSigner`.
        /// Emits `UserAcknowledgementChanged` only when something changes.
        #[ink(message)]
        pub fn acknowledge_tee_signer(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            let (user, now) = (self.env().caller(), self.env().block_timestamp());
            self.core.set_consent(user, provider, acknowledged, now, &mut OnChain)
        }

        /// Revokes token ids of the current generation (1..=256 of them; duplicates are harmless).
        #[ink(message)]
        pub fn revoke_tokens(&mut self, provider: AccountId, token_ids: Vec<u8>) -> Result<(), Error> {
            let user = self.env().caller();
            check_count(token_ids.len(), MAX_TOKEN_IDS)?;
            self.set_revoked(user, provider, &token_ids)?;
            self.env().emit_event(TokensRevoked { user, provider, token_ids });
            Ok(())
        }

        /// Revokes every token: starts a new generation with nothing revoked.
        #[ink(message)]
        pub fn revoke_all_tokens(&mut self, provider: AccountId) -> Result<u32, Error> {
            let user = self.env().caller();
            let generation = self.core.update_account(user, provider, |a| {
                a.generation = a.generation.checked_add(1).ok_or(AccountError::Overflow)?;
                Ok(a.generation)
            })?;
            self.revoked.remove((user, provider));
            self.env().emit_event(AllTokensRevoked { user, provider, generation });
            Ok(generation)
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

        #[ink(message)]
        pub fn update_min_stake(&mut self, min_stake: Balance) -> Result<(), Error> {
            if FULL {
                self.core.update_min_stake(self.env().caller(), min_stake, &mut OnChain)
            } else {
                self.forward()
            }
        }

        /// The most vouchers one settlement call may carry, 1..=80 (`MAX_SETTLEMENTS_LIMIT`: what ink!'s 16 KiB
        /// input buffer holds with a margin). `MaxSettlementsUpdated` when it changes.
        #[ink(message)]
        pub fn set_max_settlements(&mut self, max: u32) -> Result<(), Error> {
            if FULL {
                self.core.ensure_owner(self.env().caller())?;
                if max == 0 || max > MAX_SETTLEMENTS_LIMIT {
                    return Err(Error::BatchLimitOutOfRange { limit: max, max: MAX_SETTLEMENTS_LIMIT });
                }
                if max != self.max_settlements {
                    self.max_settlements = max;
                    self.env().emit_event(MaxSettlementsUpdated { max });
                }
                Ok(())
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
            ServiceConfig { max_batch: self.max_settlements, ..self.core.config(self.env().balance()) }
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

        /// Whether `token_id` is revoked in the sub-account's current generation.
        #[ink(message)]
        pub fn is_token_revoked(&self, user: AccountId, provider: AccountId, token_id: u8) -> Result<bool, Error> {
            let (_, bits) = self.revoked_bits(user, provider)?;
            Ok(bits[usize::from(token_id / 8)] & (1u8 << (token_id % 8)) != 0)
        }

        // ------------------------------------------------------------------ internals

        /// Runs this call's message in the full build (see [`FULL`], `service_core::full::forward`).
        fn forward<T>(&self) -> Result<T, Error> {
            service_core::full::forward(self.full_code.get())
        }

        fn domain(&self) -> Domain {
            Domain::inference(self.core.chain_id(), *self.env().account_id().as_ref())
        }

        fn pay(&self, to: AccountId, amount: Balance) -> Result<Balance, Error> {
            if amount > 0 {
                self.env().transfer(to, amount).map_err(|_| Error::TransferFailed)?;
            }
            Ok(amount)
        }

        /// What settlement checks `provider`'s batch against, read once.
        fn settler(&self, provider: AccountId) -> Settler {
            let now = self.env().block_timestamp();
            Settler { max_batch: self.max_settlements, ..self.core.settler(provider, &self.domain(), &HostCrypto, now) }
        }

        /// Judges a batch without writing (`service_core::settle::judge_batch` against this contract's state).
        fn judge(&self, provider: AccountId, settlements: &[TeeSettlementData]) -> Result<Judgement, Error> {
            let settler = self.settler(provider);
            judge_batch(&HostCrypto, &settler, settlements, |user| self.core.book.get(user, provider))
                .map_err(batch_error)
        }

        /// Judges a batch-signed settlement without writing (`service_core::settle::judge_signed_batch`).
        fn judge_signed(
            &self,
            provider: AccountId,
            entries: &[BatchEntry],
            signature: &[u8],
        ) -> Result<Judgement, Error> {
            let settler = self.settler(provider);
            judge_signed_batch(&HostCrypto, &settler, entries, signature, |user| self.core.book.get(user, provider))
                .map_err(batch_error)
        }

        /// Stores a judged batch, emits its one event (`nonces`: the entries' nonces, in order) and pays the
        /// provider once. (`dyn`: one copy of this code for both settlement messages.)
        fn settle(
            &mut self,
            provider: AccountId,
            judgement: Judgement,
            nonces: &mut dyn Iterator<Item = u128>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            let Judgement { outcomes, changed } = judgement;
            let total = outcomes.iter().try_fold(0u128, |sum, o| sum.checked_add(o.settled)).ok_or(Error::Overflow)?;
            self.core.store_settled(provider, &changed)?;
            let balances = changed
                .iter()
                .map(|(user, _, a)| SubAccountBalance {
                    user: *user,
                    balance: a.balance,
                    pending_refund: a.pending_refund,
                })
                .collect();
            let results = outcomes
                .iter()
                .zip(nonces)
                .map(|(o, nonce)| TeeSettlementResult {
                    user: o.user,
                    status: o.status,
                    settled: o.settled,
                    unsettled: o.unsettled,
                    nonce,
                })
                .collect();
            self.env().emit_event(TeeSettlementResults { provider, results, balances });
            self.pay(provider, total)?;
            Ok(outcomes)
        }

        /// The sub-account's current token generation and the bits revoked in it.
        fn revoked_bits(&self, user: AccountId, provider: AccountId) -> Result<RevokedBits, Error> {
            let generation = self.core.book.load(user, provider)?.generation;
            Ok(match self.revoked.get((user, provider)) {
                Some((g, bits)) if g == generation => (generation, bits),
                _ => (generation, [0u8; 32]),
            })
        }

        fn set_revoked(&mut self, user: AccountId, provider: AccountId, ids: &[u8]) -> Result<(), Error> {
            let (generation, mut bits) = self.revoked_bits(user, provider)?;
            for id in ids {
                bits[usize::from(id / 8)] |= 1u8 << (id % 8);
            }
            self.revoked.insert((user, provider), &(generation, bits));
            Ok(())
        }

        fn view(&self, (user, provider): Key) -> Option<AccountView> {
            let AccountState { account: a, additional_info, acknowledged } =
                self.core.account(user, provider, self.env().block_timestamp())?;
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
                generation: a.generation,
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

    /// A batch refused as a whole, as the contract's error.
    fn batch_error(e: BatchError) -> Error {
        match e {
            BatchError::Empty => Error::NoSettlementsProvided,
            BatchError::TooLarge { len, max } => Error::TooMany { len, max },
            BatchError::NoService => Error::ServiceNotExist,
            BatchError::NoSigner => Error::NoTeeSigner,
            BatchError::BadSignature => Error::InvalidBatchSignature,
        }
    }

    impl Serving for Inference {
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
            for provider in self.core.delete_accounts(self.env().caller(), user, &providers, &mut OnChain)? {
                self.revoked.remove((user, provider));
            }
            Ok(())
        }
    }
}

/// Off-chain tests of the owner and user messages that make no cross-contract call. Settlement judging is tested
/// as plain code in `service_core::settle`; the flows between contracts in `e2e-tests/`.
#[cfg(test)]
mod tests {
    use super::inference::*;
    use ink::env::test;
    use ink::env::DefaultEnvironment as Env;
    use service_core::provider::OwnershipError;

    const HOUR: u64 = 3_600_000;
    const ME: ink::primitives::AccountId = ink::primitives::AccountId([0x42; 32]);

    fn setup() -> Inference {
        let a = test::default_accounts::<Env>();
        test::set_caller::<Env>(a.alice);
        test::set_callee::<Env>(ME);
        test::set_account_balance::<Env>(ME, 0);
        Inference::new(a.django, 42, HOUR, 100, ink::primitives::Hash::from([7; 32])).unwrap()
    }

    fn events() -> usize {
        test::recorded_events().count()
    }

    #[ink::test]
    fn parameter_updates_emit_only_on_change() {
        let mut c = setup();
        let n = events();
        assert_eq!(c.update_lock_time(HOUR), Ok(()));
        assert_eq!(c.update_min_stake(100), Ok(()));
        assert_eq!(events(), n, "no change, no event");
        assert_eq!(c.update_lock_time(2 * HOUR), Ok(()));
        assert_eq!(c.update_min_stake(5), Ok(()));
        assert_eq!(events(), n + 2);
        assert_eq!((c.config().lock_time_ms, c.config().min_stake), (2 * HOUR, 5));
        assert_eq!(c.update_lock_time(HOUR - 1), Err(Error::LockTimeOutOfRange));
        test::set_caller::<Env>(test::default_accounts::<Env>().bob);
        assert_eq!(c.update_lock_time(HOUR), Err(Error::Ownership(OwnershipError::NotOwner)));
    }

    #[ink::test]
    fn pending_owner_is_visible_until_accepted() {
        let mut c = setup();
        let a = test::default_accounts::<Env>();
        assert_eq!(c.config().pending_owner, None);
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
        service_core::layout::check_root::<Inference>(env!("CARGO_MANIFEST_DIR"), "inference");
    }
}
