//! `serving settle`: a provider's signed vouchers to the chain, without losing or resubmitting any.
//!
//! Input: what `serving sign` prints (per-voucher signed: `{"message": "settle_fees_with_tee", "settlements":
//! [..]}`; batch-signed: `{"message": "settle_fees_with_tee_batch", "provider", "entries": [..], "signature"}`).
//! Each voucher is known by (user, nonce), which the contract makes unique per provider.
//!
//! The run, against any [`Chain`] (a node through subxt in the binary, the sandbox runtime in the tests):
//! 1. the state file (created on the first run) says what happened to each voucher so far; vouchers already
//!    `settled` or `refused` are never sent again;
//! 2. the rest is previewed (a dry run of the preview message): vouchers the contract would refuse for good
//!    (`InvalidSignature`, `InvalidNonce`, `ProviderMismatch`, `AccountNotFound`) are recorded as refused with
//!    that reason and not sent; `NoTeeSigner` / `ServiceNotFound` stay pending (they may pass later);
//! 3. what remains goes out in batches of at most `max_batch` (a batch-signed set as one unit: its signature
//!    covers exactly those entries); before each submission its vouchers are recorded as `submitted`, after
//!    inclusion each gets the outcome the chain's `TeeSettlementResults` event reports (not the dry run's);
//! 4. a crash between 3's two writes leaves vouchers `submitted`: the next run previews them again and the
//!    contract's nonce rule answers: `InvalidNonce` means the submission was included (its preview had accepted
//!    the nonce), recorded as `settled` with status `IncludedBeforeInterruption` (the amount is in that block's
//!    event); otherwise it was not included and is sent again. Never paid twice: the contract refuses a used
//!    nonce whatever the state file says.
//!
//! The state file is rewritten atomically (temporary file, then rename) after every change.
use inference::inference::{
    BatchEntry, Error, SettlementOutcome, SettlementStatus, TeeSettlementData, TeeSettlementResult,
};
use ink::primitives::AccountId;
use serde_json::{json, Map, Value};
use std::path::Path;

type R<T> = Result<T, String>;

/// Vouchers per call unless `--max-batch` says otherwise: the contract's default limit (`MAX_SETTLEMENTS`; the
/// owner may allow up to `MAX_SETTLEMENTS_LIMIT`, shown as `config().max_batch`).
pub const DEFAULT_MAX_BATCH: usize = inference::inference::MAX_SETTLEMENTS as usize;
/// The largest `--max-batch`.
pub const MAX_BATCH_LIMIT: usize = inference::inference::MAX_SETTLEMENTS_LIMIT as usize;

/// What `serving settle` needs from a chain. Errors are transport failures (the node is unreachable, the
/// extrinsic was not included); a contract's refusal is the inner `Result`.
#[allow(async_fn_in_trait)]
pub trait Chain {
    async fn preview(&mut self, vouchers: &[TeeSettlementData]) -> R<Result<Vec<SettlementOutcome>, Error>>;
    async fn preview_batch(
        &mut self,
        entries: &[BatchEntry],
        signature: &[u8],
    ) -> R<Result<Vec<SettlementOutcome>, Error>>;
    /// Submits `settle_fees_with_tee`, waits for inclusion and returns the results of the contract's
    /// `TeeSettlementResults` event, or the contract's error.
    async fn settle(&mut self, vouchers: Vec<TeeSettlementData>) -> R<Result<Vec<TeeSettlementResult>, Error>>;
    async fn settle_batch(
        &mut self,
        entries: Vec<BatchEntry>,
        signature: Vec<u8>,
    ) -> R<Result<Vec<TeeSettlementResult>, Error>>;
}

/// The signed input.
#[derive(Debug, Clone)]
pub enum Input {
    Vouchers(Vec<TeeSettlementData>),
    Batch { provider: AccountId, entries: Vec<BatchEntry>, signature: Vec<u8> },
}

impl Input {
    /// Parses `serving sign`'s output.
    pub fn parse(v: &Value) -> R<Input> {
        match v["message"].as_str() {
            Some("settle_fees_with_tee") => {
                let list = v["settlements"].as_array().ok_or("missing array \"settlements\"")?;
                let mut out = Vec::new();
                for (n, s) in list.iter().enumerate() {
                    let at = |e: String| format!("settlements[{n}]: {e}");
                    out.push(TeeSettlementData {
                        user: AccountId::from(hex_n::<32>(s, "user").map_err(at)?),
                        provider: AccountId::from(hex_n::<32>(s, "provider").map_err(at)?),
                        total_fee: uint(s, "totalFee").map_err(at)?,
                        requests_hash: hex_n::<32>(s, "requestsHash").map_err(at)?,
                        nonce: uint(s, "nonce").map_err(at)?,
                        signature: hex_vec(s, "signature").map_err(at)?,
                    });
                }
                Ok(Input::Vouchers(out))
            }
            Some("settle_fees_with_tee_batch") => {
                let list = v["entries"].as_array().ok_or("missing array \"entries\"")?;
                let mut entries = Vec::new();
                for (n, s) in list.iter().enumerate() {
                    let at = |e: String| format!("entries[{n}]: {e}");
                    entries.push(BatchEntry {
                        user: AccountId::from(hex_n::<32>(s, "user").map_err(at)?),
                        total_fee: uint(s, "totalFee").map_err(at)?,
                        requests_hash: hex_n::<32>(s, "requestsHash").map_err(at)?,
                        nonce: uint(s, "nonce").map_err(at)?,
                    });
                }
                Ok(Input::Batch {
                    provider: AccountId::from(hex_n::<32>(v, "provider")?),
                    entries,
                    signature: hex_vec(v, "signature")?,
                })
            }
            _ => Err("not the output of `serving sign`: \"message\" must be settle_fees_with_tee or \
                      settle_fees_with_tee_batch"
                .into()),
        }
    }

    /// (user, nonce) of every voucher, in order.
    fn keys(&self) -> Vec<String> {
        match self {
            Input::Vouchers(v) => v.iter().map(|e| key(&e.user, e.nonce)).collect(),
            Input::Batch { entries, .. } => entries.iter().map(|e| key(&e.user, e.nonce)).collect(),
        }
    }

    fn fee(&self, i: usize) -> u128 {
        match self {
            Input::Vouchers(v) => v.get(i).map_or(0, |e| e.total_fee),
            Input::Batch { entries, .. } => entries.get(i).map_or(0, |e| e.total_fee),
        }
    }
}

fn key(user: &AccountId, nonce: u128) -> String {
    format!("0x{}:{nonce}", hex::encode(user))
}

/// The record of one run after another: voucher key → `{state, ...}`.
pub struct State {
    path: std::path::PathBuf,
    contract: String,
    vouchers: Map<String, Value>,
}

impl State {
    /// Loads the state file, or starts one for `contract`. A file for another contract is refused.
    pub fn open(path: &Path, contract: &AccountId) -> R<State> {
        let contract = format!("0x{}", hex::encode(contract));
        if !path.exists() {
            return Ok(State { path: path.into(), contract, vouchers: Map::new() });
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        if v["contract"].as_str() != Some(contract.as_str()) {
            return Err(format!(
                "{} records settlements for contract {}, not {contract}",
                path.display(),
                v["contract"]
            ));
        }
        let vouchers = v["vouchers"].as_object().cloned().unwrap_or_default();
        Ok(State { path: path.into(), contract, vouchers })
    }

    fn state_of(&self, k: &str) -> &str {
        self.vouchers.get(k).and_then(|v| v["state"].as_str()).unwrap_or("pending")
    }

    fn final_(&self, k: &str) -> bool {
        matches!(self.state_of(k), "settled" | "refused")
    }

    fn set(&mut self, k: &str, v: Value) {
        self.vouchers.insert(k.to_string(), v);
    }

    /// Writes the file atomically: a reader (or a crash) sees the old or the new state, never half of one.
    fn save(&self) -> R<()> {
        let tmp = self.path.with_extension("tmp");
        let body = json!({ "contract": self.contract, "vouchers": self.vouchers });
        std::fs::write(&tmp, serde_json::to_string_pretty(&body).unwrap_or_default())
            .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| format!("writing {}: {e}", self.path.display()))
    }

    pub fn vouchers(&self) -> &Map<String, Value> {
        &self.vouchers
    }
}

/// Refusals that no later attempt can turn into a settlement.
fn permanent(s: SettlementStatus) -> bool {
    use SettlementStatus::*;
    matches!(s, ProviderMismatch | InvalidNonce | InvalidSignature | AccountNotFound)
}

fn refused(status: SettlementStatus) -> Value {
    let reason = match status {
        SettlementStatus::InvalidNonce => "nonce already used on chain (settled earlier, or a stale voucher)",
        SettlementStatus::InvalidSignature => "signature is not the provider's TEE signer's over this voucher",
        SettlementStatus::ProviderMismatch => "the voucher names another provider",
        SettlementStatus::AccountNotFound => "the user has no sub-account with this provider",
        _ => "refused",
    };
    json!({ "state": "refused", "status": format!("{status:?}"), "reason": reason })
}

/// The record for a voucher the preview says will not settle now.
fn after_preview(state: &State, k: &str, status: SettlementStatus) -> Value {
    if status == SettlementStatus::InvalidNonce && state.state_of(k) == "submitted" {
        // Sent by an interrupted run after a preview that accepted it; now its nonce is used: it was included.
        return json!({ "state": "settled", "status": "IncludedBeforeInterruption",
                       "reason": "sent by an interrupted run and included (the contract's nonce has passed it); \
                                  the amount is in that block's TeeSettlementResults event" });
    }
    if permanent(status) {
        refused(status)
    } else {
        pending(format!("preview: {status:?}"))
    }
}

fn pending(reason: String) -> Value {
    json!({ "state": "pending", "reason": reason })
}

/// Runs the settlement of `input` against `chain`, recording every step in `state`. `progress` gets one line
/// per batch. Returns the summary printed by the command.
pub async fn run(
    chain: &mut impl Chain,
    input: &Input,
    state: &mut State,
    max_batch: usize,
    mut progress: impl FnMut(&str),
) -> R<Value> {
    if max_batch == 0 || max_batch > MAX_BATCH_LIMIT {
        return Err(format!("--max-batch must be 1..={MAX_BATCH_LIMIT} (the contract's `config().max_batch`)"));
    }
    let keys = input.keys();
    let mut seen = std::collections::HashSet::new();
    if let Some(k) = keys.iter().find(|k| !seen.insert(k.as_str())) {
        return Err(format!("voucher {k} appears twice in the input"));
    }
    // Indices still to be settled.
    let open: Vec<usize> = (0..keys.len()).filter(|&i| !state.final_(&keys[i])).collect();
    let skipped = keys.len().saturating_sub(open.len());
    if skipped > 0 {
        progress(&format!("{skipped} voucher(s) already settled or refused in the state file: not sent again"));
    }
    match input {
        Input::Vouchers(all) => {
            // Preview in chunks the contract accepts; keep what would settle.
            let mut send = Vec::new();
            for chunk in open.chunks(max_batch) {
                let vouchers: Vec<_> = chunk.iter().filter_map(|&i| all.get(i).cloned()).collect();
                match chain.preview(&vouchers).await? {
                    Ok(outcomes) => {
                        for (&i, o) in chunk.iter().zip(outcomes) {
                            match o.status {
                                SettlementStatus::Success | SettlementStatus::Partial => send.push(i),
                                s => {
                                    let v = after_preview(state, &keys[i], s);
                                    state.set(&keys[i], v);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        for &i in chunk {
                            state.set(&keys[i], pending(format!("preview refused the batch: {e:?}")));
                        }
                    }
                }
            }
            state.save()?;
            let batches: Vec<&[usize]> = send.chunks(max_batch).collect();
            let total = batches.len();
            for (n, batch) in batches.into_iter().enumerate() {
                for &i in batch {
                    state.set(&keys[i], json!({ "state": "submitted" }));
                }
                state.save()?;
                let vouchers: Vec<_> = batch.iter().filter_map(|&i| all.get(i).cloned()).collect();
                let result = chain.settle(vouchers).await;
                let line = record(state, &keys, batch, result, input)?;
                progress(&format!("batch {}/{total}: {line}", n.saturating_add(1)));
            }
        }
        Input::Batch { entries, signature, .. } => {
            if !open.is_empty() {
                // One signature covers the whole set: it goes out whole, or not at all.
                let all: Vec<usize> = (0..keys.len()).collect();
                match chain.preview_batch(entries, signature).await? {
                    Err(Error::InvalidBatchSignature) => {
                        for &i in &open {
                            state.set(
                                &keys[i],
                                json!({ "state": "refused", "status": "InvalidBatchSignature",
                                        "reason": "the batch signature does not cover these entries" }),
                            );
                        }
                    }
                    Err(e) => {
                        for &i in &open {
                            state.set(&keys[i], pending(format!("preview refused the batch: {e:?}")));
                        }
                    }
                    Ok(outcomes) if outcomes.iter().any(|o| o.settled > 0) => {
                        for &i in &open {
                            state.set(&keys[i], json!({ "state": "submitted" }));
                        }
                        state.save()?;
                        let result = chain.settle_batch(entries.clone(), signature.clone()).await;
                        let line = record(state, &keys, &all, result, input)?;
                        progress(&format!("batch 1/1 (batch-signed): {line}"));
                    }
                    Ok(outcomes) => {
                        for (i, o) in outcomes.iter().enumerate() {
                            let k = &keys[i];
                            if !state.final_(k) {
                                let v = after_preview(state, k, o.status);
                                state.set(k, v);
                            }
                        }
                    }
                }
                state.save()?;
            }
        }
    }
    Ok(summary(state, &keys))
}

/// Records a submission's result for the vouchers at `batch`; returns the progress line.
fn record(
    state: &mut State,
    keys: &[String],
    batch: &[usize],
    result: R<Result<Vec<TeeSettlementResult>, Error>>,
    input: &Input,
) -> R<String> {
    let results = match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            for &i in batch {
                state.set(&keys[i], pending(format!("the contract refused the batch: {e:?}")));
            }
            state.save()?;
            return Ok(format!("{} voucher(s) refused as a batch ({e:?}), kept pending", batch.len()));
        }
        Err(e) => {
            // Not known to be included: `submitted` stays, and the next run asks the contract (nonces).
            state.save()?;
            return Err(format!("submission failed: {e} (rerun: the state file knows what was sent)"));
        }
    };
    if results.len() != batch.len() {
        return Err(format!("the settlement event has {} results for {} vouchers", results.len(), batch.len()));
    }
    let (mut settled, mut refused_n, mut amount) = (0usize, 0usize, 0u128);
    for (&i, r) in batch.iter().zip(&results) {
        let k = &keys[i];
        if key(&r.user, r.nonce) != *k {
            return Err(format!("the settlement event reports {} where {k} was sent", key(&r.user, r.nonce)));
        }
        if state.final_(k) {
            continue; // a batch-signed entry already recorded by an earlier run
        }
        let v = match r.status {
            SettlementStatus::Success | SettlementStatus::Partial => {
                settled = settled.saturating_add(1);
                amount = amount.saturating_add(r.settled);
                json!({ "state": "settled", "status": format!("{:?}", r.status), "settled": r.settled.to_string(),
                        "unsettled": r.unsettled.to_string(), "fee": input.fee(i).to_string() })
            }
            s if permanent(s) => {
                refused_n = refused_n.saturating_add(1);
                refused(s)
            }
            s => pending(format!("settlement: {s:?}")),
        };
        state.set(k, v);
    }
    state.save()?;
    Ok(format!("{} voucher(s): {settled} settled ({amount} paid), {refused_n} refused", batch.len()))
}

fn summary(state: &State, keys: &[String]) -> Value {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut paid = 0u128;
    let mut vouchers = Vec::new();
    for k in keys {
        let v = state.vouchers.get(k).cloned().unwrap_or_else(|| json!({ "state": "pending" }));
        let s = v["state"].as_str().unwrap_or("pending").to_string();
        *counts.entry(s).or_default() += 1;
        paid = paid.saturating_add(v["settled"].as_str().and_then(|x| x.parse().ok()).unwrap_or(0));
        let mut v = v;
        v["voucher"] = k.clone().into();
        vouchers.push(v);
    }
    json!({ "counts": counts, "paidInStateFile": paid.to_string(), "vouchers": vouchers })
}

fn hex_vec(v: &Value, name: &str) -> R<Vec<u8>> {
    let s = v[name].as_str().ok_or_else(|| format!("missing string field \"{name}\""))?;
    let h = s.strip_prefix("0x").ok_or_else(|| format!("{name}: expected 0x-prefixed hex"))?;
    hex::decode(h).map_err(|e| format!("{name}: bad hex: {e}"))
}

fn hex_n<const N: usize>(v: &Value, name: &str) -> R<[u8; N]> {
    let b = hex_vec(v, name)?;
    let len = b.len();
    b.try_into().map_err(|_| format!("{name}: expected {N} bytes, got {len}"))
}

fn uint(v: &Value, name: &str) -> R<u128> {
    match &v[name] {
        Value::String(s) => s.parse().map_err(|_| format!("{name}: not an integer of at most 128 bits: `{s}`")),
        Value::Number(n) => n.as_u64().map(u128::from).ok_or_else(|| format!("{name}: not a non-negative integer")),
        _ => Err(format!("missing integer field \"{name}\"")),
    }
}
