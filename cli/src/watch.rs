//! `serving settle --watch`: a provider's settlement agent. It takes signed vouchers as the TEE writes them (files
//! in a spool folder, each what `serving sign` prints), keeps [`crate::settle`]'s crash-safe state file, and settles
//! with the same runner when one of these comes first:
//! * **a full batch**: as many pending vouchers as the contract takes per call (`config().max_batch`);
//! * **an old voucher**: the oldest pending voucher was first seen `max_age_ms` ago;
//! * **a deadline**: a user with pending vouchers asked for a refund, or withdrew consent, and the moment that takes
//!   effect (the earliest refund's `unlock_at`, or `consent_ends_at`) is within `margin_ms`. After it the user's
//!   money can leave the sub-account (refund collected) or the signer stops counting for the user (`NoTeeSigner`),
//!   so the agent settles that user's vouchers first. It reads these times from the users' sub-accounts on every
//!   tick (`get_batch_accounts_by_users`, 50 users per dry run) instead of following events: a reconnect or a
//!   restart can then miss nothing.
//!
//! A tick is [`Agent::tick`]; the binary loops over it with back-off on errors (a node that went away) and stops
//! between ticks on SIGINT/SIGTERM, so the state file is always whole. Never double-submits: the runner records
//! `submitted` before sending and recognises an interrupted submission by its used nonce.
use crate::settle::{run, Chain, Input, State};
use inference::inference::{AccountView, TeeSettlementData};
use ink::primitives::AccountId;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

type R<T> = Result<T, String>;

/// What the agent needs beyond the runner's [`Chain`].
#[allow(async_fn_in_trait)]
pub trait Watch: Chain {
    /// The sub-accounts of `users` with this provider, in order (`None` where there is none).
    async fn accounts(&mut self, users: &[AccountId]) -> R<Vec<Option<AccountView>>>;
    /// The chain's time, in milliseconds (a node: the wall clock; block times follow it).
    fn now_ms(&mut self) -> u64;
}

/// When to settle.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_batch: usize,
    pub max_age_ms: u64,
    pub margin_ms: u64,
}

/// Why a tick settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    FullBatch { pending: usize },
    Age { oldest_seen_at: u64 },
    Deadline { user: AccountId, at: u64 },
}

/// The moment after which `a`'s holder can take money out or stop the provider's signer: the earliest pending
/// refund's unlock time, or when a consent withdrawal takes effect.
pub fn deadline(a: &AccountView) -> Option<u64> {
    let refund = a.refunds.iter().map(|r| r.unlock_at).min();
    match (refund, a.consent_ends_at) {
        (Some(r), Some(c)) => Some(r.min(c)),
        (r, c) => r.or(c),
    }
}

/// Whether to settle now: `seen` holds the first-seen time of every pending voucher, `deadlines` the users'.
pub fn due(seen: &[u64], deadlines: &[(AccountId, u64)], now: u64, p: &Policy) -> Option<Due> {
    if let Some(&(user, at)) =
        deadlines.iter().filter(|(_, at)| at.saturating_sub(now) <= p.margin_ms).min_by_key(|d| d.1)
    {
        return Some(Due::Deadline { user, at });
    }
    if seen.len() >= p.max_batch {
        return Some(Due::FullBatch { pending: seen.len() });
    }
    match seen.iter().min() {
        Some(&oldest) if now.saturating_sub(oldest) >= p.max_age_ms => Some(Due::Age { oldest_seen_at: oldest }),
        _ => None,
    }
}

/// The agent's memory between ticks: the spool folder, the vouchers read from it (key → voucher, first seen),
/// and the files already read.
pub struct Agent {
    pub spool: PathBuf,
    pub policy: Policy,
    vouchers: BTreeMap<String, (TeeSettlementData, u64)>,
    files: HashMap<PathBuf, std::time::SystemTime>,
}

/// What one tick did, for the progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub pending: usize,
    pub due: Option<Due>,
    pub summary: Option<Value>,
}

impl Agent {
    pub fn new(spool: PathBuf, policy: Policy) -> Agent {
        Agent { spool, policy, vouchers: BTreeMap::new(), files: HashMap::new() }
    }

    /// Reads new or changed spool files (`*.json`, `serving sign`'s per-voucher output; other files are left
    /// alone). A file that is not such output is an error naming it (the TEE wrote something wrong: fix or move it).
    fn scan(&mut self, now: u64) -> R<()> {
        let dir = std::fs::read_dir(&self.spool).map_err(|e| format!("reading spool {}: {e}", self.spool.display()))?;
        let mut paths: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|x| x == "json")) {
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            if modified.is_some() && self.files.get(&path) == modified.as_ref() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            let v: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
            let Input::Vouchers(list) = Input::parse(&v).map_err(|e| format!("{}: {e}", path.display()))? else {
                return Err(format!(
                    "{}: a batch-signed set; the agent takes per-voucher files (`serving sign` without --batch)",
                    path.display()
                ));
            };
            for voucher in list {
                let k = format!("0x{}:{}", hex::encode(voucher.user), voucher.nonce);
                self.vouchers.entry(k).or_insert((voucher, now));
            }
            if let Some(m) = modified {
                self.files.insert(path, m);
            }
        }
        Ok(())
    }

    /// One round: read the spool, find the pending vouchers (not settled or refused in `state`), read their users'
    /// deadlines, and settle everything pending when something is due (in (user, nonce) order, batches of at most
    /// `max_batch`). Errors are the chain's (unreachable node) or the spool's; the state file is whole either way.
    pub async fn tick(&mut self, chain: &mut impl Watch, state: &mut State, mut log: impl FnMut(&str)) -> R<Tick> {
        let now = chain.now_ms();
        self.scan(now)?;
        let settled_or_refused = |k: &str| {
            state.vouchers().get(k).and_then(|v| v["state"].as_str()).is_some_and(|s| s == "settled" || s == "refused")
        };
        let pending: Vec<(&String, &(TeeSettlementData, u64))> =
            self.vouchers.iter().filter(|(k, _)| !settled_or_refused(k)).collect();
        if pending.is_empty() {
            return Ok(Tick { pending: 0, due: None, summary: None });
        }
        let mut users: Vec<AccountId> = pending.iter().map(|(_, (v, _))| v.user).collect();
        users.sort();
        users.dedup();
        let mut deadlines = Vec::new();
        for chunk in users.chunks(50) {
            for (user, a) in chunk.iter().zip(chain.accounts(chunk).await?) {
                if let Some(at) = a.as_ref().and_then(deadline) {
                    deadlines.push((*user, at));
                }
            }
        }
        let seen: Vec<u64> = pending.iter().map(|(_, (_, s))| *s).collect();
        let Some(why) = due(&seen, &deadlines, now, &self.policy) else {
            return Ok(Tick { pending: pending.len(), due: None, summary: None });
        };
        // The BTreeMap's keys order the vouchers by user, then nonce (keys are "0x<user>:<nonce>"; nonces of one
        // user compare as numbers below).
        let mut list: Vec<TeeSettlementData> = pending.iter().map(|(_, (v, _))| v.clone()).collect();
        list.sort_by(|a, b| (a.user, a.nonce).cmp(&(b.user, b.nonce)));
        let count = list.len();
        log(&format!("settling {count} pending voucher(s): {why:?}"));
        let summary = run(chain, &Input::Vouchers(list), state, self.policy.max_batch, |l| log(l)).await?;
        Ok(Tick { pending: count, due: Some(why), summary: Some(summary) })
    }
}

/// One progress record: the tick's counts, refusals with their reasons, and what was earned (from the state file).
pub fn progress(tick: &Tick, state: &State) -> Value {
    let mut counts = BTreeMap::<String, usize>::new();
    let mut earned = 0u128;
    let mut refused = Vec::new();
    for (k, v) in state.vouchers() {
        let s = v["state"].as_str().unwrap_or("pending");
        *counts.entry(s.to_string()).or_default() += 1;
        earned = earned.saturating_add(v["settled"].as_str().and_then(|x| x.parse().ok()).unwrap_or(0));
        if s == "refused" {
            refused.push(json!({ "voucher": k, "status": v["status"], "reason": v["reason"] }));
        }
    }
    json!({
        "pending": tick.pending,
        "due": tick.due.as_ref().map(|d| format!("{d:?}")),
        "states": counts,
        "earned": earned.to_string(),
        "refused": refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy { max_batch: 3, max_age_ms: 1_000, margin_ms: 100 };

    #[test]
    fn settles_on_a_full_batch_an_old_voucher_or_a_near_deadline() {
        let (u, v) = (AccountId::from([1; 32]), AccountId::from([2; 32]));
        assert_eq!(due(&[], &[], 0, &P), None);
        assert_eq!(due(&[500, 900], &[], 1_000, &P), None, "young and few");
        assert_eq!(due(&[500, 900, 950], &[], 1_000, &P), Some(Due::FullBatch { pending: 3 }));
        assert_eq!(due(&[0, 900], &[], 1_000, &P), Some(Due::Age { oldest_seen_at: 0 }));
        assert_eq!(due(&[900], &[(u, 1_101)], 1_000, &P), None, "the deadline is 101 ms away, the margin 100");
        assert_eq!(due(&[900], &[(u, 1_100), (v, 1_050)], 1_000, &P), Some(Due::Deadline { user: v, at: 1_050 }));
        assert_eq!(due(&[900], &[(u, 700)], 1_000, &P), Some(Due::Deadline { user: u, at: 700 }), "already passed");
    }
}
