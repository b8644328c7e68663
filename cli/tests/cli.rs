//! The `serving` binary end to end: keys, attestations that the verifier accepts, digests equal to the
//! eth-account vectors, and clear errors (non-zero exit, no panic) on bad input.
use serde_json::Value;
use serving_verifier::{check_attestation, Domain, LocalCrypto, TeeAttestation};
use std::process::Command;

fn serving(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_serving")).args(args).output().expect("run serving");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn keygen_then_attest_verifies() {
    let dir = std::env::temp_dir().join(format!("serving-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("attestor.json");
    let _ = std::fs::remove_file(&key);
    let (code, k, _) = serving(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, _, err) = serving(&["keygen", "--out", key.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("refusing to overwrite"), "{err}");
    let (code, a, _) = serving(&["address", "--key", key.to_str().unwrap()]);
    assert_eq!((code, &a["address"]), (0, &k["address"]));

    let signer = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    let contract = format!("0x{}", "11".repeat(32));
    let provider = format!("0x{}", "bb".repeat(32));
    let measurement = format!("0x{}", "42".repeat(32));
    let (code, out, err) = serving(&[
        "attest",
        "--key",
        key.to_str().unwrap(),
        "--domain",
        "inference",
        "--chain-id",
        "42",
        "--contract",
        &contract,
        "--provider",
        &provider,
        "--signer",
        signer,
        "--measurement",
        &measurement,
        "--expires-at",
        "1800000000000",
    ]);
    assert_eq!(code, 0, "{err}");
    let h = |s: &Value| hex::decode(s.as_str().unwrap().trim_start_matches("0x")).unwrap();
    let attestor: [u8; 20] = h(&out["attestor"]).try_into().unwrap();
    let a = TeeAttestation {
        provider: [0xbb; 32],
        signer: hex::decode(&signer[2..]).unwrap().try_into().unwrap(),
        measurement: [0x42; 32],
        expires_at: 1_800_000_000_000,
    };
    let sig = h(&out["signature"]);
    let d = Domain::inference(42, [0x11; 32]);
    assert_eq!(check_attestation(&LocalCrypto, &d, &a, &a.signer, &attestor, &sig, 0), Ok(()));
    // Another chain id: the contract would refuse it.
    let other = Domain::inference(43, [0x11; 32]);
    assert!(check_attestation(&LocalCrypto, &other, &a, &a.signer, &attestor, &sig, 0).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn digest_matches_eth_account_vectors() {
    let file: Value = serde_json::from_str(include_str!("../../verifier/vectors/vectors.json")).unwrap();
    for case in file["cases"].as_array().unwrap() {
        let mut input = case["input"].clone();
        let kind = case["kind"].as_str().unwrap();
        input["kind"] = kind.into();
        if kind == "attestation" {
            let name = input["domainName"].as_str().unwrap();
            input["domain"] = if name.contains("Inference") { "inference" } else { "fine-tuning" }.into();
        }
        let path = std::env::temp_dir().join(format!("serving-digest-{}-{}.json", std::process::id(), kind));
        std::fs::write(&path, input.to_string()).unwrap();
        let (code, out, err) = serving(&["digest", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out["digest"], case["digest"], "{kind}");
        assert_eq!(out["domainSeparator"], case["domain_separator"], "{kind}");
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    for (args, needle) in [
        (vec![], "usage"),
        (vec!["frobnicate"], "unknown command"),
        (vec!["attest", "--key"], "needs a value"),
        (vec!["attest", "--colour", "x"], "unknown option"),
        (vec!["address", "--key", "/nonexistent/key.json"], "reading key"),
        (vec!["digest", "/nonexistent.json"], "reading"),
    ] {
        let (code, _, err) = serving(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

fn serving_stdin(args: &[&str], input: &str) -> (i32, Value, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_serving"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run serving");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string").trim_start_matches("0x")).expect("hex")
}

fn temp_key(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("serving-cli-sign-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("tee.json");
    let _ = std::fs::remove_file(&key);
    let (code, _, err) = serving(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    key.to_str().unwrap().to_string()
}

#[test]
fn sign_inference_vouchers_gives_valid_signatures_and_call_data() {
    use ink::scale::Decode;
    let key = temp_key("inference");
    let (_, addr, _) = serving(&["address", "--key", &key]);
    let contract = format!("0x{}", "11".repeat(32));
    let provider = format!("0x{}", "cc".repeat(32));
    let input = serde_json::json!({
        "kind": "inference", "chainId": 42, "contract": contract, "provider": provider,
        "settlements": [
            { "user": format!("0x{}", "b0".repeat(32)), "totalFee": "340282366920938463463374607431768211455",
              "requestsHash": format!("0x{}", "01".repeat(32)), "nonce": 1 },
            { "user": format!("0x{}", "b1".repeat(32)), "totalFee": 5, "requestsHash": format!("0x{}", "02".repeat(32)),
              "nonce": "2" }
        ]
    });
    let (code, out, err) = serving_stdin(&["sign", "--key", &key, "-"], &input.to_string());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["message"], "settle_fees_with_tee");
    let data = unhex(&out["callData"]);
    assert_eq!(data[..4], ink::selector_bytes!("settle_fees_with_tee"));
    let decoded = Vec::<inference::inference::TeeSettlementData>::decode(&mut &data[4..]).expect("call data decodes");
    assert_eq!(decoded.len(), 2);
    for (n, (s, d)) in out["settlements"].as_array().unwrap().iter().zip(&decoded).enumerate() {
        assert_eq!(d.signature, unhex(&s["signature"]));
        assert_eq!(AsRef::<[u8]>::as_ref(&d.provider), &unhex(&s["provider"])[..]);
        // The digest is the one `serving digest` computes for the same typed message, and the signature
        // recovers to the key's address.
        let q = serde_json::json!({ "kind": "inference", "chainId": 42, "contract": contract, "provider": provider,
            "user": s["user"], "totalFee": s["totalFee"], "requestsHash": s["requestsHash"], "nonce": s["nonce"] });
        let (code, dg, _) = serving_stdin(&["digest", "-"], &q.to_string());
        assert_eq!((code, &dg["digest"]), (0, &s["digest"]), "entry {n}");
        let digest: [u8; 32] = unhex(&s["digest"]).try_into().unwrap();
        let signer = serving_verifier::recover_signer(&LocalCrypto, &digest, &d.signature).expect("valid signature");
        assert_eq!(hex::encode(signer), addr["address"].as_str().unwrap().trim_start_matches("0x"));
    }
    assert_eq!(decoded[0].total_fee, u128::MAX);
    assert_eq!((decoded[1].total_fee, decoded[1].nonce), (5, 2));
}

#[test]
fn sign_fine_tuning_voucher_gives_valid_signature_and_call_data() {
    use ink::scale::Decode;
    let key = temp_key("fine-tuning");
    let (_, addr, _) = serving(&["address", "--key", &key]);
    let input = serde_json::json!({
        "kind": "fine_tuning", "chainId": 7, "contract": format!("0x{}", "22".repeat(32)),
        "provider": format!("0x{}", "dd".repeat(32)), "user": format!("0x{}", "b0".repeat(32)), "id": "task-ü-1",
        "encryptedSecret": "0xabcdef", "modelRootHash": "0x0102", "nonce": 3, "taskFee": "1000000"
    });
    let path = std::env::temp_dir().join(format!("serving-cli-ft-{}.json", std::process::id()));
    std::fs::write(&path, input.to_string()).unwrap();
    let (code, out, err) = serving(&["sign", "--key", &key, path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let data = unhex(&out["callData"]);
    assert_eq!(data[..4], ink::selector_bytes!("settle_fees"));
    let v = fine_tuning::fine_tuning::VerifierInput::decode(&mut &data[4..]).expect("call data decodes");
    assert_eq!((v.id.as_str(), v.nonce, v.task_fee), ("task-ü-1", 3, 1_000_000));
    assert_eq!((v.encrypted_secret, v.model_root_hash), (vec![0xab, 0xcd, 0xef], vec![1, 2]));
    let digest: [u8; 32] = unhex(&out["digest"]).try_into().unwrap();
    let signer = serving_verifier::recover_signer(&LocalCrypto, &digest, &v.signature).expect("valid signature");
    assert_eq!(hex::encode(signer), addr["address"].as_str().unwrap().trim_start_matches("0x"));
}

#[test]
fn sign_rejects_bad_input_clearly() {
    let key = temp_key("bad");
    let user = format!("0x{}", "b0".repeat(32));
    let base = |settlements: Value| {
        serde_json::json!({ "kind": "inference", "chainId": 42, "contract": format!("0x{}", "11".repeat(32)),
            "provider": format!("0x{}", "cc".repeat(32)), "settlements": settlements })
        .to_string()
    };
    let one = serde_json::json!({ "user": user, "totalFee": 1, "requestsHash": format!("0x{}", "01".repeat(32)), "nonce": 1 });
    let cases = [
        (base(serde_json::json!([])), "1..=80"),
        (base(Value::Array(vec![one.clone(); 81])), "1..=80"),
        (
            base(
                serde_json::json!([{ "user": "0x1234", "totalFee": 1, "requestsHash": format!("0x{}", "01".repeat(32)), "nonce": 1 }]),
            ),
            "settlements[0]: user: expected 32 bytes",
        ),
        (
            base(
                serde_json::json!([{ "user": user, "totalFee": -1, "requestsHash": format!("0x{}", "01".repeat(32)), "nonce": 1 }]),
            ),
            "totalFee",
        ),
        (
            base(
                serde_json::json!([{ "user": user, "totalFee": "1e3", "requestsHash": format!("0x{}", "01".repeat(32)), "nonce": 1 }]),
            ),
            "totalFee",
        ),
        ("{not json".to_string(), "not JSON"),
        (
            serde_json::json!({ "kind": "fine_tuning", "chainId": 7, "contract": format!("0x{}", "22".repeat(32)),
            "provider": format!("0x{}", "dd".repeat(32)), "user": user, "id": "", "encryptedSecret": "0x",
            "modelRootHash": "0x", "nonce": 1, "taskFee": 1 })
            .to_string(),
            "id must be 1..=256 bytes",
        ),
        (
            serde_json::json!({ "kind": "refund", "chainId": 7, "contract": format!("0x{}", "22".repeat(32)),
            "provider": format!("0x{}", "dd".repeat(32)) })
            .to_string(),
            "unknown kind",
        ),
    ];
    for (input, want) in cases {
        let (code, _, err) = serving_stdin(&["sign", "--key", &key, "-"], &input);
        assert_ne!(code, 0, "{input}");
        assert!(err.contains(want), "expected `{want}` in `{err}`");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, _, err) =
        serving_stdin(&["sign", "--key", "/nonexistent/key.json", "-"], &base(serde_json::json!([one])));
    assert_ne!(code, 0);
    assert!(err.contains("reading key"), "{err}");
    let (code, _, err) = serving(&["demo", "--bundles", "/nonexistent"]);
    assert_ne!(code, 0);
    assert!(err.contains("not found") && !err.contains("panicked"), "{err}");
}

/// Issue 16: the CLI's rough edges found by a new user.
#[test]
fn keys_numbers_help_and_key_files_behave() {
    let dir = std::env::temp_dir().join(format!("serving-cli-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // keygen --out: the secret goes only into the file, created 0600.
    let key = dir.join("k.json");
    let _ = std::fs::remove_file(&key);
    let (code, out, err) = serving(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.get("secret").is_none(), "no secret printed: {out}");
    assert!(out["address"].as_str().unwrap().starts_with("0x"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key file readable by its owner only");
    }
    // A secret of 31 bytes is refused, not zero-padded.
    let short = dir.join("short.json");
    std::fs::write(&short, format!("{{\"secret\": \"0x{}\"}}", "11".repeat(31))).unwrap();
    let (code, _, err) = serving(&["address", "--key", short.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("expected 32 bytes"), "{err}");
    // sign with a key but no input names the real problem.
    let (code, _, err) = serving(&["sign", "--key", key.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("input file"), "{err}");
    // Help is readable text.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_serving")).arg("help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.starts_with("usage:") && text.contains("\n  serving sign"), "{text}");
    // Amounts above 2^64 as JSON numbers give the same digest as decimal strings.
    let big = "1267650600228229401496703205376"; // 2^100
    let msg = |fee: &str| {
        format!(
            "{{\"kind\": \"inference\", \"chainId\": 42, \"contract\": \"0x{c}\", \"requestsHash\": \"0x{c}\", \
             \"nonce\": 1, \"provider\": \"0x{c}\", \"user\": \"0x{c}\", \"totalFee\": {fee}}}",
            c = "22".repeat(32)
        )
    };
    let (a, b) = (dir.join("n.json"), dir.join("s.json"));
    std::fs::write(&a, msg(big)).unwrap();
    std::fs::write(&b, msg(&format!("\"{big}\""))).unwrap();
    let (code, da, err) = serving(&["digest", a.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, db, _) = serving(&["digest", b.to_str().unwrap()]);
    assert_eq!(da["digest"], db["digest"]);
    let too_big = dir.join("t.json");
    std::fs::write(&too_big, msg("340282366920938463463374607431768211456")).unwrap(); // 2^128
    let (code, _, err) = serving(&["digest", too_big.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("128 bits"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 16: cargo-contract prints SS58, `serving` and the JSON formats take 0x-hex; `address` converts both ways.
#[test]
fn address_converts_between_ss58_and_hex() {
    let alice_hex = "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
    let alice_ss58 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    for input in [alice_hex, alice_ss58] {
        let (code, out, err) = serving(&["address", input]);
        assert_eq!(code, 0, "{err}");
        assert_eq!((out["hex"].as_str(), out["ss58"].as_str()), (Some(alice_hex), Some(alice_ss58)));
    }
    let (code, _, err) = serving(&["address", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"]);
    assert_eq!(code, 2);
    assert!(err.contains("neither"), "{err}");
}

/// `sign --batch` against eth-account: the batch vectors (verifier/vectors/vectors.json, made by eth-account's
/// EIP-712 encoder) signed with the same key give the same digest and signature, and the call data decodes to
/// the entries and that signature.
#[test]
fn sign_batch_matches_eth_account_vectors() {
    use ink::scale::Decode;
    let file: Value = serde_json::from_str(include_str!("../../verifier/vectors/vectors.json")).unwrap();
    let dir = std::env::temp_dir().join(format!("serving-cli-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("hardhat1.json");
    let secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    std::fs::write(&key, serde_json::json!({ "secret": secret }).to_string()).unwrap();
    let key = key.to_str().unwrap();
    let mut seen = 0;
    for case in file["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "inference_batch") {
        let i = &case["input"];
        let input = serde_json::json!({ "kind": "inference", "chainId": i["chainId"], "contract": i["contract"],
            "provider": i["provider"], "settlements": i["settlements"] });
        let (code, out, err) = serving_stdin(&["sign", "--batch", "--key", key, "-"], &input.to_string());
        assert_eq!(code, 0, "{err}");
        assert_eq!(out["message"], "settle_fees_with_tee_batch");
        assert_eq!(out["digest"], case["digest"], "batch digest");
        assert_eq!(out["signature"], case["signature"], "batch signature");
        let data = unhex(&out["callData"]);
        assert_eq!(data[..4], ink::selector_bytes!("settle_fees_with_tee_batch"));
        let mut rest = &data[4..];
        let entries = Vec::<inference::inference::BatchEntry>::decode(&mut rest).expect("entries decode");
        let signature = Vec::<u8>::decode(&mut rest).expect("signature decodes");
        assert!(rest.is_empty());
        assert_eq!(signature, unhex(&case["signature"]));
        let expected = i["settlements"].as_array().unwrap();
        assert_eq!(entries.len(), expected.len());
        for (e, x) in entries.iter().zip(expected) {
            assert_eq!(AsRef::<[u8]>::as_ref(&e.user), &unhex(&x["user"])[..]);
            assert_eq!(e.total_fee.to_string(), x["totalFee"].as_str().unwrap());
            assert_eq!(e.nonce.to_string(), x["nonce"].as_str().unwrap());
        }
        seen += 1;
    }
    assert_eq!(seen, 3, "the batch vectors");
    // Fine-tuning vouchers are signed one by one.
    let ft = serde_json::json!({ "kind": "fine_tuning", "chainId": 1, "contract": format!("0x{}", "11".repeat(32)),
        "provider": format!("0x{}", "cc".repeat(32)), "user": format!("0x{}", "b0".repeat(32)), "id": "t",
        "encryptedSecret": "0x", "modelRootHash": "0x", "nonce": 1, "taskFee": 1 });
    let (code, _, err) = serving_stdin(&["sign", "--batch", "--key", key, "-"], &ft.to_string());
    assert_ne!(code, 0);
    assert!(err.contains("--batch applies to inference vouchers only"), "{err}");
}

#[test]
fn accounts_in_ss58_sign_the_same_as_hex_and_args_name_them() {
    let key = temp_key("ss58");
    // Bob and Charlie, the dev accounts, in both forms.
    let (bob, bob_hex) = (
        "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
        "0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48",
    );
    let (charlie, charlie_hex) = (
        "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y",
        "0x90b5ab205c6974c9ea841be688864633dc9ca8a357843eeacf2314649965fe22",
    );
    let voucher = |contract: &str, provider: &str, user: &str| {
        serde_json::json!({ "kind": "inference", "chainId": 42, "contract": contract, "provider": provider,
            "settlements": [ { "user": user, "totalFee": 9, "requestsHash": format!("0x{}", "07".repeat(32)), "nonce": 4 } ] })
        .to_string()
    };
    for batch in [false, true] {
        let args: Vec<&str> =
            if batch { vec!["sign", "--batch", "--key", &key, "-"] } else { vec!["sign", "--key", &key, "-"] };
        let (c1, ss58, e1) = serving_stdin(&args, &voucher(bob, charlie, bob));
        let (c2, hex, e2) = serving_stdin(&args, &voucher(bob_hex, charlie_hex, bob_hex));
        assert_eq!((c1, c2), (0, 0), "{e1} {e2}");
        assert_eq!(ss58["callData"], hex["callData"], "batch {batch}");
        // cargo-contract's --args name accounts in SS58 (interop.sh encodes them with `cargo contract encode`).
        let first = ss58["args"][0].as_str().unwrap();
        assert!(first.contains(&format!("user: {bob}")), "{first}");
        assert_eq!(ss58["args"].as_array().unwrap().len(), if batch { 2 } else { 1 });
    }
    let (code, _, err) = serving_stdin(&["sign", "--key", &key, "-"], &voucher("5Fnot-an-account", charlie, bob));
    assert_ne!(code, 0);
    assert!(err.contains("contract: `5Fnot-an-account` is neither 0x-hex of 32 bytes nor SS58"), "{err}");
    let _ = std::fs::remove_dir_all(std::path::Path::new(&key).parent().unwrap());
}

/// Issue 25: inputs the chain would refuse are refused (or warned about) by the tools, with the reason.
mod strict {
    use super::{serving, serving_stdin, temp_key};
    use serde_json::{json, Value};

    fn hex32(b: &str) -> String {
        format!("0x{}", b.repeat(32))
    }

    fn voucher(user: &str, nonce: u64) -> Value {
        json!({ "user": hex32(user), "totalFee": 5, "requestsHash": hex32("01"), "nonce": nonce })
    }

    fn input(kind: &str, settlements: Vec<Value>) -> String {
        json!({ "kind": kind, "chainId": 42, "contract": hex32("11"), "provider": hex32("cc"),
                "settlements": settlements })
        .to_string()
    }

    /// Runs `sign` and `digest` (as an `inference_batch`) on the same vouchers.
    fn both(settlements: Vec<Value>) -> [(i32, Value, String); 2] {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let key = temp_key(&format!("strict-{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
        [
            serving_stdin(&["sign", "--key", &key, "-"], &input("inference", settlements.clone())),
            serving_stdin(&["digest", "-"], &input("inference_batch", settlements)),
        ]
    }

    fn refused(r: &(i32, Value, String), needle: &str) {
        assert_ne!(r.0, 0, "accepted; expected `{needle}`");
        assert!(r.2.contains(needle), "expected `{needle}` in `{}`", r.2);
        assert!(!r.2.contains("panicked"), "{}", r.2);
    }

    #[test]
    fn batch_sizes_the_chain_refuses() {
        for r in both(vec![]) {
            refused(&r, "must hold 1..=80");
        }
        for r in both((1..=81).map(|n| voucher("b0", n)).collect()) {
            refused(&r, "must hold 1..=80");
        }
        // 51..=80: accepted by a contract whose owner raised the limit, refused at the default: a warning.
        for (code, out, err) in both((1..=51).map(|n| voucher("b0", n)).collect()) {
            assert_eq!(code, 0, "{err}");
            assert!(out.is_object());
            assert!(err.contains("default limit is 50"), "{err}");
        }
        let (code, _, err) = serving_stdin(&["digest", "-"], &input("inference_batch", vec![voucher("b0", 1)]));
        assert_eq!((code, err.contains("warning")), (0, false), "{err}");
    }

    #[test]
    fn an_entry_naming_another_provider() {
        let mut v = voucher("b0", 1);
        v["provider"] = hex32("dd").into();
        for r in both(vec![voucher("b1", 1), v.clone()]) {
            refused(&r, "settlements[1]: names another provider");
        }
        // Repeating the batch's own provider is fine.
        v["provider"] = hex32("cc").into();
        for (code, _, err) in both(vec![v]) {
            assert_eq!(code, 0, "{err}");
        }
    }

    #[test]
    fn nonces_the_chain_refuses() {
        for r in both(vec![voucher("b0", 0)]) {
            refused(&r, "nonce 0");
        }
        for r in both(vec![voucher("b0", 3), voucher("b1", 3), voucher("b0", 3)]) {
            refused(&r, "settlements[2]: user 0xb0b0");
            refused(&r, "again (also settlements[0])");
        }
        for r in both(vec![voucher("b0", 3), voucher("b0", 2)]) {
            refused(&r, "is below 3");
        }
        // Increasing per user, other users interleaved: fine.
        for (code, _, err) in both(vec![voucher("b0", 1), voucher("b1", 1), voucher("b0", 2)]) {
            assert_eq!(code, 0, "{err}");
        }
    }

    #[test]
    fn json_that_is_not_strict() {
        let key = temp_key("strict-json");
        let good = input("inference", vec![voucher("b0", 1)]);
        for (text, needle) in [
            (good.replace("\"nonce\":1", "\"nonce\":\"00001\""), "not a plain decimal"),
            (good.replace("\"totalFee\":5", "\"totalFee\":\"+5\""), "not a plain decimal"),
            (good.replace("\"nonce\":1", "\"nonce\":00001"), "is not JSON"),
            (good.replace("\"totalFee\":5", "\"totalFee\":+5"), "is not JSON"),
            (good.replace("\"nonce\":1", "\"nonce\":1,\"nonce\":2"), "key \"nonce\" given twice"),
            (good.replace("\"chainId\":42", "\"chainId\":42,\"chainId\":43"), "key \"chainId\" given twice"),
        ] {
            assert_ne!(text, good, "the case changes the input");
            refused(&serving_stdin(&["sign", "--key", &key, "-"], &text), needle);
            refused(&serving_stdin(&["digest", "-"], &text.replace("\"inference\"", "\"inference_batch\"")), needle);
        }
        let (code, _, err) = serving_stdin(&["sign", "--key", &key, "-"], &good);
        assert_eq!(code, 0, "{err}");
    }

    #[test]
    fn hex_that_is_not_hex() {
        for (hash, why) in [("0x123", "odd number of digits"), ("0x…", "not hex digits"), ("0xzz", "not hex digits")]
        {
            let mut v = voucher("b0", 1);
            v["requestsHash"] = hash.into();
            for r in both(vec![v.clone()]) {
                refused(&r, &format!("`{hash}` is not hex ("));
                refused(&r, why);
            }
        }
    }

    #[test]
    fn a_key_file_whose_address_is_not_its_secrets() {
        let key = temp_key("mismatch");
        let mut k: Value = serde_json::from_str(&std::fs::read_to_string(&key).unwrap()).unwrap();
        let (code, a, _) = serving(&["address", "--key", &key]);
        assert_eq!(code, 0);
        k["address"] = a["address"].clone();
        std::fs::write(&key, k.to_string()).unwrap();
        assert_eq!(serving(&["address", "--key", &key]).0, 0, "the right address is fine");
        k["address"] = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8".into();
        std::fs::write(&key, k.to_string()).unwrap();
        refused(&serving(&["address", "--key", &key]), "is not the address of its secret");
        refused(
            &serving_stdin(&["sign", "--key", &key, "-"], &input("inference", vec![voucher("b0", 1)])),
            "is not the address of its secret",
        );
    }

    #[test]
    fn digest_of_signs_input_is_one_digest_per_voucher() {
        let key = temp_key("digest-sign");
        let text = input("inference", vec![voucher("b0", 1), voucher("b1", 7)]);
        let (code, out, err) = serving_stdin(&["digest", "-"], &text);
        assert_eq!(code, 0, "{err}");
        let (code, signed, err) = serving_stdin(&["sign", "--key", &key, "-"], &text);
        assert_eq!(code, 0, "{err}");
        let digests: Vec<&Value> = out["vouchers"].as_array().unwrap().iter().map(|v| &v["digest"]).collect();
        let signed: Vec<&Value> = signed["settlements"].as_array().unwrap().iter().map(|v| &v["digest"]).collect();
        assert_eq!(digests, signed, "the digests `sign` signs");
        // One voucher on its own (the documented single shape) gives the same digest.
        let one = json!({ "kind": "inference", "chainId": 42, "contract": hex32("11"), "provider": hex32("cc"),
            "user": hex32("b1"), "totalFee": 5, "requestsHash": hex32("01"), "nonce": 7 });
        let (code, single, _) = serving_stdin(&["digest", "-"], &one.to_string());
        assert_eq!((code, &single["digest"]), (0, digests[1]));
    }

    #[test]
    fn settle_refuses_a_batch_limit_no_contract_accepts_before_connecting() {
        let dir = std::env::temp_dir().join(format!("serving-cli-settle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("signed.json");
        std::fs::write(&file, json!({ "message": "settle_fees_with_tee", "settlements": [] }).to_string()).unwrap();
        for (n, needle) in
            [("81", "--max-batch must be 1..=80"), ("0", "--max-batch must be 1..=80"), ("080", "not a plain decimal")]
        {
            let args = [
                "settle",
                "--url",
                "ws://127.0.0.1:1",
                "--contract",
                &hex32("11"),
                "--suri",
                "//Charlie",
                "--max-batch",
                n,
                file.to_str().unwrap(),
            ];
            let r = serving(&args);
            refused(&r, needle);
            assert!(!r.2.contains("connecting"), "refused before connecting: {}", r.2);
        }
    }

    #[test]
    fn the_agent_refuses_bad_options_before_connecting() {
        let base = ["settle", "--watch", "--url", "ws://127.0.0.1:1", "--suri", "//Charlie"];
        let contract = hex32("11");
        for (extra, needle) in [
            (vec!["--contract", &contract, "--state", "s.json"], "missing --spool"),
            (vec!["--contract", &contract, "--spool", "."], "missing --state"),
            (
                vec!["--contract", &contract, "--spool", ".", "--state", "s.json", "--max-batch", "81"],
                "--max-batch must be 1..=80",
            ),
            (
                vec!["--contract", &contract, "--spool", ".", "--state", "s.json", "--interval", "0"],
                "--interval must be",
            ),
            (vec!["--contract", &contract, "--spool", ".", "--state", "s.json", "--colour", "x"], "unknown option"),
        ] {
            let args: Vec<&str> = base.iter().copied().chain(extra).collect();
            let r = serving(&args);
            refused(&r, needle);
            assert!(!r.2.contains("connect"), "refused before connecting: {}", r.2);
        }
    }
}
