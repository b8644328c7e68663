//! Random operation sequences against the real contracts (ledger, inference, fine-tuning in ink_e2e's sandbox):
//! deposits, withdrawals, transfers, refunds and clock moves, inference batches with valid, forged, replayed and
//! unknown-account vouchers, fine-tuning tasks (acknowledged or penalised), token revocations, acknowledgement and
//! service toggles, ledger deletions, lock-time changes, the owner revoking or restoring signers, and providers
//! leaving (stake unbonding), withdrawing their stake and registering again, and attestations submitted by anyone. After every step: the invariants of docs/reliability.md read from the contracts, exact conservation of all
//! native money (free + held) across every account, and each party's wallet and ledger against a model built
//! from the operations. A refused call changes nothing.
//!
//! CI: 2 runs of 40 steps. `make random-long` (or SERVING_RANDOM_RUNS / SERVING_RANDOM_STEPS) for more.
use fine_tuning::fine_tuning::FineTuning;
use inference::inference::{Inference, SettlementStatus};
use ink::env::DefaultEnvironment;
use ink::primitives::AccountId;
use ink::scale::{Decode, Encode};
use ink_e2e::{CallBuilderFinal, ChainBackend, ContractsBackend, Keypair};
use ledger::ledger::Ledger;
use service_core::book::AccountFilter;
use serving_e2e_tests::{bytes, id, inference_voucher, storage_deposit, tee, totals, watch, Client};
use serving_verifier::LocalSigner;
use std::collections::BTreeMap;

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;

const CHAIN_ID: u64 = 42;
const LOCK_MS: u64 = 3_600_000;
const MIN_STAKE: u128 = 100_000_000;
const ED: u128 = 1;
const MEASUREMENT: [u8; 32] = [0x42; 32];

fn attestor() -> LocalSigner {
    LocalSigner::from_bytes(&[11u8; 32]).expect("a valid key")
}

/// A small deterministic generator (xorshift64*), so a failing seed replays exactly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct World {
    ledger: AccountId,
    inference: AccountId,
    ft: AccountId,
    users: Vec<Keypair>,
    inference_providers: Vec<Keypair>,
    ft_provider: Keypair,
    /// Start balances (free + held) of every party.
    start: BTreeMap<AccountId, u128>,
    /// Per party: value sent, value received from the contracts, storage deposits paid (signed).
    sent: BTreeMap<AccountId, u128>,
    received: BTreeMap<AccountId, u128>,
    deposits: BTreeMap<AccountId, i128>,
    /// Per user: deposited into / withdrawn from the ledger, fees paid. Per provider: fees earned.
    deposited: BTreeMap<AccountId, u128>,
    withdrawn: BTreeMap<AccountId, u128>,
    fees: BTreeMap<AccountId, u128>,
    tasks: u32,
    last_error: String,
    stats: BTreeMap<&'static str, u32>,
}

impl World {
    fn everyone(&self) -> Vec<AccountId> {
        let mut v: Vec<AccountId> = vec![id(&ink_e2e::alice()), id(&self.ft_provider)];
        v.extend(self.users.iter().map(id));
        v.extend(self.inference_providers.iter().map(id));
        v
    }
    fn count(&mut self, what: &'static str) {
        *self.stats.entry(what).or_default() += 1;
    }
}

/// Submits `msg`; books value and storage deposit on success. `Ok(None)` when the contract refused (the chain
/// is then checked unchanged); the refusal's typed error is kept in `w.last_error`.
async fn send<Args, T, E>(
    client: &mut Client,
    w: &mut World,
    who: &Keypair,
    msg: &CallBuilderFinal<DefaultEnvironment, Args, Result<T, E>>,
    value: u128,
) -> E2EResult<Option<T>>
where
    Args: Sync + Encode + Clone,
    T: Send + Decode,
    E: Send + Decode + std::fmt::Debug,
{
    let before = totals();
    let r = client.call(who, msg).value(value).dry_run().await?;
    if r.exec_result.result.as_ref().map(|x| x.did_revert()).unwrap_or(true) {
        w.last_error = match r.exec_result.result.as_ref() {
            Ok(_) => format!("{:?}", r.return_value().err()),
            Err(e) => format!("{e:?}"),
        };
        let _ = client.free_balance(id(who)).await?;
        assert_eq!(totals(), before, "a refused call changed balances");
        return Ok(None);
    }
    let r = client.call(who, msg).value(value).submit().await?;
    *w.sent.entry(id(who)).or_default() += value;
    *w.deposits.entry(id(who)).or_default() += storage_deposit(&r.dry_run);
    let v = r.return_value().expect("the dry run succeeded, so does the call");
    Ok(Some(v))
}

async fn setup(client: &mut Client) -> E2EResult<World> {
    let alice = ink_e2e::alice();
    let mut w = World {
        ledger: AccountId::from([0; 32]),
        inference: AccountId::from([0; 32]),
        ft: AccountId::from([0; 32]),
        users: vec![ink_e2e::bob(), ink_e2e::eve()],
        inference_providers: vec![ink_e2e::charlie(), ink_e2e::ferdie()],
        ft_provider: ink_e2e::dave(),
        start: BTreeMap::new(),
        sent: BTreeMap::new(),
        received: BTreeMap::new(),
        deposits: BTreeMap::new(),
        deposited: BTreeMap::new(),
        withdrawn: BTreeMap::new(),
        fees: BTreeMap::new(),
        tasks: 0,
        last_error: String::new(),
        stats: BTreeMap::new(),
    };
    let all: Vec<[u8; 32]> = w.everyone().iter().map(bytes).collect();
    watch(&all);
    let _ = client.free_balance(id(&alice)).await?;
    let t = totals();
    for a in w.everyone() {
        w.start.insert(a, t.total_of(&bytes(&a)).expect("watched"));
    }
    let issuance = t.issuance;

    (w.ledger, w.inference, w.ft) = serving_e2e_tests::deploy_three(client, CHAIN_ID, LOCK_MS, MIN_STAKE, 30).await?;
    let mut all = all;
    all.extend([bytes(&w.ledger), bytes(&w.inference), bytes(&w.ft)]);
    watch(&all);
    // The owner's instantiation deposits: whatever left alice's free balance.
    let alice_free = client.free_balance(id(&alice)).await?;
    let dep = i128::try_from(w.start[&id(&alice)]).unwrap() - i128::try_from(alice_free).unwrap();
    w.deposits.insert(id(&alice), dep);
    assert_eq!(totals().issuance, issuance);

    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    for (t, a) in [("inference", w.inference), ("fine-tuning", w.ft)] {
        let m = l.register_service(t.into(), "v1".into(), a, String::new());
        send(client, &mut w, &alice, &m, 0).await?.expect("registered");
    }
    for p in w.inference_providers.clone() {
        let params = serving_e2e_tests::inference_service("https://provider.example/v1", tee().address());
        send(client, &mut w, &p, &i.add_or_update_service(params), MIN_STAKE).await?.expect("service");
        send(client, &mut w, &alice, &i.set_tee_signer_acknowledgement(id(&p), true), 0).await?.expect("ack");
    }
    // The owner registers an attestor and a measurement, so random steps can attest inference signers (op 14).
    send(client, &mut w, &alice, &i.set_attestor(attestor().address(), true), 0).await?.expect("attestor");
    send(client, &mut w, &alice, &i.set_measurement(MEASUREMENT, true), 0).await?.expect("measurement");
    let params = serving_e2e_tests::fine_tuning_service("https://trainer.example", 1, tee().address());
    let dave = w.ft_provider.clone();
    send(client, &mut w, &dave, &f.add_or_update_service(params), MIN_STAKE).await?.expect("ft service");
    send(client, &mut w, &alice, &f.set_tee_signer_acknowledgement(id(&dave), true), 0).await?.expect("ft ack");
    // Both users start with a ledger and a sub-account at every provider, so random steps meet live accounts.
    for user in w.users.clone() {
        send(client, &mut w, &user, &l.add_ledger(String::new()), 60_000_000).await?.expect("ledger");
        *w.deposited.entry(id(&user)).or_default() += 60_000_000;
        let targets = [
            (w.inference, id(&w.inference_providers[0])),
            (w.inference, id(&w.inference_providers[1])),
            (w.ft, id(&dave)),
        ];
        for (service, provider) in targets {
            send(client, &mut w, &user, &l.transfer_fund(provider, service, 10_000_000), 0).await?.expect("funded");
        }
    }
    Ok(w)
}

/// Every invariant, read from the chain, and the wallets and ledgers against the model.
async fn check(client: &mut Client, w: &World, step: usize) -> E2EResult<()> {
    let alice = ink_e2e::alice();
    let l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let _ = client.free_balance(id(&alice)).await?;
    let t = totals();
    let start: u128 = w.start.values().sum();
    assert_eq!(t.sum(), start, "step {step}: native money not conserved");
    let mut ledger_owes = 0;
    let (mut inference_owes, mut ft_owes) = (0u128, 0u128);
    for u in w.users.iter().map(id) {
        let model = w.deposited.get(&u).copied().unwrap_or(0)
            - w.withdrawn.get(&u).copied().unwrap_or(0)
            - w.fees.get(&u).copied().unwrap_or(0);
        let Ok(v) = client.call(&alice, &l.get_ledger(u)).dry_run().await?.return_value() else {
            // Withdrawing everything from a ledger without sub-accounts removes it (docs/ledger.md).
            assert_eq!(model, 0, "step {step}: a ledger holding money vanished");
            continue;
        };
        assert!(v.available_balance <= v.total_balance, "step {step}: available > total");
        let mut locked = 0;
        for (service, subs) in [(w.inference, true), (w.ft, false)] {
            let funded = client.call(&alice, &l.get_funded(u, service)).dry_run().await?.return_value();
            let accounts: Vec<(u128, u128, u128)> = if subs {
                let (a, _) = client
                    .call(&alice, &i.get_accounts(AccountFilter::User(u), 0, 0))
                    .dry_run()
                    .await?
                    .return_value()
                    .unwrap();
                a.iter().map(|a| (a.balance, a.pending_refund, a.refunds.iter().map(|r| r.amount).sum())).collect()
            } else {
                let (a, _) = client
                    .call(&alice, &f.get_accounts(AccountFilter::User(u), 0, 0))
                    .dry_run()
                    .await?
                    .return_value()
                    .unwrap();
                a.iter().map(|a| (a.balance, a.pending_refund, a.refunds.iter().map(|r| r.amount).sum())).collect()
            };
            let mut sum = 0;
            for (balance, pending, refunds) in accounts {
                assert!(pending <= balance, "step {step}: pending > balance");
                assert_eq!(pending, refunds, "step {step}: pending != Σ refunds");
                sum += balance;
            }
            assert!(sum <= funded, "step {step}: a service holds {sum} for a user who funded it {funded} net");
            locked += sum;
            if subs {
                inference_owes += sum;
            } else {
                ft_owes += sum;
            }
        }
        assert_eq!(v.total_balance - v.available_balance, locked, "step {step}: total != available + live");
        assert_eq!(v.total_balance, model, "step {step}: ledger total != deposited - withdrawn - fees");
        ledger_owes += v.available_balance;
    }
    for p in w.inference_providers.iter().chain([&w.ft_provider]) {
        let stake = if w.inference_providers.iter().any(|x| id(x) == id(p)) {
            let s = client.call(&alice, &i.provider_state(id(p))).dry_run().await?.return_value();
            let (active, unbonding) = (s.stake, s.unbonding);
            active + unbonding.map(|u| u.amount).unwrap_or(0)
        } else {
            let s = client.call(&alice, &f.provider_state(id(p))).dry_run().await?.return_value();
            let (active, unbonding) = (s.stake, s.unbonding);
            active + unbonding.map(|u| u.amount).unwrap_or(0)
        };
        if w.inference_providers.iter().any(|x| id(x) == id(p)) {
            inference_owes += stake;
        } else {
            ft_owes += stake;
        }
    }
    for (c, owes, liab, surplus) in [
        (
            w.ledger,
            ledger_owes,
            client.call(&alice, &l.liabilities()).dry_run().await?.return_value(),
            client.call(&alice, &l.surplus()).dry_run().await?.return_value(),
        ),
        (
            w.inference,
            inference_owes,
            client.call(&alice, &i.config()).dry_run().await?.return_value().liabilities,
            client.call(&alice, &i.config()).dry_run().await?.return_value().surplus,
        ),
        (
            w.ft,
            ft_owes,
            client.call(&alice, &f.config()).dry_run().await?.return_value().liabilities,
            client.call(&alice, &f.config()).dry_run().await?.return_value().surplus,
        ),
    ] {
        assert_eq!((liab, surplus), (owes, 0), "step {step}: a contract's liabilities differ from what it owes");
        assert_eq!(client.free_balance(c).await?, owes + ED, "step {step}: a contract holds more or less than it owes");
    }
    for a in w.everyone() {
        let free = i128::try_from(client.free_balance(a).await?).unwrap();
        let expected = i128::try_from(w.start[&a]).unwrap()
            - i128::try_from(w.sent.get(&a).copied().unwrap_or(0)).unwrap()
            + i128::try_from(w.received.get(&a).copied().unwrap_or(0)).unwrap()
            - w.deposits.get(&a).copied().unwrap_or(0);
        assert_eq!(free, expected, "step {step}: a wallet differs from the model");
    }
    let paid: u128 = w.users.iter().map(|u| w.fees.get(&id(u)).copied().unwrap_or(0)).sum();
    let earned: u128 =
        w.inference_providers.iter().chain([&w.ft_provider]).map(|p| w.fees.get(&id(p)).copied().unwrap_or(0)).sum();
    assert_eq!(paid, earned, "step {step}: fees paid != fees earned");
    Ok(())
}

async fn step(client: &mut Client, w: &mut World, rng: &mut Rng) -> E2EResult<&'static str> {
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let user = w.users[rng.below(2) as usize].clone();
    let u = id(&user);
    let amount = rng.pick(&[0u128, 1, 999_999, 1_000_000, 3_000_000, 7_000_000, 25_000_000, u128::MAX]);
    let services = [
        (w.inference, w.inference_providers[0].clone()),
        (w.inference, w.inference_providers[1].clone()),
        (w.ft, w.ft_provider.clone()),
    ];
    let (service, provider) = services[rng.below(3) as usize].clone();
    let p = id(&provider);
    Ok(match rng.below(15) {
        0 | 1 => {
            let has = client.call(&user, &l.get_ledger(u)).dry_run().await?.return_value().is_ok();
            let amount = amount.min(50_000_000);
            let done = if has {
                send(client, w, &user, &l.deposit_fund(), amount).await?
            } else {
                send(client, w, &user, &l.add_ledger(String::new()), amount).await?
            };
            if done.is_some() {
                *w.deposited.entry(u).or_default() += amount;
                "deposit"
            } else {
                "deposit refused"
            }
        }
        2 => {
            if send(client, w, &user, &l.refund(amount), 0).await?.is_some() {
                *w.withdrawn.entry(u).or_default() += amount;
                *w.received.entry(u).or_default() += amount;
                "withdraw"
            } else {
                "withdraw refused"
            }
        }
        3 | 4 => {
            if send(client, w, &user, &l.transfer_fund(p, service, amount), 0).await?.is_some() {
                "transfer"
            } else {
                "transfer refused"
            }
        }
        5 => match send(client, w, &user, &l.retrieve_fund(vec![p], service), 0).await? {
            Some(0) => "retrieve (refund requested)",
            Some(_) => "retrieve (refund collected)",
            None => "retrieve refused",
        },
        6 => {
            serving_e2e_tests::advance_ms(rng.pick(&[1, LOCK_MS / 2, LOCK_MS - 1, LOCK_MS]));
            "clock"
        }
        7 | 8 => {
            // An inference batch of 1..=3 entries by one provider: valid, forged, replayed or for a user with no
            // sub-account.
            let provider = w.inference_providers[rng.below(2) as usize].clone();
            let p = id(&provider);
            let mut batch = Vec::new();
            let mut kinds = Vec::new();
            let mut next: BTreeMap<AccountId, u128> = BTreeMap::new();
            // The owner may have revoked its acknowledgement of this provider's signer (op 13).
            let signer_ok =
                client.call(&user, &i.provider_state(p)).dry_run().await?.return_value().usable_signer.is_some();
            for _ in 0..=rng.below(3) {
                let who = if rng.below(8) == 0 { id(&ink_e2e::one()) } else { id(&w.users[rng.below(2) as usize]) };
                let account = client.call(&user, &i.get_account(who, p)).dry_run().await?.return_value();
                let acked = account.as_ref().map(|a| a.acknowledged).unwrap_or(false);
                let nonce = next.get(&who).copied().unwrap_or_else(|| account.as_ref().map(|a| a.nonce).unwrap_or(0));
                let kind = rng.below(6);
                let fee = rng.pick(&[1u128, 500_000, 2_000_000, 9_000_000]);
                let key = if kind == 4 { LocalSigner::from_bytes(&[9; 32]).unwrap() } else { tee() };
                let n = if kind == 5 { nonce } else { nonce + 1 };
                batch.push(inference_voucher(&key, CHAIN_ID, w.inference, who, p, fee, n));
                let valid = kind < 4 && account.is_ok() && acked && signer_ok;
                if valid {
                    next.insert(who, n);
                }
                kinds.push((who, valid, kind));
            }
            // Settlement never calls the ledger, so a batch of 1..=50 is never refused as a whole; a disabled
            // service (no new funding) still settles what it holds.
            let out = send(client, w, &provider, &i.settle_fees_with_tee(batch), 0)
                .await?
                .unwrap_or_else(|| panic!("a batch was refused as a whole: {}", w.last_error));
            let mut settled_total = 0;
            for (o, (who, valid, kind)) in out.iter().zip(&kinds) {
                let accepted = matches!(o.status, SettlementStatus::Success | SettlementStatus::Partial);
                assert_eq!(accepted, *valid, "voucher kind {kind} for {who:?}: {o:?}");
                if kind == &4 && !accepted {
                    w.count("forged voucher refused");
                }
                if kind == &5 && !accepted {
                    w.count("replayed voucher refused");
                }
                *w.fees.entry(*who).or_default() += o.settled;
                settled_total += o.settled;
            }
            *w.fees.entry(p).or_default() += settled_total;
            *w.received.entry(p).or_default() += settled_total;
            "inference batch"
        }
        9 => {
            // A fine-tuning task: delivered; acknowledged or not; settled with the voucher.
            let dave = w.ft_provider.clone();
            w.tasks += 1;
            let task = format!("task-{}", w.tasks);
            let root = b"root".to_vec();
            if send(client, w, &dave, &f.add_deliverable(u, task.clone(), root.clone()), 0).await?.is_none() {
                return Ok("task refused");
            }
            let ack = rng.below(2) == 0;
            if ack {
                send(client, w, &user, &f.acknowledge_deliverable(id(&dave), task.clone()), 0).await?.expect("ack");
            }
            let nonce = client
                .call(&user, &f.get_account(u, id(&dave)))
                .dry_run()
                .await?
                .return_value()
                .map(|a| a.nonce)
                .unwrap_or(0)
                + 1;
            let secret = if ack { b"secret".to_vec() } else { Vec::new() };
            let fee = rng.pick(&[1u128, 2_000_000, 40_000_000]);
            let t = serving_e2e_tests::Task {
                user: u,
                provider: id(&dave),
                id: &task,
                secret: &secret,
                root: &root,
                nonce,
                fee,
            };
            let input = serving_e2e_tests::fine_tuning_voucher(&tee(), CHAIN_ID, w.ft, &t);
            let free = client
                .call(&user, &f.get_account(u, id(&dave)))
                .dry_run()
                .await?
                .return_value()
                .map(|a| a.balance)
                .unwrap_or(0);
            let charge = if ack { fee } else { fee * 30 / 100 };
            let signer_usable =
                client.call(&user, &f.provider_state(id(&dave))).dry_run().await?.return_value().usable_signer;
            let consents = client
                .call(&user, &f.get_account(u, id(&dave)))
                .dry_run()
                .await?
                .return_value()
                .map(|a| a.acknowledged)
                .unwrap_or(false);
            match send(client, w, &dave, &f.settle_fees(input), 0).await? {
                Some(charged) => {
                    *w.fees.entry(u).or_default() += charged;
                    *w.fees.entry(id(&dave)).or_default() += charged;
                    *w.received.entry(id(&dave)).or_default() += charged;
                    if ack {
                        "task settled"
                    } else {
                        "task settled with penalty"
                    }
                }
                None if signer_usable.is_none() || !consents => {
                    assert!(w.last_error.contains("NoTeeSigner"), "{}", w.last_error);
                    "task settlement refused: no usable signer or no consent"
                }
                None => {
                    // Fine-tuning refuses a fee above the sub-account's balance (no partial settlement); nothing
                    // else can refuse a valid voucher for an open task (a disabled service still settles).
                    assert!(charge > free, "a valid fine-tuning voucher was refused: {}", w.last_error);
                    assert!(w.last_error.contains("InsufficientBalance"), "{}", w.last_error);
                    "task settlement refused: balance too low"
                }
            }
        }
        10 => {
            let on = rng.below(3) != 0;
            let m = if service == w.inference { i.acknowledge_tee_signer(p, on) } else { return Ok("noop") };
            if send(client, w, &user, &m, 0).await?.is_some() {
                "user acknowledgement"
            } else {
                "user acknowledgement refused"
            }
        }
        12 => match send(client, w, &user, &l.delete_ledger(), 0).await? {
            Some(0) => "ledger deleted",
            Some(_) => "ledger deletion in progress",
            None => "ledger deletion refused",
        },
        13 => {
            // Owner actions on a service: its lock time, or its acknowledgement of a provider's signer.
            let owner = ink_e2e::alice();
            let on = rng.below(2) == 0;
            let is_inference = service == w.inference;
            match rng.below(2) {
                0 => {
                    let ms = rng.pick(&[LOCK_MS, 2 * LOCK_MS]);
                    let done = if is_inference {
                        send(client, w, &owner, &i.update_lock_time(ms), 0).await?
                    } else {
                        send(client, w, &owner, &f.update_lock_time(ms), 0).await?
                    };
                    done.expect("the owner sets a lock time in range");
                    "lock time changed"
                }
                _ => {
                    let done = match (is_inference, on) {
                        (true, true) => send(client, w, &owner, &i.set_tee_signer_acknowledgement(p, true), 0).await?,
                        (true, false) => {
                            send(client, w, &owner, &i.set_tee_signer_acknowledgement(p, false), 0).await?
                        }
                        (false, true) => send(client, w, &owner, &f.set_tee_signer_acknowledgement(p, true), 0).await?,
                        (false, false) => {
                            send(client, w, &owner, &f.set_tee_signer_acknowledgement(p, false), 0).await?
                        }
                    };
                    if done.is_none() {
                        // A provider that left (op 14) has no service to acknowledge.
                        assert!(w.last_error.contains("ServiceNotExist"), "{}", w.last_error);
                        return Ok("owner action refused: the provider left");
                    }
                    if on {
                        "owner acknowledged signer"
                    } else {
                        "owner revoked signer"
                    }
                }
            }
        }
        14 => {
            // An inference provider leaves (the stake unbonds), takes the stake back after the lock time, or
            // registers again (and needs the owner's acknowledgement again, op 13).
            let provider = w.inference_providers[rng.below(2) as usize].clone();
            let p = id(&provider);
            let registered = client.call(&user, &i.get_service(p)).dry_run().await?.return_value().is_ok();
            let unbonding = client.call(&user, &i.provider_state(p)).dry_run().await?.return_value().unbonding;
            if registered && rng.below(2) == 0 {
                // Anyone submits an attestor's statement for the provider's current signer, lasting up to 2 h;
                // a later one than the current attestation is accepted, an ended or older one refused, and one
                // from anyone but the provider while the current attestation still counts.
                let expires_at = serving_e2e_tests::now_ms() + rng.pick(&[1, LOCK_MS, 2 * LOCK_MS]);
                let a = serving_verifier::TeeAttestation {
                    provider: bytes(&p),
                    signer: tee().address(),
                    measurement: MEASUREMENT,
                    expires_at,
                };
                let c = serving_verifier::LocalCrypto;
                let digest =
                    serving_verifier::Domain::inference(CHAIN_ID, bytes(&w.inference)).digest(&c, &a.struct_hash(&c));
                let sig = attestor().sign_digest(&digest).to_vec();
                let m = i.submit_attestation(p, MEASUREMENT, expires_at, attestor().address(), sig);
                match send(client, w, &user, &m, 0).await? {
                    Some(()) => "attestation accepted",
                    None => {
                        let e = &w.last_error;
                        assert!(
                            e.contains("AttestationNotNewer")
                                || e.contains("AttestationEnded")
                                || (id(&user) != p && e.contains("AttestationInPlace")),
                            "{e}"
                        );
                        "attestation refused (not newer, ended, or in place)"
                    }
                }
            } else if registered {
                send(client, w, &provider, &i.remove_service(), 0).await?.expect("a provider can leave");
                "service removed"
            } else if unbonding.is_some() {
                match send(client, w, &provider, &i.withdraw_stake(), 0).await? {
                    Some(amount) => {
                        *w.received.entry(p).or_default() += amount;
                        "stake withdrawn"
                    }
                    None => {
                        assert!(w.last_error.contains("StakeLocked"), "{}", w.last_error);
                        "stake still unbonding"
                    }
                }
            } else {
                let params = serving_e2e_tests::inference_service("https://provider.example/v1", tee().address());
                send(client, w, &provider, &i.add_or_update_service(params), MIN_STAKE).await?.expect("register");
                "service registered again"
            }
        }
        _ => {
            let on = rng.below(3) != 0;
            if rng.below(2) == 0 {
                send(client, w, &ink_e2e::alice(), &l.set_service_enabled(service, on), 0).await?.expect("owner");
                "service toggled"
            } else if send(client, w, &user, &i.revoke_tokens(p, vec![rng.below(256) as u8]), 0).await?.is_some() {
                "token revoked"
            } else {
                "revocation refused"
            }
        }
    })
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn random_sequences_keep_every_invariant(mut client: Client) -> E2EResult<()> {
    let runs = env_or("SERVING_RANDOM_RUNS", 2);
    let steps = env_or("SERVING_RANDOM_STEPS", 40) as usize;
    let seed0 = env_or("SERVING_RANDOM_SEED", 0x5eed);
    // One sandbox: each run deploys its own contracts.
    for run in 0..runs {
        let seed = seed0.wrapping_add(run).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut rng = Rng(seed);
        let mut w = setup(&mut client).await?;
        check(&mut client, &w, 0).await?;
        for n in 1..=steps {
            let what = step(&mut client, &mut w, &mut rng).await?;
            w.count(what);
            check(&mut client, &w, n).await.map_err(|e| format!("seed {seed:#x}, step {n} ({what}): {e}"))?;
        }
        eprintln!("run {run} (seed {seed:#x}), {steps} steps: {:?}", w.stats);
        let settled = w
            .stats
            .iter()
            .filter(|(k, _)| k.starts_with("inference") || k.starts_with("task settled"))
            .map(|(_, v)| v)
            .sum::<u32>();
        assert!(settled > 0 || steps < 20, "a run of {steps} steps settled nothing: {:?}", w.stats);
    }
    Ok(())
}
