//! The inference service contract: providers register services with a stake, prices and a TEE signer; users'
//! sub-accounts (opened and funded only through the ledger) hold funds per provider; providers settle fees
//! in batches of vouchers signed inside their TEE.
//!
//! The sub-account rules live in the shared `service-core` crate and the signed-message rules in
//! `serving-verifier`; this module wires storage, callers, value and events (settlement never calls the ledger). See
//! `docs/inference.md` for every message with its checks in order.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

#[ink::contract]
pub mod inference {
    use service_core::book::{AccountBook, Key};
    use service_core::events::*;
    use service_core::provider::{
        Attestation, AttestationBook, AttestationRuleError, Ownership, OwnershipError, SignerState, StakeBook,
        StakeError, Unbonding,
    };
    use service_core::settle::{judge_batch, BatchError, Judgement, Settler};
    use service_core::{AccountError, Refund, SubAccount};
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    use serving_interface::{Serving, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};
    use verifier::{Domain, HostCrypto};

    pub use service_core::settle::{SettlementOutcome, SettlementStatus, TeeSettlementData, MAX_SETTLEMENTS};
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

    /// Every way a message can fail.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Error {
        NotOwner,
        NotPendingOwner,
        ZeroAddress,
        /// Lock time outside [1 h, 7 d].
        LockTimeOutOfRange,
        /// The provider has no service.
        ServiceNotExist,
        InsufficientStake {
            value: Balance,
            minimum: Balance,
        },
        CannotAddStakeWhenUpdating,
        NoUnbondingStake,
        StakeLocked {
            release_at: u64,
        },
        /// A string longer than its limit.
        TooLong {
            len: u32,
            max: u32,
        },
        AccountNotExists,
        /// More token ids than one call takes.
        TooManyTokens {
            len: u32,
            max: u32,
        },
        NoSettlementsProvided,
        TooManySettlements {
            len: u32,
            max: u32,
        },
        LimitTooLarge {
            limit: u32,
            max: u32,
        },
        BatchSizeTooLarge {
            len: u32,
            max: u32,
        },
        /// The owner acknowledged a service without a TEE signer.
        NoTeeSigner,
        TransferFailed,
        Overflow,
        UpgradeFailed,
        /// The attestation is signed by a key the owner has not registered.
        UnknownAttestor,
        /// The attested measurement is not accepted.
        MeasurementNotAccepted,
        /// `expires_at` is not in the future.
        AttestationExpired,
        /// The attestation's signature breaks the rules or is not by the named attestor (or was made for
        /// another provider, signer, measurement, expiry, contract or chain).
        InvalidAttestationSignature,
        /// The provider already holds an attestation for this signer that lasts as long (a replay).
        AttestationNotNewer,
        /// `withdraw_surplus` with nothing beyond what the contract owes.
        NoSurplus,
        /// An attestation of this signer that lasted as long or longer was ended (signer rotation, critical
        /// service change, removal): an old statement cannot revive it; the attestor must attest again.
        AttestationEnded,
    }

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

    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ServiceRecord {
        pub params: ServiceParams,
        pub updated_at: u64,
        /// Position in the service enumeration.
        pub index: u32,
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

    #[ink(event)]
    pub struct TokenRevoked {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub token_id: u8,
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
        ownership: Ownership,
        ledger: AccountId,
        chain_id: u64,
        lock_time_ms: u64,
        min_stake: Balance,
        book: AccountBook,
        stakes: StakeBook,
        services: Mapping<AccountId, ServiceRecord>,
        signers: Mapping<AccountId, SignerState>,
        service_at: Mapping<u32, AccountId>,
        service_count: u32,
        /// (user, provider) → (generation the bitmap belongs to, revoked token ids 0..=255 as bits)
        revoked: Mapping<Key, RevokedBits>,
        /// Attestors, accepted measurements and providers' attestations (the verifiable path to a usable signer).
        attestations: AttestationBook,
        /// Only in the upgrade test's second build (cfg `serving_upgrade_v2`, set by the build script of
        /// `e2e-tests/upgrade-v2`): the kind of state a new version may add, in a field with its own storage key,
        /// so the packed root stays as it was.
        #[cfg(serving_upgrade_v2)]
        v2_note: ink::storage::Lazy<u32>,
    }

    /// (the token generation the bits belong to, revoked token ids 0..=255 as bits)
    type RevokedBits = (u32, [u8; 32]);

    fn len32(s: &str) -> u32 {
        u32::try_from(s.len()).unwrap_or(u32::MAX)
    }

    fn check_len(s: &str, max: u32) -> Result<(), Error> {
        let len = len32(s);
        if len > max {
            return Err(Error::TooLong { len, max });
        }
        Ok(())
    }

    fn zero() -> AccountId {
        AccountId::from([0u8; 32])
    }

    impl From<AccountError> for Error {
        fn from(e: AccountError) -> Self {
            match e {
                AccountError::AccountNotExists => Error::AccountNotExists,
                AccountError::LimitTooLarge => Error::LimitTooLarge { limit: 0, max: service_core::MAX_PAGE },
                AccountError::LockTimeOutOfRange => Error::LockTimeOutOfRange,
                _ => Error::Overflow,
            }
        }
    }

    impl From<StakeError> for Error {
        fn from(e: StakeError) -> Self {
            match e {
                StakeError::InsufficientStake { value, minimum } => Error::InsufficientStake { value, minimum },
                StakeError::CannotAddStakeWhenUpdating => Error::CannotAddStakeWhenUpdating,
                StakeError::NoUnbondingStake => Error::NoUnbondingStake,
                StakeError::StakeLocked { release_at } => Error::StakeLocked { release_at },
                StakeError::Overflow => Error::Overflow,
            }
        }
    }

    impl From<AttestationRuleError> for Error {
        fn from(e: AttestationRuleError) -> Self {
            match e {
                AttestationRuleError::NoTeeSigner => Error::NoTeeSigner,
                AttestationRuleError::UnknownAttestor => Error::UnknownAttestor,
                AttestationRuleError::MeasurementNotAccepted => Error::MeasurementNotAccepted,
                AttestationRuleError::AttestationExpired => Error::AttestationExpired,
                AttestationRuleError::InvalidAttestationSignature => Error::InvalidAttestationSignature,
                AttestationRuleError::AttestationNotNewer => Error::AttestationNotNewer,
                AttestationRuleError::AttestationEnded => Error::AttestationEnded,
            }
        }
    }

    impl From<OwnershipError> for Error {
        fn from(e: OwnershipError) -> Self {
            match e {
                OwnershipError::NotOwner => Error::NotOwner,
                OwnershipError::NotPendingOwner => Error::NotPendingOwner,
                OwnershipError::ZeroAddress => Error::ZeroAddress,
            }
        }
    }

    impl Inference {
        /// `lock_time_ms` in [1 h, 7 d] (reference default 24 h); `min_stake` for a first registration
        /// (reference: 100·10^18). The caller becomes the owner.
        #[ink(constructor)]
        pub fn new(ledger: AccountId, chain_id: u64, lock_time_ms: u64, min_stake: Balance) -> Result<Self, Error> {
            service_core::check_lock_time(lock_time_ms)?;
            if ledger == zero() {
                return Err(Error::ZeroAddress);
            }
            Ok(Self {
                ownership: Ownership::new(Self::env().caller()),
                ledger,
                chain_id,
                lock_time_ms,
                min_stake,
                book: AccountBook::default(),
                stakes: StakeBook::default(),
                attestations: AttestationBook::default(),
                services: Mapping::default(),
                signers: Mapping::default(),
                service_at: Mapping::default(),
                service_count: 0,
                revoked: Mapping::default(),
                #[cfg(serving_upgrade_v2)]
                v2_note: Default::default(),
            })
        }

        // ------------------------------------------------------------------ provider

        /// Registers (with a stake of at least `min_stake` as value) or updates (no value) the caller's
        /// service. Changing service type, model, verifiability, TEE signer or additional info clears the
        /// owner's acknowledgement of the signer; url and price changes keep it.
        #[ink(message, payable)]
        pub fn add_or_update_service(&mut self, params: ServiceParams) -> Result<(), Error> {
            let provider = self.env().caller();
            let value = self.env().transferred_value();
            check_len(&params.service_type, MAX_SHORT_FIELD)?;
            check_len(&params.verifiability, MAX_SHORT_FIELD)?;
            check_len(&params.url, MAX_URL_LENGTH)?;
            check_len(&params.model, MAX_URL_LENGTH)?;
            check_len(&params.additional_info, MAX_INFO_LENGTH)?;
            let staked = self.stakes.on_register(provider, value, self.min_stake)?;
            let now = self.env().block_timestamp();
            let (index, critical_change) = match self.services.get(provider) {
                Some(old) => {
                    let p = &old.params;
                    let critical_change = p.service_type != params.service_type
                        || p.model != params.model
                        || p.verifiability != params.verifiability
                        || p.tee_signer != params.tee_signer
                        || p.additional_info != params.additional_info;
                    (old.index, critical_change)
                }
                None => {
                    let index = self.service_count;
                    self.service_at.insert(index, &provider);
                    self.service_count = index.checked_add(1).ok_or(Error::Overflow)?;
                    (index, true)
                }
            };
            let before = self.signers.get(provider).unwrap_or_default();
            let acknowledged = before.acknowledged && !critical_change;
            let signer = SignerState { signer: params.tee_signer, acknowledged };
            self.signers.insert(provider, &signer);
            // The attestation ends on the same changes that end the owner's acknowledgement.
            if critical_change {
                self.clear_attestation(provider, before.signer);
            }
            if let Some(amount) = staked {
                self.env().emit_event(ProviderStaked { provider, amount });
            }
            if before.acknowledged && !acknowledged {
                // Names the signer whose acknowledgement ended, not the new one.
                self.env().emit_event(ProviderTeeSignerAcknowledged {
                    provider,
                    signer: before.signer,
                    acknowledged: false,
                });
            }
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
            self.services.insert(provider, &ServiceRecord { params, updated_at: now, index });
            Ok(())
        }

        /// Removes the caller's service. Its stake unbonds for the lock time (`withdraw_stake` then pays
        /// it); sub-accounts are untouched, so users can still retrieve their funds.
        #[ink(message)]
        pub fn remove_service(&mut self) -> Result<(), Error> {
            let provider = self.env().caller();
            let record = self.services.get(provider).ok_or(Error::ServiceNotExist)?;
            let last = self.service_count.checked_sub(1).ok_or(Error::Overflow)?;
            if record.index != last {
                if let Some(moved) = self.service_at.get(last) {
                    self.service_at.insert(record.index, &moved);
                    if let Some(mut r) = self.services.get(moved) {
                        r.index = record.index;
                        self.services.insert(moved, &r);
                    }
                }
            }
            self.service_at.remove(last);
            self.service_count = last;
            self.services.remove(provider);
            let old = self.signers.take(provider).unwrap_or_default();
            self.clear_attestation(provider, old.signer);
            let now = self.env().block_timestamp();
            if let Some(Unbonding { amount, release_at }) = self.stakes.unbond(provider, now, self.lock_time_ms)? {
                self.env().emit_event(ProviderStakeUnbonding { provider, amount, release_at });
            }
            self.env().emit_event(ServiceRemoved { provider });
            Ok(())
        }

        /// Pays the caller's unbonded stake once its release time has come.
        /// Owner: sends the tokens the contract holds beyond what it owes (plain transfers to the contract, which
        /// no code can refuse on pallet-contracts) to `to`. Never touches sub-accounts or stakes.
        #[ink(message)]
        pub fn withdraw_surplus(&mut self, to: AccountId) -> Result<Balance, Error> {
            self.ensure_owner()?;
            let amount = self.surplus();
            if amount == 0 {
                return Err(Error::NoSurplus);
            }
            self.env().emit_event(SurplusWithdrawn { to, amount });
            self.env().transfer(to, amount).map_err(|_| Error::TransferFailed)?;
            Ok(amount)
        }

        #[ink(message)]
        pub fn withdraw_stake(&mut self) -> Result<Balance, Error> {
            let provider = self.env().caller();
            let amount = self.stakes.withdraw(provider, self.env().block_timestamp())?;
            self.env().emit_event(ProviderStakeReturned { provider, amount });
            self.env().transfer(provider, amount).map_err(|_| Error::TransferFailed)?;
            Ok(amount)
        }

        /// Settles 1..=50 vouchers for the caller (the provider). Each entry gets a status; a bad entry does
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
            let total = judgement.total_settled().ok_or(Error::Overflow)?;
            let Judgement { outcomes, changed } = judgement;
            let mut balances = Vec::with_capacity(changed.len());
            for (user, old_balance, account) in &changed {
                self.book.store(*user, provider, *old_balance, account)?;
                balances.push(SubAccountBalance {
                    user: *user,
                    balance: account.balance,
                    pending_refund: account.pending_refund,
                });
            }
            let results = outcomes
                .iter()
                .zip(settlements.iter())
                .map(|(o, e)| TeeSettlementResult {
                    user: o.user,
                    status: o.status,
                    settled: o.settled,
                    unsettled: o.unsettled,
                    nonce: e.nonce,
                })
                .collect();
            self.env().emit_event(TeeSettlementResults { provider, results, balances });
            if total > 0 {
                self.env().transfer(provider, total).map_err(|_| Error::TransferFailed)?;
            }
            Ok(outcomes)
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
        /// grant takes effect at once; a withdrawal only after the lock time (design.md difference 5), so the
        /// provider can still settle what it served before; from then on settlements report `NoTeeSigner`.
        /// Emits `UserAcknowledgementChanged` only when something changes.
        #[ink(message)]
        pub fn acknowledge_tee_signer(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            let user = self.env().caller();
            let (now, lock) = (self.env().block_timestamp(), self.lock_time_ms);
            if let Some(effective_at) = self.book.set_consent(user, provider, acknowledged, now, lock)? {
                self.env().emit_event(UserAcknowledgementChanged { user, provider, acknowledged, effective_at });
            }
            Ok(())
        }

        /// Revokes one session token id of the current generation.
        #[ink(message)]
        pub fn revoke_token(&mut self, provider: AccountId, token_id: u8) -> Result<(), Error> {
            let user = self.env().caller();
            self.set_revoked(user, provider, &[token_id])?;
            self.env().emit_event(TokenRevoked { user, provider, token_id });
            Ok(())
        }

        /// Revokes several token ids (at most 256; duplicates are harmless).
        #[ink(message)]
        pub fn revoke_tokens(&mut self, provider: AccountId, token_ids: Vec<u8>) -> Result<(), Error> {
            let user = self.env().caller();
            let len = u32::try_from(token_ids.len()).unwrap_or(u32::MAX);
            if len > MAX_TOKEN_IDS {
                return Err(Error::TooManyTokens { len, max: MAX_TOKEN_IDS });
            }
            self.set_revoked(user, provider, &token_ids)?;
            self.env().emit_event(TokensRevoked { user, provider, token_ids });
            Ok(())
        }

        /// Revokes every token: starts a new generation with nothing revoked.
        #[ink(message)]
        pub fn revoke_all_tokens(&mut self, provider: AccountId) -> Result<u32, Error> {
            let user = self.env().caller();
            let (generation, _) = self.book.update(user, provider, |a| {
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
            self.ensure_owner()?;
            service_core::check_lock_time(lock_time_ms)?;
            let old_ms = self.lock_time_ms;
            if old_ms != lock_time_ms {
                self.lock_time_ms = lock_time_ms;
                self.env().emit_event(LockTimeUpdated { old_ms, new_ms: lock_time_ms });
            }
            Ok(())
        }

        #[ink(message)]
        pub fn update_min_stake(&mut self, min_stake: Balance) -> Result<(), Error> {
            self.ensure_owner()?;
            let old = self.min_stake;
            if old != min_stake {
                self.min_stake = min_stake;
                self.env().emit_event(MinStakeUpdated { old, new: min_stake });
            }
            Ok(())
        }

        /// The owner vouches for the provider's current TEE signer (after checking its attestation).
        #[ink(message)]
        pub fn acknowledge_tee_signer_by_owner(&mut self, provider: AccountId) -> Result<(), Error> {
            self.set_owner_acknowledgement(provider, true)
        }

        #[ink(message)]
        pub fn revoke_tee_signer_acknowledgement(&mut self, provider: AccountId) -> Result<(), Error> {
            self.set_owner_acknowledgement(provider, false)
        }

        #[ink(message)]
        pub fn transfer_ownership(&mut self, new_owner: AccountId) -> Result<(), Error> {
            let owner = self.env().caller();
            self.ownership.propose(owner, new_owner)?;
            self.env().emit_event(OwnershipTransferStarted { owner, pending_owner: new_owner });
            Ok(())
        }

        #[ink(message)]
        pub fn accept_ownership(&mut self) -> Result<(), Error> {
            let new_owner = self.env().caller();
            let previous_owner = self.ownership.accept(new_owner)?;
            self.env().emit_event(OwnershipTransferred { previous_owner, new_owner });
            Ok(())
        }

        /// Replaces this contract's code, keeping its storage.
        #[ink(message)]
        pub fn set_code(&mut self, code_hash: Hash) -> Result<(), Error> {
            self.ensure_owner()?;
            self.env().set_code_hash(&code_hash).map_err(|_| Error::UpgradeFailed)?;
            self.env().emit_event(CodeUpgraded { code_hash: code_hash.into() });
            Ok(())
        }

        /// Owner: registers (`true`) or removes an attestor key. Removal ends every attestation it signed.
        #[ink(message)]
        pub fn set_attestor(&mut self, attestor: [u8; 20], registered: bool) -> Result<(), Error> {
            self.ensure_owner()?;
            if attestor == [0u8; 20] {
                return Err(Error::ZeroAddress);
            }
            if self.attestations.set_attestor(attestor, registered) {
                self.env().emit_event(AttestorUpdated { attestor, registered });
            }
            Ok(())
        }

        /// Owner: accepts (`true`) or removes a TEE measurement. Removal ends every attestation for it.
        #[ink(message)]
        pub fn set_measurement(&mut self, measurement: [u8; 32], accepted: bool) -> Result<(), Error> {
            self.ensure_owner()?;
            if self.attestations.set_measurement(measurement, accepted) {
                self.env().emit_event(MeasurementUpdated { measurement, accepted });
            }
            Ok(())
        }

        /// Anyone: submits a registered attestor's `TeeAttestation` for `provider`'s current signer. The signer
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
            if !self.services.contains(provider) {
                return Err(Error::ServiceNotExist);
            }
            let signer = self.signers.get(provider).unwrap_or_default().signer;
            let domain = Domain::inference(self.chain_id, *self.env().account_id().as_ref());
            let now = self.env().block_timestamp();
            let a = &mut self.attestations;
            a.submit(&HostCrypto, &domain, provider, signer, measurement, expires_at, attestor, &signature, now)?;
            self.env().emit_event(TeeAttestationAccepted { provider, signer, attestor, measurement, expires_at });
            Ok(())
        }

        // ------------------------------------------------------------------ views

        /// Upgrade test only: what the second build stores in its new field.
        #[cfg(serving_upgrade_v2)]
        #[ink(message)]
        pub fn v2_note(&self) -> u32 {
            self.v2_note.get().unwrap_or(0)
        }

        /// Upgrade test only: writes the second build's new field.
        #[cfg(serving_upgrade_v2)]
        #[ink(message)]
        pub fn set_v2_note(&mut self, note: u32) {
            self.v2_note.set(&note);
        }

        #[ink(message)]
        pub fn owner(&self) -> AccountId {
            self.ownership.owner
        }

        /// The account proposed by `transfer_ownership` and not yet accepted, if any.
        #[ink(message)]
        pub fn pending_owner(&self) -> Option<AccountId> {
            self.ownership.pending
        }

        #[ink(message)]
        pub fn ledger(&self) -> AccountId {
            self.ledger
        }

        #[ink(message)]
        pub fn chain_id(&self) -> u64 {
            self.chain_id
        }

        #[ink(message)]
        pub fn lock_time_ms(&self) -> u64 {
            self.lock_time_ms
        }

        #[ink(message)]
        pub fn min_stake(&self) -> Balance {
            self.min_stake
        }

        /// What the contract owes: all sub-account balances plus active and unbonding stakes.
        #[ink(message)]
        pub fn liabilities(&self) -> Balance {
            self.book.total_balance().saturating_add(self.stakes.total())
        }

        /// Native tokens beyond what the contract owes.
        #[ink(message)]
        pub fn surplus(&self) -> Balance {
            self.env().balance().saturating_sub(self.liabilities())
        }

        #[ink(message)]
        pub fn get_account(&self, user: AccountId, provider: AccountId) -> Result<AccountView, Error> {
            let a = self.book.load(user, provider)?;
            Ok(self.view((user, provider), a))
        }

        /// (page, total); limit 0 = 50, at most 50.
        #[ink(message)]
        pub fn get_all_accounts(&self, offset: u32, limit: u32) -> Result<(Vec<AccountView>, u32), Error> {
            let (keys, total) = self.book.page_all(offset, limit).map_err(|_| limit_error(limit))?;
            Ok((self.views(keys), total))
        }

        #[ink(message)]
        pub fn get_accounts_by_provider(
            &self,
            provider: AccountId,
            offset: u32,
            limit: u32,
        ) -> Result<(Vec<AccountView>, u32), Error> {
            let (keys, total) = self.book.page_by_provider(provider, offset, limit).map_err(|_| limit_error(limit))?;
            Ok((self.views(keys), total))
        }

        #[ink(message)]
        pub fn get_accounts_by_user(
            &self,
            user: AccountId,
            offset: u32,
            limit: u32,
        ) -> Result<(Vec<AccountView>, u32), Error> {
            let (keys, total) = self.book.page_by_user(user, offset, limit).map_err(|_| limit_error(limit))?;
            Ok((self.views(keys), total))
        }

        /// The sub-accounts of up to 50 users with `provider`, in input order (`None` where there is none).
        #[ink(message)]
        pub fn get_batch_accounts_by_users(
            &self,
            provider: AccountId,
            users: Vec<AccountId>,
        ) -> Result<Vec<Option<AccountView>>, Error> {
            let len = u32::try_from(users.len()).unwrap_or(u32::MAX);
            if len > MAX_BATCH_USERS {
                return Err(Error::BatchSizeTooLarge { len, max: MAX_BATCH_USERS });
            }
            Ok(service_core::fit(
                users.into_iter().map(|u| self.book.get(u, provider).map(|a| self.view((u, provider), a))),
            ))
        }

        #[ink(message)]
        pub fn service_exists(&self, provider: AccountId) -> bool {
            self.services.contains(provider)
        }

        #[ink(message)]
        pub fn get_service(&self, provider: AccountId) -> Result<ServiceView, Error> {
            let r = self.services.get(provider).ok_or(Error::ServiceNotExist)?;
            Ok(self.service_view(provider, r))
        }

        /// (page, total); limit 0 = 50, at most 50.
        #[ink(message)]
        pub fn get_all_services(&self, offset: u32, limit: u32) -> Result<(Vec<ServiceView>, u32), Error> {
            let range =
                service_core::page(offset, limit, self.service_count, service_core::MAX_PAGE).ok_or(limit_error(limit))?;
            let out = service_core::fit(
                range
                    .filter_map(|i| self.service_at.get(i))
                    .filter_map(|p| self.services.get(p).map(|r| self.service_view(p, r))),
            );
            Ok((out, self.service_count))
        }

        /// (active stake, unbonding stake if any)
        /// The provider's accepted attestation, if any (it counts only while its signer is current, it has not
        /// expired, and its attestor and measurement are still registered).
        #[ink(message)]
        pub fn get_attestation(&self, provider: AccountId) -> Option<Attestation> {
            self.attestations.get(provider)
        }

        /// The signer settlements are checked against right now, if any (owner-acknowledged or attested).
        #[ink(message)]
        pub fn usable_tee_signer(&self, provider: AccountId) -> Option<[u8; 20]> {
            if !self.services.contains(provider) {
                return None;
            }
            let state = self.signers.get(provider).unwrap_or_default();
            self.attestations.usable_signer(provider, state, self.env().block_timestamp())
        }

        #[ink(message)]
        pub fn is_attestor(&self, attestor: [u8; 20]) -> bool {
            self.attestations.is_attestor(attestor)
        }

        #[ink(message)]
        pub fn is_accepted_measurement(&self, measurement: [u8; 32]) -> bool {
            self.attestations.is_measurement(measurement)
        }

        #[ink(message)]
        pub fn get_stake(&self, provider: AccountId) -> (Balance, Option<Unbonding>) {
            (self.stakes.active(provider), self.stakes.unbonding(provider))
        }

        /// Whether `token_id` is revoked in the sub-account's current generation.
        #[ink(message)]
        pub fn is_token_revoked(&self, user: AccountId, provider: AccountId, token_id: u8) -> Result<bool, Error> {
            let a = self.book.load(user, provider)?;
            Ok(match self.revoked.get((user, provider)) {
                Some((generation, bits)) if generation == a.generation => {
                    bits[usize::from(token_id / 8)] & (1u8 << (token_id % 8)) != 0
                }
                _ => false,
            })
        }

        /// The EIP-712 digest a TEE signs for this voucher (for tools to cross-check their encoding).
        #[ink(message)]
        pub fn settlement_digest(&self, settlement: TeeSettlementData) -> [u8; 32] {
            settlement.digest(&HostCrypto, &self.separator())
        }

        // ------------------------------------------------------------------ internals

        fn ensure_owner(&self) -> Result<(), Error> {
            Ok(self.ownership.ensure(self.env().caller())?)
        }

        fn only_ledger(&self) -> Result<(), ServingError> {
            if self.env().caller() != self.ledger {
                return Err(ServingError::CallerNotLedger);
            }
            Ok(())
        }

        fn separator(&self) -> [u8; 32] {
            Domain::inference(self.chain_id, *self.env().account_id().as_ref()).separator(&HostCrypto)
        }

        /// Judges a batch without writing (`service_core::settle::judge_batch` against this contract's state).
        fn judge(&self, provider: AccountId, settlements: &[TeeSettlementData]) -> Result<Judgement, Error> {
            let state = self.signers.get(provider).unwrap_or_default();
            let settler = Settler {
                provider,
                has_service: self.services.contains(provider),
                signer: self.attestations.usable_signer(provider, state, self.env().block_timestamp()),
                separator: self.separator(),
                now: self.env().block_timestamp(),
            };
            judge_batch(&HostCrypto, &settler, settlements, |user| self.book.get(user, provider)).map_err(|e| match e {
                BatchError::Empty => Error::NoSettlementsProvided,
                BatchError::TooLarge { len, max } => Error::TooManySettlements { len, max },
            })
        }

        fn clear_attestation(&mut self, provider: AccountId, signer: [u8; 20]) {
            if self.attestations.clear(provider) {
                self.env().emit_event(TeeAttestationCleared { provider, signer });
            }
        }

        fn set_owner_acknowledgement(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            self.ensure_owner()?;
            if !self.services.contains(provider) {
                return Err(Error::ServiceNotExist);
            }
            let mut s = self.signers.get(provider).unwrap_or_default();
            if acknowledged && s.signer == [0u8; 20] {
                return Err(Error::NoTeeSigner);
            }
            s.acknowledged = acknowledged;
            self.signers.insert(provider, &s);
            self.env().emit_event(ProviderTeeSignerAcknowledged { provider, signer: s.signer, acknowledged });
            Ok(())
        }

        fn set_revoked(&mut self, user: AccountId, provider: AccountId, ids: &[u8]) -> Result<(), Error> {
            let a = self.book.load(user, provider)?;
            let mut bits = match self.revoked.get((user, provider)) {
                Some((generation, bits)) if generation == a.generation => bits,
                _ => [0u8; 32],
            };
            for id in ids {
                bits[usize::from(id / 8)] |= 1u8 << (id % 8);
            }
            self.revoked.insert((user, provider), &(a.generation, bits));
            Ok(())
        }

        fn view(&self, (user, provider): Key, a: SubAccount) -> AccountView {
            let acknowledged = a.consents(self.env().block_timestamp());
            AccountView {
                user,
                provider,
                nonce: a.nonce,
                balance: a.balance,
                pending_refund: a.pending_refund,
                refunds: a.refunds,
                additional_info: self.book.info(user, provider),
                acknowledged,
                consent_ends_at: a.consent_ends_at,
                generation: a.generation,
            }
        }

        /// The views of `keys`, in order, as many as fit in the output buffer (`service_core::fit`).
        fn views(&self, keys: Vec<Key>) -> Vec<AccountView> {
            service_core::fit(keys.into_iter().filter_map(|(u, p)| self.book.get(u, p).map(|a| self.view((u, p), a))))
        }

        fn service_view(&self, provider: AccountId, r: ServiceRecord) -> ServiceView {
            ServiceView {
                provider,
                tee_signer_acknowledged: self.usable_tee_signer(provider).is_some(),
                stake: self.stakes.active(provider),
                params: r.params,
                updated_at: r.updated_at,
            }
        }

        fn emit_balance(&self, user: AccountId, provider: AccountId, a: &SubAccount) {
            self.env().emit_event(BalanceUpdated {
                user,
                provider,
                balance: a.balance,
                pending_refund: a.pending_refund,
            });
        }
    }

    fn limit_error(limit: u32) -> Error {
        Error::LimitTooLarge { limit, max: service_core::MAX_PAGE }
    }

    impl Serving for Inference {
        #[ink(message)]
        fn serving_info(&self) -> ServingInfo {
            ServingInfo { interface_version: SERVING_INTERFACE_VERSION, ledger: self.ledger }
        }

        #[ink(message)]
        fn user_balance(&self, user: AccountId) -> Balance {
            self.book.user_total(user)
        }

        #[ink(message)]
        fn account_exists(&self, user: AccountId, provider: AccountId) -> bool {
            self.book.contains(user, provider)
        }

        #[ink(message)]
        fn get_pending_refund(&self, user: AccountId, provider: AccountId) -> Result<Balance, ServingError> {
            Ok(self.book.load(user, provider).map_err(ServingError::from)?.pending_refund)
        }

        /// Opens the sub-account with the transferred value; the provider must have a service.
        #[ink(message, payable)]
        fn add_account(
            &mut self,
            user: AccountId,
            provider: AccountId,
            additional_info: String,
        ) -> Result<(), ServingError> {
            self.only_ledger()?;
            let value = self.env().transferred_value();
            let has_service = self.services.contains(provider);
            let a = self.book.ledger_open(user, provider, has_service, value, &additional_info)?;
            self.emit_balance(user, provider, &a);
            Ok(())
        }

        #[ink(message, payable)]
        fn deposit_fund(
            &mut self,
            user: AccountId,
            provider: AccountId,
            cancel_refund: Balance,
        ) -> Result<(), ServingError> {
            self.only_ledger()?;
            let value = self.env().transferred_value();
            let a = self.book.ledger_deposit(user, provider, value, cancel_refund)?;
            self.emit_balance(user, provider, &a);
            Ok(())
        }

        #[ink(message)]
        fn request_refund_all(&mut self, user: AccountId, provider: AccountId) -> Result<Balance, ServingError> {
            self.only_ledger()?;
            let now = self.env().block_timestamp();
            let lock = self.lock_time_ms;
            let (amount, a) =
                self.book.update(user, provider, |a| a.request_refund_all(now, lock)).map_err(ServingError::from)?;
            if amount > 0 {
                let index = u32::try_from(a.refunds.len()).unwrap_or(u32::MAX).saturating_sub(1);
                let unlock_at = a.refunds.last().map(|r| r.unlock_at).unwrap_or(now);
                self.env().emit_event(RefundRequested { user, provider, amount, index, unlock_at });
            }
            Ok(amount)
        }

        #[ink(message)]
        fn process_refund(&mut self, user: AccountId, provider: AccountId) -> Result<Balance, ServingError> {
            self.only_ledger()?;
            let now = self.env().block_timestamp();
            let (paid, a) =
                self.book.update(user, provider, |a| Ok(a.process_refunds(now))).map_err(ServingError::from)?;
            if paid > 0 {
                self.emit_balance(user, provider, &a);
                self.env().transfer(self.ledger, paid).map_err(|_| ServingError::TransferFailed)?;
            }
            Ok(paid)
        }

        #[ink(message)]
        fn delete_account(&mut self, user: AccountId, provider: AccountId) -> Result<(), ServingError> {
            self.only_ledger()?;
            if let Some(balance) = self.book.delete(user, provider).map_err(ServingError::from)? {
                self.revoked.remove((user, provider));
                self.env().emit_event(AccountDeleted { user, provider, balance });
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

    const HOUR: u64 = 3_600_000;
    const ME: ink::primitives::AccountId = ink::primitives::AccountId([0x42; 32]);

    fn setup() -> Inference {
        let a = test::default_accounts::<Env>();
        test::set_caller::<Env>(a.alice);
        test::set_callee::<Env>(ME);
        test::set_account_balance::<Env>(ME, 0);
        Inference::new(a.django, 42, HOUR, 100).unwrap()
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
        assert_eq!((c.lock_time_ms(), c.min_stake()), (2 * HOUR, 5));
        assert_eq!(c.update_lock_time(HOUR - 1), Err(Error::LockTimeOutOfRange));
        test::set_caller::<Env>(test::default_accounts::<Env>().bob);
        assert_eq!(c.update_lock_time(HOUR), Err(Error::NotOwner));
    }

    #[ink::test]
    fn pending_owner_is_visible_until_accepted() {
        let mut c = setup();
        let a = test::default_accounts::<Env>();
        assert_eq!(c.pending_owner(), None);
        assert_eq!(c.transfer_ownership(a.bob), Ok(()));
        assert_eq!(c.pending_owner(), Some(a.bob));
        test::set_caller::<Env>(a.bob);
        assert_eq!(c.accept_ownership(), Ok(()));
        assert_eq!((c.owner(), c.pending_owner()), (a.bob, None));
    }

    #[ink::test]
    fn surplus_goes_to_whom_the_owner_names() {
        let mut c = setup();
        let a = test::default_accounts::<Env>();
        assert_eq!(c.withdraw_surplus(a.frank), Err(Error::NoSurplus));
        // A plain transfer to the contract (no code runs for it on chain) is surplus: nobody's balance.
        test::set_account_balance::<Env>(ME, 1_000_077);
        assert_eq!(c.surplus(), 1_000_077);
        test::set_caller::<Env>(a.bob);
        assert_eq!(c.withdraw_surplus(a.bob), Err(Error::NotOwner));
        test::set_caller::<Env>(a.alice);
        let frank0 = test::get_account_balance::<Env>(a.frank).unwrap_or(0);
        assert_eq!(c.withdraw_surplus(a.frank), Ok(1_000_077));
        assert_eq!(test::get_account_balance::<Env>(a.frank).unwrap(), frank0 + 1_000_077);
        assert_eq!((c.surplus(), c.liabilities()), (0, 0));
        assert_eq!(c.withdraw_surplus(a.frank), Err(Error::NoSurplus));
    }

    /// The packed storage root is frozen (design.md "Upgrades"): this fails when it changes.
    #[test]
    fn storage_root_never_changes() {
        service_core::layout::check_root::<Inference>(env!("CARGO_MANIFEST_DIR"), "inference");
    }
}
