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
}

impl SandboxChain<'_> {
    fn results(&self) -> R<Vec<TeeSettlementResult>> {
        let ev = take_events();
        let mut r = events_of::<TeeSettlementResults>(&ev, &bytes(&self.contract));
        r.pop().map(|e| e.results).ok_or_else(|| "no TeeSettlementResults event".to_string())
    }

    fn count(&mut self) -> R<()> {
        self.submissions += 1;
        Ok(())
    }

    fn interrupted(&self) -> bool {
        self.interrupt_after.is_some_and(|n| self.submissions > n)
    }
}

impl Chain for SandboxChain<'_> {
    async fn preview(&mut self, v: &[TeeSettlementData]) -> R<Result<Vec<SettlementOutcome>, Error>> {
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
    let mut chain = SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: Some(1) };
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
    let mut chain = SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None };
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
    let mut chain = SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None };
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
        let mut chain =
            SandboxChain { client: &mut client, contract: inference, submissions: 0, interrupt_after: None };
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
