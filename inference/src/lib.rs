//! The inference service contract: providers register services with a stake, prices and a TEE signer; users'
//! sub-accounts (opened and funded only through the ledger) hold funds per provider; providers settle fees
//! in batches of vouchers signed inside their TEE.
//!
//! Wiring only: the shared rules live in `service-core` (`ServiceCore`: registry, stakes, sub-accounts,
//! attestations, owner parameters; `settle::judge_batch`: batch judging) and the signed-message rules in
//! `serving-verifier`. Each message reads caller, time and value, forwards, emits what comes back and pays.
//! Settlement never calls the ledger. See `docs/inference.md` for every message with its checks in order.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

mod data;

#[ink::contract]
pub mod inference {
    use crate::data::{self, RevokedBits};
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    pub use service_core::book::AccountFilter;
    use service_core::book::Key;
    pub use service_core::provider::{Attestation, Unbonding};
    use service_core::service::ServiceCore;
    pub use service_core::service::{ProviderState, ServiceConfig};
    use service_core::settle::{judge_batch, judge_signed_batch, Judgement, Settler};
    use service_core::shell::{caller, now, pay, views};
    use service_core::{check_count, AccountError, Refund};
    use serving_interface::{Retrieval, Serving, ServingError, ServingInfo};
    use serving_verifier::{Domain, HostCrypto};

    pub use crate::data::{
        ServiceParams, SubAccountBalance, TeeSettlementResult, MAX_BATCH_USERS, MAX_INFO_LENGTH, MAX_SHORT_FIELD,
        MAX_TOKEN_IDS, MAX_URL_LENGTH,
    };
    pub use service_core::settle::{
        batch_digest, BatchEntry, SettlementOutcome, SettlementStatus, TeeSettlementData, MAX_SETTLEMENTS,
        MAX_SETTLEMENTS_LIMIT,
    };
    pub use service_core::Error;

    /// A service as the views return it.
    pub type ServiceView = service_core::views::ServiceView<ServiceParams>;

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

    /// Every voucher's outcome in one settlement batch, in order, with the provider (so indexers need no
    /// transaction context), and the new balances of the sub-accounts it changed (one per user; settlement emits
    /// no `BalanceUpdated`). One event per batch rather than per voucher and per user, and anonymous with no
    /// topic: in pallet-contracts' weights every event topic (a signature topic included) costs a storage read and
    /// write, about 128 M ps and 2.5 KB of proof (docs/performance.md). It is the contract's only anonymous event,
    /// so a decoder knows it by its having no topic (polkadot.js does).
    #[ink(event, anonymous)]
    pub struct TeeSettlementResults {
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

    /// Whether this is the full build (`inference/full`, cfg `serving_full`; unit tests run it too). Every call
    /// loads the whole code it calls, so the code at the address (the thin build) leaves out the rarely used
    /// messages and hands them to the full build, uploaded once and locked on chain, by a delegate call
    /// ([`TwoBuilds::full`]; docs/inference.md, "Two builds"). Same messages, selectors and metadata.
    const FULL: bool = cfg!(any(test, serving_full));

    use service_core::full::TwoBuilds;

    impl TwoBuilds for Inference {
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
        AccountFilter = super::AccountFilter,
        AccountId = super::AccountId,
        Balance = super::Balance,
        u8 = core::primitive::u8,
        u32 = core::primitive::u32,
        u64 = core::primitive::u64,
        bool = core::primitive::bool,
    );

    impl Inference {
        /// `lock_time_ms` in [1 h, 7 d] (reference default 24 h); `min_stake` for a first registration
        /// (reference: 100·10^18). The caller becomes the owner. `full_code`: the code hash of the full build
        /// (`inference/full`), uploaded beforehand and locked by this constructor (see [`FULL`]).
        #[ink(constructor)]
        pub fn new(
            ledger: AccountId,
            chain_id: u64,
            lock_time_ms: u64,
            min_stake: Balance,
            full_code: Hash,
        ) -> Result<Self, Error> {
            let mut this = Self {
                core: ServiceCore::new(caller(), ledger, chain_id, lock_time_ms, min_stake)?,
                services: Mapping::default(),
                revoked: Mapping::default(),
                max_settlements: MAX_SETTLEMENTS,
                #[cfg(serving_upgrade_v2)]
                v2_note: Default::default(),
                full_code: Default::default(),
            };
            service_core::full::install(&mut this.full_code, service_core::full::own_code(), full_code)
                .map_err(Error::from)?;
            Ok(this)
        }

        // ------------------------------------------------------------------ provider

        /// Registers (with a stake of at least `min_stake` as value) or updates (no value) the caller's
        /// service. Changing service type, model, verifiability, TEE signer or additional info clears the
        /// owner's acknowledgement of the signer and the attestation; url and price changes keep them.
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

        /// Owner: sends the tokens the contract holds beyond what it owes (plain transfers to the contract, which
        /// no code can refuse on pallet-contracts) to `to`. Never touches sub-accounts or stakes.
        #[ink(message)]
        pub fn withdraw_surplus(&mut self, to: arg::AccountId) -> Result<Fwd<Balance>, Error> {
            self.full(|s| s.core.msg().withdraw_surplus(arg::take(to)))
        }

        /// Settles 1..=`config().max_batch` (default 50) vouchers for the caller (the provider). Each entry gets
        /// a status; a bad entry does not revert the batch. Fees come from the free balance first, then from
        /// pending refunds newest first. Judge, store, emit, pay: the sub-accounts are the only record of what
        /// users hold here, so the ledger is not called; the provider is paid once for the whole batch.
        #[ink(message)]
        pub fn settle_fees_with_tee(
            &mut self,
            settlements: Vec<TeeSettlementData>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            let provider = caller();
            let judgement = self.judge(provider, &settlements)?;
            self.settle(provider, judgement, &mut settlements.iter().map(|e| e.nonce))
        }

        /// Settles 1..=`config().max_batch` entries for the caller (the provider) under one signature by its TEE
        /// signer over `TEESettlementBatch(bytes32 provider,TEESettlement[] settlements)` (every entry's provider
        /// is the caller). A bad signature refuses the whole call (`InvalidBatchSignature`; `NoTeeSigner` when the
        /// provider has no usable signer); otherwise each entry is judged as a voucher of `settle_fees_with_tee`
        /// is, with the same statuses, event and payment.
        #[ink(message)]
        pub fn settle_fees_with_tee_batch(
            &mut self,
            entries: Vec<BatchEntry>,
            signature: Vec<u8>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            let provider = caller();
            let settler = self.settler(provider);
            let account = |user| self.core.book.get(user, provider);
            let judgement = judge_signed_batch(&HostCrypto, &settler, &entries, &signature, account)?;
            self.settle(provider, judgement, &mut entries.iter().map(|e| e.nonce))
        }

        /// What `settle_fees_with_tee` would do with these vouchers if the caller (`provider`) sent them now,
        /// entries judged in order against the state left by the earlier ones. Writes nothing.
        #[ink(message)]
        pub fn preview_settlement_results(
            &self,
            provider: AccountId,
            settlements: Vec<TeeSettlementData>,
        ) -> Result<Fwd<Vec<SettlementOutcome>>, Error> {
            self.full_view(|s| Ok(s.judge(provider, &settlements)?.outcomes))
        }

        // ------------------------------------------------------------------ user

        /// Grants or withdraws the caller's consent to settlements by `provider`'s TEE signer, at any time. A
        /// grant takes effect at once; a withdrawal only after the lock time (docs/differences.md, D5), so the
        /// provider can still settle what it served before; from then on settlements report `NoTeeSigner`.
        /// Emits `UserAcknowledgementChanged` only when something changes.
        #[ink(message)]
        pub fn acknowledge_tee_signer(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            self.core.msg().set_consent(provider, acknowledged)
        }

        /// Revokes token ids of the current generation (1..=256 of them; duplicates are harmless).
        #[ink(message)]
        pub fn revoke_tokens(&mut self, provider: AccountId, token_ids: Vec<u8>) -> Result<(), Error> {
            let user = caller();
            check_count(token_ids.len(), MAX_TOKEN_IDS)?;
            let (generation, bits) = self.revoked_bits(user, provider)?;
            self.revoked.insert((user, provider), &(generation, data::revoke(bits, &token_ids)));
            self.env().emit_event(TokensRevoked { user, provider, token_ids });
            Ok(())
        }

        /// Revokes every token: starts a new generation with nothing revoked.
        #[ink(message)]
        pub fn revoke_all_tokens(&mut self, provider: AccountId) -> Result<u32, Error> {
            let user = caller();
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
        pub fn update_lock_time(&mut self, lock_time_ms: arg::u64) -> Result<(), Error> {
            self.full(|s| s.core.msg().update_lock_time(arg::take(lock_time_ms)))
        }

        #[ink(message)]
        pub fn update_min_stake(&mut self, min_stake: arg::Balance) -> Result<(), Error> {
            self.full(|s| s.core.msg().update_min_stake(arg::take(min_stake)))
        }

        /// The most vouchers one settlement call may carry, 1..=80 (`MAX_SETTLEMENTS_LIMIT`: what ink!'s 16 KiB
        /// input buffer holds with a margin). `MaxSettlementsUpdated` when it changes.
        #[ink(message)]
        pub fn set_max_settlements(&mut self, max: arg::u32) -> Result<(), Error> {
            self.full(|s| s.set_max(arg::take(max)))
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
            self.full_plain(|s| ServiceConfig { max_batch: s.max_settlements, ..s.core.config_now() })
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

        /// Whether `token_id` is revoked in the sub-account's current generation.
        #[ink(message)]
        pub fn is_token_revoked(
            &self,
            user: arg::AccountId,
            provider: arg::AccountId,
            token_id: arg::u8,
        ) -> Result<Fwd<bool>, Error> {
            self.full_view(|s| {
                let bits = s.revoked_bits(arg::take(user), arg::take(provider))?.1;
                Ok(data::is_revoked(&bits, arg::take(token_id)))
            })
        }

        // ------------------------------------------------------------------ internals

        /// `add_or_update_service` in the full build.
        fn register(&mut self, params: ServiceParams) -> Result<(), Error> {
            params.check()?;
            let critical = self.services.get(caller()).is_none_or(|old| old.critical_change(&params));
            let (provider, updated_at) = self.core.msg().register(params.tee_signer, critical)?;
            self.env().emit_event(params.updated(provider, updated_at));
            self.services.insert(provider, &params);
            Ok(())
        }

        /// `set_max_settlements` in the full build.
        fn set_max(&mut self, max: u32) -> Result<(), Error> {
            self.core.ensure_owner(caller())?;
            if max == 0 || max > MAX_SETTLEMENTS_LIMIT {
                return Err(Error::BatchLimitOutOfRange { limit: max, max: MAX_SETTLEMENTS_LIMIT });
            }
            if max != self.max_settlements {
                self.max_settlements = max;
                self.env().emit_event(MaxSettlementsUpdated { max });
            }
            Ok(())
        }

        fn domain(&self) -> Domain {
            Domain::inference(self.core.chain_id(), service_core::shell::own_account())
        }

        /// What settlement checks `provider`'s batch against, read once.
        fn settler(&self, provider: AccountId) -> Settler {
            Settler {
                max_batch: self.max_settlements,
                ..self.core.settler(provider, &self.domain(), &HostCrypto, now())
            }
        }

        /// Judges a batch without writing (`service_core::settle::judge_batch` against this contract's state).
        fn judge(&self, provider: AccountId, settlements: &[TeeSettlementData]) -> Result<Judgement, Error> {
            let settler = self.settler(provider);
            Ok(judge_batch(&HostCrypto, &settler, settlements, |user| self.core.book.get(user, provider))?)
        }

        /// Stores a judged batch, emits its one event (`nonces`: the entries' nonces, in order) and pays the
        /// provider once. (`dyn`: one copy of this code for both settlement messages.)
        fn settle(
            &mut self,
            provider: AccountId,
            judgement: Judgement,
            nonces: &mut dyn Iterator<Item = u128>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            let (event, total) = data::settlement_event(provider, &judgement, nonces)?;
            self.core.store_settled(provider, &judgement.changed)?;
            self.env().emit_event(event);
            pay(provider, total)?;
            Ok(judgement.outcomes)
        }

        /// The sub-account's current token generation and the bits revoked in it.
        fn revoked_bits(&self, user: AccountId, provider: AccountId) -> Result<RevokedBits, Error> {
            let generation = self.core.book.load(user, provider)?.generation;
            Ok((generation, data::current_bits(self.revoked.get((user, provider)), generation)))
        }

        fn view(&self, (user, provider): Key) -> Option<AccountView> {
            Some(data::account_view(user, provider, self.core.account_now(user, provider)?))
        }

        fn service_view(&self, provider: AccountId) -> Option<ServiceView> {
            self.core.service_view(provider, self.services.get(provider))
        }
    }

    impl Serving for Inference {
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

        #[ink(message)]
        fn delete_accounts(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<(), ServingError> {
            for provider in self.core.msg().delete_accounts(user, &providers)? {
                self.revoked.remove((user, provider));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
