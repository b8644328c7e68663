//! Property test of the shared money rules (the plain Rust the contracts run: `ledger::book::UserBalance`,
//! `service_core::SubAccount`, `service_core::tuning::fee_for`, the verifier's signature rules) under long
//! random sequences of operations by 3 users, 2 services (inference, fine-tuning) and 2 providers, composed the
//! way the contracts compose them, against a simple reference model of what each party should have.
//!
//! After every step: the invariants of docs/reliability.md (per user, per sub-account, per contract), conservation of native
//! money across all accounts, fees paid = fees earned, and the model's expectations (accepted vouchers only
//! with rising nonces and valid signatures; every failed operation changes nothing).
//!
//! CI runs proptest's default 256 sequences of up to 60 steps; `make model-long` runs 10,000
//! (`PROPTEST_CASES=10000`). The same operations against the real contracts: `tests/sandbox/random.rs`.
use ledger::book::{split_transfer, UserBalance};
use proptest::prelude::*;
use service_core::tuning::fee_for;
use service_core::{SubAccount, Tombstone};
use serving_verifier::{check_signature, Domain, LocalCrypto, LocalSigner, TeeSettlement};
use std::collections::BTreeMap;

const USERS: usize = 3;
const SERVICES: usize = 2;
const PROVIDERS: usize = 2;
const LOCK_MS: u64 = 1_000;
const MIN_ACCOUNT: u128 = 3;
const PENALTY: u8 = 30;
const START: u128 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Voucher {
    Valid,
    /// Signed by a key that is not the provider's TEE signer.
    Forged,
    /// A nonce not above the account's (an old voucher sent again).
    Replayed,
    /// Signed for another user (the signature does not match the claimed user).
    OtherUser,
}

#[derive(Clone, Debug)]
enum Op {
    Deposit { u: usize, amount: u128 },
    Withdraw { u: usize, amount: u128 },
    Transfer { u: usize, s: usize, p: usize, amount: u128 },
    Retrieve { u: usize, s: usize, p: usize },
    Settle { u: usize, s: usize, p: usize, fee: u128, step: u128, voucher: Voucher, acknowledged_task: bool },
    Advance { ms: u64 },
    DeleteEmpty { u: usize, s: usize, p: usize },
    SignerAck { s: usize, p: usize, on: bool },
    UserAck { u: usize, s: usize, p: usize, on: bool },
    ServiceEnabled { s: usize, on: bool },
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS;
    let s = 0..SERVICES;
    let p = 0..PROVIDERS;
    let amount = prop_oneof![0u128..20, 0u128..2_000, Just(u128::MAX)];
    let voucher = prop_oneof![
        6 => Just(Voucher::Valid),
        1 => Just(Voucher::Forged),
        1 => Just(Voucher::Replayed),
        1 => Just(Voucher::OtherUser)
    ];
    prop_oneof![
        4 => (u.clone(), amount.clone()).prop_map(|(u, amount)| Op::Deposit { u, amount }),
        2 => (u.clone(), amount.clone()).prop_map(|(u, amount)| Op::Withdraw { u, amount }),
        5 => (u.clone(), s.clone(), p.clone(), amount.clone()).prop_map(|(u, s, p, amount)| Op::Transfer { u, s, p, amount }),
        3 => (u.clone(), s.clone(), p.clone()).prop_map(|(u, s, p)| Op::Retrieve { u, s, p }),
        6 => (u.clone(), s.clone(), p.clone(), 0u128..600, 1u128..4, voucher, any::<bool>())
            .prop_map(|(u, s, p, fee, step, voucher, acknowledged_task)| Op::Settle { u, s, p, fee, step, voucher, acknowledged_task }),
        2 => prop_oneof![0u64..10, Just(LOCK_MS - 1), Just(LOCK_MS), 0u64..3_000].prop_map(|ms| Op::Advance { ms }),
        1 => (u.clone(), s.clone(), p.clone()).prop_map(|(u, s, p)| Op::DeleteEmpty { u, s, p }),
        1 => (s.clone(), p.clone(), prop::bool::weighted(0.7)).prop_map(|(s, p, on)| Op::SignerAck { s, p, on }),
        1 => (u.clone(), s.clone(), p.clone(), prop::bool::weighted(0.7)).prop_map(|(u, s, p, on)| Op::UserAck { u, s, p, on }),
        1 => (s, prop::bool::weighted(0.7)).prop_map(|(s, on)| Op::ServiceEnabled { s, on }),
    ]
}

type Key = (usize, usize, usize); // (user, service, provider)

/// The system as the contracts hold it: the ledger's user balances and net funding, each service's
/// sub-accounts and tombstones, and the native balances of every account.
#[derive(Clone, Debug, PartialEq)]
struct System {
    now: u64,
    wallets: [u128; USERS],
    provider_wallets: [u128; PROVIDERS],
    ledger_native: u128,
    service_native: [u128; SERVICES],
    users: [Option<UserBalance>; USERS],
    /// What the ledger records per (user, service): funded minus what came back.
    funded: [[u128; SERVICES]; USERS],
    subs: BTreeMap<Key, SubAccount>,
    tombstones: BTreeMap<Key, Tombstone>,
    signer_ack: [[bool; PROVIDERS]; SERVICES],
    enabled: [bool; SERVICES],
}

/// What a careful bookkeeper expects, from the operations alone.
#[derive(Clone, Debug, Default)]
struct Model {
    deposited: [u128; USERS],
    withdrawn: [u128; USERS],
    fees_paid: [u128; USERS],
    earned: [u128; PROVIDERS],
    last_nonce: BTreeMap<Key, u128>,
    accepted: usize,
    rejected: usize,
}

struct Keys {
    tee: [LocalSigner; PROVIDERS],
    forger: LocalSigner,
}

fn keys() -> Keys {
    Keys {
        tee: [LocalSigner::from_bytes(&[7; 32]).unwrap(), LocalSigner::from_bytes(&[8; 32]).unwrap()],
        forger: LocalSigner::from_bytes(&[9; 32]).unwrap(),
    }
}

fn account(kind: u8, n: usize) -> [u8; 32] {
    let mut a = [kind; 32];
    a[31] = n as u8;
    a
}

impl System {
    fn new() -> Self {
        System {
            now: 1_000_000,
            wallets: [START; USERS],
            provider_wallets: [START; PROVIDERS],
            ledger_native: 0,
            service_native: [0; SERVICES],
            users: [None; USERS],
            funded: [[0; SERVICES]; USERS],
            subs: BTreeMap::new(),
            tombstones: BTreeMap::new(),
            signer_ack: [[true; PROVIDERS]; SERVICES],
            enabled: [true; SERVICES],
        }
    }

    fn total_native(&self) -> u128 {
        self.wallets.iter().sum::<u128>()
            + self.provider_wallets.iter().sum::<u128>()
            + self.ledger_native
            + self.service_native.iter().sum::<u128>()
    }

    /// Applies `op` the way the contracts do; `Err` means the operation was refused (and must change nothing).
    fn apply(&mut self, op: &Op, k: &Keys, m: &mut Model) -> Result<(), String> {
        match *op {
            Op::Deposit { u, amount } => {
                let wallet = self.wallets[u].checked_sub(amount).ok_or("wallet too small")?;
                let next = match self.users[u] {
                    None => UserBalance::open(amount, MIN_ACCOUNT).map_err(|e| format!("{e:?}"))?,
                    Some(mut b) => {
                        b.deposit(amount).map_err(|e| format!("{e:?}"))?;
                        b
                    }
                };
                self.users[u] = Some(next);
                self.wallets[u] = wallet;
                self.ledger_native += amount;
                m.deposited[u] += amount;
            }
            Op::Withdraw { u, amount } => {
                let mut b = self.users[u].ok_or("no ledger")?;
                b.withdraw(amount, MIN_ACCOUNT).map_err(|e| format!("{e:?}"))?;
                self.users[u] = Some(b);
                self.ledger_native -= amount;
                self.wallets[u] += amount;
                m.withdrawn[u] += amount;
            }
            Op::Transfer { u, s, p, amount } => {
                if amount == 0 {
                    return Err("zero".into());
                }
                if !self.enabled[s] {
                    return Err("service disabled".into());
                }
                let mut b = self.users[u].ok_or("no ledger")?;
                let key = (u, s, p);
                let mut funded = self.funded[u][s];
                let pending = self.subs.get(&key).map(|a| a.pending_refund).unwrap_or(0);
                let (cancel, sent) = split_transfer(amount, pending);
                b.fund_service(&mut funded, sent).map_err(|e| format!("{e:?}"))?;
                let account = match self.subs.get(&key) {
                    Some(a) => {
                        let mut a = a.clone();
                        let cancelled = a.deposit(sent, cancel).map_err(|e| format!("{e:?}"))?;
                        assert_eq!(cancelled, cancel, "a transfer cancels what split_transfer said");
                        a
                    }
                    None => SubAccount::open(sent, self.tombstones.get(&key).copied()),
                };
                self.subs.insert(key, account);
                self.users[u] = Some(b);
                self.funded[u][s] = funded;
                self.ledger_native -= sent;
                self.service_native[s] += sent;
            }
            Op::Retrieve { u, s, p } => {
                let key = (u, s, p);
                let mut b = self.users[u].ok_or("no ledger")?;
                let mut a = self.subs.get(&key).cloned().ok_or("no sub-account")?;
                let paid = a.process_refunds(self.now);
                // A full queue only stops a new request; what matured is still paid.
                let _ = a.request_refund_all(self.now, LOCK_MS);
                let mut funded = self.funded[u][s];
                let credited = b.credit_from_service(&mut funded, paid).map_err(|e| format!("{e:?}"))?;
                assert_eq!(credited, paid, "an honest service is credited in full");
                self.subs.insert(key, a);
                self.users[u] = Some(b);
                self.funded[u][s] = funded;
                self.service_native[s] -= paid;
                self.ledger_native += paid;
            }
            Op::Settle { u, s, p, fee, step, voucher, acknowledged_task } => {
                let key = (u, s, p);
                let mut a = self.subs.get(&key).cloned().ok_or("no sub-account")?;
                if !self.signer_ack[s][p] || !a.acknowledged {
                    return Err("no TEE signer".into());
                }
                let nonce = match voucher {
                    Voucher::Replayed => a.nonce.saturating_sub(step - 1),
                    _ => a.nonce + step,
                };
                // The voucher as signed, and the check the contract does against what the provider claims.
                let signed_user =
                    if voucher == Voucher::OtherUser { account(0xaa, (u + 1) % USERS) } else { account(0xaa, u) };
                let key_used = if voucher == Voucher::Forged { &k.forger } else { &k.tee[p] };
                let c = LocalCrypto;
                let domain = Domain::inference(42, account(0x5e, s));
                let signed = TeeSettlement {
                    requests_hash: [1; 32],
                    nonce,
                    provider: account(0xcc, p),
                    user: signed_user,
                    total_fee: fee,
                };
                let signature = key_used.sign_digest(&domain.digest(&c, &signed.struct_hash(&c)));
                let claimed = TeeSettlement { user: account(0xaa, u), ..signed };
                if nonce <= a.nonce {
                    return Err("invalid nonce".into());
                }
                check_signature(&c, &domain.digest(&c, &claimed.struct_hash(&c)), &signature, &k.tee[p].address())
                    .map_err(|e| format!("{e:?}"))?;
                let fee = if s == 1 { fee_for(fee, acknowledged_task, PENALTY).ok_or("overflow")? } else { fee };
                // Fine-tuning refuses a fee above the balance (difference 10); inference settles partially.
                if s == 1 && fee > a.balance {
                    return Err("insufficient balance".into());
                }
                // Settlement happens in the service alone: the ledger's records do not change (difference 3),
                // and a disabled service still settles (disabling stops new funding only).
                let charge = a.charge(fee);
                a.nonce = nonce;
                self.subs.insert(key, a);
                self.service_native[s] -= charge.settled;
                self.provider_wallets[p] += charge.settled;
                m.fees_paid[u] += charge.settled;
                m.earned[p] += charge.settled;
                let last = m.last_nonce.insert(key, nonce).unwrap_or(0);
                assert!(nonce > last, "accepted nonce {nonce} not above the last accepted {last}");
                assert_eq!(voucher, Voucher::Valid, "only a valid voucher is accepted");
                m.accepted += 1;
            }
            Op::Advance { ms } => self.now += ms,
            Op::DeleteEmpty { u, s, p } => {
                let key = (u, s, p);
                let a = self.subs.get(&key).ok_or("no sub-account")?;
                if a.balance != 0 {
                    return Err("not empty".into());
                }
                self.tombstones.insert(key, a.tombstone());
                self.subs.remove(&key);
            }
            Op::SignerAck { s, p, on } => self.signer_ack[s][p] = on,
            Op::UserAck { u, s, p, on } => {
                self.subs.get_mut(&(u, s, p)).ok_or("no sub-account")?.acknowledged = on;
            }
            Op::ServiceEnabled { s, on } => self.enabled[s] = on,
        }
        Ok(())
    }

    fn check(&self, m: &Model, initial: u128) -> Result<(), String> {
        if self.total_native() != initial {
            return Err(format!("native money not conserved: {} != {initial}", self.total_native()));
        }
        let mut ledger_owes = 0u128;
        for u in 0..USERS {
            let b = self.users[u].unwrap_or_default();
            let mut live = 0u128;
            for s in 0..SERVICES {
                let subs: u128 = (0..PROVIDERS).filter_map(|p| self.subs.get(&(u, s, p))).map(|a| a.balance).sum();
                if subs > self.funded[u][s] {
                    return Err(format!("user {u} service {s}: holds {subs}, more than funded {}", self.funded[u][s]));
                }
                live += subs;
            }
            // The total as the ledger reports it: available plus the services' live balances.
            let total = ledger::book::total(b.available, [live]);
            if total + m.withdrawn[u] + m.fees_paid[u] != m.deposited[u] {
                return Err(format!("user {u}: total {total} + withdrawn + fees != deposited"));
            }
            if self.wallets[u] + m.deposited[u] != START + m.withdrawn[u] {
                return Err(format!("user {u}: wallet does not match deposits and withdrawals"));
            }
            ledger_owes += b.available;
        }
        if self.ledger_native != ledger_owes {
            return Err(format!("ledger holds {} but owes {ledger_owes}", self.ledger_native));
        }
        for s in 0..SERVICES {
            let owed: u128 = self.subs.iter().filter(|((_, s2, _), _)| *s2 == s).map(|(_, a)| a.balance).sum();
            if self.service_native[s] != owed {
                return Err(format!("service {s} holds {} but owes {owed}", self.service_native[s]));
            }
        }
        for (key, a) in &self.subs {
            a.check().map_err(|e| format!("sub-account {key:?}: {e}"))?;
        }
        for p in 0..PROVIDERS {
            if self.provider_wallets[p] != START + m.earned[p] {
                return Err(format!("provider {p}: wallet != start + earned"));
            }
        }
        if m.fees_paid.iter().sum::<u128>() != m.earned.iter().sum::<u128>() {
            return Err("fees paid != fees earned".into());
        }
        Ok(())
    }
}

/// Every user opens a ledger and funds a sub-account with every provider of every service, so that random
/// operations meet live accounts; then the random operations.
fn with_prelude(ops: &[Op]) -> Vec<Op> {
    let mut all = Vec::new();
    for u in 0..USERS {
        all.push(Op::Deposit { u, amount: 2_000 });
        for s in 0..SERVICES {
            for p in 0..PROVIDERS {
                all.push(Op::Transfer { u, s, p, amount: 200 });
            }
        }
    }
    all.extend_from_slice(ops);
    all
}

fn run(ops: &[Op]) -> Result<Model, TestCaseError> {
    let k = keys();
    let mut sys = System::new();
    let mut m = Model::default();
    let initial = sys.total_native();
    for (n, op) in with_prelude(ops).iter().enumerate() {
        let (before, model_before) = (sys.clone(), m.clone());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sys.apply(op, &k, &mut m)))
            .map_err(|_| TestCaseError::fail(format!("step {n} {op:?} panicked")))?;
        if let Err(why) = r {
            // A refused operation changes nothing.
            prop_assert_eq!(&sys, &before, "step {} {:?} refused ({}) but changed the system", n, op, why);
            m = model_before;
            m.rejected += 1;
        }
        sys.check(&m, initial).map_err(|e| TestCaseError::fail(format!("after step {n} {op:?}: {e}")))?;
    }
    Ok(m)
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 2_000, ..ProptestConfig::default() })]
    #[test]
    fn money_rules_hold_under_random_sequences(ops in prop::collection::vec(op(), 1..60)) {
        run(&ops)?;
    }
}

/// The generator reaches every kind of outcome (so the property above is not vacuous).
#[test]
fn sequences_reach_settlements_refunds_and_rejections() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut accepted, mut rejected, mut refunds) = (0, 0, 0);
    for _ in 0..200 {
        let ops = prop::collection::vec(op(), 40..60).new_tree(&mut runner).unwrap().current();
        let m = run(&ops).expect("property holds");
        accepted += m.accepted;
        rejected += m.rejected;
        refunds += ops.iter().filter(|o| matches!(o, Op::Retrieve { .. })).count();
    }
    assert!(accepted > 100, "only {accepted} vouchers accepted");
    assert!(rejected > 100 && refunds > 100, "{rejected} rejected, {refunds} retrieves");
}
