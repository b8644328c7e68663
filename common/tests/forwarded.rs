//! The rules of `serving_common::forwarded_types`, checked over the three contracts' sources.
//!
//! In the thin build's Wasm an `arg::*` argument decodes from no bytes, so every argument after it would be read
//! from the wrong place (a call failing with `CouldNotReadInput`): the `arg::*` arguments of a message must be a
//! suffix of its arguments. And only a message whose body hands the call to the full build may take or return
//! them: the thin build never has their values.
use std::path::Path;

struct Message {
    contract: &'static str,
    name: String,
    args: Vec<String>,
    output: String,
    forwarded: bool,
}

/// The `#[ink(message)]` functions of a contract's source: name, argument types, output, and whether the body
/// starts by handing the call to the full build (`self.full*(`).
fn messages(contract: &'static str, src: &str) -> Vec<Message> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find("#[ink(message") {
        rest = &rest[at..];
        let open = rest.find('{').expect("a message body");
        let sig = &rest[..open];
        let body = rest[open + 1..].trim_start();
        let fn_at = sig.find("fn ").expect("fn");
        let name: String = sig[fn_at + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let start = sig[fn_at..].find('(').expect("(") + fn_at + 1;
        let params = &sig[start..start + closing(&sig[start..])];
        let args = split_top(params)
            .into_iter()
            .filter(|p| !p.contains("self"))
            .map(|p| p.split_once(':').map(|(_, t)| t.trim().to_string()).unwrap_or_default())
            .collect();
        let output = sig.split_once("->").map(|(_, o)| o.trim().to_string()).unwrap_or_default();
        let forwarded = body.starts_with("self.full(")
            || body.starts_with("self.full_view(")
            || body.starts_with("self.full_plain(");
        out.push(Message { contract, name, args, output, forwarded });
        rest = &rest[open..];
    }
    out
}

/// Where the parenthesis opened just before `s` closes.
fn closing(s: &str) -> usize {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return i,
            ')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unclosed parameter list: {s}")
}

/// Splits a parameter list at its top-level commas (not those inside `<>`, `()` or `[]`).
fn split_top(s: &str) -> Vec<String> {
    let (mut parts, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for c in s.chars() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

fn violations(msgs: &[Message]) -> Vec<String> {
    let mut bad = Vec::new();
    for m in msgs {
        let skipped: Vec<bool> = m.args.iter().map(|t| t.starts_with("arg::")).collect();
        if let Some(first) = skipped.iter().position(|s| *s) {
            if skipped[first..].iter().any(|s| !s) {
                bad.push(format!(
                    "{}::{}: an argument after an arg:: one is decoded ({:?})",
                    m.contract, m.name, m.args
                ));
            }
        }
        if (skipped.iter().any(|s| *s) || m.output.contains("Fwd<")) && !m.forwarded {
            bad.push(format!("{}::{}: takes or returns forwarded types but is not forwarded", m.contract, m.name));
        }
    }
    bad
}

fn source(contract: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(contract).join("src/lib.rs");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn forwarded_arguments_are_a_suffix_and_only_forwarded_messages_use_them() {
    let mut all = Vec::new();
    for c in ["ledger", "inference", "fine_tuning"] {
        let src = source(c);
        let msgs = messages(c, &src);
        assert!(msgs.len() >= 20, "{c}: found only {} messages: the parser is broken", msgs.len());
        assert!(msgs.iter().any(|m| m.forwarded && m.args.iter().any(|t| t.starts_with("arg::"))), "{c}: no arg::");
        all.extend(msgs);
    }
    assert_eq!(violations(&all), Vec::<String>::new());
}

#[test]
fn the_check_catches_a_decoded_argument_after_a_skipped_one() {
    // The mistake this check exists for: `provider` skipped, `measurement` then read from provider's bytes.
    let src = r#"
        #[ink(message)]
        pub fn submit_attestation(&mut self, provider: arg::AccountId, measurement: [u8; 32]) -> Result<(), Error> {
            self.full(|s| s.submit(arg::take(provider), measurement))
        }
        #[ink(message)]
        pub fn get(&self, user: arg::AccountId) -> Fwd<u32> {
            self.read(user)
        }
        #[ink(message)]
        pub fn fine(&mut self, attestor: [u8; 20], registered: arg::bool) -> Result<Fwd<u32>, Error> {
            self.full(|s| s.set(attestor, arg::take(registered)))
        }
    "#;
    let bad = violations(&messages("x", src));
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad[0].starts_with("x::submit_attestation: an argument after"));
    assert!(bad[1].starts_with("x::get: takes or returns forwarded types but is not forwarded"));
}
