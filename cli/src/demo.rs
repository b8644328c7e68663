//! `serving demo`: the three release bundles (and the services' full builds) in ink!'s sandbox runtime (real
//! pallet-contracts and pallet-balances, no node) and the whole story played as the owner, two providers and two
//! users. After each step: the call's weight and every party's balances; at the end, a check that all money is
//! accounted for.
//!
//! Parties (ink_e2e's dev accounts): Alice owns the contracts; Charlie provides inference, Dave fine-tuning;
//! Bob and Eve are users. The providers' TEE key is a fixed secp256k1 key, so every run signs the same bytes.
use fine_tuning::fine_tuning::{FineTuning, FineTuningRef, VerifierInput};
use inference::inference::{Inference, InferenceRef, SettlementOutcome, SettlementStatus};
use ink::env::DefaultEnvironment;
use ink::primitives::AccountId;
use ink::scale::{Decode, Encode};
use ink_e2e::{CallBuilderFinal, ChainBackend, ContractsBackend, Keypair};
use ledger::ledger::{Ledger, LedgerRef};
use serde_json::{json, Value};
use serving_sandbox::{bytes, id, inference_voucher, storage_deposit, tee, Client};
use std::collections::BTreeMap;

type R<T> = Result<T, String>;

/// One token: 10^12 of the chain's smallest unit.
pub const UNIT: u128 = 1_000_000_000_000;
const CHAIN_ID: u64 = 42;
const LOCK_MS: u64 = 3_600_000;
const MIN_STAKE: u128 = 10 * UNIT;
const PENALTY_PERCENT: u8 = 30;
/// pallet_balances' existential deposit in ink's sandbox runtime: a contract account keeps it, unspendable.
const EXISTENTIAL_DEPOSIT: u128 = 1;
const STEPS: usize = 28;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Who {
    Alice,
    Bob,
    Eve,
    Charlie,
    Dave,
}

impl Who {
    const ALL: [Who; 5] = [Who::Alice, Who::Bob, Who::Eve, Who::Charlie, Who::Dave];

    fn name(self) -> &'static str {
        match self {
            Who::Alice => "Alice (owner)",
            Who::Bob => "Bob (user)",
            Who::Eve => "Eve (user)",
            Who::Charlie => "Charlie (inference provider)",
            Who::Dave => "Dave (fine-tuning provider)",
        }
    }

    fn key(self) -> Keypair {
        match self {
            Who::Alice => ink_e2e::alice(),
            Who::Bob => ink_e2e::bob(),
            Who::Eve => ink_e2e::eve(),
            Who::Charlie => ink_e2e::charlie(),
            Who::Dave => ink_e2e::dave(),
        }
    }

    fn account(self) -> AccountId {
        id(&self.key())
    }
}

/// What the demo itself knows each party put in and took out, to check the chain against.
#[derive(Default, Clone)]
struct Flows {
    /// Native value sent with calls (deposits, stakes).
    sent: u128,
    /// Native value the contracts paid out (withdrawals, fees).
    received: u128,
    /// Net storage deposits paid by the party's calls (negative: refunded).
    deposits: i128,
    /// For users: deposited into the ledger and withdrawn from it; fees paid. For providers: fees earned.
    ledger_in: u128,
    ledger_out: u128,
    fees: u128,
}

pub struct Demo {
    client: Client,
    json: bool,
    step: usize,
    ledger: AccountId,
    inference: AccountId,
    ft: AccountId,
    start: BTreeMap<Who, u128>,
    start_issuance: u128,
    flows: BTreeMap<Who, Flows>,
    steps: Vec<Value>,
}

struct Weighed<V> {
    value: V,
    ref_time: u64,
    proof_size: u64,
    deposit: i128,
}

impl Demo {
    /// A sandbox with the release bundles (`target/ink/<name>/<name>.wasm` under `bundles`): the three contracts
    /// and their full builds.
    pub fn new(bundles: &str, json: bool) -> Self {
        let wasm = |n: &str| format!("{bundles}/{n}/{n}.wasm");
        Demo {
            client: Client::new([
                wasm("ledger"),
                wasm("inference"),
                wasm("fine_tuning"),
                wasm("ledger_full"),
                wasm("inference_full"),
                wasm("fine_tuning_full"),
            ]),
            json,
            step: 0,
            ledger: AccountId::from([0; 32]),
            inference: AccountId::from([0; 32]),
            ft: AccountId::from([0; 32]),
            start: BTreeMap::new(),
            start_issuance: 0,
            flows: Who::ALL.iter().map(|w| (*w, Flows::default())).collect(),
            steps: Vec::new(),
        }
    }

    fn flows(&mut self, who: Who) -> &mut Flows {
        self.flows.entry(who).or_default()
    }

    fn watch(&self) {
        let mut all: Vec<[u8; 32]> = Who::ALL.iter().map(|w| bytes(&w.account())).collect();
        for c in [self.ledger, self.inference, self.ft] {
            if c != AccountId::from([0; 32]) {
                all.push(bytes(&c));
            }
        }
        serving_sandbox::watch(&all);
    }

    async fn free(&mut self, a: AccountId) -> R<u128> {
        self.client.free_balance(a).await.map_err(|e| format!("reading a balance: {e:?}"))
    }

    /// Calls `msg` as `who` with `value` attached; the message's own `Err` is a failure of the demo.
    async fn exec<Args, T, E>(
        &mut self,
        who: Who,
        msg: &CallBuilderFinal<DefaultEnvironment, Args, Result<T, E>>,
        value: u128,
    ) -> R<Weighed<T>>
    where
        Args: Sync + Encode + Clone,
        T: Send + Decode,
        E: Send + Decode + std::fmt::Debug,
    {
        let r = self
            .client
            .call(&who.key(), msg)
            .value(value)
            .submit()
            .await
            .map_err(|e| format!("{} could not call: {e:?}", who.name()))?;
        let w = r.dry_run.exec_result.gas_consumed;
        let deposit = storage_deposit(&r.dry_run);
        let value_out = r.return_value().map_err(|e| format!("the contract refused: {e:?}"))?;
        let f = self.flows(who);
        f.sent = f.sent.checked_add(value).ok_or("overflow")?;
        f.deposits = f.deposits.checked_add(deposit).ok_or("overflow")?;
        Ok(Weighed { value: value_out, ref_time: w.ref_time(), proof_size: w.proof_size(), deposit })
    }

    async fn query<Args, T>(&mut self, msg: &CallBuilderFinal<DefaultEnvironment, Args, T>) -> R<T>
    where
        Args: Sync + Encode + Clone,
        T: Send + Decode,
    {
        Ok(self
            .client
            .call(&ink_e2e::alice(), msg)
            .dry_run()
            .await
            .map_err(|e| format!("query failed: {e:?}"))?
            .return_value())
    }

    /// One party's row: wallet, ledger (available, total), sub-accounts at inference and fine-tuning (balance,
    /// pending refund) or, for providers, the stake.
    async fn snapshot(&mut self) -> R<Value> {
        let l = ink_e2e::create_call_builder::<Ledger>(self.ledger);
        let i = ink_e2e::create_call_builder::<Inference>(self.inference);
        let f = ink_e2e::create_call_builder::<FineTuning>(self.ft);
        let mut parties = serde_json::Map::new();
        for who in Who::ALL {
            let a = who.account();
            let wallet = self.free(a).await?;
            let mut row = json!({ "wallet": wallet.to_string() });
            if matches!(who, Who::Bob | Who::Eve) && self.ledger != AccountId::from([0; 32]) {
                if let Ok(v) = self.query(&l.get_ledger(a)).await? {
                    row["ledger_available"] = json!(v.available_balance.to_string());
                    row["ledger_total"] = json!(v.total_balance.to_string());
                }
                let inference_up = self.inference != AccountId::from([0; 32]);
                let ft_up = self.ft != AccountId::from([0; 32]);
                if !inference_up {
                } else if let Ok(s) = self.query(&i.get_account(a, Who::Charlie.account())).await? {
                    row["at_inference"] = json!(s.balance.to_string());
                    row["inference_pending_refund"] = json!(s.pending_refund.to_string());
                }
                if !ft_up {
                } else if let Ok(s) = self.query(&f.get_account(a, Who::Dave.account())).await? {
                    row["at_fine_tuning"] = json!(s.balance.to_string());
                    row["fine_tuning_pending_refund"] = json!(s.pending_refund.to_string());
                }
            }
            if who == Who::Charlie && self.inference != AccountId::from([0; 32]) {
                row["stake"] = json!(self.query(&i.provider_state(a)).await?.stake.to_string());
            }
            if who == Who::Dave && self.ft != AccountId::from([0; 32]) {
                row["stake"] = json!(self.query(&f.provider_state(a)).await?.stake.to_string());
            }
            parties.insert(who.name().to_string(), row);
        }
        for (name, c) in [
            ("ledger contract", self.ledger),
            ("inference contract", self.inference),
            ("fine-tuning contract", self.ft),
        ] {
            if c != AccountId::from([0; 32]) {
                let native = self.free(c).await?;
                parties.insert(name.into(), json!({ "wallet": native.to_string() }));
            }
        }
        Ok(Value::Object(parties))
    }

    /// Records and prints one step.
    async fn done<V>(&mut self, who: Who, action: &str, outcome: String, w: Option<&Weighed<V>>) -> R<()> {
        self.step = self.step.checked_add(1).ok_or("overflow")?;
        let balances = self.snapshot().await?;
        let mut step = json!({
            "step": self.step,
            "actor": who.name(),
            "action": action,
            "outcome": outcome,
            "balances": balances,
        });
        if let Some(w) = w {
            step["ref_time_ps"] = json!(w.ref_time);
            step["proof_size_bytes"] = json!(w.proof_size);
            step["storage_deposit"] = json!(w.deposit.to_string());
        }
        eprintln!("[{:>2}/{STEPS}] {}: {action}", self.step, who.name());
        if !self.json {
            print_step(&step);
        }
        self.steps.push(step);
        Ok(())
    }

    /// A fine-tuning voucher from Dave's TEE. The model key is revealed (encrypted to the user) only when the
    /// user acknowledged the task; a penalty settlement carries an empty secret.
    fn voucher_ft(&self, user: AccountId, id: &str, fee: u128, nonce: u128, acknowledged: bool) -> VerifierInput {
        let secret =
            if acknowledged { format!("model key of {id}, encrypted to the user").into_bytes() } else { Vec::new() };
        let root = format!("merkle root of {id}").into_bytes();
        let task =
            serving_sandbox::Task { user, provider: Who::Dave.account(), id, secret: &secret, root: &root, nonce, fee };
        serving_sandbox::fine_tuning_voucher(&tee(), CHAIN_ID, self.ft, &task)
    }

    /// Plays the story; returns the JSON report (steps and the final check).
    pub async fn run(mut self) -> R<Value> {
        let (alice, bob, eve, charlie, dave) =
            (Who::Alice.account(), Who::Bob.account(), Who::Eve.account(), Who::Charlie.account(), Who::Dave.account());
        self.watch();
        for who in Who::ALL {
            let b = self.free(who.account()).await?;
            self.start.insert(who, serving_sandbox::totals().total_of(&bytes(&who.account())).unwrap_or(b));
        }
        self.start_issuance = serving_sandbox::totals().issuance;

        // --- The owner deploys and wires the contracts.
        // The three full builds: the code the contracts' rarely used messages (the owner's, registration, stake
        // withdrawal, closing a ledger) run in, by delegate call from the deployed builds. Uploaded once; the
        // constructors take their code hashes.
        let full = serving_sandbox::upload_full_builds(&mut self.client).await.map_err(|e| e.to_string())?;
        self.flows(Who::Alice).deposits += i128::try_from(full.deposit).map_err(|_| "deposit too large")?;
        self.done(
            Who::Alice,
            "uploads the full builds (where the owner's, registration and other rarely used messages run)",
            format!(
                "code hashes {}, {} and {}; code deposit {}",
                crate::hex0(full.ledger.as_ref()),
                crate::hex0(full.inference.as_ref()),
                crate::hex0(full.fine_tuning.as_ref()),
                tokens(full.deposit)
            ),
            None::<&Weighed<()>>,
        )
        .await?;
        let mut c = LedgerRef::new(CHAIN_ID, UNIT, UNIT / 10, full.ledger);
        let r = self
            .client
            .instantiate("ledger", &ink_e2e::alice(), &mut c)
            .submit()
            .await
            .map_err(|e| format!("{e:?}"))?;
        self.ledger = r.account_id;
        self.watch();
        let w = instantiated(&r.dry_run.contract_result);
        self.flows(Who::Alice).deposits += w.deposit;
        self.done(
            Who::Alice,
            "deploys the ledger (chain id 42, minimum account 1, minimum transfer 0.1)",
            "deployed".into(),
            Some(&w),
        )
        .await?;

        let mut c = InferenceRef::new(self.ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, full.inference);
        let r = self
            .client
            .instantiate("inference", &ink_e2e::alice(), &mut c)
            .submit()
            .await
            .map_err(|e| format!("{e:?}"))?;
        self.inference = r.account_id;
        self.watch();
        let w = instantiated(&r.dry_run.contract_result);
        self.flows(Who::Alice).deposits += w.deposit;
        self.done(Who::Alice, "deploys inference (lock time 1 h, minimum stake 10)", "deployed".into(), Some(&w))
            .await?;

        let mut c = FineTuningRef::new(self.ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, PENALTY_PERCENT, full.fine_tuning);
        let r = self
            .client
            .instantiate("fine_tuning", &ink_e2e::alice(), &mut c)
            .submit()
            .await
            .map_err(|e| format!("{e:?}"))?;
        self.ft = r.account_id;
        self.watch();
        let w = instantiated(&r.dry_run.contract_result);
        self.flows(Who::Alice).deposits += w.deposit;
        self.done(
            Who::Alice,
            "deploys fine-tuning (lock time 1 h, minimum stake 10, penalty 30 %)",
            "deployed".into(),
            Some(&w),
        )
        .await?;

        let mut l = ink_e2e::create_call_builder::<Ledger>(self.ledger);
        let mut i = ink_e2e::create_call_builder::<Inference>(self.inference);
        let mut f = ink_e2e::create_call_builder::<FineTuning>(self.ft);
        let w = self
            .exec(Who::Alice, &l.register_service("inference".into(), "v1".into(), self.inference, String::new()), 0)
            .await?;
        self.done(Who::Alice, "registers inference v1 in the ledger", "registered".into(), Some(&w)).await?;
        let w = self
            .exec(Who::Alice, &l.register_service("fine-tuning".into(), "v1".into(), self.ft, String::new()), 0)
            .await?;
        self.done(Who::Alice, "registers fine-tuning v1 in the ledger", "registered".into(), Some(&w)).await?;

        // --- Providers register, the owner acknowledges their TEE signer.
        let p = serving_sandbox::inference_service("https://charlie.example/v1", tee().address());
        let w = self.exec(Who::Charlie, &i.add_or_update_service(p), MIN_STAKE).await?;
        self.done(Who::Charlie, "registers an inference service, staking 10", "registered".into(), Some(&w)).await?;
        let w = self.exec(Who::Alice, &i.set_tee_signer_acknowledgement(charlie, true), 0).await?;
        self.done(Who::Alice, "acknowledges Charlie's TEE signer", "acknowledged".into(), Some(&w)).await?;
        let p = serving_sandbox::fine_tuning_service("https://dave.example", 1, tee().address());
        let w = self.exec(Who::Dave, &f.add_or_update_service(p), MIN_STAKE).await?;
        self.done(Who::Dave, "registers a fine-tuning service, staking 10", "registered".into(), Some(&w)).await?;
        let w = self.exec(Who::Alice, &f.set_tee_signer_acknowledgement(dave, true), 0).await?;
        self.done(Who::Alice, "acknowledges Dave's TEE signer", "acknowledged".into(), Some(&w)).await?;

        // --- Users open ledgers and fund sub-accounts.
        for (who, amount) in [(Who::Bob, 50 * UNIT), (Who::Eve, 30 * UNIT)] {
            let w = self.exec(who, &l.add_ledger(String::new()), amount).await?;
            self.flows(who).ledger_in += amount;
            self.done(who, &format!("opens a ledger with {}", tokens(amount)), "opened".into(), Some(&w)).await?;
        }
        for (who, amount) in [(Who::Bob, 20 * UNIT), (Who::Eve, 10 * UNIT)] {
            let w = self.exec(who, &l.transfer_fund(charlie, self.inference, amount), 0).await?;
            self.done(
                who,
                &format!("moves {} to a sub-account at Charlie's inference service", tokens(amount)),
                "funded".into(),
                Some(&w),
            )
            .await?;
        }

        // --- Inference: a batch of two vouchers signed in Charlie's TEE, then a partial settlement.
        let batch = vec![
            inference_voucher(&tee(), CHAIN_ID, self.inference, bob, charlie, 3 * UNIT, 1),
            inference_voucher(&tee(), CHAIN_ID, self.inference, eve, charlie, 2 * UNIT, 1),
        ];
        let w = self.exec(Who::Charlie, &i.settle_fees_with_tee(batch), 0).await?;
        let outcome =
            self.settled(&w.value, &[(Who::Bob, SettlementStatus::Success), (Who::Eve, SettlementStatus::Success)])?;
        self.done(Who::Charlie, "settles a batch of 2 TEE-signed vouchers (Bob 3, Eve 2)", outcome, Some(&w)).await?;
        let batch = vec![inference_voucher(&tee(), CHAIN_ID, self.inference, eve, charlie, 9 * UNIT, 2)];
        let w = self.exec(Who::Charlie, &i.settle_fees_with_tee(batch), 0).await?;
        let outcome = self.settled(&w.value, &[(Who::Eve, SettlementStatus::Partial)])?;
        self.done(Who::Charlie, "settles a voucher of 9 for Eve, who has 8 left (partial)", outcome, Some(&w)).await?;

        // --- Bob takes his money back: request, wait out the lock time, collect, withdraw.
        let w = self.exec(Who::Bob, &l.retrieve_fund(vec![charlie], self.inference), 0).await?;
        self.done(
            Who::Bob,
            "asks for his 17 back from Charlie (a refund, locked for 1 h)",
            format!("{} returned now", tokens(w.value)),
            Some(&w),
        )
        .await?;
        serving_sandbox::advance_ms(LOCK_MS);
        self.done::<()>(Who::Bob, "waits: the sandbox clock moves 1 hour", "lock time over".into(), None).await?;
        let w = self.exec(Who::Bob, &l.retrieve_fund(vec![charlie], self.inference), 0).await?;
        if w.value != 17 * UNIT {
            return Err(format!("Bob's refund returned {}, expected 17", tokens(w.value)));
        }
        self.done(Who::Bob, "collects the refund into his ledger", format!("{} returned", tokens(w.value)), Some(&w))
            .await?;
        let w = self.exec(Who::Bob, &l.refund(30 * UNIT), 0).await?;
        self.flows(Who::Bob).ledger_out += 30 * UNIT;
        self.flows(Who::Bob).received += 30 * UNIT;
        self.done(Who::Bob, "withdraws 30 from his ledger to his wallet", "withdrawn".into(), Some(&w)).await?;

        // --- Fine-tuning: an acknowledged task settled in full, an unacknowledged one with the penalty.
        for (who, amount, task, fee, ack) in [
            (Who::Bob, 15 * UNIT, "task-bob-1", 12 * UNIT, true),
            (Who::Eve, 10 * UNIT, "task-eve-1", 10 * UNIT, false),
        ] {
            let user = who.account();
            let w = self.exec(who, &l.transfer_fund(dave, self.ft, amount), 0).await?;
            self.done(
                who,
                &format!("moves {} to a sub-account at Dave's fine-tuning service", tokens(amount)),
                "funded".into(),
                Some(&w),
            )
            .await?;
            let root = format!("merkle root of {task}").into_bytes();
            let w = self.exec(Who::Dave, &f.add_deliverable(user, task.into(), root), 0).await?;
            self.done(
                Who::Dave,
                &format!("delivers {task} (model root hash) to {}", who.name()),
                "added".into(),
                Some(&w),
            )
            .await?;
            if ack {
                let w = self.exec(who, &f.acknowledge_deliverable(dave, task.into()), 0).await?;
                self.done(who, &format!("acknowledges {task}"), "acknowledged".into(), Some(&w)).await?;
            }
            let w = self.exec(Who::Dave, &f.settle_fees(self.voucher_ft(user, task, fee, 1, ack)), 0).await?;
            let expected = if ack { fee } else { fee * u128::from(PENALTY_PERCENT) / 100 };
            if w.value != expected {
                return Err(format!("{task}: charged {}, expected {}", tokens(w.value), tokens(expected)));
            }
            self.flows(who).fees += w.value;
            self.flows(Who::Dave).fees += w.value;
            self.flows(Who::Dave).received += w.value;
            let how = if ack { "acknowledged: the full fee" } else { "never acknowledged: 30 % penalty fee" };
            self.done(
                Who::Dave,
                &format!("settles {task} with a TEE-signed voucher for {} ({how})", tokens(fee)),
                format!("{} charged", tokens(w.value)),
                Some(&w),
            )
            .await?;
        }

        let check = self.check().await?;
        eprintln!(
            "[{STEPS}/{STEPS}] check: {}",
            if check["ok"] == json!(true) { "all money accounted for" } else { "FAILED" }
        );
        if !self.json {
            print_check(&check);
        }
        let ok = check["ok"] == json!(true);
        let report = json!({ "steps": self.steps, "check": check, "ok": ok });
        let _ = alice;
        if ok {
            Ok(report)
        } else {
            Err(format!(
                "the money does not add up:\n{}",
                serde_json::to_string_pretty(&report["check"]).unwrap_or_default()
            ))
        }
    }

    /// Checks the statuses and books the settled fees; describes the outcome.
    fn settled(&mut self, out: &[SettlementOutcome], expected: &[(Who, SettlementStatus)]) -> R<String> {
        if out.len() != expected.len() {
            return Err(format!("{} outcomes for {} vouchers", out.len(), expected.len()));
        }
        let mut text = Vec::new();
        for (o, (who, status)) in out.iter().zip(expected) {
            if o.status != *status || o.user != who.account() {
                return Err(format!("unexpected settlement outcome {o:?}, expected {status:?} for {}", who.name()));
            }
            self.flows(*who).fees += o.settled;
            self.flows(Who::Charlie).fees += o.settled;
            self.flows(Who::Charlie).received += o.settled;
            text.push(format!(
                "{}: {:?}, {} settled, {} unsettled",
                who.name(),
                o.status,
                tokens(o.settled),
                tokens(o.unsettled)
            ));
        }
        Ok(text.join("; "))
    }

    /// All money accounted for: conservation on chain, each party's wallet against what the demo sent and
    /// received, each user's ledger against deposits, withdrawals and fees, each contract against what it owes.
    async fn check(&mut self) -> R<Value> {
        let l = ink_e2e::create_call_builder::<Ledger>(self.ledger);
        let i = ink_e2e::create_call_builder::<Inference>(self.inference);
        let f = ink_e2e::create_call_builder::<FineTuning>(self.ft);
        let _ = self.free(Who::Alice.account()).await?; // refreshes the totals
        let totals = serving_sandbox::totals();
        let mut lines = Vec::new();
        let mut ok = true;
        let mut line = |ok_: bool, what: String, lines: &mut Vec<Value>| {
            ok &= ok_;
            lines.push(json!({ "ok": ok_, "check": what }));
        };

        let start_sum: u128 = self.start.values().sum();
        line(
            totals.sum() == start_sum && totals.issuance == self.start_issuance,
            format!(
                "conservation: the 5 parties and 3 contracts hold {} in all (free + held), as the 5 parties did at the start ({}); issuance unchanged",
                tokens(totals.sum()),
                tokens(start_sum)
            ),
            &mut lines,
        );
        for who in Who::ALL {
            let fl = self.flows[&who].clone();
            let start = self.start[&who];
            let now = self.free(who.account()).await?;
            let expected = i128::try_from(start).map_err(|_| "overflow")?
                - i128::try_from(fl.sent).map_err(|_| "overflow")?
                + i128::try_from(fl.received).map_err(|_| "overflow")?
                - fl.deposits;
            line(
                i128::try_from(now).map_err(|_| "overflow")? == expected,
                format!(
                    "{}: wallet {} = start {} - sent {} + received {} - storage deposits ({} plancks)",
                    who.name(),
                    tokens(now),
                    tokens(start),
                    tokens(fl.sent),
                    tokens(fl.received),
                    fl.deposits
                ),
                &mut lines,
            );
        }
        let mut ledger_owed = 0u128;
        let mut inference_owed = 0u128;
        let mut ft_owed = 0u128;
        for who in [Who::Bob, Who::Eve] {
            let a = who.account();
            let fl = self.flows[&who].clone();
            let v = self.query(&l.get_ledger(a)).await?.map_err(|e| format!("{e:?}"))?;
            let at_i = self.query(&i.get_account(a, Who::Charlie.account())).await?.map(|s| s.balance).unwrap_or(0);
            let at_f = self.query(&f.get_account(a, Who::Dave.account())).await?.map(|s| s.balance).unwrap_or(0);
            line(
                v.total_balance + fl.fees + fl.ledger_out == fl.ledger_in,
                format!(
                    "{}: ledger total {} + fees paid {} + withdrawn {} = deposited {}",
                    who.name(),
                    tokens(v.total_balance),
                    tokens(fl.fees),
                    tokens(fl.ledger_out),
                    tokens(fl.ledger_in)
                ),
                &mut lines,
            );
            line(
                v.total_balance == v.available_balance + at_i + at_f,
                format!(
                    "{}: ledger total {} = available {} + at inference {} + at fine-tuning {}",
                    who.name(),
                    tokens(v.total_balance),
                    tokens(v.available_balance),
                    tokens(at_i),
                    tokens(at_f)
                ),
                &mut lines,
            );
            ledger_owed += v.available_balance;
            inference_owed += at_i;
            ft_owed += at_f;
        }
        let fees_paid: u128 = [Who::Bob, Who::Eve].iter().map(|w| self.flows[w].fees).sum();
        let fees_earned: u128 = [Who::Charlie, Who::Dave].iter().map(|w| self.flows[w].fees).sum();
        line(
            fees_paid == fees_earned,
            format!("fees: users paid {}, providers earned {}", tokens(fees_paid), tokens(fees_earned)),
            &mut lines,
        );
        inference_owed += self.query(&i.provider_state(Who::Charlie.account())).await?.stake;
        ft_owed += self.query(&f.provider_state(Who::Dave.account())).await?.stake;
        for (name, c, owed, liab, surplus) in [
            ("ledger", self.ledger, ledger_owed, self.query(&l.liabilities()).await?, self.query(&l.surplus()).await?),
            (
                "inference",
                self.inference,
                inference_owed,
                self.query(&i.config()).await?.liabilities,
                self.query(&i.config()).await?.surplus,
            ),
            (
                "fine-tuning",
                self.ft,
                ft_owed,
                self.query(&f.config()).await?.liabilities,
                self.query(&f.config()).await?.surplus,
            ),
        ] {
            let native = self.free(c).await?;
            line(
                liab == owed && surplus == 0 && native == owed + EXISTENTIAL_DEPOSIT,
                format!(
                    "{name} contract: holds {} = what it owes {} (sub-accounts/ledgers and stakes) + existential deposit; liabilities {}, surplus {}",
                    tokens(native),
                    tokens(owed),
                    tokens(liab),
                    tokens(surplus)
                ),
                &mut lines,
            );
        }
        Ok(json!({ "ok": ok, "lines": lines }))
    }
}

fn instantiated(r: &ink_sandbox::pallet_contracts::ContractInstantiateResult<AccountId, u128, ()>) -> Weighed<()> {
    use ink_sandbox::pallet_contracts::StorageDeposit;
    let deposit = match r.storage_deposit {
        StorageDeposit::Charge(x) => i128::try_from(x).unwrap_or(i128::MAX),
        StorageDeposit::Refund(x) => -i128::try_from(x).unwrap_or(i128::MAX),
    };
    Weighed { value: (), ref_time: r.gas_consumed.ref_time(), proof_size: r.gas_consumed.proof_size(), deposit }
}

/// An amount in tokens, with six decimals.
pub fn tokens(x: u128) -> String {
    let micro = x / (UNIT / 1_000_000);
    format!("{}.{:06}", micro / 1_000_000, micro % 1_000_000)
}

fn amount(v: &Value) -> String {
    v.as_str().and_then(|s| s.parse::<u128>().ok()).map(tokens).unwrap_or_else(|| "-".into())
}

fn print_step(step: &Value) {
    println!();
    print!(
        "step {:>2}  {}: {}",
        step["step"],
        step["actor"].as_str().unwrap_or(""),
        step["action"].as_str().unwrap_or("")
    );
    println!("  →  {}", step["outcome"].as_str().unwrap_or(""));
    if let Some(rt) = step["ref_time_ps"].as_u64() {
        println!(
            "         weight: ref_time {:.3} ms ({} ps), proof_size {} B; storage deposit {} plancks",
            rt as f64 / 1e9,
            rt,
            step["proof_size_bytes"],
            step["storage_deposit"].as_str().unwrap_or("0")
        );
    }
    println!(
        "  {:<30} {:>18} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "party", "wallet", "ledger avail", "ledger total", "inference", "fine-tuning", "stake"
    );
    if let Some(parties) = step["balances"].as_object() {
        for (name, row) in parties {
            let sub = |b: &str, p: &str| match (row.get(b), row.get(p)) {
                (Some(b), Some(p)) if p.as_str() != Some("0") => format!("{} (↩{})", amount(b), amount(p)),
                (Some(b), _) => amount(b),
                _ => "".into(),
            };
            let opt = |k: &str| row.get(k).map(amount).unwrap_or_default();
            println!(
                "  {:<30} {:>18} {:>12} {:>12} {:>12} {:>12} {:>12}",
                name,
                amount(&row["wallet"]),
                opt("ledger_available"),
                opt("ledger_total"),
                sub("at_inference", "inference_pending_refund"),
                sub("at_fine_tuning", "fine_tuning_pending_refund"),
                opt("stake")
            );
        }
    }
}

fn print_check(check: &Value) {
    println!("\nall money accounted for?");
    for l in check["lines"].as_array().into_iter().flatten() {
        println!("  [{}] {}", if l["ok"] == json!(true) { "ok" } else { "FAIL" }, l["check"].as_str().unwrap_or(""));
    }
}
