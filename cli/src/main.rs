//! `serving`: off-chain tooling for providers and attestors.
//!
//! ```text
//! serving demo [--json] [--bundles DIR]
//! serving build [ledger|inference|fine_tuning|inference_full|fine_tuning_full ...]
//! serving keygen [--out FILE]
//! serving address --key FILE | SS58 | 0x<32 bytes>
//! serving digest FILE|-
//! serving sign [--batch] --key FILE [--url WS] FILE|-
//! serving settle --url WS --contract ACCOUNT (--suri SURI | --suri-file FILE) [--state FILE] [--max-batch N] FILE|-
//! serving attest --key FILE --domain inference|fine-tuning --chain-id N --contract 0x<32 bytes>
//!                --provider 0x<32 bytes> --signer 0x<20 bytes> --measurement 0x<32 bytes> --expires-at MS
//! ```
//! Accounts are given as SS58 or as 0x-prefixed hex of their 32 raw bytes; secrets are exactly 32 bytes; amounts may be
//! JSON numbers (any size up to u128) or decimal strings. Output is JSON on stdout (`help`: plain text); errors
//! go to stderr with a non-zero exit code.
use serde_json::{json, Value};
use serving_verifier::{Domain, LocalCrypto, LocalSigner, TeeAttestation, TeeSettlement, VerifierMessage};
use std::collections::HashMap;

mod build;
mod demo;
mod node;
mod sign;

type R<T> = Result<T, String>;

const USAGE: &str = "usage:
  serving demo [--json] [--bundles DIR] the whole story in a sandbox chain (needs the release bundles in DIR,
                                       default target/ink: run `make demo`)
  serving build [CONTRACT ...]         release bundles (ledger, inference, fine_tuning, inference_full,
                                       fine_tuning_full; default all five) into target/ink/, without
                                       cargo-contract: {contract, wasm, bytes} per bundle
  serving keygen [--out FILE]          new secp256k1 key: JSON {secret, address} on stdout, or with --out the
                                       secret only in FILE (created 0600) and {address, file} on stdout
  serving address --key FILE           the Ethereum address of a key file
  serving address SS58|0xHEX           a Substrate account in both forms: {hex, ss58}
  serving digest FILE|-                EIP-712 digest of a typed message (JSON, see docs/signed-messages.md)
  serving sign [--batch] --key FILE [--url WS] FILE|-
                                       sign inference or fine-tuning vouchers (JSON) with a TEE key; prints
                                       the signed vouchers and the settle message's SCALE call data; --batch:
                                       one signature over all inference vouchers (settle_fees_with_tee_batch);
                                       --url: refuse more vouchers than the contract's config().max_batch
  serving settle --url WS --contract ACCOUNT (--suri SURI | --suri-file FILE) [--state FILE] [--max-batch N] FILE|-
                                       submit what `sign` printed to a node as the provider (sr25519 account
                                       SURI): preview, batches of <= N (default 50), wait for inclusion, each
                                       voucher's outcome from the settlement event; the state file (default
                                       FILE.state.json) records every voucher so a rerun never resends one
  serving settle --watch --url WS --contract ACCOUNT (--suri SURI | --suri-file FILE) --spool DIR --state FILE
                 [--max-batch N] [--interval S] [--max-age S] [--margin S] [--json]
                                       the settlement agent: settles the vouchers the TEE writes into DIR
                                       when a batch is full, the oldest is --max-age old (600), or a user's
                                       refund or consent withdrawal takes effect within --margin (600 s);
                                       until SIGINT/SIGTERM; --json: progress as JSON lines on stdout
  serving attest --key FILE --domain inference|fine-tuning --chain-id N --contract 0x.. --provider 0x..
                 --signer 0x.. --measurement 0x.. --expires-at MS
                                       sign a TeeAttestation as an attestor";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => return run_demo(&args[1..]),
        Some("settle") => return run_settle(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return;
        }
        _ => {}
    }
    match run(&args) {
        Ok(out) => println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default()),
        Err(e) => {
            eprintln!("serving: {e}");
            std::process::exit(2);
        }
    }
}

fn run_demo(args: &[String]) {
    let mut json_out = false;
    let mut bundles = "target/ink".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json_out = true,
            "--bundles" => match it.next() {
                Some(d) => bundles = d.clone(),
                None => fail("--bundles needs a directory"),
            },
            other => fail(&format!("unknown option `{other}` for demo\n{USAGE}")),
        }
    }
    for c in build::CONTRACTS {
        let p = format!("{bundles}/{c}/{c}.wasm");
        if !std::path::Path::new(&p).exists() {
            fail(&format!("{p} not found: build the release bundles first (`make demo` does, or `make bundles`)"));
        }
    }
    let rt = match ink_e2e::tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => fail(&format!("starting the async runtime: {e}")),
    };
    match rt.block_on(demo::Demo::new(&bundles, json_out).run()) {
        Ok(report) => {
            if json_out {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            }
        }
        Err(e) => fail(&format!("demo failed: {e}")),
    }
}

fn run_settle(args: &[String]) {
    if args.iter().any(|a| a == "--watch") {
        let rest: Vec<String> = args.iter().filter(|a| *a != "--watch").cloned().collect();
        return run_watch(&rest);
    }
    let Some((path, opts)) = args.split_last() else { fail("settle needs options and an input file (or -)") };
    if path.starts_with("--") {
        fail("settle needs an input file (or - for standard input) after its options");
    }
    let f = match flags(opts, &["url", "contract", "suri", "suri-file", "state", "max-batch"]) {
        Ok(f) => f,
        Err(e) => fail(&e),
    };
    let result =
        (|| -> R<(String, serving_cli::settle::Input, ink::primitives::AccountId, ink_e2e::Keypair, usize)> {
            let url = need(&f, "url")?.to_string();
            let contract = ink::primitives::AccountId::from(account(need(&f, "contract")?, "contract")?);
            let signer = provider_signer(&f)?;
            let limit = usize::try_from(inference::inference::MAX_SETTLEMENTS_LIMIT).unwrap_or(usize::MAX);
            let max = match f.get("max-batch") {
                Some(n) => match num::<usize>(n, "max-batch")? {
                    n @ 1.. if n <= limit => n,
                    n => return Err(format!("--max-batch must be 1..={limit} (no contract accepts more), got {n}")),
                },
                None => serving_cli::settle::DEFAULT_MAX_BATCH,
            };
            let input = serving_cli::settle::Input::parse(&read_json(path)?)?;
            Ok((url, input, contract, signer, max))
        })();
    let (url, input, contract, signer, max) = result.unwrap_or_else(|e| fail(&e));
    let state_path = match f.get("state") {
        Some(p) => std::path::PathBuf::from(p),
        None if path == "-" => fail("--state FILE is needed when the vouchers come from standard input"),
        None => std::path::PathBuf::from(format!("{path}.state.json")),
    };
    let rt = ink_e2e::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("starting the async runtime: {e}")));
    let out = rt.block_on(async {
        let mut state = serving_cli::settle::State::open(&state_path, &contract)?;
        let mut chain = node::NodeChain::connect(&url, signer, contract).await?;
        serving_cli::settle::run(&mut chain, &input, &mut state, max, |line| eprintln!("[settle] {line}")).await
    });
    match out {
        Ok(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(e) => fail(&e),
    }
}

/// The provider's sr25519 account from exactly one of `--suri` and `--suri-file`.
fn provider_signer(f: &HashMap<String, String>) -> R<ink_e2e::Keypair> {
    let suri = match (f.get("suri"), f.get("suri-file")) {
        (Some(s), None) => s.clone(),
        (None, Some(file)) => {
            std::fs::read_to_string(file).map_err(|e| format!("reading --suri-file {file}: {e}"))?.trim().to_string()
        }
        _ => return Err("give exactly one of --suri and --suri-file (the provider's sr25519 account)".into()),
    };
    let uri: ink_e2e::subxt_signer::SecretUri = suri.parse().map_err(|e| format!("--suri: {e}"))?;
    ink_e2e::Keypair::from_uri(&uri).map_err(|e| format!("--suri: {e}"))
}

/// `serving settle --watch`: the settlement agent (`serving_cli::watch`), until SIGINT or SIGTERM.
fn run_watch(args: &[String]) {
    let names =
        ["url", "contract", "suri", "suri-file", "state", "max-batch", "spool", "interval", "max-age", "margin"];
    let json_lines = args.iter().any(|a| a == "--json");
    let args: Vec<String> = args.iter().filter(|a| *a != "--json").cloned().collect();
    let f = flags(&args, &names).unwrap_or_else(|e| fail(&e));
    let setup = (|| -> R<_> {
        let url = need(&f, "url")?.to_string();
        let contract = ink::primitives::AccountId::from(account(need(&f, "contract")?, "contract")?);
        let signer = provider_signer(&f)?;
        let spool = std::path::PathBuf::from(need(&f, "spool")?);
        let state = std::path::PathBuf::from(need(&f, "state")?);
        let secs = |name: &str, default: u64| -> R<u64> { f.get(name).map_or(Ok(default), |v| num::<u64>(v, name)) };
        let (interval, max_age, margin) = (secs("interval", 6)?, secs("max-age", 600)?, secs("margin", 600)?);
        let max_batch = match f.get("max-batch") {
            Some(n) => Some(num::<usize>(n, "max-batch")?),
            None => None,
        };
        if interval == 0 {
            return Err("--interval must be at least 1 second".into());
        }
        Ok((url, contract, signer, spool, state, interval, max_age, margin, max_batch))
    })();
    let (url, contract, signer, spool, state_path, interval, max_age, margin, max_batch) =
        setup.unwrap_or_else(|e| fail(&e));
    let limit = serving_cli::settle::MAX_BATCH_LIMIT;
    if max_batch.is_some_and(|n| n == 0 || n > limit) {
        fail(&format!("--max-batch must be 1..={limit} (no contract accepts more)"));
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).unwrap_or_else(|e| fail(&format!("signal handler: {e}")));
    }
    let stopped = || stop.load(std::sync::atomic::Ordering::Relaxed);
    let say = |v: Value| {
        if json_lines {
            println!("{}", serde_json::to_string(&v).unwrap_or_default());
        } else {
            eprintln!(
                "[watch] {}",
                v.get("line").and_then(Value::as_str).map_or_else(|| v.to_string(), str::to_string)
            );
        }
    };
    let rt = ink_e2e::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("starting the async runtime: {e}")));
    let mut state = serving_cli::settle::State::open(&state_path, &contract).unwrap_or_else(|e| fail(&e));
    let policy = serving_cli::watch::Policy {
        max_batch: max_batch.unwrap_or(serving_cli::settle::DEFAULT_MAX_BATCH),
        max_age_ms: max_age.saturating_mul(1000),
        margin_ms: margin.saturating_mul(1000),
    };
    let mut agent = serving_cli::watch::Agent::new(spool, policy);
    let mut backoff = 1u64;
    let mut chain: Option<node::NodeChain> = None;
    while !stopped() {
        let outcome = rt.block_on(async {
            if chain.is_none() {
                let mut c = node::NodeChain::connect(&url, signer.clone(), contract).await?;
                // The contract's own limit, unless --max-batch chose a smaller one.
                let on_chain = c.max_batch().await?;
                agent.policy.max_batch = max_batch.map_or(on_chain, |n| n.min(on_chain));
                say(json!({ "event": "connected", "url": url, "maxBatch": agent.policy.max_batch,
                            "line": format!("connected to {url}; batches of up to {}", agent.policy.max_batch) }));
                chain = Some(c);
            }
            let c = chain.as_mut().ok_or("not connected")?;
            let mut lines = Vec::new();
            let tick = agent.tick(c, &mut state, |l| lines.push(l.to_string())).await?;
            Ok::<_, String>((tick, lines))
        });
        match outcome {
            Ok((tick, lines)) => {
                backoff = 1;
                for l in lines {
                    say(json!({ "event": "settle", "line": l }));
                }
                let mut p = serving_cli::watch::progress(&tick, &state);
                p["event"] = "tick".into();
                p["line"] = format!(
                    "{} pending, due: {}, states {}, earned {}",
                    tick.pending,
                    p["due"].as_str().unwrap_or("no"),
                    p["states"],
                    p["earned"].as_str().unwrap_or("0")
                )
                .into();
                if tick.due.is_some() || json_lines {
                    say(p);
                }
                sleep_unless(interval, &stopped);
            }
            Err(e) => {
                // The node went away (or the spool holds a bad file): drop the connection, wait, try again.
                say(json!({ "event": "error", "error": e, "retryInSeconds": backoff,
                            "line": format!("{e}; retrying in {backoff} s") }));
                chain = None;
                sleep_unless(backoff, &stopped);
                backoff = backoff.saturating_mul(2).min(60);
            }
        }
    }
    say(json!({ "event": "stopped", "line": format!("stopped; state in {}", state_path.display()) }));
}

/// Sleeps `seconds`, waking early when `stopped()`.
fn sleep_unless(seconds: u64, stopped: &impl Fn() -> bool) {
    for _ in 0..seconds.saturating_mul(10) {
        if stopped() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A Substrate account given as 0x-hex of its 32 bytes or as SS58 (what cargo-contract and polkadot.js print).
pub(crate) fn account(s: &str, what: &str) -> R<[u8; 32]> {
    if s.starts_with("0x") {
        return bytes32(s, what);
    }
    s.parse::<ink_e2e::subxt::utils::AccountId32>()
        .map(|a| a.0)
        .map_err(|e| format!("{what}: `{s}` is neither 0x-hex of 32 bytes nor SS58 ({e})"))
}

fn fail(msg: &str) -> ! {
    eprintln!("serving: {msg}");
    std::process::exit(2);
}

fn read_json(path: &str) -> R<Value> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("reading standard input: {e}"))?
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?
    };
    strict_json(&big_ints_as_strings(&text)).map_err(|e| format!("{path} is not JSON: {e}"))
}

/// Parses JSON, refusing what a lenient reader would silently resolve: a key given twice in one object (serde_json
/// keeps the last). Numbers with leading zeros or a `+` sign are not JSON at all; as decimal strings, [`num`]
/// refuses them.
pub(crate) fn strict_json(text: &str) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// A [`Value`] seed that refuses duplicate keys.
struct Strict;

impl<'de> serde::de::DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Strict)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(serde::de::Error::custom(format!("key \"{k}\" given twice")));
            }
            let v = map.next_value_seed(Strict)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// serde_json reads integers above 2^64 as floats and loses digits. Amounts are u128, so integer literals of
/// 20 or more digits (outside strings) are turned into decimal strings before parsing; [`int`] reads both forms.
pub(crate) fn big_ints_as_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
            out.push(c);
            continue;
        }
        let starts_number = c.is_ascii_digit() && !text[..i].ends_with(|p: char| p.is_ascii_alphanumeric() || p == '.');
        if !starts_number {
            out.push(c);
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        let literal = &text[i..end];
        let followed_by_fraction = matches!(chars.peek(), Some(&(_, '.' | 'e' | 'E')));
        if literal.len() >= 20 && !followed_by_fraction {
            out.push('"');
            out.push_str(literal);
            out.push('"');
        } else {
            out.push_str(literal);
        }
    }
    out
}

fn run(args: &[String]) -> R<Value> {
    let (cmd, rest) = args.split_first().ok_or_else(|| USAGE.to_string())?;
    match cmd.as_str() {
        "build" => {
            // The workspace this binary was built from (the bundles belong to its sources).
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let contracts: Vec<String> =
                if rest.is_empty() { build::CONTRACTS.iter().map(|c| c.to_string()).collect() } else { rest.to_vec() };
            build::build(&root, &contracts)
        }
        "keygen" => {
            let flags = flags(rest, &["out"])?;
            let key = LocalSigner::random();
            match flags.get("out") {
                // The secret goes only into the file (created 0600), never to the terminal.
                Some(path) => {
                    write_key(path, &key_json(&key))?;
                    Ok(json!({ "address": hex0(&key.address()), "file": path }))
                }
                None => Ok(key_json(&key)),
            }
        }
        "address" => match rest {
            // A Substrate account in either form: SS58 (what cargo-contract and polkadot.js print) or 0x-hex.
            [account] if !account.starts_with("--") => account_forms(account),
            _ => {
                let flags = flags(rest, &["key"])?;
                Ok(json!({ "address": hex0(&load_key(need(&flags, "key")?)?.address()) }))
            }
        },
        "digest" => {
            let path = rest.first().ok_or("digest needs a file (or - for standard input)")?;
            if rest.len() > 1 {
                return Err(format!("unexpected argument `{}`", rest[1]));
            }
            digest(&read_json(path)?)
        }
        "sign" => {
            let batch = rest.iter().any(|a| a == "--batch");
            let rest: Vec<String> = rest.iter().filter(|a| *a != "--batch").cloned().collect();
            let (path, opts) = rest.split_last().ok_or("sign needs --key FILE and an input file (or -)")?;
            if path.starts_with("--") || opts.len() % 2 == 1 {
                return Err("sign needs --key FILE and then an input file (or - for standard input)".into());
            }
            let f = flags(opts, &["key", "url"])?;
            let key = load_key(need(&f, "key")?)?;
            let input = read_json(path)?;
            // With --url, the batch limit is the contract's own (`config().max_batch`), read from the node.
            let max_batch = match f.get("url") {
                Some(url) if field(&input, "kind")? == "inference" => {
                    let contract = account(field(&input, "contract")?, "contract")?;
                    Some(node::max_batch(url, ink::primitives::AccountId::from(contract))?)
                }
                _ => None,
            };
            sign::sign(&key, &input, batch, max_batch)
        }
        "attest" => {
            let f = flags(
                rest,
                &["key", "domain", "chain-id", "contract", "provider", "signer", "measurement", "expires-at"],
            )?;
            let key = load_key(need(&f, "key")?)?;
            let domain = domain(
                need(&f, "domain")?,
                num(need(&f, "chain-id")?, "chain-id")?,
                account(need(&f, "contract")?, "contract")?,
            )?;
            let a = TeeAttestation {
                provider: account(need(&f, "provider")?, "provider")?,
                signer: bytes_n::<20>(need(&f, "signer")?, "signer")?,
                measurement: bytes32(need(&f, "measurement")?, "measurement")?,
                expires_at: num(need(&f, "expires-at")?, "expires-at")?,
            };
            let c = LocalCrypto;
            let digest = domain.digest(&c, &a.struct_hash(&c));
            Ok(json!({
                "attestor": hex0(&key.address()),
                "digest": hex0(&digest),
                "signature": hex0(&key.sign_digest(&digest)),
            }))
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    }
}

/// An account as 0x-hex of its 32 bytes and as SS58 (generic prefix 42, as substrate-contracts-node prints).
fn account_forms(account: &str) -> R<Value> {
    let id = ink_e2e::subxt::utils::AccountId32(self::account(account, "account")?);
    Ok(json!({ "hex": hex0(&id.0), "ss58": id.to_string() }))
}

/// `--name value` pairs, only the allowed names, each once.
fn flags(args: &[String], allowed: &[&str]) -> R<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument `{a}`"))?;
        if !allowed.contains(&name) {
            return Err(format!("unknown option `--{name}` (expected one of: --{})", allowed.join(", --")));
        }
        let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        if out.insert(name.to_string(), value.clone()).is_some() {
            return Err(format!("--{name} given twice"));
        }
    }
    Ok(out)
}

fn need<'a>(f: &'a HashMap<String, String>, name: &str) -> R<&'a str> {
    f.get(name).map(String::as_str).ok_or_else(|| format!("missing --{name}"))
}

pub(crate) fn hex0(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

pub(crate) fn bytes(s: &str, what: &str) -> R<Vec<u8>> {
    let h = s.strip_prefix("0x").ok_or_else(|| format!("{what}: expected 0x-prefixed hex, got `{s}`"))?;
    if !h.bytes().all(|b| b.is_ascii_hexdigit()) || h.len() % 2 == 1 {
        let hex_digits = h.bytes().all(|b| b.is_ascii_hexdigit());
        let why = if hex_digits { "an odd number of digits" } else { "characters that are not hex digits" };
        return Err(format!("{what}: `{s}` is not hex ({why}; expected 0x and two hex digits per byte)"));
    }
    hex::decode(h).map_err(|e| format!("{what}: `{s}` is not hex: {e}"))
}

pub(crate) fn bytes_n<const N: usize>(s: &str, what: &str) -> R<[u8; N]> {
    let v = bytes(s, what)?;
    let len = v.len();
    v.try_into().map_err(|_| format!("{what}: expected {N} bytes, got {len}"))
}

pub(crate) fn bytes32(s: &str, what: &str) -> R<[u8; 32]> {
    bytes_n::<32>(s, what)
}

pub(crate) fn num<T: std::str::FromStr>(s: &str, what: &str) -> R<T> {
    // Plain decimal only: Rust's parser would also take `+5` and `00001`, which are easy typos for something else.
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !plain {
        return Err(format!("{what}: `{s}` is not a plain decimal integer (digits only, no sign, no leading zeros)"));
    }
    s.parse().map_err(|_| {
        format!("{what}: expected a non-negative integer of at most {} bits, got `{s}`", 8 * std::mem::size_of::<T>())
    })
}

pub(crate) fn domain(name: &str, chain_id: u64, contract: [u8; 32]) -> R<Domain> {
    match name {
        "inference" => Ok(Domain::inference(chain_id, contract)),
        "fine-tuning" => Ok(Domain::fine_tuning(chain_id, contract)),
        other => Err(format!("--domain must be `inference` or `fine-tuning`, got `{other}`")),
    }
}

fn key_json(key: &LocalSigner) -> Value {
    json!({ "secret": hex0(&key.secret_bytes()), "address": hex0(&key.address()) })
}

/// Creates the key file readable by its owner only (0600 on Unix), refusing to overwrite anything.
fn write_key(path: &str, v: &Value) -> R<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => format!("{path} exists; refusing to overwrite a key"),
        _ => format!("creating {path}: {e}"),
    })?;
    file.write_all(serde_json::to_string_pretty(v).unwrap_or_default().as_bytes())
        .map_err(|e| format!("writing {path}: {e}"))
}

fn load_key(path: &str) -> R<LocalSigner> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading key {path}: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("key {path} is not JSON: {e}"))?;
    let secret = v["secret"].as_str().ok_or_else(|| format!("key {path} has no \"secret\""))?;
    let key = LocalSigner::from_bytes(&bytes32(secret, "secret")?).map_err(|e| format!("key {path}: {e}"))?;
    // A key file written by hand (or with two keys' halves pasted together) may name another address than its
    // secret signs for: the contract would then refuse every signature.
    if let Some(address) = v.get("address") {
        let address = address.as_str().ok_or_else(|| format!("key {path}: \"address\" is not a string"))?;
        let named = bytes_n::<20>(address, "address").map_err(|e| format!("key {path}: {e}"))?;
        if named != key.address() {
            return Err(format!(
                "key {path}: its \"address\" {address} is not the address of its secret ({})",
                hex0(&key.address())
            ));
        }
    }
    Ok(key)
}

pub(crate) fn field<'a>(v: &'a Value, name: &str) -> R<&'a str> {
    v[name].as_str().ok_or_else(|| format!("missing string field \"{name}\""))
}

/// Numbers may be JSON numbers or decimal strings (amounts beyond 2^53).
pub(crate) fn int(v: &Value, name: &str) -> R<u128> {
    match &v[name] {
        Value::Number(n) => {
            n.as_u64().map(u128::from).ok_or_else(|| format!("\"{name}\": not a non-negative integer (got {n})"))
        }
        Value::String(s) => num(s, name),
        _ => Err(format!("missing integer field \"{name}\"")),
    }
}

/// The vouchers under "settlements": 1..=`MAX_SETTLEMENTS_LIMIT` (80, the most any contract accepts per call).
pub(crate) fn settlements(v: &Value) -> R<&Vec<Value>> {
    let list = v["settlements"].as_array().ok_or("missing array \"settlements\"")?;
    let max = usize::try_from(inference::inference::MAX_SETTLEMENTS_LIMIT).unwrap_or(usize::MAX);
    if list.is_empty() || list.len() > max {
        return Err(format!(
            "\"settlements\" must hold 1..={max} vouchers (no contract accepts more per call), got {}",
            list.len()
        ));
    }
    Ok(list)
}

/// One inference voucher of a batch for `provider`: an entry may repeat the batch's provider, never name another
/// (the signature would be over another provider than the one the contract checks).
pub(crate) fn voucher(s: &Value, provider: [u8; 32]) -> R<TeeSettlement> {
    if s.get("provider").is_some() && account(field(s, "provider")?, "provider")? != provider {
        return Err("names another provider than the top-level \"provider\"".into());
    }
    Ok(TeeSettlement {
        requests_hash: bytes32(field(s, "requestsHash")?, "requestsHash")?,
        nonce: int(s, "nonce")?,
        provider,
        user: account(field(s, "user")?, "user")?,
        total_fee: int(s, "totalFee")?,
    })
}

/// What every contract refuses in a batch whatever its state, checked over `{"user", "nonce"}` items in input order:
/// nonce 0 (never above a sub-account's nonce), the same (user, nonce) twice, and a user's nonces not increasing
/// (an entry at or below an earlier one of the same user is refused as `InvalidNonce`).
pub(crate) fn check_nonces<'a>(items: impl Iterator<Item = &'a Value>) -> R<()> {
    let mut last: HashMap<String, (usize, u128)> = HashMap::new();
    for (n, item) in items.enumerate() {
        let user = item["user"].as_str().unwrap_or_default().to_string();
        let nonce: u128 = item["nonce"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        if nonce == 0 {
            return Err(format!("settlements[{n}]: nonce 0 is never accepted (nonces start at 1)"));
        }
        if let Some(&(m, before)) = last.get(&user) {
            if nonce == before {
                return Err(format!("settlements[{n}]: user {user} with nonce {nonce} again (also settlements[{m}])"));
            }
            if nonce < before {
                return Err(format!(
                    "settlements[{n}]: user {user}'s nonce {nonce} is below {before} (settlements[{m}]): the \
                     contract judges entries in order and would refuse it (InvalidNonce)"
                ));
            }
        }
        last.insert(user, (n, nonce));
    }
    Ok(())
}

/// Warns (standard error) when a batch is larger than the contract's limit: `max` read from the chain, or the
/// default 50 that the owner may have raised (up to 80).
pub(crate) fn warn_batch_size(len: usize, max: Option<usize>) {
    let default = usize::try_from(inference::inference::MAX_SETTLEMENTS).unwrap_or(usize::MAX);
    if max.is_none() && len > default {
        eprintln!(
            "serving: warning: {len} vouchers in one call; the contract's default limit is {default} \
             (`config().max_batch`, which the owner may raise up to 80): a contract at the default refuses this call \
             (TooMany). `serving settle` splits into batches of the contract's limit; give --url to check it."
        );
    }
}

/// The digest of `{"kind": "inference" | "inference_batch" | "fine_tuning" | "attestation", "chainId", "contract",
/// ...fields}` (formats in docs/provider-guide.md).
fn digest(v: &Value) -> R<Value> {
    let kind = field(v, "kind")?;
    let chain_id = u64::try_from(int(v, "chainId")?).map_err(|_| "chainId too large")?;
    let contract = account(field(v, "contract")?, "contract")?;
    let c = LocalCrypto;
    let (domain, struct_hash) = match kind {
        // `serving sign`'s input (vouchers under "settlements"): one digest per voucher.
        "inference" if v.get("settlements").is_some() => {
            let provider = account(field(v, "provider")?, "provider")?;
            let list = settlements(v)?;
            let domain = Domain::inference(chain_id, contract);
            let mut out = Vec::new();
            for (n, s) in list.iter().enumerate() {
                let at = |e: String| format!("settlements[{n}]: {e}");
                let m = voucher(s, provider).map_err(at)?;
                let struct_hash = m.struct_hash(&c);
                out.push(json!({
                    "user": hex0(&m.user),
                    "nonce": m.nonce.to_string(),
                    "structHash": hex0(&struct_hash),
                    "digest": hex0(&domain.digest(&c, &struct_hash)),
                }));
            }
            check_nonces(out.iter())?;
            return Ok(json!({ "domainSeparator": hex0(&domain.separator(&c)), "vouchers": out }));
        }
        "inference" => (
            Domain::inference(chain_id, contract),
            TeeSettlement {
                requests_hash: bytes32(field(v, "requestsHash")?, "requestsHash")?,
                nonce: int(v, "nonce")?,
                provider: account(field(v, "provider")?, "provider")?,
                user: account(field(v, "user")?, "user")?,
                total_fee: int(v, "totalFee")?,
            }
            .struct_hash(&c),
        ),
        "fine_tuning" => {
            let secret = bytes(field(v, "encryptedSecret")?, "encryptedSecret")?;
            let root = bytes(field(v, "modelRootHash")?, "modelRootHash")?;
            let m = VerifierMessage {
                id: field(v, "id")?.as_bytes(),
                encrypted_secret: &secret,
                model_root_hash: &root,
                nonce: int(v, "nonce")?,
                task_fee: int(v, "taskFee")?,
                user: account(field(v, "user")?, "user")?,
                provider: account(field(v, "provider")?, "provider")?,
            };
            if !m.id_len_ok() {
                return Err("id must be 1..=256 bytes".into());
            }
            (Domain::fine_tuning(chain_id, contract), m.struct_hash(&c))
        }
        "inference_batch" => {
            let provider = account(field(v, "provider")?, "provider")?;
            let list = settlements(v)?;
            let mut hashes = Vec::new();
            let mut keys = Vec::new();
            for (n, s) in list.iter().enumerate() {
                let at = |e: String| format!("settlements[{n}]: {e}");
                let entry = voucher(s, provider).map_err(at)?;
                keys.push(json!({ "user": hex0(&entry.user), "nonce": entry.nonce.to_string() }));
                hashes.extend_from_slice(&entry.struct_hash(&c));
            }
            check_nonces(keys.iter())?;
            warn_batch_size(list.len(), None);
            (Domain::inference(chain_id, contract), serving_verifier::batch_struct_hash(&c, &provider, &hashes))
        }
        "attestation" => (
            domain(field(v, "domain")?, chain_id, contract)?,
            TeeAttestation {
                provider: account(field(v, "provider")?, "provider")?,
                signer: bytes_n::<20>(field(v, "signer")?, "signer")?,
                measurement: bytes32(field(v, "measurement")?, "measurement")?,
                expires_at: u64::try_from(int(v, "expiresAt")?).map_err(|_| "expiresAt too large")?,
            }
            .struct_hash(&c),
        ),
        other => Err(format!("unknown kind `{other}` (inference, inference_batch, fine_tuning, attestation)"))?,
    };
    Ok(json!({
        "domainSeparator": hex0(&domain.separator(&c)),
        "structHash": hex0(&struct_hash),
        "digest": hex0(&domain.digest(&c, &struct_hash)),
    }))
}
