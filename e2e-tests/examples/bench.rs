//! Weight benchmark of the release bundles in ink_e2e's sandbox (real pallet-contracts). Run with `make bench`
//! (which builds the bundles first); prints the tables and writes them to docs/benchmarks.md.
//!
//! Weights are what pallet-contracts charges (ref_time in picoseconds, proof_size in bytes), read from the
//! dry run of each call on the state the benchmark built; they are deterministic, not timings.
use fine_tuning::fine_tuning::{FineTuning, FineTuningRef, Quota, ServiceParams as FtParams, VerifierInput};
use inference::inference::{Inference, InferenceRef, ServiceParams};
use ink::primitives::AccountId;
use ink_e2e::subxt::dynamic::Value;
use ink_e2e::{ChainBackend, ContractsBackend, Keypair};
use ledger::ledger::{Ledger, LedgerRef};
use serving_e2e_tests::{bytes, id, inference_voucher, tee, Client};
use std::fmt::Write as _;
use std::str::FromStr as _;
use verifier::{Domain, LocalCrypto, VerifierMessage};

const CHAIN_ID: u64 = 42;
const LOCK_MS: u64 = 3_600_000;
const MIN_STAKE: u128 = 100_000_000;
/// Ref-time available to normal transactions in a 2 s block (75 %).
const BLOCK_REF_TIME: u128 = 1_500_000_000_000;
/// Proof size available in a block (5 MiB PoV, 75 %).
const BLOCK_PROOF: u128 = 5 * 1024 * 1024 * 3 / 4;

type R<T> = Result<T, Box<dyn std::error::Error>>;

struct Row {
    contract: &'static str,
    message: String,
    condition: String,
    ref_time: u64,
    proof: u64,
}

macro_rules! weigh {
    ($client:expr, $who:expr, $msg:expr) => {{
        let r = $client.call($who, $msg).dry_run().await?;
        let w = r.exec_result.gas_consumed;
        (w.ref_time(), w.proof_size())
    }};
    ($client:expr, $who:expr, $msg:expr, value $v:expr) => {{
        let r = $client.call($who, $msg).value($v).dry_run().await?;
        let w = r.exec_result.gas_consumed;
        (w.ref_time(), w.proof_size())
    }};
}

async fn run() -> R<String> {
    let mut client = Client::new([
        "target/ink/ledger/ledger.wasm",
        "target/ink/inference/inference.wasm",
        "target/ink/fine_tuning/fine_tuning.wasm",
    ]);
    let alice = ink_e2e::alice();
    let provider_kp = ink_e2e::charlie();
    let provider = id(&provider_kp);
    let mut rows = Vec::new();
    let mut row = |contract, message: &str, condition: &str, (ref_time, proof): (u64, u64)| {
        rows.push(Row { contract, message: message.into(), condition: condition.into(), ref_time, proof })
    };

    let mut c = LedgerRef::new(CHAIN_ID, 3_000_000, 1_000_000);
    let ledger = client.instantiate("ledger", &alice, &mut c).submit().await?.account_id;
    let mut c = InferenceRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE);
    let inference = client.instantiate("inference", &alice, &mut c).submit().await?.account_id;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let reg = l.register_service("inference".into(), "v1".into(), inference, String::new());
    row("ledger", "register_service", "first", weigh!(client, &alice, &reg));
    client.call(&alice, &reg).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;

    let params = ServiceParams {
        service_type: "chatbot".into(),
        url: "https://provider.example/v1".into(),
        input_price: 1,
        output_price: 2,
        model: "llama-3-8b".into(),
        verifiability: "TeeML".into(),
        additional_info: String::new(),
        tee_signer: tee().address(),
    };
    let add = i.add_or_update_service(params.clone());
    row(
        "inference",
        "add_or_update_service",
        "register with stake",
        weigh!(client, &provider_kp, &add, value MIN_STAKE),
    );
    client.call(&provider_kp, &add).value(MIN_STAKE).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
    row("inference", "add_or_update_service", "update (url)", weigh!(client, &provider_kp, &add));
    let ack = i.acknowledge_tee_signer_by_owner(provider);
    row("inference", "acknowledge_tee_signer_by_owner", "", weigh!(client, &alice, &ack));
    client.call(&alice, &ack).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;

    // 50 users, each with a ledger and a sub-account with the provider.
    let mut users: Vec<Keypair> = Vec::new();
    for n in 0..50 {
        // Fixed keys (not random ones), so every run weighs the same bytes and the table is reproducible.
        let uri =
            ink_e2e::subxt_signer::SecretUri::from_str(&format!("//BenchUser{n}")).map_err(|e| format!("{e:?}"))?;
        let kp = Keypair::from_uri(&uri).map_err(|e| format!("{e:?}"))?;
        let dest = Value::unnamed_variant("Id", [Value::from_bytes(bytes(&id(&kp)))]);
        client
            .runtime_call(&alice, "Balances", "transfer_allow_death", vec![dest, Value::u128(1_000_000_000_000)])
            .await?;
        let add_ledger = l.add_ledger(String::new());
        if n == 0 {
            row("ledger", "add_ledger", "empty info", weigh!(client, &kp, &add_ledger, value 100_000_000));
        }
        client
            .call(&kp, &add_ledger)
            .value(100_000_000)
            .submit()
            .await?
            .return_value()
            .map_err(|e| format!("{e:?}"))?;
        let t = l.transfer_fund(provider, inference, 50_000_000);
        if n == 0 {
            row("ledger", "transfer_fund", "new sub-account", weigh!(client, &kp, &t));
        }
        client.call(&kp, &t).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
        if n == 0 {
            let t = l.transfer_fund(provider, inference, 1_000_000);
            row("ledger", "transfer_fund", "existing sub-account", weigh!(client, &kp, &t));
            let d = l.deposit_fund();
            row("ledger", "deposit_fund", "existing ledger", weigh!(client, &kp, &d, value 1_000_000));
            let r = l.refund(1_000_000);
            row("ledger", "refund", "partial", weigh!(client, &kp, &r));
            let r = l.retrieve_fund(vec![provider], inference);
            row("ledger", "retrieve_fund", "1 provider, queue a refund", weigh!(client, &kp, &r));
            let a = i.acknowledge_tee_signer(provider, true);
            row("inference", "acknowledge_tee_signer", "user", weigh!(client, &kp, &a));
            let a = i.revoke_token(provider, 7);
            row("inference", "revoke_token", "", weigh!(client, &kp, &a));
        }
        users.push(kp);
    }
    let ids: Vec<AccountId> = users.iter().map(id).collect();

    // Settlement curve: distinct users, then one user repeated.
    let mut curve = Vec::new();
    let mut nonce = 0u128;
    for n in [1usize, 2, 5, 10, 20, 50] {
        nonce += 1;
        let batch: Vec<_> = ids[..n]
            .iter()
            .map(|u| inference_voucher(&tee(), CHAIN_ID, inference, *u, provider, 1_000, nonce))
            .collect();
        let (rt, pf) = weigh!(client, &provider_kp, &i.settle_fees_with_tee(batch));
        curve.push(("distinct", n, rt, pf));
    }
    for n in [1usize, 2, 5, 10, 20, 50] {
        let batch: Vec<_> = (0..n)
            .map(|k| inference_voucher(&tee(), CHAIN_ID, inference, ids[0], provider, 1_000, nonce + 1 + k as u128))
            .collect();
        let (rt, pf) = weigh!(client, &provider_kp, &i.settle_fees_with_tee(batch));
        curve.push(("repeated", n, rt, pf));
    }

    // Fine-tuning: one task acknowledged and settled in full, one settled with the penalty.
    let mut c = FineTuningRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, 30);
    let ft = client.instantiate("fine_tuning", &alice, &mut c).submit().await?.account_id;
    let mut f = ink_e2e::create_call_builder::<FineTuning>(ft);
    let reg = l.register_service("fine-tuning".into(), "v1".into(), ft, String::new());
    client.call(&alice, &reg).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
    let ft_params = FtParams {
        url: "https://trainer.example".into(),
        quota: Quota { cpu_count: 8, node_memory: 64, gpu_count: 1, node_storage: 500, gpu_type: "H100".into() },
        price_per_token: 1,
        occupied: false,
        models: vec!["llama-3-8b".into()],
        tee_signer: tee().address(),
    };
    let add = f.add_or_update_service(ft_params);
    row(
        "fine_tuning",
        "add_or_update_service",
        "register with stake",
        weigh!(client, &provider_kp, &add, value MIN_STAKE),
    );
    client.call(&provider_kp, &add).value(MIN_STAKE).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
    client
        .call(&alice, &f.acknowledge_tee_signer_by_owner(provider))
        .submit()
        .await?
        .return_value()
        .map_err(|e| format!("{e:?}"))?;
    let user = &users[0];
    client
        .call(user, &l.transfer_fund(provider, ft, 10_000_000))
        .submit()
        .await?
        .return_value()
        .map_err(|e| format!("{e:?}"))?;
    let root = b"model-root-hash".to_vec();
    let ft_voucher = |id: &str, secret: &[u8], nonce: u128| {
        let msg = VerifierMessage {
            id: id.as_bytes(),
            encrypted_secret: secret,
            model_root_hash: &root,
            nonce,
            task_fee: 1_000_000,
            user: bytes(&ids[0]),
            provider: bytes(&provider),
        };
        let c = LocalCrypto;
        let digest = Domain::fine_tuning(CHAIN_ID, bytes(&ft)).digest(&c, &msg.struct_hash(&c));
        VerifierInput {
            id: id.into(),
            encrypted_secret: secret.to_vec(),
            model_root_hash: root.clone(),
            nonce,
            task_fee: 1_000_000,
            user: ids[0],
            signature: tee().sign_digest(&digest).to_vec(),
        }
    };
    let a = f.add_deliverable(ids[0], "task-0001".into(), root.clone());
    row("fine_tuning", "add_deliverable", "first task, 9-byte id", weigh!(client, &provider_kp, &a));
    client.call(&provider_kp, &a).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
    let a = f.acknowledge_deliverable(provider, "task-0001".into());
    row("fine_tuning", "acknowledge_deliverable", "", weigh!(client, user, &a));
    client.call(user, &a).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
    let s = f.settle_fees(ft_voucher("task-0001", &[0xab; 64], 1));
    row("fine_tuning", "settle_fees", "acknowledged, 64-byte secret", weigh!(client, &provider_kp, &s));
    client.call(&provider_kp, &s).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
    let a = f.add_deliverable(ids[0], "task-0002".into(), root.clone());
    row("fine_tuning", "add_deliverable", "next task", weigh!(client, &provider_kp, &a));
    client.call(&provider_kp, &a).submit().await?.return_value().map_err(|e| format!("{e:?}"))?;
    let s = f.settle_fees(ft_voucher("task-0002", b"", 2));
    row("fine_tuning", "settle_fees", "penalty (not acknowledged)", weigh!(client, &provider_kp, &s));

    let mut out = String::new();
    writeln!(out, "# Benchmarks\n")?;
    writeln!(
        out,
        "Generated by `make bench` (release bundles in ink_e2e's sandbox, pallet-contracts weights from dry runs). \
         Do not edit by hand. Users have fixed keys; ink_e2e gives each contract a random salt, so the \
         contract address, hence the signed digests, differ between runs and the settlement rows move in the \
         last five or six digits (byte comparisons in the signature checks stop at the first difference).\n"
    )?;
    writeln!(out, "## Settlement (`settle_fees_with_tee`)\n")?;
    writeln!(out, "Target (design.md): ≤ 250 M ps ref_time per entry at batch 50. Blocks: 2 s, 75 % for normal transactions (1.5·10^12 ps), 5 MiB PoV (75 %).\n")?;
    writeln!(out, "| users | batch | ref_time total (ps) | ref_time / entry | proof_size total (B) | proof / entry | entries per block (ref_time) | entries per block (proof) |")?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    for (kind, n, rt, pf) in &curve {
        let per = u128::from(*rt) / *n as u128;
        let per_pf = u128::from(*pf) / *n as u128;
        writeln!(
            out,
            "| {kind} | {n} | {rt} | {per} | {pf} | {per_pf} | {} | {} |",
            BLOCK_REF_TIME / per.max(1),
            BLOCK_PROOF / per_pf.max(1)
        )?;
    }
    writeln!(out, "\n## Messages\n")?;
    writeln!(out, "| contract | message | condition | ref_time (ps) | proof_size (B) |")?;
    writeln!(out, "|---|---|---|---:|---:|")?;
    for r in &rows {
        writeln!(out, "| {} | `{}` | {} | {} | {} |", r.contract, r.message, r.condition, r.ref_time, r.proof)?;
    }
    writeln!(out, "\n## Code size (release Wasm)\n")?;
    writeln!(out, "| contract | bytes | KiB | limit 123 KiB | target 64 KiB |")?;
    writeln!(out, "|---|---:|---:|---|---|")?;
    for c in ["ledger", "inference", "fine_tuning"] {
        let size = std::fs::metadata(format!("target/ink/{c}/{c}.wasm"))?.len();
        let kib = size as f64 / 1024.0;
        writeln!(
            out,
            "| {c} | {size} | {kib:.1} | {} | {} |",
            if size <= 123 * 1024 { "ok" } else { "OVER" },
            if size <= 64 * 1024 { "met" } else { "missed" }
        )?;
    }
    Ok(out)
}

fn main() {
    let rt = ink_e2e::tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(run()) {
        Ok(table) => {
            print!("{table}");
            std::fs::write("docs/benchmarks.md", &table).expect("write docs/benchmarks.md");
            eprintln!("\nwritten to docs/benchmarks.md");
        }
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
