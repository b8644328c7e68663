//! Fine-tuning tasks as plain code: deliverables and their states, the serial-task rule and the ring of at most
//! [`MAX_DELIVERABLES`] that evicts only finished ones, and the settlement of one task ([`judge_task`]: full fee
//! with the model's key when the user acknowledged, the penalty share without a key otherwise) over the
//! [`serving_verifier::Crypto`] trait, so unit tests drive it with `LocalCrypto` and the contract with `HostCrypto`.
use crate::settle::Settler;
use crate::{AccountError, Balance, Error, SubAccount};
use ink::prelude::{string::String, vec::Vec};
use ink::primitives::AccountId;
use serving_verifier::{check_signature, Crypto, Domain, VerifierMessage};

/// Most deliverables kept per (user, provider).
pub const MAX_DELIVERABLES: usize = 20;
/// Longest deliverable id, in bytes (ids are 1..=256 bytes).
pub const MAX_ID_LENGTH: usize = serving_verifier::MAX_DELIVERABLE_ID_LEN;
/// Longest model root hash, in bytes.
pub const MAX_ROOT_HASH_LENGTH: u32 = 256;
/// Longest encrypted secret, in bytes.
pub const MAX_SECRET_LENGTH: u32 = 4096;

/// Where a deliverable is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub enum DeliverableState {
    /// Added by the provider, not yet acknowledged by the user.
    Pending,
    /// The user acknowledged the delivered model: a settlement needs the secret and charges the full fee.
    Acknowledged,
    /// Settled; `penalized` when the user never acknowledged and only the penalty share was charged.
    Settled { penalized: bool },
    /// The provider gave the task up; no fee.
    Abandoned,
}

impl DeliverableState {
    /// Settled or abandoned: nothing more can happen to it.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Settled { .. } | Self::Abandoned)
    }
}

/// Why a task operation or a task settlement is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum TaskError {
    /// Deliverable ids are 1..=256 bytes.
    DeliverableIdInvalidLength {
        len: u32,
    },
    DeliverableAlreadyExists,
    DeliverableNotExists,
    /// The latest deliverable is still pending (neither acknowledged, settled nor abandoned): one task at a time.
    PreviousDeliverableNotAcknowledged,
    /// The ring is full and its oldest deliverable is not settled or abandoned.
    CannotEvictUnsettledDeliverable,
    DeliverableAlreadySettled,
    DeliverableAbandoned,
    /// The voucher's nonce is not above the sub-account's.
    InvalidNonce,
    ModelRootHashMismatch,
    /// The voucher's signature breaks the rules or is not by the provider's usable signer.
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
    /// `remove_deliverables` while the user's sub-account with the provider still exists.
    AccountStillOpen,
}

/// The ids (keccak256 of the id string) of one pair's deliverables, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Ring {
    pub ids: Vec<[u8; 32]>,
}

impl Ring {
    pub fn latest(&self) -> Option<[u8; 32]> {
        self.ids.last().copied()
    }

    pub fn oldest(&self) -> Option<[u8; 32]> {
        self.ids.first().copied()
    }

    pub fn is_full(&self) -> bool {
        self.ids.len() >= MAX_DELIVERABLES
    }

    /// Admits `id`, given the states of the latest and (when the ring is full) the oldest deliverable.
    /// Serial tasks: the latest must be acknowledged, settled or abandoned. A full ring evicts its oldest,
    /// which must be closed. Returns the evicted id. Nothing changes on error.
    pub fn admit(
        &mut self,
        id: [u8; 32],
        latest: Option<DeliverableState>,
        oldest: Option<DeliverableState>,
    ) -> Result<Option<[u8; 32]>, TaskError> {
        if latest == Some(DeliverableState::Pending) {
            return Err(TaskError::PreviousDeliverableNotAcknowledged);
        }
        let evicted = if self.is_full() {
            if !oldest.is_some_and(DeliverableState::is_closed) {
                return Err(TaskError::CannotEvictUnsettledDeliverable);
            }
            Some(self.ids.remove(0))
        } else {
            None
        };
        self.ids.push(id);
        Ok(evicted)
    }
}

/// The fee charged for a task: all of it when the user acknowledged, else `penalty_percent` of it (rounded
/// down). `None` on overflow.
pub fn fee_for(task_fee: u128, acknowledged: bool, penalty_percent: u8) -> Option<u128> {
    if acknowledged {
        Some(task_fee)
    } else {
        task_fee.checked_mul(u128::from(penalty_percent)).map(|x| x / 100)
    }
}

/// One delivered model of a task.
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

impl Deliverable {
    /// Still open: `DeliverableAlreadySettled` / `DeliverableAbandoned` otherwise.
    pub fn check_open(&self) -> Result<(), TaskError> {
        match self.state {
            DeliverableState::Settled { .. } => Err(TaskError::DeliverableAlreadySettled),
            DeliverableState::Abandoned => Err(TaskError::DeliverableAbandoned),
            _ => Ok(()),
        }
    }
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

impl VerifierInput {
    /// The EIP-712 digest the provider's TEE signs (`VerifierMessage` in `domain`).
    pub fn digest(&self, c: &impl Crypto, domain: &Domain, provider: AccountId) -> [u8; 32] {
        let msg = VerifierMessage {
            id: self.id.as_bytes(),
            encrypted_secret: &self.encrypted_secret,
            model_root_hash: &self.model_root_hash,
            nonce: self.nonce,
            task_fee: self.task_fee,
            user: *self.user.as_ref(),
            provider: *provider.as_ref(),
        };
        domain.digest(c, &msg.struct_hash(c))
    }
}

/// A deliverable id is 1..=256 bytes.
pub fn check_id(id: &str) -> Result<(), TaskError> {
    if id.is_empty() || id.len() > MAX_ID_LENGTH {
        return Err(TaskError::DeliverableIdInvalidLength { len: u32::try_from(id.len()).unwrap_or(u32::MAX) });
    }
    Ok(())
}

/// An accepted task settlement: the fee, whether the user had acknowledged (full fee, key revealed), and the
/// sub-account and deliverable as they are to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSettlement {
    pub fee: Balance,
    pub acknowledged: bool,
    pub old_balance: Balance,
    pub account: SubAccount,
    pub deliverable: Deliverable,
}

/// Judges one task settlement, checks in the order of docs/fine-tuning.md: sub-account, service, usable signer
/// and the user's consent, nonce, id, open deliverable (`load` reads it by id), model root hash, signature, key
/// rule, key length, fee ≤ balance. Writes nothing: the caller stores the returned state and pays `fee`.
pub fn judge_task(
    c: &impl Crypto,
    settler: &Settler,
    domain: &Domain,
    account: Option<SubAccount>,
    input: &VerifierInput,
    load: impl FnOnce(&str) -> Option<Deliverable>,
) -> Result<TaskSettlement, Error> {
    let mut account = account.ok_or(AccountError::AccountNotExists)?;
    if !settler.has_service {
        return Err(Error::ServiceNotExist);
    }
    let Some(signer) = settler.signer.filter(|_| account.consents(settler.now)) else {
        return Err(crate::provider::AttestationRuleError::NoTeeSigner.into());
    };
    if input.nonce <= account.nonce {
        return Err(TaskError::InvalidNonce.into());
    }
    check_id(&input.id)?;
    let mut d = load(&input.id).ok_or(TaskError::DeliverableNotExists)?;
    d.check_open()?;
    if d.model_root_hash != input.model_root_hash {
        return Err(TaskError::ModelRootHashMismatch.into());
    }
    let digest = input.digest(c, domain, settler.provider);
    check_signature(c, &digest, &input.signature, &signer).map_err(|_| TaskError::InvalidSignature)?;
    let acknowledged = d.state == DeliverableState::Acknowledged;
    if acknowledged && input.encrypted_secret.is_empty() {
        return Err(TaskError::SecretShouldNotBeEmpty.into());
    }
    if !acknowledged && !input.encrypted_secret.is_empty() {
        return Err(TaskError::SecretShouldBeEmpty.into());
    }
    crate::check_len(input.encrypted_secret.len(), MAX_SECRET_LENGTH)?;
    let fee = fee_for(input.task_fee, acknowledged, d.penalty_percent).ok_or(Error::Overflow)?;
    if account.balance < fee {
        return Err(TaskError::InsufficientBalance { balance: account.balance, fee }.into());
    }
    let old_balance = account.balance;
    account.nonce = input.nonce;
    let charge = account.charge(fee);
    debug_assert_eq!(charge.settled, fee);
    d.state = DeliverableState::Settled { penalized: !acknowledged };
    d.encrypted_secret = input.encrypted_secret.clone();
    Ok(TaskSettlement { fee, acknowledged, old_balance, account, deliverable: d })
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliverableState::*;

    fn h(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn serial_rule_accepts_every_finished_state() {
        let mut r = Ring::default();
        assert_eq!(r.admit(h(1), None, None), Ok(None));
        assert_eq!(r.admit(h(2), Some(Pending), None), Err(TaskError::PreviousDeliverableNotAcknowledged));
        for state in [Acknowledged, Settled { penalized: false }, Settled { penalized: true }, Abandoned] {
            let mut r2 = r.clone();
            assert_eq!(r2.admit(h(2), Some(state), None), Ok(None), "{state:?}");
        }
        // The old deadlock: a penalty settlement (settled, never acknowledged) does not block the next task.
        assert_eq!(r.admit(h(2), Some(Settled { penalized: true }), None), Ok(None));
        assert_eq!(r.ids, vec![h(1), h(2)]);
    }

    #[test]
    fn full_ring_evicts_only_closed() {
        let mut r = Ring::default();
        for n in 0..MAX_DELIVERABLES as u8 {
            r.admit(h(n), Some(Acknowledged), None).unwrap();
        }
        assert!(r.is_full());
        let before = r.clone();
        assert_eq!(
            r.admit(h(99), Some(Abandoned), Some(Acknowledged)),
            Err(TaskError::CannotEvictUnsettledDeliverable)
        );
        assert_eq!(r.admit(h(99), Some(Abandoned), Some(Pending)), Err(TaskError::CannotEvictUnsettledDeliverable));
        assert_eq!(r.admit(h(99), Some(Abandoned), None), Err(TaskError::CannotEvictUnsettledDeliverable));
        assert_eq!(r, before);
        assert_eq!(r.admit(h(99), Some(Abandoned), Some(Settled { penalized: false })), Ok(Some(h(0))));
        assert_eq!((r.oldest(), r.latest(), r.ids.len()), (Some(h(1)), Some(h(99)), MAX_DELIVERABLES));
    }

    #[test]
    fn penalty_fee() {
        assert_eq!(fee_for(1000, true, 30), Some(1000));
        assert_eq!(fee_for(1000, false, 30), Some(300));
        assert_eq!(fee_for(999, false, 30), Some(299), "rounded down");
        assert_eq!(fee_for(1000, false, 0), Some(0));
        assert_eq!(fee_for(1000, false, 100), Some(1000));
        assert_eq!(fee_for(u128::MAX, false, 30), None);
        assert_eq!(fee_for(u128::MAX, true, 30), Some(u128::MAX));
    }

    mod settlement {
        use super::super::*;
        use serving_verifier::{LocalCrypto, LocalSigner};

        fn acc(b: u8) -> AccountId {
            AccountId::from([b; 32])
        }

        struct F {
            settler: Settler,
            domain: Domain,
            key: LocalSigner,
            account: SubAccount,
            d: Deliverable,
        }

        fn f(state: DeliverableState) -> F {
            let key = LocalSigner::from_bytes(&[9; 32]).unwrap();
            let domain = Domain::fine_tuning(42, [0x5e; 32]);
            let settler = Settler {
                provider: acc(0xcc),
                has_service: true,
                signer: Some(key.address()),
                separator: domain.separator(&LocalCrypto),
                now: 1_000,
                max_batch: 1,
            };
            let d = Deliverable {
                id: "task-1".into(),
                model_root_hash: vec![1, 2, 3],
                encrypted_secret: Vec::new(),
                state,
                added_at: 0,
                penalty_percent: 30,
            };
            F { settler, domain, key, account: SubAccount::open(1_000, None), d }
        }

        impl F {
            fn input(&self, nonce: u128, fee: Balance, secret: &[u8]) -> VerifierInput {
                let mut v = VerifierInput {
                    id: self.d.id.clone(),
                    encrypted_secret: secret.to_vec(),
                    model_root_hash: self.d.model_root_hash.clone(),
                    nonce,
                    task_fee: fee,
                    user: acc(1),
                    signature: Vec::new(),
                };
                v.signature =
                    self.key.sign_digest(&v.digest(&LocalCrypto, &self.domain, self.settler.provider)).to_vec();
                v
            }

            fn judge(&self, v: &VerifierInput) -> Result<TaskSettlement, Error> {
                let d = self.d.clone();
                judge_task(&LocalCrypto, &self.settler, &self.domain, Some(self.account.clone()), v, |id| {
                    (id == d.id).then_some(d)
                })
            }
        }

        #[test]
        fn acknowledged_task_pays_in_full_with_the_key() {
            let f = f(DeliverableState::Acknowledged);
            let s = f.judge(&f.input(1, 400, b"key")).unwrap();
            assert_eq!(
                (s.fee, s.acknowledged, s.old_balance, s.account.balance, s.account.nonce),
                (400, true, 1_000, 600, 1)
            );
            assert_eq!(s.deliverable.state, DeliverableState::Settled { penalized: false });
            assert_eq!(s.deliverable.encrypted_secret, b"key".to_vec());
            assert_eq!(f.judge(&f.input(1, 400, b"")), Err(TaskError::SecretShouldNotBeEmpty.into()));
        }

        #[test]
        fn unacknowledged_task_pays_the_penalty_without_a_key() {
            let f = f(DeliverableState::Pending);
            let s = f.judge(&f.input(1, 400, b"")).unwrap();
            assert_eq!((s.fee, s.acknowledged, s.account.balance), (120, false, 880));
            assert_eq!(s.deliverable.state, DeliverableState::Settled { penalized: true });
            assert_eq!(f.judge(&f.input(1, 400, b"key")), Err(TaskError::SecretShouldBeEmpty.into()));
        }

        #[test]
        fn refusals_in_order() {
            let mut f = f(DeliverableState::Acknowledged);
            let good = f.input(5, 400, b"key");
            // A forged or altered voucher.
            let mut forged = good.clone();
            forged.task_fee = 1;
            assert_eq!(f.judge(&forged), Err(TaskError::InvalidSignature.into()));
            let mut other = good.clone();
            other.signature = LocalSigner::from_bytes(&[8; 32]).unwrap().sign_digest(&[0; 32]).to_vec();
            assert_eq!(f.judge(&other), Err(TaskError::InvalidSignature.into()));
            // More than the balance.
            assert_eq!(
                f.judge(&f.input(5, 1_001, b"key")),
                Err(TaskError::InsufficientBalance { balance: 1_000, fee: 1_001 }.into())
            );
            // Another model.
            let mut hash = good.clone();
            hash.model_root_hash = vec![9];
            assert_eq!(f.judge(&hash), Err(TaskError::ModelRootHashMismatch.into()));
            // Unknown id, bad id.
            let mut id = f.input(5, 400, b"key");
            id.id = "other".into();
            assert_eq!(f.judge(&id), Err(TaskError::DeliverableNotExists.into()));
            id.id = String::new();
            assert_eq!(f.judge(&id), Err(TaskError::DeliverableIdInvalidLength { len: 0 }.into()));
            // Replays: the nonce must rise.
            f.account.nonce = 5;
            assert_eq!(f.judge(&good), Err(TaskError::InvalidNonce.into()));
            f.account.nonce = 0;
            // Closed tasks.
            f.d.state = DeliverableState::Settled { penalized: false };
            assert_eq!(f.judge(&good), Err(TaskError::DeliverableAlreadySettled.into()));
            f.d.state = DeliverableState::Abandoned;
            assert_eq!(f.judge(&good), Err(TaskError::DeliverableAbandoned.into()));
            f.d.state = DeliverableState::Acknowledged;
            // Consent withdrawn and effective, no signer, no service, no sub-account.
            f.account.consent_ends_at = Some(1_000);
            assert_eq!(f.judge(&good), Err(crate::provider::AttestationRuleError::NoTeeSigner.into()));
            f.account.consent_ends_at = Some(1_001);
            assert!(f.judge(&good).is_ok(), "the withdrawal is not effective yet");
            f.settler.signer = None;
            assert_eq!(f.judge(&good), Err(crate::provider::AttestationRuleError::NoTeeSigner.into()));
            f.settler.has_service = false;
            assert_eq!(f.judge(&good), Err(Error::ServiceNotExist));
            let r = judge_task(&LocalCrypto, &f.settler, &f.domain, None, &good, |_| None);
            assert_eq!(r, Err(AccountError::AccountNotExists.into()));
        }
    }
}
