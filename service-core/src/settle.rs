//! Inference settlement as plain code: judging a batch of TEE-signed vouchers against the sub-accounts, over
//! the [`serving_verifier::Crypto`] trait so unit tests drive it with `LocalCrypto` and the contract with `HostCrypto`.
//!
//! The contract's `settle_fees_with_tee` reads: judge ([`judge_batch`]) → store the changed sub-accounts →
//! emit one event → pay the provider once. `preview_settlement_results` is the judging alone.
use crate::{Balance, SubAccount};
use ink::prelude::vec::Vec;
use ink::primitives::AccountId;
use serving_verifier::{check_signature, typed_digest, Crypto, TeeSettlement};

/// Most vouchers in one settlement batch.
pub const MAX_SETTLEMENTS: u32 = 50;

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

/// Why a batch is refused as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchError {
    Empty,
    TooLarge { len: u32, max: u32 },
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
}

/// A judged batch: an outcome per voucher in order, and the sub-accounts that changed as (user, balance
/// before the batch, state after), one entry per user however often the user appears.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Judgement {
    pub outcomes: Vec<SettlementOutcome>,
    pub changed: Vec<(AccountId, Balance, SubAccount)>,
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
    let len = u32::try_from(settlements.len()).unwrap_or(u32::MAX);
    if len == 0 {
        return Err(BatchError::Empty);
    }
    if len > MAX_SETTLEMENTS {
        return Err(BatchError::TooLarge { len, max: MAX_SETTLEMENTS });
    }
    let mut j = Judgement { outcomes: Vec::with_capacity(settlements.len()), changed: Vec::new() };
    for e in settlements {
        let (status, charge) = judge_one(c, settler, e, &mut j.changed, &mut load);
        let (settled, unsettled) = charge.map(|c| (c.settled, c.unsettled)).unwrap_or((0, e.total_fee));
        j.outcomes.push(SettlementOutcome { user: e.user, status, settled, unsettled });
    }
    Ok(j)
}

/// One voucher: its status and, when accepted, the charge (already applied to the entry in `changed`).
fn judge_one(
    c: &impl Crypto,
    settler: &Settler,
    e: &TeeSettlementData,
    changed: &mut Vec<(AccountId, Balance, SubAccount)>,
    load: &mut impl FnMut(AccountId) -> Option<SubAccount>,
) -> (SettlementStatus, Option<crate::Charge>) {
    if e.provider != settler.provider {
        return (SettlementStatus::ProviderMismatch, None);
    }
    let slot = changed.iter().position(|(u, _, _)| *u == e.user);
    let mut account = match slot.and_then(|i| changed.get(i)) {
        Some((_, _, a)) => a.clone(),
        None => match load(e.user) {
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
    if e.nonce <= account.nonce {
        return (SettlementStatus::InvalidNonce, None);
    }
    if check_signature(c, &e.digest(c, &settler.separator), &e.signature, &signer).is_err() {
        return (SettlementStatus::InvalidSignature, None);
    }
    let before = account.balance;
    account.nonce = e.nonce;
    let charge = account.charge(e.total_fee);
    let status = if charge.unsettled > 0 { SettlementStatus::Partial } else { SettlementStatus::Success };
    match slot.and_then(|i| changed.get_mut(i)) {
        Some(entry) => entry.2 = account,
        None => changed.push((e.user, before, account)),
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
        let settler =
            Settler { provider: acc(0xcc), has_service: true, signer: Some(key.address()), separator, now: 1_000 };
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
