//! The `serving` binary end to end: keys, attestations that the verifier accepts, digests equal to the
//! eth-account vectors, and clear errors (non-zero exit, no panic) on bad input.
use serde_json::Value;
use std::process::Command;
use verifier::{check_attestation, Domain, LocalCrypto, TeeAttestation};

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
