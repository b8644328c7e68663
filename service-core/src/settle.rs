//! Inference settlement as plain code: judging a batch of TEE-signed vouchers against the sub-accounts, over
//! the [`serving_verifier::Crypto`] trait so unit tests drive it with `LocalCrypto` and the contract with `HostCrypto`.
//!
//! The contract's `settle_fees_with_tee` reads: judge ([`judge_batch`]) → store the changed sub-accounts →
//! emit one event → pay the provider once. `preview_settlement_results` is the judging alone.
//! `settle_fees_with_tee_batch` is the same with one TEE signature over the whole batch ([`judge_signed_batch`]):
//! the signature is checked once, before any entry, and a bad one refuses the call; then the entries are judged
//! one by one exactly as vouchers are (account, consent, nonce, balance).
use crate::{Balance, SubAccount};
use ink::prelude::vec::Vec;
use ink::primitives::AccountId;
use serving_verifier::{batch_struct_hash, check_signature, typed_digest, Crypto, SignerCache, TeeSettlement};

/// The default largest settlement batch (the owner may set another with `set_max_settlements`).
pub const MAX_SETTLEMENTS: u32 = 50;
/// The largest batch the owner may allow: 80 per-voucher entries (≈ 195 B each) fill most of ink!'s 16 KiB
/// static buffer, which holds the call's input; the batch's event (≈ 145 B per entry) stays under
/// pallet-contracts' 16 KiB event payload limit.
pub const MAX_SETTLEMENTS_LIMIT: u32 = 80;

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

impl TeeSettlementData {
    /// The EIP-712 digest a TEE signs for this voucher, given the contract's domain separator.
    pub fn digest(&self, c: &impl Crypto, separator: &[u8; 32]) -> [u8; 32] {
        let msg = TeeSettlement {
            requests_hash: self.requests_hash,
            nonce: self.nonce,
            provider: *self.provider.as_ref(),
            user: *self.user.as_ref(),
            total_fee: self.total_fee,
        };
        typed_digest(c, separator, &msg.struct_hash(c))
    }
}

/// One entry of a batch-signed settlement: a voucher without its own signature and without a provider (the
/// batch's provider, i.e. the caller, is the provider of every entry, in the signed data too).
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct BatchEntry {
    pub user: AccountId,
    pub total_fee: Balance,
    pub requests_hash: [u8; 32],
    pub nonce: u128,
}

impl BatchEntry {
    /// The entry's `TEESettlement` struct hash, with `provider` as its provider.
    pub fn struct_hash(&self, c: &impl Crypto, provider: &AccountId) -> [u8; 32] {
        TeeSettlement {
            requests_hash: self.requests_hash,
            nonce: self.nonce,
            provider: *provider.as_ref(),
            user: *self.user.as_ref(),
            total_fee: self.total_fee,
        }
        .struct_hash(c)
    }
}

/// The EIP-712 digest of `TEESettlementBatch(bytes32 provider,TEESettlement[] settlements)` over `entries` in
/// order, given the contract's domain separator: what the provider's TEE signs once for the whole batch.
pub fn batch_digest(c: &impl Crypto, separator: &[u8; 32], provider: &AccountId, entries: &[BatchEntry]) -> [u8; 32] {
    let mut hashes = Vec::with_capacity(entries.len().saturating_mul(32));
    for e in entries {
        hashes.extend_from_slice(&e.struct_hash(c, provider));
    }
    typed_digest(c, separator, &batch_struct_hash(c, provider.as_ref(), &hashes))
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

/// A batch refused as a whole, as the services' error.
impl From<BatchError> for crate::Error {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Empty => crate::Error::NoSettlementsProvided,
            BatchError::TooLarge { len, max } => crate::Error::TooMany { len, max },
            BatchError::NoService => crate::Error::ServiceNotExist,
            BatchError::NoSigner => crate::Error::NoTeeSigner,
            BatchError::BadSignature => crate::Error::InvalidBatchSignature,
        }
    }
}

/// Why a batch is refused as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchError {
    Empty,
    TooLarge {
        len: u32,
        max: u32,
    },
    /// Batch-signed only: the caller has no service.
    NoService,
    /// Batch-signed only: the caller has no usable TEE signer.
    NoSigner,
    /// Batch-signed only: the batch signature is not the signer's over these entries.
    BadSignature,
}

/// What the provider's side of the contract says about this batch, read once before judging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settler {
    pub provider: AccountId,
    pub has_service: bool,
    /// The signer settlements are checked against now (owner-acknowledged or attested), if any.
    pub signer: Option<[u8; 20]>,
    /// The contract's EIP-712 domain separator.
    pub separator: [u8; 32],
    /// The block time (ms): a user's withdrawal of consent takes effect at its `consent_ends_at`.
    pub now: u64,
    /// The largest batch the contract accepts now.
    pub max_batch: u32,
}

/// A judged batch: an outcome per voucher in order, and the sub-accounts that changed as (user, balance
/// before the batch, state after), one entry per user however often the user appears.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Judgement {
    pub outcomes: Vec<SettlementOutcome>,
    pub changed: Vec<(AccountId, Balance, SubAccount)>,
    /// A bit per value of a user's first byte, set for every user in `changed`: a user whose bit is clear is not
    /// there, and the search is skipped (with distinct users the search was a quadratic part of a batch).
    seen: [u8; 32],
}

impl Judgement {
    /// The total to pay the provider.
    pub fn total_settled(&self) -> Option<Balance> {
        self.outcomes.iter().try_fold(0u128, |sum, o| sum.checked_add(o.settled))
    }
}

/// Judges `settlements` in order, each against the state the earlier entries left (so a user appearing twice
/// sees the first charge and the raised nonce). `load` reads a sub-account of `settler.provider`. Writes
/// nothing: the caller stores `changed`.
pub fn judge_batch(
    c: &impl Crypto,
    settler: &Settler,
    settlements: &[TeeSettlementData],
    mut load: impl FnMut(AccountId) -> Option<SubAccount>,
) -> Result<Judgement, BatchError> {
    check_size(settlements.len(), settler.max_batch)?;
    let mut j = Judgement::with_capacity(settlements.len());
    let mut signer_key = SignerCache::default();
    for e in settlements {
        let (status, charge) = if e.provider != settler.provider {
            (SettlementStatus::ProviderMismatch, None)
        } else {
            let voucher = Some((e, &mut signer_key));
            judge_entry(c, settler, e.user, e.nonce, e.total_fee, &mut j, &mut load, voucher)
        };
        j.push(e.user, e.total_fee, status, charge);
    }
    Ok(j)
}

/// Judges a batch-signed settlement: `signature` must be the provider's TEE signer's over [`batch_digest`] of
/// `entries` (else the whole batch is refused), then each entry is judged as [`judge_batch`] judges a voucher
/// whose signature is good. Writes nothing.
pub fn judge_signed_batch(
    c: &impl Crypto,
    settler: &Settler,
    entries: &[BatchEntry],
    signature: &[u8],
    mut load: impl FnMut(AccountId) -> Option<SubAccount>,
) -> Result<Judgement, BatchError> {
    check_size(entries.len(), settler.max_batch)?;
    if !settler.has_service {
        return Err(BatchError::NoService);
    }
    let signer = settler.signer.ok_or(BatchError::NoSigner)?;
    let digest = batch_digest(c, &settler.separator, &settler.provider, entries);
    check_signature(c, &digest, signature, &signer).map_err(|_| BatchError::BadSignature)?;
    let mut j = Judgement::with_capacity(entries.len());
    for e in entries {
        let (status, charge) = judge_entry(c, settler, e.user, e.nonce, e.total_fee, &mut j, &mut load, None);
        j.push(e.user, e.total_fee, status, charge);
    }
    Ok(j)
}

fn check_size(len: usize, max: u32) -> Result<(), BatchError> {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    if len == 0 {
        return Err(BatchError::Empty);
    }
    if len > max {
        return Err(BatchError::TooLarge { len, max });
    }
    Ok(())
}

impl Judgement {
    fn with_capacity(n: usize) -> Self {
        Judgement { outcomes: Vec::with_capacity(n), changed: Vec::with_capacity(n), seen: [0; 32] }
    }

    /// Where `user` is in `changed`, if there.
    fn find(&self, user: &AccountId) -> Option<usize> {
        let (byte, bit) = Self::bit(user);
        if self.seen.get(byte).is_some_and(|b| b & bit != 0) {
            self.changed.iter().position(|(u, _, _)| u == user)
        } else {
            None
        }
    }

    fn add(&mut self, user: AccountId, before: Balance, account: SubAccount) {
        let (byte, bit) = Self::bit(&user);
        if let Some(b) = self.seen.get_mut(byte) {
            *b |= bit;
        }
        self.changed.push((user, before, account));
    }

    fn bit(user: &AccountId) -> (usize, u8) {
        let first = AsRef::<[u8; 32]>::as_ref(user)[0];
        (usize::from(first >> 3), 1u8 << (first & 7))
    }

    fn push(&mut self, user: AccountId, fee: Balance, status: SettlementStatus, charge: Option<crate::Charge>) {
        let (settled, unsettled) = charge.map(|c| (c.settled, c.unsettled)).unwrap_or((0, fee));
        self.outcomes.push(SettlementOutcome { user, status, settled, unsettled });
    }
}

/// One entry of the caller's own: its status and, when accepted, the charge (already applied to the user's
/// entry in `changed`). `voucher`: the voucher whose own signature must be the signer's (with the batch's cache of
/// the signer's key: one key-to-address mapping per batch), or `None` for an entry of a batch whose signature was
/// checked already. (One function for both paths: code size is paid per call.)
#[allow(clippy::too_many_arguments)]
fn judge_entry(
    c: &impl Crypto,
    settler: &Settler,
    user: AccountId,
    nonce: u128,
    fee: Balance,
    j: &mut Judgement,
    load: &mut dyn FnMut(AccountId) -> Option<SubAccount>,
    voucher: Option<(&TeeSettlementData, &mut SignerCache)>,
) -> (SettlementStatus, Option<crate::Charge>) {
    let slot = j.find(&user);
    let mut account = match slot.and_then(|i| j.changed.get(i)) {
        Some((_, _, a)) => a.clone(),
        None => match load(user) {
            Some(a) => a,
            None => return (SettlementStatus::AccountNotFound, None),
        },
    };
    if !settler.has_service {
        return (SettlementStatus::ServiceNotFound, None);
    }
    let Some(signer) = settler.signer.filter(|_| account.consents(settler.now)) else {
        return (SettlementStatus::NoTeeSigner, None);
    };
    if nonce <= account.nonce {
        return (SettlementStatus::InvalidNonce, None);
    }
    if let Some((e, signer_key)) = voucher {
        if signer_key.check(c, &e.digest(c, &settler.separator), &e.signature, &signer).is_err() {
            return (SettlementStatus::InvalidSignature, None);
        }
    }
    let before = account.balance;
    account.nonce = nonce;
    let charge = account.charge(fee);
    let status = if charge.unsettled > 0 { SettlementStatus::Partial } else { SettlementStatus::Success };
    match slot.and_then(|i| j.changed.get_mut(i)) {
        Some(entry) => entry.2 = account,
        None => j.add(user, before, account),
    }
    (status, Some(charge))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serving_verifier::{Domain, LocalCrypto, LocalSigner};
    use std::collections::BTreeMap;

    const TEE: [u8; 32] = [7; 32];

    fn acc(b: u8) -> AccountId {
        AccountId::from([b; 32])
    }

    struct Fixture {
        settler: Settler,
        key: LocalSigner,
        accounts: BTreeMap<AccountId, SubAccount>,
    }

    fn fixture() -> Fixture {
        let key = LocalSigner::from_bytes(&TEE).unwrap();
        let separator = Domain::inference(42, [0x5e; 32]).separator(&LocalCrypto);
        let settler = Settler {
            provider: acc(0xcc),
            has_service: true,
            signer: Some(key.address()),
            separator,
            now: 1_000,
            max_batch: 50,
        };
        let mut accounts = BTreeMap::new();
        accounts.insert(acc(1), SubAccount::open(100, None));
        accounts.insert(acc(2), SubAccount::open(10, None));
        Fixture { settler, key, accounts }
    }

    impl Fixture {
        fn voucher(&self, user: AccountId, nonce: u128, fee: Balance) -> TeeSettlementData {
            let mut v = TeeSettlementData {
                user,
                provider: self.settler.provider,
                total_fee: fee,
                requests_hash: [3; 32],
                nonce,
                signature: Vec::new(),
            };
            v.signature = self.key.sign_digest(&v.digest(&LocalCrypto, &self.settler.separator)).to_vec();
            v
        }

        fn judge(&self, batch: &[TeeSettlementData]) -> Result<Judgement, BatchError> {
            judge_batch(&LocalCrypto, &self.settler, batch, |u| self.accounts.get(&u).cloned())
        }

        fn sign_batch(&self, entries: &[BatchEntry]) -> Vec<u8> {
            let digest = batch_digest(&LocalCrypto, &self.settler.separator, &self.settler.provider, entries);
            self.key.sign_digest(&digest).to_vec()
        }

        fn judge_signed(&self, entries: &[BatchEntry], signature: &[u8]) -> Result<Judgement, BatchError> {
            judge_signed_batch(&LocalCrypto, &self.settler, entries, signature, |u| self.accounts.get(&u).cloned())
        }
    }

    fn entry(user: AccountId, nonce: u128, fee: Balance) -> BatchEntry {
        BatchEntry { user, total_fee: fee, requests_hash: [3; 32], nonce }
    }

    #[test]
    fn batch_signed_entries_are_judged_like_vouchers() {
        let mut f = fixture();
        f.accounts.insert(acc(3), SubAccount::open(50, None));
        f.accounts.get_mut(&acc(3)).unwrap().nonce = 9;
        // Success, partial, a repeated user, a replay inside the batch, a stale nonce, a missing account.
        let spec = [(1, 1, 30), (2, 5, 25), (1, 2, 80), (1, 2, 1), (3, 9, 1), (9, 1, 1)];
        let entries: Vec<_> = spec.iter().map(|&(u, n, fee)| entry(acc(u), n, fee)).collect();
        let vouchers: Vec<_> = spec.iter().map(|&(u, n, fee)| f.voucher(acc(u), n, fee)).collect();
        let batch = f.judge_signed(&entries, &f.sign_batch(&entries)).unwrap();
        assert_eq!(batch, f.judge(&vouchers).unwrap(), "same outcomes and state changes as one voucher each");
        use SettlementStatus::*;
        assert_eq!(statuses(&batch), vec![Success, Partial, Partial, InvalidNonce, InvalidNonce, AccountNotFound]);
        // Consent withdrawn and in effect: that entry is NoTeeSigner, the others settle.
        f.accounts.get_mut(&acc(2)).unwrap().set_consent(false, 0, 500).unwrap();
        let two = [entry(acc(1), 1, 1), entry(acc(2), 1, 1)];
        assert_eq!(statuses(&f.judge_signed(&two, &f.sign_batch(&two)).unwrap()), vec![Success, NoTeeSigner]);
    }

    #[test]
    fn a_bad_batch_signature_refuses_the_whole_batch() {
        let mut f = fixture();
        let entries = [entry(acc(1), 1, 30), entry(acc(2), 1, 5), entry(acc(1), 2, 5)];
        let sig = f.sign_batch(&entries);
        assert!(f.judge_signed(&entries, &sig).is_ok());
        let bad = Err(BatchError::BadSignature);
        // Reordered, dropped, added, or altered entries; a truncated signature; another key's signature.
        let reordered = [entries[1].clone(), entries[0].clone(), entries[2].clone()];
        assert_eq!(f.judge_signed(&reordered, &sig), bad);
        assert_eq!(f.judge_signed(&entries[..2], &sig), bad);
        let mut added = entries.to_vec();
        added.push(entry(acc(2), 2, 1));
        assert_eq!(f.judge_signed(&added, &sig), bad);
        let mut altered = entries.clone();
        altered[1].total_fee = 6;
        assert_eq!(f.judge_signed(&altered, &sig), bad);
        assert_eq!(f.judge_signed(&entries, &sig[..64]), bad);
        let other = LocalSigner::from_bytes(&[9; 32]).unwrap();
        let digest = batch_digest(&LocalCrypto, &f.settler.separator, &f.settler.provider, &entries);
        assert_eq!(f.judge_signed(&entries, &other.sign_digest(&digest)), bad);
        // Signed for another provider or another contract: not this batch.
        let mut elsewhere = fixture();
        elsewhere.settler.provider = acc(0xdd);
        assert_eq!(f.judge_signed(&entries, &elsewhere.sign_batch(&entries)), bad);
        elsewhere = fixture();
        elsewhere.settler.separator = Domain::inference(42, [0x5f; 32]).separator(&LocalCrypto);
        assert_eq!(f.judge_signed(&entries, &elsewhere.sign_batch(&entries)), bad);
        // Size, service and signer are checked first.
        assert_eq!(f.judge_signed(&[], &sig), Err(BatchError::Empty));
        let many: Vec<_> = (1..=51).map(|n| entry(acc(1), n, 1)).collect();
        assert_eq!(f.judge_signed(&many, &sig), Err(BatchError::TooLarge { len: 51, max: 50 }));
        f.settler.signer = None;
        assert_eq!(f.judge_signed(&entries, &sig), Err(BatchError::NoSigner));
        f.settler.has_service = false;
        assert_eq!(f.judge_signed(&entries, &sig), Err(BatchError::NoService));
    }

    fn statuses(j: &Judgement) -> Vec<SettlementStatus> {
        j.outcomes.iter().map(|o| o.status).collect()
    }

    #[test]
    fn batch_size_limits() {
        let f = fixture();
        assert_eq!(f.judge(&[]), Err(BatchError::Empty));
        let many: Vec<_> = (1..=51).map(|n| f.voucher(acc(1), n, 1)).collect();
        assert_eq!(f.judge(&many), Err(BatchError::TooLarge { len: 51, max: 50 }));
        assert_eq!(f.judge(&many[..50]).unwrap().outcomes.len(), 50);
        // The owner's limit decides.
        let mut f = f;
        f.settler.max_batch = 2;
        assert_eq!(f.judge(&many[..3]), Err(BatchError::TooLarge { len: 3, max: 2 }));
        assert_eq!(f.judge(&many[..2]).unwrap().outcomes.len(), 2);
    }

    #[test]
    fn success_partial_and_duplicates_in_one_batch() {
        let f = fixture();
        // User 1 twice (the second sees the first's charge and nonce), user 2 beyond its balance.
        let batch = [f.voucher(acc(1), 1, 30), f.voucher(acc(2), 5, 25), f.voucher(acc(1), 2, 80)];
        let j = f.judge(&batch).unwrap();
        use SettlementStatus::*;
        assert_eq!(statuses(&j), vec![Success, Partial, Partial]);
        assert_eq!((j.outcomes[1].settled, j.outcomes[1].unsettled), (10, 15));
        assert_eq!((j.outcomes[2].settled, j.outcomes[2].unsettled), (70, 10));
        assert_eq!(j.total_settled(), Some(110));
        // One entry per user, with the balance before the batch and the state after it.
        assert_eq!(j.changed.len(), 2);
        let (u, before, after) = &j.changed[0];
        assert_eq!((*u, *before, after.balance, after.nonce), (acc(1), 100, 0, 2));
        let (u, before, after) = &j.changed[1];
        assert_eq!((*u, *before, after.balance, after.nonce), (acc(2), 10, 0, 5));
    }

    #[test]
    fn users_sharing_a_first_byte_keep_their_own_state() {
        let mut f = fixture();
        // Three users whose first byte is 1 (one bit of the batch's filter): each keeps its own record.
        let twin = |b: u8| {
            let mut a = [1u8; 32];
            a[31] = b;
            AccountId::from(a)
        };
        f.accounts.insert(twin(2), SubAccount::open(50, None));
        f.accounts.insert(twin(3), SubAccount::open(60, None));
        let batch = [
            f.voucher(acc(1), 1, 10),
            f.voucher(twin(2), 1, 20),
            f.voucher(twin(3), 1, 30),
            f.voucher(twin(2), 2, 5),
            f.voucher(acc(1), 2, 1),
        ];
        let j = f.judge(&batch).unwrap();
        let got: Vec<_> = j.changed.iter().map(|(u, before, a)| (*u, *before, a.balance, a.nonce)).collect();
        assert_eq!(got, vec![(acc(1), 100, 89, 2), (twin(2), 50, 25, 2), (twin(3), 60, 30, 1)]);
    }

    #[test]
    fn nonces_replays_and_order() {
        let f = fixture();
        let v = f.voucher(acc(1), 4, 1);
        // The same voucher twice in one batch: the second is a replay.
        let j = f.judge(&[v.clone(), v.clone(), f.voucher(acc(1), 3, 1)]).unwrap();
        use SettlementStatus::*;
        assert_eq!(statuses(&j), vec![Success, InvalidNonce, InvalidNonce]);
        assert_eq!(j.changed[0].2.nonce, 4);
        // Against stored state: a nonce not above the stored one is refused.
        let mut f2 = fixture();
        f2.accounts.get_mut(&acc(1)).unwrap().nonce = 4;
        assert_eq!(statuses(&f2.judge(&[v]).unwrap()), vec![InvalidNonce]);
    }

    #[test]
    fn refusals_change_nothing_and_charge_nothing() {
        let mut f = fixture();
        let good = f.voucher(acc(1), 1, 5);
        let mut forged = good.clone();
        forged.total_fee = 6; // signed for 5
        let mut other_provider = f.voucher(acc(1), 2, 5);
        other_provider.provider = acc(0xdd);
        let missing = f.voucher(acc(9), 1, 5);
        let mut bad_len = f.voucher(acc(1), 3, 5);
        bad_len.signature.pop();
        let batch = [forged, other_provider, missing, bad_len];
        let j = f.judge(&batch).unwrap();
        use SettlementStatus::*;
        assert_eq!(statuses(&j), vec![InvalidSignature, ProviderMismatch, AccountNotFound, InvalidSignature]);
        assert!(j.changed.is_empty());
        assert!(j.outcomes.iter().zip(&batch).all(|(o, v)| o.settled == 0 && o.unsettled == v.total_fee));
        assert_eq!(j.total_settled(), Some(0));
        // Consent withdrawn: still settling until the withdrawal takes effect, refused from then on.
        let a = f.accounts.get_mut(&acc(1)).unwrap();
        assert_eq!(a.set_consent(false, 0, 2_000), Ok(Some(2_000)));
        assert_eq!(statuses(&f.judge(std::slice::from_ref(&good)).unwrap()), vec![Success]);
        f.settler.now = 2_000;
        assert_eq!(statuses(&f.judge(std::slice::from_ref(&good)).unwrap()), vec![NoTeeSigner]);
        f.accounts.get_mut(&acc(1)).unwrap().set_consent(true, 2_000, 2_000).unwrap();
        // No signer, a wrong signer, no service.
        f.settler.signer = None;
        assert_eq!(statuses(&f.judge(std::slice::from_ref(&good)).unwrap()), vec![NoTeeSigner]);
        f.settler.signer = Some([1; 20]);
        assert_eq!(statuses(&f.judge(std::slice::from_ref(&good)).unwrap()), vec![InvalidSignature]);
        f.settler.has_service = false;
        assert_eq!(statuses(&f.judge(std::slice::from_ref(&good)).unwrap()), vec![ServiceNotFound]);
    }

    #[test]
    fn charges_free_balance_then_newest_refunds() {
        let mut f = fixture();
        let a = f.accounts.get_mut(&acc(1)).unwrap();
        a.request_refund_all(0, crate::MIN_LOCK_TIME_MS).unwrap(); // all 100 pending
        let j = f.judge(&[f.voucher(acc(1), 1, 40)]).unwrap();
        let after = &j.changed[0].2;
        assert_eq!((after.balance, after.pending_refund), (60, 60));
        after.check().unwrap();
    }
}
