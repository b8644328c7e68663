//! Replays the committed fuzz corpus (verifier/fuzz/corpus/<target>/) through the fuzz target bodies on stable
//! Rust, so every test run re-checks what the fuzzer found interesting. New inputs: `scripts/fuzz.sh`.
use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        run(&data);
        n += 1;
    }
    assert!(n > 0, "empty corpus for {target}");
    n
}

#[test]
fn signature_corpus() {
    replay("signature", serving_verifier::fuzz::signature);
}

#[test]
fn sign_and_recover_corpus() {
    replay("sign_and_recover", serving_verifier::fuzz::sign_and_recover);
}

#[test]
fn typed_messages_corpus() {
    replay("typed_messages", serving_verifier::fuzz::typed_messages);
}

#[test]
fn attestation_corpus() {
    replay("attestation", serving_verifier::fuzz::attestation);
}

/// The properties can fail: a valid signature whose high-s twin the rules would accept is caught.
#[test]
fn properties_hold_for_hand_made_inputs() {
    use serving_verifier::{LocalSigner, SECP256K1_HALF_ORDER};
    let key = LocalSigner::from_bytes(&[7; 32]).unwrap();
    let digest = [3u8; 32];
    let mut input = digest.to_vec();
    input.extend(key.sign_digest(&digest));
    serving_verifier::fuzz::signature(&input);
    serving_verifier::fuzz::sign_and_recover(&[[7u8; 32], digest].concat());
    // A signature with s above n/2 never reaches the "accepted" branch.
    let mut high = input.clone();
    high[64..96].copy_from_slice(&SECP256K1_HALF_ORDER);
    high[95] = high[95].wrapping_add(1);
    assert!(serving_verifier::recover_signer(&serving_verifier::LocalCrypto, &digest, &high[32..]).is_err());
    serving_verifier::fuzz::signature(&high);
    serving_verifier::fuzz::typed_messages(&[0xff; 700]);
    serving_verifier::fuzz::attestation(&[0x01; 300]);
}
