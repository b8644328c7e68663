//! The inference service contract: providers register services with a stake, prices and a TEE signer; users'
//! sub-accounts (opened and funded only through the ledger) hold funds per provider; providers settle fees
//! in batches of vouchers signed inside their TEE.
//!
//! The sub-account rules live in the shared `serving-accounts` crate and the signed-message rules in
//! `serving-verifier`; this module wires storage, callers, value, events and the calls to the ledger. See
//! `docs/inference.md` for every message with its checks in order.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

#[ink::contract]
pub mod inference {
    use accounts::book::{AccountBook, Key};
    use accounts::events::*;
    use accounts::provider::{
        Attestation, AttestationBook, AttestationRuleError, Ownership, OwnershipError, SignerState, StakeBook,
        StakeError, Unbonding,
    };
    use accounts::{AccountError, Refund, SubAccount};
    use ink::codegen::TraitCallBuilder;
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    use serving_traits::{LedgerApi, Serving, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};
    use verifier::{check_signature, Domain, HostCrypto, TeeSettlement};

    /// Most vouchers in one settlement batch.
    pub const MAX_SETTLEMENTS: u32 = 50;
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
        /// The ledger refused the batch's spend.
        Ledger(serving_traits::Error),
        /// The call to the ledger failed.
        LedgerCallFailed,
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
    }

    /// What happened to one voucher of a batch.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum SettlementStatus {
        /// Settled in full.
        Success,
        /// The balance (pending refunds included) did not cover the fee: all of it was taken, the rest is
        /// forgiven, and the nonce moved past the voucher.
        Partial,
        /// The voucher names another provider than the caller.
        ProviderMismatch,
        /// The provider has no acknowledged TEE signer, or the user withdrew consent.
        NoTeeSigner,
        /// The nonce is not above the last settled one (a replay, or out of order).
        InvalidNonce,
        /// The signature breaks the rules or is not by the provider's signer.
        InvalidSignature,
        /// No sub-account for (user, caller).
        AccountNotFound,
        /// The caller has no service.
        ServiceNotFound,
    }

    /// One voucher: the user owes `total_fee` for the requests committed to by `requests_hash`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct TeeSettlementData {
        pub user: AccountId,
        pub provider: AccountId,
        pub total_fee: Balance,
        pub requests_hash: [u8; 32],
        pub nonce: u128,
        /// 65 bytes r ‖ s ‖ v by the provider's TEE signer over the EIP-712 digest.
        pub signature: Vec<u8>,
    }

    /// The outcome of one voucher.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct SettlementOutcome {
        pub user: AccountId,
        pub status: SettlementStatus,
        /// Taken from the sub-account and paid to the provider.
        pub settled: Balance,
        /// Of the fee, what was not taken.
        pub unsettled: Balance,
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
        pub acknowledged: bool,
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
    }

    type LedgerRef = ink::contract_ref!(LedgerApi);
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
                AccountError::LimitTooLarge => Error::LimitTooLarge { limit: 0, max: accounts::MAX_PAGE },
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
            accounts::check_lock_time(lock_time_ms)?;
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
            let (index, acknowledged) = match self.services.get(provider) {
                Some(old) => {
                    let p = &old.params;
                    let critical_change = p.service_type != params.service_type
                        || p.model != params.model
                        || p.verifiability != params.verifiability
                        || p.tee_signer != params.tee_signer
                        || p.additional_info != params.additional_info;
                    let was = self.signers.get(provider).unwrap_or_default().acknowledged;
                    (old.index, was && !critical_change)
                }
                None => {
                    let index = self.service_count;
                    self.service_at.insert(index, &provider);
                    self.service_count = index.checked_add(1).ok_or(Error::Overflow)?;
                    (index, false)
                }
            };
            let before = self.signers.get(provider).unwrap_or_default();
            let signer = SignerState { signer: params.tee_signer, acknowledged };
            self.signers.insert(provider, &signer);
            if before.signer != params.tee_signer {
                self.clear_attestation(provider, before.signer);
            }
            if let Some(amount) = staked {
                self.env().emit_event(ProviderStaked { provider, amount });
            }
            if before.acknowledged && !acknowledged {
                self.env().emit_event(ProviderTeeSignerAcknowledged {
                    provider,
                    signer: params.tee_signer,
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
        /// The ledger is told once and the provider paid once for the whole batch.
        #[ink(message)]
        pub fn settle_fees_with_tee(
            &mut self,
            settlements: Vec<TeeSettlementData>,
        ) -> Result<Vec<SettlementOutcome>, Error> {
            let provider = self.env().caller();
            let (outcomes, changed) = self.judge(provider, &settlements)?;
            let mut balances = Vec::with_capacity(changed.len());
            for (user, old_balance, account) in &changed {
                self.book.store(*user, provider, *old_balance, account)?;
                balances.push(SubAccountBalance {
                    user: *user,
                    balance: account.balance,
                    pending_refund: account.pending_refund,
                });
            }
            let mut spends: Vec<(AccountId, Balance)> = Vec::new();
            let mut total: Balance = 0;
            let mut results = Vec::with_capacity(outcomes.len());
            for (o, e) in outcomes.iter().zip(settlements.iter()) {
                results.push(TeeSettlementResult {
                    user: o.user,
                    status: o.status,
                    settled: o.settled,
                    unsettled: o.unsettled,
                    nonce: e.nonce,
                });
                if o.settled > 0 {
                    // One ledger entry per user, however often the user appears in the batch.
                    match spends.iter_mut().find(|(u, _)| *u == o.user) {
                        Some((_, amount)) => *amount = amount.checked_add(o.settled).ok_or(Error::Overflow)?,
                        None => spends.push((o.user, o.settled)),
                    }
                    total = total.checked_add(o.settled).ok_or(Error::Overflow)?;
                }
            }
            self.env().emit_event(TeeSettlementResults { provider, results, balances });
            if !spends.is_empty() {
                let mut ledger: LedgerRef = self.ledger.into();
                match ledger.call_mut().spend_funds(spends).try_invoke() {
                    Ok(Ok(Ok(()))) => {}
                    Ok(Ok(Err(e))) => return Err(Error::Ledger(e)),
                    _ => return Err(Error::LedgerCallFailed),
                }
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
            Ok(self.judge(provider, &settlements)?.0)
        }

        // ------------------------------------------------------------------ user

        /// Grants or withdraws the caller's consent to settlements by `provider`'s TEE signer. Allowed at any
        /// time; while withdrawn, settlements report `NoTeeSigner`.
        #[ink(message)]
        pub fn acknowledge_tee_signer(&mut self, provider: AccountId, acknowledged: bool) -> Result<(), Error> {
            let user = self.env().caller();
            self.book.update(user, provider, |a| {
                a.acknowledged = acknowledged;
                Ok(())
            })?;
            self.env().emit_event(UserAcknowledgementChanged { user, provider, acknowledged });
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
            accounts::check_lock_time(lock_time_ms)?;
            let old_ms = self.lock_time_ms;
            self.lock_time_ms = lock_time_ms;
            self.env().emit_event(LockTimeUpdated { old_ms, new_ms: lock_time_ms });
            Ok(())
        }

        #[ink(message)]
        pub fn update_min_stake(&mut self, min_stake: Balance) -> Result<(), Error> {
            self.ensure_owner()?;
            let old = self.min_stake;
            self.min_stake = min_stake;
            self.env().emit_event(MinStakeUpdated { old, new: min_stake });
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

        #[ink(message)]
        pub fn owner(&self) -> AccountId {
            self.ownership.owner
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
            Ok(users.into_iter().map(|u| self.book.get(u, provider).map(|a| self.view((u, provider), a))).collect())
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
                accounts::page(offset, limit, self.service_count, accounts::MAX_PAGE).ok_or(limit_error(limit))?;
            let out = range
                .filter_map(|i| self.service_at.get(i))
                .filter_map(|p| self.services.get(p).map(|r| self.service_view(p, r)))
                .collect();
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
            Self::digest(&self.separator(), &settlement)
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

        /// The EIP-712 digest of a voucher, given this contract's domain separator.
        fn digest(separator: &[u8; 32], e: &TeeSettlementData) -> [u8; 32] {
            let msg = TeeSettlement {
                requests_hash: e.requests_hash,
                nonce: e.nonce,
                provider: *e.provider.as_ref(),
                user: *e.user.as_ref(),
                total_fee: e.total_fee,
            };
            verifier::typed_digest(&HostCrypto, separator, &msg.struct_hash(&HostCrypto))
        }

        /// Judges a batch in order without writing: the outcomes, and the sub-accounts that changed as
        /// (user, balance before the batch, state after), one entry per user.
        #[allow(clippy::type_complexity)]
        fn judge(
            &self,
            provider: AccountId,
            settlements: &[TeeSettlementData],
        ) -> Result<(Vec<SettlementOutcome>, Vec<(AccountId, Balance, SubAccount)>), Error> {
            let len = u32::try_from(settlements.len()).unwrap_or(u32::MAX);
            if len == 0 {
                return Err(Error::NoSettlementsProvided);
            }
            if len > MAX_SETTLEMENTS {
                return Err(Error::TooManySettlements { len, max: MAX_SETTLEMENTS });
            }
            let has_service = self.services.contains(provider);
            let state = self.signers.get(provider).unwrap_or_default();
            let signer = self.attestations.usable_signer(provider, state, self.env().block_timestamp());
            let separator = self.separator();
            let mut changed: Vec<(AccountId, Balance, SubAccount)> = Vec::new();
            let mut outcomes = Vec::with_capacity(settlements.len());
            for e in settlements {
                let fail = |status| SettlementOutcome { user: e.user, status, settled: 0, unsettled: e.total_fee };
                if e.provider != provider {
                    outcomes.push(fail(SettlementStatus::ProviderMismatch));
                    continue;
                }
                let slot = changed.iter().position(|(u, _, _)| *u == e.user);
                let mut account = match slot {
                    Some(i) => changed[i].2.clone(),
                    None => match self.book.get(e.user, provider) {
                        Some(a) => a,
                        None => {
                            outcomes.push(fail(SettlementStatus::AccountNotFound));
                            continue;
                        }
                    },
                };
                let before = account.balance;
                if !has_service {
                    outcomes.push(fail(SettlementStatus::ServiceNotFound));
                    continue;
                }
                let Some(signer) = signer.filter(|_| account.acknowledged) else {
                    outcomes.push(fail(SettlementStatus::NoTeeSigner));
                    continue;
                };
                if e.nonce <= account.nonce {
                    outcomes.push(fail(SettlementStatus::InvalidNonce));
                    continue;
                }
                if check_signature(&HostCrypto, &Self::digest(&separator, e), &e.signature, &signer).is_err() {
                    outcomes.push(fail(SettlementStatus::InvalidSignature));
                    continue;
                }
                account.nonce = e.nonce;
                let charge = account.charge(e.total_fee);
                let status = if charge.unsettled > 0 { SettlementStatus::Partial } else { SettlementStatus::Success };
                outcomes.push(SettlementOutcome {
                    user: e.user,
                    status,
                    settled: charge.settled,
                    unsettled: charge.unsettled,
                });
                match slot {
                    Some(i) => changed[i].2 = account,
                    None => changed.push((e.user, before, account)),
                }
            }
            Ok((outcomes, changed))
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
            AccountView {
                user,
                provider,
                nonce: a.nonce,
                balance: a.balance,
                pending_refund: a.pending_refund,
                refunds: a.refunds,
                additional_info: self.book.info(user, provider),
                acknowledged: a.acknowledged,
                generation: a.generation,
            }
        }

        fn views(&self, keys: Vec<Key>) -> Vec<AccountView> {
            keys.into_iter().filter_map(|(u, p)| self.book.get(u, p).map(|a| self.view((u, p), a))).collect()
        }

        fn service_view(&self, provider: AccountId, r: ServiceRecord) -> ServiceView {
            ServiceView {
                provider,
                tee_signer_acknowledged: self.signers.get(provider).unwrap_or_default().acknowledged,
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
        Error::LimitTooLarge { limit, max: accounts::MAX_PAGE }
    }

    impl Serving for Inference {
        #[ink(message)]
        fn serving_info(&self) -> ServingInfo {
            ServingInfo { interface_version: SERVING_INTERFACE_VERSION, ledger: self.ledger }
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
