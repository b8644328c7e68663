//! Fuzz target bodies (feature `std`): each takes arbitrary bytes, drives the verifier's parsing and hashing,
//! and panics when a property breaks. `verifier/fuzz/` runs them under libFuzzer (`scripts/fuzz.sh`, nightly);
//! `verifier/tests/fuzz_corpus.rs` replays the committed corpus through them on stable in every test run.
use crate::*;
use sha3::{Digest, Keccak256};

/// Independent keccak256 (sha3's hasher directly, not through [`Crypto`]).
fn keccak(parts: &[&[u8]]) -> Hash32 {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// A cursor over the fuzzer's bytes; reads past the end give zeros / empty slices.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let b = self.bytes(N);
        out[..b.len()].copy_from_slice(b);
        out
    }
    fn u128(&mut self) -> u128 {
        u128::from_be_bytes(self.array())
    }
    /// A length-prefixed slice (one byte of length, times 2, so lengths up to 510 reach the id limit).
    fn slice(&mut self) -> &'a [u8] {
        let n = usize::from(self.array::<1>()[0]) * 2;
        self.bytes(n)
    }
}

/// `digest (32 bytes) ‖ signature (the rest, any length)`: recovery never panics; whatever it accepts obeys
/// every rule; the high-s twin of an accepted signature is refused; `check_signature` agrees.
pub fn signature(data: &[u8]) {
    if data.len() < 32 {
        return;
    }
    let c = LocalCrypto;
    let digest: Hash32 = data[..32].try_into().expect("32 bytes");
    let sig = &data[32..];
    match recover_signer(&c, &digest, sig) {
        Ok(addr) => {
            assert_eq!(sig.len(), 65);
            assert!(sig[64] == 27 || sig[64] == 28);
            assert!(sig[..32].iter().any(|b| *b != 0) && sig[..32] < SECP256K1_ORDER[..]);
            assert!(sig[32..64].iter().any(|b| *b != 0) && sig[32..64] <= SECP256K1_HALF_ORDER[..]);
            assert_ne!(addr, [0u8; 20]);
            assert_eq!(check_signature(&c, &digest, sig, &addr), Ok(()));
            let mut other = addr;
            other[0] ^= 1;
            assert_eq!(check_signature(&c, &digest, sig, &other), Err(SignatureError::WrongSigner));
            let twin = high_s_twin(sig);
            assert_eq!(recover_signer(&c, &digest, &twin), Err(SignatureError::HighS));
        }
        Err(e) => {
            assert_eq!(check_signature(&c, &digest, sig, &[1u8; 20]), Err(e));
            if sig.len() != 65 {
                assert_eq!(e, SignatureError::BadLength);
            }
        }
    }
}

/// `secret (32) ‖ digest (32)`: a key that parses signs a low-s, v ∈ {27, 28} signature that recovers to its
/// address.
pub fn sign_and_recover(data: &[u8]) {
    let mut inp = Input(data);
    let secret: [u8; 32] = inp.array();
    let digest: Hash32 = inp.array();
    let Ok(key) = LocalSigner::from_bytes(&secret) else { return };
    let sig = key.sign_digest(&digest);
    assert_eq!(recover_signer(&LocalCrypto, &digest, &sig), Ok(key.address()));
}

/// Arbitrary field values for every typed message: the struct hashes and digests equal an independent
/// recomputation from the type strings, the domains differ, and only 1..=256-byte ids pass `id_len_ok`.
pub fn typed_messages(data: &[u8]) {
    let c = LocalCrypto;
    let mut inp = Input(data);
    let chain_id = u64::from_be_bytes(inp.array());
    let contract: AccountBytes = inp.array();
    let (user, provider): (AccountBytes, AccountBytes) = (inp.array(), inp.array());
    let (nonce, fee) = (inp.u128(), inp.u128());
    let requests_hash: Hash32 = inp.array();
    let id = inp.slice();
    let secret = inp.slice();
    let root = inp.slice();

    let word = |v: u128| uint(v);
    let domain_word = |name: &str| {
        keccak(&[
            &keccak(&[DOMAIN_TYPE.as_bytes()]),
            &keccak(&[name.as_bytes()]),
            &keccak(&[b"1"]),
            &word(u128::from(chain_id)),
            &contract,
        ])
    };
    let inference = Domain::inference(chain_id, contract);
    let fine_tuning = Domain::fine_tuning(chain_id, contract);
    assert_eq!(inference.separator(&c), domain_word("0G Inference Serving"));
    assert_eq!(fine_tuning.separator(&c), domain_word("0G Fine-Tuning Serving"));

    let t = TeeSettlement { requests_hash, nonce, provider, user, total_fee: fee };
    let expected = keccak(&[
        &keccak(&[TEE_SETTLEMENT_TYPE.as_bytes()]),
        &requests_hash,
        &word(nonce),
        &provider,
        &user,
        &word(fee),
    ]);
    assert_eq!(t.struct_hash(&c), expected);
    let digest = inference.digest(&c, &expected);
    assert_eq!(digest, keccak(&[&[0x19, 0x01], &inference.separator(&c), &expected]));
    assert_ne!(digest, fine_tuning.digest(&c, &expected));

    let m =
        VerifierMessage { id, encrypted_secret: secret, model_root_hash: root, nonce, task_fee: fee, user, provider };
    let expected = keccak(&[
        &keccak(&[VERIFIER_MESSAGE_TYPE.as_bytes()]),
        &keccak(&[id]),
        &keccak(&[secret]),
        &keccak(&[root]),
        &word(nonce),
        &word(fee),
        &user,
        &provider,
    ]);
    assert_eq!(m.struct_hash(&c), expected);
    assert_eq!(m.id_len_ok(), (1..=MAX_DELIVERABLE_ID_LEN).contains(&id.len()));

    let signer: EthAddress = user[..20].try_into().expect("20 bytes");
    let a = TeeAttestation { provider, signer, measurement: requests_hash, expires_at: chain_id };
    let mut padded = [0u8; 32];
    padded[12..].copy_from_slice(&signer);
    let expected = keccak(&[
        &keccak(&[TEE_ATTESTATION_TYPE.as_bytes()]),
        &provider,
        &padded,
        &requests_hash,
        &word(u128::from(chain_id)),
    ]);
    assert_eq!(a.struct_hash(&c), expected);
}

/// An attestation with arbitrary fields, signature and clock: `check_attestation` never panics, and accepts
/// only an unexpired attestation for the expected signer, signed by the attestor.
pub fn attestation(data: &[u8]) {
    let c = LocalCrypto;
    let mut inp = Input(data);
    let domain = Domain::inference(u64::from_be_bytes(inp.array()), inp.array());
    let a = TeeAttestation {
        provider: inp.array(),
        signer: inp.array(),
        measurement: inp.array(),
        expires_at: u64::from_be_bytes(inp.array()),
    };
    let expected_signer: EthAddress = inp.array();
    let attestor: EthAddress = inp.array();
    let now = u64::from_be_bytes(inp.array());
    let signature = inp.slice();
    let r = check_attestation(&c, &domain, &a, &expected_signer, &attestor, signature, now);
    if r.is_ok() {
        assert!(a.expires_at > now);
        assert_eq!(a.signer, expected_signer);
        let digest = domain.digest(&c, &a.struct_hash(&c));
        assert_eq!(recover_signer(&c, &digest, signature), Ok(attestor));
    }
    // The same attestation signed by a real key is accepted exactly when it is unexpired and names the signer.
    if let Ok(key) = LocalSigner::from_bytes(&a.measurement) {
        let sig = key.sign_digest(&domain.digest(&c, &a.struct_hash(&c)));
        let r = check_attestation(&c, &domain, &a, &expected_signer, &key.address(), &sig, now);
        let want = if a.expires_at <= now {
            Err(AttestationError::Expired)
        } else if a.signer != expected_signer {
            Err(AttestationError::SignerMismatch)
        } else {
            Ok(())
        };
        assert_eq!(r, want);
    }
}
