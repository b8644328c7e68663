//! The fine-tuning service contract: providers register training services with a stake and a TEE signer, add
//! one deliverable (a trained model) per task, users acknowledge it, and providers settle each task with a
//! voucher their TEE signed (the full fee with the model's key when the user acknowledged, the penalty share
//! without a key when the user never did).
//!
//! Sub-accounts are the shared `service-core` book; the deliverable rules are in [`deliverables`]. See
//! `docs/fine-tuning.md` for every message with its checks in order.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

pub mod deliverables;

#[ink::contract]
pub mod fine_tuning {
    use crate::deliverables::{self, DeliverableState, Ring, RingError, MAX_ID_LENGTH};
    use service_core::book::{AccountBook, Key};
    use service_core::events::*;
    use service_core::provider::{
        Attestation, AttestationBook, AttestationRuleError, Ownership, OwnershipError, SignerState, StakeBook,
        StakeError, Unbonding,
    };
    use service_core::{AccountError, Refund, SubAccount};
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    use serving_interface::{Serving, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};
    use verifier::{check_signature, Crypto, Domain, HostCrypto, VerifierMessage};

    /// Longest url and gpu type, in bytes.
    pub const MAX_URL_LENGTH: usize = 512;
    /// Most supported models, and the longest model name in bytes.
    pub const MAX_MODELS: u32 = 20;
    pub const MAX_MODEL_LENGTH: usize = 256;
    /// Most users in `get_batch_accounts_by_users`.
    pub const MAX_BATCH_USERS: u32 = 50;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub enum Error {
        NotOwner,
        NotPendingOwner,
        ZeroAddress,
        LockTimeOutOfRange,
        PenaltyPercentageTooHigh {
            percent: u8,
        },
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
        TooLong {
            len: u32,
            max: u32,
        },
        TooManyModels {
            len: u32,
            max: u32,
        },
        AccountNotExists,
        /// Deliverable ids are 1..=256 bytes.
        DeliverableIdInvalidLength {
            len: u32,
        },
        DeliverableAlreadyExists,
        DeliverableNotExists,
        /// The latest deliverable is still pending: one task at a time.
        PreviousDeliverableNotAcknowledged,
        /// The ring is full and its oldest deliverable is not settled or abandoned.
        CannotEvictUnsettledDeliverable,
        DeliverableAlreadySettled,
        DeliverableAbandoned,
        /// The provider has no acknowledged TEE signer, or the user withdrew consent.
        NoTeeSigner,
        /// The voucher's nonce is not above the sub-account's.
        InvalidNonce,
        ModelRootHashMismatch,
        InvalidSignature,
        /// The user acknowledged: the voucher must carry the model's encrypted key.
        SecretShouldNotBeEmpty,
        /// The user did not acknowledge: a penalty settlement reveals no key.
        SecretShouldBeEmpty,
        /// The sub-account cannot pay the fee actually charged.
        InsufficientBalance {
            balance: Balance,
            fee: Balance,
        },
        LimitTooLarge {
            limit: u32,
            max: u32,
        },
        BatchSizeTooLarge {
            len: u32,
            max: u32,
        },
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
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ServiceRecord {
        pub params: ServiceParams,
        pub updated_at: u64,
        pub index: u32,
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
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Deliverable {
        pub id: String,
        pub model_root_hash: Vec<u8>,
        /// The model's key, revealed by a full settlement.
        pub encrypted_secret: Vec<u8>,
        pub state: DeliverableState,
        pub added_at: u64,
        /// The penalty share in force when the task was added (later changes do not apply to it).
        pub penalty_percent: u8,
    }

    /// A provider's claim for one task, signed by its TEE. The provider is the caller.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct VerifierInput {
        pub id: String,
        pub encrypted_secret: Vec<u8>,
        pub model_root_hash: Vec<u8>,
        pub nonce: u128,
        pub task_fee: Balance,
        pub user: AccountId,
        pub signature: Vec<u8>,
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
        ownership: Ownership,
        ledger: AccountId,
        chain_id: u64,
        lock_time_ms: u64,
        min_stake: Balance,
        penalty_percent: u8,
        book: AccountBook,
        stakes: StakeBook,
        services: Mapping<AccountId, ServiceRecord>,
        signers: Mapping<AccountId, SignerState>,
        service_at: Mapping<u32, AccountId>,
        service_count: u32,
        rings: Mapping<Key, Ring>,
        /// (user, provider, keccak256(id)) → deliverable
        deliverables: Mapping<DeliverableKey, Deliverable>,
        /// Attestors, accepted measurements and providers' attestations (the verifiable path to a usable signer).
        attestations: AttestationBook,
        /// Only in the upgrade test's second build (cfg `serving_upgrade_v2`, set by the build script of
        /// `e2e-tests/upgrade-v2`): the kind of state a new version may add, in a field with its own storage key,
        /// so the packed root stays as it was.
        #[cfg(serving_upgrade_v2)]
        v2_note: ink::storage::Lazy<u32>,
    }

    /// (user, provider, keccak256(deliverable id))
    type DeliverableKey = (AccountId, AccountId, [u8; 32]);

    fn check_len(len: usize, max: usize) -> Result<(), Error> {
        if len > max {
            let sat = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
            return Err(Error::TooLong { len: sat(len), max: sat(max) });
        }
        Ok(())
    }

    fn id_hash(id: &str) -> [u8; 32] {
        HostCrypto.keccak256(id.as_bytes())
    }

    fn check_id(id: &str) -> Result<(), Error> {
        if id.is_empty() || id.len() > MAX_ID_LENGTH {
            return Err(Error::DeliverableIdInvalidLength { len: u32::try_from(id.len()).unwrap_or(u32::MAX) });
        }
        Ok(())
    }

    fn limit_error(limit: u32) -> Error {
        Error::LimitTooLarge { limit, max: service_core::MAX_PAGE }
    }

    impl From<AccountError> for Error {
        fn from(e: AccountError) -> Self {
            match e {
                AccountError::AccountNotExists => Error::AccountNotExists,
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

    impl From<RingError> for Error {
        fn from(e: RingError) -> Self {
            match e {
                RingError::PreviousDeliverableNotAcknowledged => Error::PreviousDeliverableNotAcknowledged,
                RingError::CannotEvictUnsettledDeliverable => Error::CannotEvictUnsettledDeliverable,
            }
        }
    }

    impl FineTuning {
        /// `penalty_percent` ≤ 100 (reference default 30); `lock_time_ms` in [1 h, 7 d]; `min_stake` for a
        /// first registration. The caller becomes the owner.
        #[ink(constructor)]
        pub fn new(
            ledger: AccountId,
            chain_id: u64,
            lock_time_ms: u64,
            min_stake: Balance,
            penalty_percent: u8,
        ) -> Result<Self, Error> {
            if ledger == AccountId::from([0u8; 32]) {
                return Err(Error::ZeroAddress);
            }
            if penalty_percent > 100 {
                return Err(Error::PenaltyPercentageTooHigh { percent: penalty_percent });
            }
            service_core::check_lock_time(lock_time_ms)?;
            Ok(Self {
                ownership: Ownership::new(Self::env().caller()),
                ledger,
                chain_id,
                lock_time_ms,
                min_stake,
                penalty_percent,
                book: AccountBook::default(),
                stakes: StakeBook::default(),
                attestations: AttestationBook::default(),
                services: Mapping::default(),
                signers: Mapping::default(),
                service_at: Mapping::default(),
                service_count: 0,
                rings: Mapping::default(),
                deliverables: Mapping::default(),
                #[cfg(serving_upgrade_v2)]
                v2_note: Default::default(),
            })
        }

        // ------------------------------------------------------------------ provider

        /// Registers (with a stake ≥ `min_stake`) or updates (no value) the caller's service. Only a change of
        /// TEE signer clears the owner's acknowledgement.
        #[ink(message, payable)]
        pub fn add_or_update_service(&mut self, params: ServiceParams) -> Result<(), Error> {
            let provider = self.env().caller();
            check_len(params.url.len(), MAX_URL_LENGTH)?;
            check_len(params.quota.gpu_type.len(), MAX_URL_LENGTH)?;
            let models = u32::try_from(params.models.len()).unwrap_or(u32::MAX);
            if models > MAX_MODELS {
                return Err(Error::TooManyModels { len: models, max: MAX_MODELS });
            }
            for m in &params.models {
                check_len(m.len(), MAX_MODEL_LENGTH)?;
            }
            let staked = self.stakes.on_register(provider, self.env().transferred_value(), self.min_stake)?;
            let now = self.env().block_timestamp();
            let before = self.signers.get(provider).unwrap_or_default();
            let index = match self.services.get(provider) {
                Some(old) => old.index,
                None => {
                    let index = self.service_count;
                    self.service_at.insert(index, &provider);
                    self.service_count = index.checked_add(1).ok_or(Error::Overflow)?;
                    index
                }
            };
            let is_update = self.services.contains(provider);
            let acknowledged = is_update && before.acknowledged && before.signer == params.tee_signer;
            self.signers.insert(provider, &SignerState { signer: params.tee_signer, acknowledged });
            if before.signer != params.tee_signer {
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
                url: params.url.clone(),
                quota: params.quota.clone(),
                price_per_token: params.price_per_token,
                tee_signer: params.tee_signer,
                occupied: params.occupied,
            });
            self.services.insert(provider, &ServiceRecord { params, updated_at: now, index });
            Ok(())
        }

        /// Removes the caller's service; the stake unbonds for the lock time.
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

        /// Adds the next task's deliverable for `user`. One task at a time: the latest deliverable must be
        /// acknowledged, settled or abandoned. The penalty share in force now applies to this task.
        #[ink(message)]
        pub fn add_deliverable(&mut self, user: AccountId, id: String, model_root_hash: Vec<u8>) -> Result<(), Error> {
            let provider = self.env().caller();
            check_id(&id)?;
            check_len(model_root_hash.len(), deliverables::MAX_ROOT_HASH_LENGTH)?;
            if !self.services.contains(provider) {
                return Err(Error::ServiceNotExist);
            }
            if !self.book.contains(user, provider) {
                return Err(Error::AccountNotExists);
            }
            let key = id_hash(&id);
            if self.deliverables.contains((user, provider, key)) {
                return Err(Error::DeliverableAlreadyExists);
            }
            let mut ring = self.rings.get((user, provider)).unwrap_or_default();
            let state =
                |h: Option<[u8; 32]>| h.and_then(|h| self.deliverables.get((user, provider, h))).map(|d| d.state);
            let latest = state(ring.latest());
            let oldest = if ring.is_full() { state(ring.oldest()) } else { None };
            if let Some(evicted) = ring.admit(key, latest, oldest)? {
                if let Some(old) = self.deliverables.take((user, provider, evicted)) {
                    self.env().emit_event(DeliverableEvicted {
                        user,
                        provider,
                        evicted_id: old.id,
                        new_id: id.clone(),
                    });
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

        /// Settles one task (see docs/fine-tuning.md for the checks in order). Charges the full fee with the key
        /// when the user acknowledged, the penalty share without a key otherwise, and pays the provider. The
        /// ledger is not called: the sub-account is the record of what the user holds here.
        #[ink(message)]
        pub fn settle_fees(&mut self, input: VerifierInput) -> Result<Balance, Error> {
            let provider = self.env().caller();
            let user = input.user;
            let mut account = self.book.load(user, provider)?;
            if !self.services.contains(provider) {
                return Err(Error::ServiceNotExist);
            }
            let state = self.signers.get(provider).unwrap_or_default();
            let now = self.env().block_timestamp();
            let Some(signer) = self.attestations.usable_signer(provider, state, now).filter(|_| account.consents(now))
            else {
                return Err(Error::NoTeeSigner);
            };
            if input.nonce <= account.nonce {
                return Err(Error::InvalidNonce);
            }
            check_id(&input.id)?;
            let (key, mut d) = self.open_deliverable(user, provider, &input.id)?;
            if d.model_root_hash != input.model_root_hash {
                return Err(Error::ModelRootHashMismatch);
            }
            let digest = self.digest(provider, &input);
            check_signature(&HostCrypto, &digest, &input.signature, &signer).map_err(|_| Error::InvalidSignature)?;
            let acknowledged = d.state == DeliverableState::Acknowledged;
            if acknowledged && input.encrypted_secret.is_empty() {
                return Err(Error::SecretShouldNotBeEmpty);
            }
            if !acknowledged && !input.encrypted_secret.is_empty() {
                return Err(Error::SecretShouldBeEmpty);
            }
            check_len(input.encrypted_secret.len(), deliverables::MAX_SECRET_LENGTH)?;
            let fee = deliverables::fee_for(input.task_fee, acknowledged, d.penalty_percent).ok_or(Error::Overflow)?;
            if account.balance < fee {
                return Err(Error::InsufficientBalance { balance: account.balance, fee });
            }
            let old_balance = account.balance;
            account.nonce = input.nonce;
            let charge = account.charge(fee);
            debug_assert_eq!(charge.settled, fee);
            self.book.store(user, provider, old_balance, &account)?;
            d.state = DeliverableState::Settled { penalized: !acknowledged };
            d.encrypted_secret = input.encrypted_secret;
            self.deliverables.insert(key, &d);
            self.env().emit_event(FeesSettled { user, provider, id: input.id, fee, acknowledged, nonce: input.nonce });
            self.env().emit_event(BalanceUpdated {
                user,
                provider,
                balance: account.balance,
                pending_refund: account.pending_refund,
            });
            if fee > 0 {
                self.env().transfer(provider, fee).map_err(|_| Error::TransferFailed)?;
            }
            Ok(fee)
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

        /// Sets the penalty share for tasks added from now on.
        #[ink(message)]
        pub fn update_penalty_percentage(&mut self, percent: u8) -> Result<(), Error> {
            self.ensure_owner()?;
            if percent > 100 {
                return Err(Error::PenaltyPercentageTooHigh { percent });
            }
            let old = self.penalty_percent;
            if old != percent {
                self.penalty_percent = percent;
                self.env().emit_event(PenaltyPercentageUpdated { old, new: percent });
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
            let domain = Domain::fine_tuning(self.chain_id, *self.env().account_id().as_ref());
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
        pub fn lock_time_ms(&self) -> u64 {
            self.lock_time_ms
        }

        #[ink(message)]
        pub fn penalty_percentage(&self) -> u8 {
            self.penalty_percent
        }

        #[ink(message)]
        pub fn liabilities(&self) -> Balance {
            self.book.total_balance().saturating_add(self.stakes.total())
        }

        #[ink(message)]
        pub fn surplus(&self) -> Balance {
            self.env().balance().saturating_sub(self.liabilities())
        }

        #[ink(message)]
        pub fn get_account(&self, user: AccountId, provider: AccountId) -> Result<AccountView, Error> {
            let a = self.book.load(user, provider)?;
            Ok(self.view((user, provider), a))
        }

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
        pub fn get_service(&self, provider: AccountId) -> Result<ServiceView, Error> {
            let r = self.services.get(provider).ok_or(Error::ServiceNotExist)?;
            Ok(self.service_view(provider, r))
        }

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

        #[ink(message)]
        pub fn get_deliverable(&self, user: AccountId, provider: AccountId, id: String) -> Result<Deliverable, Error> {
            if !self.book.contains(user, provider) {
                return Err(Error::AccountNotExists);
            }
            self.deliverables.get((user, provider, id_hash(&id))).ok_or(Error::DeliverableNotExists)
        }

        /// The pair's deliverables, oldest first (at most 20).
        #[ink(message)]
        pub fn get_deliverables(&self, user: AccountId, provider: AccountId) -> Vec<Deliverable> {
            let ring = self.rings.get((user, provider)).unwrap_or_default();
            service_core::fit(ring.ids.into_iter().filter_map(|h| self.deliverables.get((user, provider, h))))
        }

        /// The EIP-712 digest the provider's TEE signs for `input` when `provider` settles it.
        #[ink(message)]
        pub fn settlement_digest(&self, provider: AccountId, input: VerifierInput) -> [u8; 32] {
            self.digest(provider, &input)
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

        fn digest(&self, provider: AccountId, input: &VerifierInput) -> [u8; 32] {
            let msg = VerifierMessage {
                id: input.id.as_bytes(),
                encrypted_secret: &input.encrypted_secret,
                model_root_hash: &input.model_root_hash,
                nonce: input.nonce,
                task_fee: input.task_fee,
                user: *input.user.as_ref(),
                provider: *provider.as_ref(),
            };
            let domain = Domain::fine_tuning(self.chain_id, *self.env().account_id().as_ref());
            domain.digest(&HostCrypto, &msg.struct_hash(&HostCrypto))
        }

        /// An existing, not yet settled or abandoned deliverable of an existing sub-account.
        fn open_deliverable(
            &self,
            user: AccountId,
            provider: AccountId,
            id: &str,
        ) -> Result<(DeliverableKey, Deliverable), Error> {
            if !self.book.contains(user, provider) {
                return Err(Error::AccountNotExists);
            }
            let key = (user, provider, id_hash(id));
            let d = self.deliverables.get(key).ok_or(Error::DeliverableNotExists)?;
            match d.state {
                DeliverableState::Settled { .. } => Err(Error::DeliverableAlreadySettled),
                DeliverableState::Abandoned => Err(Error::DeliverableAbandoned),
                _ => Ok((key, d)),
            }
        }

        fn clear_attestation(&mut self, provider: AccountId, signer: [u8; 20]) {
            if self.attestations.clear(provider) {
                self.env().emit_event(TeeAttestationCleared { provider, signer });
            }
        }

        /// Moves an open (pending or acknowledged) deliverable to `state`.
        fn move_open_deliverable(
            &mut self,
            user: AccountId,
            provider: AccountId,
            id: &str,
            state: DeliverableState,
        ) -> Result<(), Error> {
            let (key, mut d) = self.open_deliverable(user, provider, id)?;
            d.state = state;
            self.deliverables.insert(key, &d);
            Ok(())
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

        fn view(&self, (user, provider): Key, a: SubAccount) -> AccountView {
            let deliverables =
                self.rings.get((user, provider)).map(|r| u32::try_from(r.ids.len()).unwrap_or(u32::MAX)).unwrap_or(0);
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
                deliverables,
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

    impl Serving for FineTuning {
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
            Ok(self.book.load(user, provider)?.pending_refund)
        }

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
            let (amount, a) = self.book.update(user, provider, |a| a.request_refund_all(now, lock))?;
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
            let (paid, a) = self.book.update(user, provider, |a| Ok(a.process_refunds(now)))?;
            if paid > 0 {
                self.emit_balance(user, provider, &a);
                self.env().transfer(self.ledger, paid).map_err(|_| ServingError::TransferFailed)?;
            }
            Ok(paid)
        }

        /// Deletes the sub-account (nonce kept) and all its deliverables.
        #[ink(message)]
        fn delete_account(&mut self, user: AccountId, provider: AccountId) -> Result<(), ServingError> {
            self.only_ledger()?;
            if let Some(balance) = self.book.delete(user, provider)? {
                if let Some(ring) = self.rings.take((user, provider)) {
                    for h in ring.ids {
                        self.deliverables.remove((user, provider, h));
                    }
                }
                self.env().emit_event(AccountDeleted { user, provider, balance });
            }
            Ok(())
        }
    }
}

/// Off-chain tests of the owner messages that make no cross-contract call. Deliverable rules are tested in
/// `deliverables`; the flows between contracts in `e2e-tests/`.
#[cfg(test)]
mod tests {
    use super::fine_tuning::*;
    use ink::env::test;
    use ink::env::DefaultEnvironment as Env;

    const HOUR: u64 = 3_600_000;
    const ME: ink::primitives::AccountId = ink::primitives::AccountId([0x42; 32]);

    fn setup() -> FineTuning {
        let a = test::default_accounts::<Env>();
        test::set_caller::<Env>(a.alice);
        test::set_callee::<Env>(ME);
        test::set_account_balance::<Env>(ME, 0);
        FineTuning::new(a.django, 42, HOUR, 100, 30).unwrap()
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
        service_core::layout::check_root::<FineTuning>(env!("CARGO_MANIFEST_DIR"), "fine_tuning");
    }
}
