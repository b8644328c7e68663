//! The precomputed constants are the keccak256 of the strings they claim to hash.
use serving_verifier::*;

fn k(s: &str) -> Hash32 {
    LocalCrypto.keccak256(s.as_bytes())
}

#[test]
fn typehashes_match_type_strings() {
    let pairs = [
        ("domain", DOMAIN_TYPE, DOMAIN_TYPEHASH),
        ("settlement", TEE_SETTLEMENT_TYPE, TEE_SETTLEMENT_TYPEHASH),
        ("verifier", VERIFIER_MESSAGE_TYPE, VERIFIER_MESSAGE_TYPEHASH),
        ("attestation", TEE_ATTESTATION_TYPE, TEE_ATTESTATION_TYPEHASH),
        ("batch", TEE_SETTLEMENT_BATCH_TYPE, TEE_SETTLEMENT_BATCH_TYPEHASH),
        ("version", "1", VERSION_1_HASH),
        ("inference name", "0G Inference Serving", INFERENCE_DOMAIN_NAME_HASH),
        ("fine-tuning name", "0G Fine-Tuning Serving", FINE_TUNING_DOMAIN_NAME_HASH),
    ];
    let mut bad = Vec::new();
    for (name, s, c) in pairs {
        if k(s) != c {
            bad.push(format!("{name}: constant {} but keccak is {}", hex::encode(c), hex::encode(k(s))));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn half_order_is_half_of_order() {
    // n is odd, so floor(n/2) * 2 + 1 == n.
    let mut doubled = [0u8; 32];
    let mut carry = 1u16;
    for i in (0..32).rev() {
        let v = u16::from(SECP256K1_HALF_ORDER[i]) * 2 + carry;
        doubled[i] = (v & 0xff) as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0);
    assert_eq!(doubled, SECP256K1_ORDER);
}
