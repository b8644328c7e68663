//! The signature rules: each rejection has its own error, and a valid signature passes.
use serving_verifier::*;

fn setup() -> (LocalSigner, [u8; 32], [u8; 65]) {
    let signer = LocalSigner::from_bytes(&[7u8; 32]).unwrap();
    let digest = LocalCrypto.keccak256(b"message");
    let sig = signer.sign_digest(&digest);
    (signer, digest, sig)
}

/// n − s, big-endian (s ≤ n/2 < n).
fn flip_s(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut v = i16::from(SECP256K1_ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = if v < 0 {
            v += 256;
            1
        } else {
            0
        };
        out[i] = v as u8;
    }
    out
}

#[test]
fn valid_signature_recovers_signer() {
    let (signer, digest, sig) = setup();
    assert!(sig[64] == 27 || sig[64] == 28);
    assert_eq!(recover_signer(&LocalCrypto, &digest, &sig), Ok(signer.address()));
    assert_eq!(check_signature(&LocalCrypto, &digest, &sig, &signer.address()), Ok(()));
}

#[test]
fn wrong_key_and_wrong_digest() {
    let (_, digest, sig) = setup();
    let other = LocalSigner::from_bytes(&[8u8; 32]).unwrap();
    assert_eq!(check_signature(&LocalCrypto, &digest, &sig, &other.address()), Err(SignatureError::WrongSigner));
    let (signer, _, _) = setup();
    let other_digest = LocalCrypto.keccak256(b"other");
    assert_eq!(check_signature(&LocalCrypto, &other_digest, &sig, &signer.address()), Err(SignatureError::WrongSigner));
}

#[test]
fn malformed_signatures_rejected() {
    let (signer, digest, sig) = setup();
    let a = signer.address();
    let c = LocalCrypto;
    assert_eq!(check_signature(&c, &digest, &sig[..64], &a), Err(SignatureError::BadLength));
    assert_eq!(check_signature(&c, &digest, &[sig.as_slice(), &[0]].concat(), &a), Err(SignatureError::BadLength));
    assert_eq!(check_signature(&c, &digest, &[], &a), Err(SignatureError::BadLength));
    for v in [0u8, 1, 2, 3, 26, 29, 30, 255] {
        let mut s = sig;
        s[64] = v;
        assert_eq!(check_signature(&c, &digest, &s, &a), Err(SignatureError::BadV), "v = {v}");
    }
    let mut s = sig;
    s[..32].fill(0);
    assert_eq!(check_signature(&c, &digest, &s, &a), Err(SignatureError::BadR));
    let mut s = sig;
    s[..32].copy_from_slice(&SECP256K1_ORDER);
    assert_eq!(check_signature(&c, &digest, &s, &a), Err(SignatureError::BadR));
    let mut s = sig;
    s[32..64].fill(0);
    assert_eq!(check_signature(&c, &digest, &s, &a), Err(SignatureError::ZeroS));
}

#[test]
fn high_s_twin_is_rejected_although_it_recovers() {
    let (signer, digest, sig) = setup();
    let mut twin = sig;
    twin[32..64].copy_from_slice(&flip_s(&sig[32..64]));
    twin[64] = if sig[64] == 27 { 28 } else { 27 };
    // The chain's recovery accepts the malleable twin; the rules refuse it before recovering (a recovery
    // failure would be RecoveryFailed, not HighS).
    assert_eq!(check_signature(&LocalCrypto, &digest, &twin, &signer.address()), Err(SignatureError::HighS));
}

#[test]
fn attestation_checks() {
    let c = LocalCrypto;
    let attestor = LocalSigner::from_bytes(&[9u8; 32]).unwrap();
    let tee = LocalSigner::from_bytes(&[7u8; 32]).unwrap();
    let domain = Domain::inference(42, [1u8; 32]);
    let a = TeeAttestation { provider: [2u8; 32], signer: tee.address(), measurement: [3u8; 32], expires_at: 1000 };
    let sig = attestor.sign_digest(&domain.digest(&c, &a.struct_hash(&c)));
    assert_eq!(check_attestation(&c, &domain, &a, &tee.address(), &attestor.address(), &sig, 999), Ok(()));
    assert_eq!(
        check_attestation(&c, &domain, &a, &tee.address(), &attestor.address(), &sig, 1000),
        Err(AttestationError::Expired)
    );
    assert_eq!(
        check_attestation(&c, &domain, &a, &attestor.address(), &attestor.address(), &sig, 0),
        Err(AttestationError::SignerMismatch)
    );
    // Another contract's domain: the signature no longer matches.
    let other = Domain::inference(42, [9u8; 32]);
    assert_eq!(
        check_attestation(&c, &other, &a, &tee.address(), &attestor.address(), &sig, 0),
        Err(AttestationError::Signature(SignatureError::WrongSigner))
    );
}

#[test]
fn fine_tuning_id_length_rule() {
    let mk = |id: &'static [u8]| VerifierMessage {
        id,
        encrypted_secret: b"",
        model_root_hash: b"",
        nonce: 1,
        task_fee: 1,
        user: [0; 32],
        provider: [0; 32],
    };
    assert!(!mk(b"").id_len_ok());
    assert!(mk(b"a").id_len_ok());
    assert!(mk(&[b'a'; 256]).id_len_ok());
    assert!(!mk(&[b'a'; 257]).id_len_ok());
}
