//! `serving settle`'s runner (cli/src/settle.rs) against the real contracts in the sandbox runtime: previews,
//! batches within the limit, per-voucher outcomes from the settlement event, a state file that survives an
//! interruption between submission and record without losing or resending a voucher, and a rerun that sends
//! nothing. The node path (cli/src/node.rs) runs the same runner over subxt (`make node-e2e`).
use inference::inference::{
    BatchEntry, Error, Inference, SettlementOutcome, TeeSettlementData, TeeSettlementResult, TeeSettlementResults,
};
use ink::primitives::AccountId;
use ink_e2e::{ChainBackend, ContractsBackend};
use ledger::ledger::Ledger;
use serde_json::Value;
use serving_cli::settle::{run, Chain, Input, State};
use serving_cli::watch::{Agent, Due, Policy, Watch};
use serving_e2e_tests::{
    bob, bytes, charlie, dave, eve, events_of, inference_batch, inference_voucher, take_events, tee, Client,
};

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;
type R<T> = Result<T, String>;

const CHAIN_ID: u64 = 42;

/// The runner's chain in the sandbox: calls as charlie; outcomes from the recorded `TeeSettlementResults`
/// event. `interrupt_after`: after this many submissions, the next one is included but reported as a failure
/// (a crash between the extrinsic's inclusion and the state file's record).
struct SandboxChain<'a> {
    client: &'a mut Client,
    contract: AccountId,
    submissions: usize,
    interrupt_after: Option<usize>,
    /// The node went away: every call fails as a transport error.
    down: bool,
}

impl SandboxChain<'_> {
    fn results(&self) -> R<Vec<TeeSettlementResult>> {
        let ev = take_events();
        let mut r = events_of::<TeeSettlementResults>(&ev, &bytes(&self.contract));
        r.pop().map(|e| e.results).ok_or_else(|| "no TeeSettlementResults event".to_string())
    }

    fn count(&mut self) -> R<()> {
        self.up()?;
        self.submissions += 1;
        Ok(())
    }

    fn up(&self) -> R<()> {
        if self.down {
            return Err("connection refused (test: the node is down)".into());
        }
        Ok(())
    }

    fn interrupted(&self) -> bool {
        self.interrupt_after.is_some_and(|n| self.submissions > n)
    }
}

impl Chain for SandboxChain<'_> {
    async fn preview(&mut self, v: &[TeeSettlementData]) -> R<Result<Vec<SettlementOutcome>, Error>> {
        self.up()?;
        let i = ink_e2e::create_call_builder::<Inference>(self.contract);
        let msg = i.preview_settlement_results(charlie(), v.to_vec());
        Ok(self.client.call(&ink_e2e::charlie(), &msg).dry_run().await.map_err(|e| format!("{e:?}"))?.return_value())
    }

    async fn preview_batch(&mut self, e: &[BatchEntry], s: &[u8]) -> R<Result<Vec<SettlementOutcome>, Error>> {
        // A dry run of the settlement itself is its preview (same judging, nothing written).
        let mut i = ink_e2e::create_call_builder::<Inference>(self.contract);
        let msg = i.settle_fees_with_tee_batch(e.to_vec(), s.to_vec());
        Ok(self.client.call(&ink_e2e::charlie(), &msg).dry_run().await.map_err(|e| format!("{e:?}"))?.return_value())
    }

    async fn settle(&mut self, v: Vec<TeeSettlementData>) -> R<Result<Vec<TeeSettlementResult>, Error>> {
        let mut i = ink_e2e::create_call_builder::<Inference>(self.contract);
        self.submit(&i.settle_fees_with_tee(v)).await
    }

    async fn settle_batch(&mut self, e: Vec<BatchEntry>, s: Vec<u8>) -> R<Result<Vec<TeeSettlementResult>, Error>> {
        let mut i = ink_e2e::create_call_builder::<Inference>(self.contract);
        self.submit(&i.settle_fees_with_tee_batch(e, s)).await
    }
}

impl SandboxChain<'_> {
    /// Submits a settlement message as charlie; the outcomes come from the recorded event.
    async fn submit<Args: ink::scale::Encode + Clone + Sync>(
        &mut self,
        msg: &ink_e2e::CallBuilderFinal<ink::env::DefaultEnvironment, Args, Result<Vec<SettlementOutcome>, Error>>,
    ) -> R<Result<Vec<TeeSettlementResult>, Error>> {
        self.count()?;
        take_events();
        let r = self.client.call(&ink_e2e::charlie(), msg).submit().await.map_err(|e| format!("{e:?}"))?;
        if let Err(e) = r.return_value() {
            return Ok(Err(e));
        }
        if self.interrupted() {
            return Err("connection lost after submission (test)".into());
        }
        self.results().map(Ok)
    }
}

impl Watch for SandboxChain<'_> {
    async fn accounts(&mut self, users: &[AccountId]) -> R<Vec<Option<inference::inference::AccountView>>> {
        self.up()?;
        let i = ink_e2e::create_call_builder::<Inference>(self.contract);
        let msg = i.get_batch_accounts_by_users(charlie(), users.to_vec());
        let r = self.client.call(&ink_e2e::charlie(), &msg).dry_run().await.map_err(|e| format!("{e:?}"))?;
        r.return_value().map_err(|e| format!("{e:?}"))
    }

    fn now_ms(&mut self) -> u64 {
        serving_e2e_tests::now_ms()
    }
}

/// What `serving sign` prints for these vouchers (the runner's input format).
fn signed(vouchers: &[TeeSettlementData]) -> Value {
    let list: Vec<Value> = vouchers
        .iter()
        .map(|v| {
            serde_json::json!({
                "user": format!("0x{}", hex(&bytes(&v.user))), "provider": format!("0x{}", hex(&bytes(&v.provider))),
                "totalFee": v.total_fee.to_string(), "requestsHash": format!("0x{}", hex(&v.requests_hash)),
                "nonce": v.nonce.to_string(), "signature": format!("0x{}", hex(&v.signature)),
            })
        })
        .collect();
    serde_json::json!({ "message": "settle_fees_with_tee", "settlements": list })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn states(state: &State) -> std::collections::BTreeMap<String, String> {
    state
        .vouchers()
        .iter()
        .map(|(k, v)| (k.clone(), format!("{}:{}", v["state"].as_str().unwrap(), v["status"].as_str().unwrap_or(""))))
        .collect()
}

async fn sub_balance(client: &mut Client, inference: AccountId, user: AccountId) -> E2EResult<u128> {
    let i = ink_e2e::create_call_builder::<Inference>(inference);
    let a = client.call(&ink_e2e::alice(), &i.get_account(user, charlie())).dry_run().await?.return_value();
    Ok(a.map(|a| a.balance).unwrap_or(0))
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn settle_runner_never_loses_or_resends_a_voucher(mut client: Client) -> E2EResult<()> {
    let (ledger, inference, _) = serving_e2e_tests::deploy_three(&mut client, CHAIN_ID, 3_600_000, 1_000, 30).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("inference".into(), "v1".into(), inference, String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    let p = serving_e2e_tests::inference_service("https://provider.example/v1", tee().address());
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(p)).value(1_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    for (kp, user) in [(ink_e2e::bob(), bob()), (ink_e2e::dave(), dave())] {
        let r = client.call(&kp, &l.add_ledger(String::new())).value(20_000_000).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
        let r = client.call(&kp, &l.transfer_fund(charlie(), inference, 10_000_000)).submit().await?;
        assert_eq!(r.return_value(), Ok(()), "{user:?}");
    }
    let v = |user, fee, nonce| inference_voucher(&tee(), CHAIN_ID, inference, user, charlie(), fee, nonce);
    // 9 good vouchers (bob 1..=6, dave 1..=3), a stranger's, a tampered one.
    let mut vouchers: Vec<_> =
        (1..=6).map(|n| v(bob(), 100_000, n)).chain((1..=3).map(|n| v(dave(), 200_000, n))).collect();
    vouchers.push(v(eve(), 1, 1));
    let mut tampered = v(bob(), 1, 7);
    tampered.total_fee = 2;
    vouchers.push(tampered);
    let input = Input::parse(&signed(&vouchers))?;
    let dir = std::env::temp_dir().join(format!("serving-settle-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    let provider0 = client.free_balance(charlie()).await?;

    // Run 1: batches of 4; the second submission is included but the run is cut off before recording it.
    let mut lines = Vec::new();
    let mut state = State::open(&path, &inference)?;
    let mut chain = SandboxChain {
        client: &mut client,
        contract: inference,
        submissions: 0,
        interrupt_after: Some(1),
        down: false,
    };
    let err = run(&mut chain, &input, &mut state, 4, |l| lines.push(l.to_string())).await.unwrap_err();
    assert!(err.contains("connection lost"), "{err}");
    assert_eq!(chain.submissions, 2);
    let s = states(&State::open(&path, &inference)?);
    assert_eq!(s.values().filter(|x| x.starts_with("settled:Success")).count(), 4, "first batch recorded: {s:?}");
    assert_eq!(s.values().filter(|x| x.starts_with("submitted")).count(), 4, "the second batch marked as sent: {s:?}");
    assert_eq!(s.len(), 10, "the third batch's voucher is still pending (not in the file): {s:?}");
    assert_eq!(s.values().filter(|x| x.starts_with("refused")).count(), 2, "refused at preview: {s:?}");

    // Run 2: the interrupted batch is recognised by its used nonces, the last one is sent.
    let mut state = State::open(&path, &inference)?;
    let mut chain =
        SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None, down: false };
    let out = run(&mut chain, &input, &mut state, 4, |l| lines.push(l.to_string())).await?;
    assert_eq!(chain.submissions, 1, "only the batch that never went out: {lines:?}");
    let s = states(&state);
    assert_eq!(s.values().filter(|x| *x == "settled:IncludedBeforeInterruption").count(), 4, "{s:?}");
    assert_eq!(s.values().filter(|x| *x == "settled:Success").count(), 5, "{s:?}");
    assert_eq!(s[&format!("0x{}:1", hex(&bytes(&eve())))], "refused:AccountNotFound");
    assert_eq!(s[&format!("0x{}:7", hex(&bytes(&bob())))], "refused:InvalidSignature");
    assert_eq!(out["counts"]["settled"], 9);

    // Money: exactly the nine fees moved, once.
    assert_eq!(sub_balance(&mut client, inference, bob()).await?, 10_000_000 - 600_000);
    assert_eq!(sub_balance(&mut client, inference, dave()).await?, 10_000_000 - 600_000);
    let gain = client.free_balance(charlie()).await? - provider0;
    assert_eq!(gain, 1_200_000, "the provider got each fee once (sandbox calls carry no fees)");

    // Run 3: nothing left to send.
    let mut state = State::open(&path, &inference)?;
    let mut chain =
        SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None, down: false };
    run(&mut chain, &input, &mut state, 50, |_| {}).await?;
    assert_eq!(chain.submissions, 0);

    // A batch-signed set goes out whole, once.
    let (entries, sig) =
        inference_batch(&tee(), CHAIN_ID, inference, charlie(), &[(bob(), 1_000, 10), (dave(), 2_000, 10)]);
    let json = serde_json::json!({ "message": "settle_fees_with_tee_batch", "provider": format!("0x{}", hex(&bytes(&charlie()))),
        "signature": format!("0x{}", hex(&sig)),
        "entries": entries.iter().map(|e| serde_json::json!({ "user": format!("0x{}", hex(&bytes(&e.user))),
            "totalFee": e.total_fee, "requestsHash": format!("0x{}", hex(&e.requests_hash)), "nonce": e.nonce })).collect::<Vec<_>>() });
    let input = Input::parse(&json)?;
    let path2 = dir.join("batch.json");
    let _ = std::fs::remove_file(&path2);
    for expected in [1, 0] {
        let mut state = State::open(&path2, &inference)?;
        let mut chain = SandboxChain {
            client: &mut client,
            contract: inference,
            submissions: 0,
            interrupt_after: None,
            down: false,
        };
        let out = run(&mut chain, &input, &mut state, 50, |_| {}).await?;
        assert_eq!(chain.submissions, expected);
        assert_eq!(out["counts"]["settled"], 2);
    }
    assert_eq!(client.free_balance(charlie()).await? - provider0, 1_203_000);
    // A state file of another contract is refused.
    assert!(State::open(&path, &ledger).is_err());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Issue 25: the settlement agent (`serving settle --watch`'s ticks) against the real contracts. Bob's vouchers wait
/// in the spool (no full batch, not old); Bob asks for his money back; the agent settles them before the refund
/// unlocks, not before the margin; a node that goes away changes nothing and the next tick goes on; nothing is sent
/// twice; the money adds up.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn the_agent_settles_before_a_refund_unlocks(mut client: Client) -> E2EResult<()> {
    const LOCK: u64 = 3_600_000;
    const MARGIN: u64 = 600_000;
    let (ledger, inference, _) = serving_e2e_tests::deploy_three(&mut client, CHAIN_ID, LOCK, 1_000, 30).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("inference".into(), "v1".into(), inference, String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    let p = serving_e2e_tests::inference_service("https://provider.example/v1", tee().address());
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(p)).value(1_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(20_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), inference, 10_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));

    let dir = std::env::temp_dir().join(format!("serving-watch-{}", std::process::id()));
    let spool = dir.join("spool");
    std::fs::create_dir_all(&spool)?;
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    let v = |fee, nonce| inference_voucher(&tee(), CHAIN_ID, inference, bob(), charlie(), fee, nonce);
    std::fs::write(spool.join("a.json"), signed(&[v(1_000_000, 1), v(2_000_000, 2)]).to_string())?;
    std::fs::write(spool.join("b.json"), signed(&[v(500_000, 3)]).to_string())?;
    std::fs::write(spool.join("notes.txt"), "not a voucher file: left alone")?;
    let policy = Policy { max_batch: 50, max_age_ms: 10 * LOCK, margin_ms: MARGIN };
    let mut agent = Agent::new(spool.clone(), policy);
    let mut state = State::open(&path, &inference)?;
    let provider0 = client.free_balance(charlie()).await?;
    let mut log = Vec::new();

    // Nothing is due: three young vouchers, no deadline.
    let mut chain =
        SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None, down: false };
    let t = agent.tick(&mut chain, &mut state, |l| log.push(l.to_string())).await?;
    assert_eq!((t.pending, t.due.clone(), chain.submissions), (3, None, 0));

    // Bob asks for everything back: a refund that unlocks a lock time from now.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    let unlock = serving_e2e_tests::now_ms() + LOCK;
    serving_e2e_tests::advance_ms(LOCK - MARGIN - 1);
    let mut chain =
        SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None, down: false };
    let t = agent.tick(&mut chain, &mut state, |l| log.push(l.to_string())).await?;
    assert_eq!((t.due.clone(), chain.submissions), (None, 0), "the deadline is just outside the margin");

    // The node goes away: the tick fails, nothing is recorded, nothing is lost.
    serving_e2e_tests::advance_ms(1);
    chain.down = true;
    let err = agent.tick(&mut chain, &mut state, |l| log.push(l.to_string())).await.unwrap_err();
    assert!(err.contains("node is down"), "{err}");
    assert!(State::open(&path, &inference)?.vouchers().is_empty(), "no voucher recorded while the node was down");

    // Back: within the margin of the unlock, the agent settles all three, before the refund can be collected.
    chain.down = false;
    let t = agent.tick(&mut chain, &mut state, |l| log.push(l.to_string())).await?;
    assert_eq!(t.due, Some(Due::Deadline { user: bob(), at: unlock }), "{log:?}");
    assert_eq!(chain.submissions, 1);
    assert!(serving_e2e_tests::now_ms() < unlock);
    assert_eq!(t.summary.as_ref().map(|s| s["counts"]["settled"].clone()), Some(3.into()));
    // A later tick (and a restarted agent with the same state file) sends nothing again.
    let t = agent.tick(&mut chain, &mut state, |l| log.push(l.to_string())).await?;
    assert_eq!((t.pending, chain.submissions), (0, 1));
    let mut restarted = Agent::new(spool.clone(), policy);
    let mut state = State::open(&path, &inference)?;
    let t = restarted.tick(&mut chain, &mut state, |l| log.push(l.to_string())).await?;
    assert_eq!((t.pending, chain.submissions), (0, 1));

    // Money: the provider earned exactly the three fees; after the unlock Bob collects the rest.
    assert_eq!(client.free_balance(charlie()).await? - provider0, 3_500_000);
    serving_e2e_tests::advance_ms(MARGIN);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(6_500_000));
    let r = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap();
    assert_eq!((r.available_balance, r.total_balance), (16_500_000, 16_500_000));
    // A new voucher for a user without a deadline waits for its age.
    std::fs::write(spool.join("c.json"), signed(&[v(1, 4)]).to_string())?;
    let mut chain =
        SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None, down: false };
    let t = agent.tick(&mut chain, &mut state, |_| {}).await?;
    assert_eq!((t.pending, t.due.clone()), (1, None));
    serving_e2e_tests::advance_ms(10 * LOCK);
    let t = agent.tick(&mut chain, &mut state, |_| {}).await?;
    assert!(matches!(t.due, Some(Due::Age { .. })), "{t:?}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
