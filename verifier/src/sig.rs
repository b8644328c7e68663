//! Signature acceptance rules (the same as OpenZeppelin 4.8 `ECDSA.tryRecover`, which the reference uses):
//! exactly 65 bytes r ‖ s ‖ v; v ∈ {27, 28}; 0 < r < n; 0 < s ≤ n/2; the recovered address is non-zero and equal
//! to the expected one.
use crate::{Crypto, EthAddress, Hash32};

/// The order n of the secp256k1 group, big-endian.
pub const SECP256K1_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc,
    0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];
/// floor(n / 2), big-endian: the largest accepted s.
pub const SECP256K1_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e,
    0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Why a signature is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// Not exactly 65 bytes.
    BadLength,
    /// v is not 27 or 28.
    BadV,
    /// r is zero or not below the group order.
    BadR,
    /// s is zero.
    ZeroS,
    /// s is above n/2 (the malleable twin of a valid signature).
    HighS,
    /// The key could not be recovered, or it maps to the zero address.
    RecoveryFailed,
    /// A valid signature, by another key.
    WrongSigner,
}

/// Recovers the signer of `digest` under the rules above.
pub fn recover_signer(c: &impl Crypto, digest: &Hash32, signature: &[u8]) -> Result<EthAddress, SignatureError> {
    match c.recover_address(well_formed(signature)?, digest) {
        Some(a) if a != [0u8; 20] => Ok(a),
        _ => Err(SignatureError::RecoveryFailed),
    }
}

/// The signature as r ‖ s ‖ v when it passes every rule that needs no recovery.
fn well_formed(signature: &[u8]) -> Result<&[u8; 65], SignatureError> {
    let sig: &[u8; 65] = signature.try_into().map_err(|_| SignatureError::BadLength)?;
    let (r, s, v) = (&sig[0..32], &sig[32..64], sig[64]);
    if v != 27 && v != 28 {
        return Err(SignatureError::BadV);
    }
    if is_zero(r) || r >= &SECP256K1_ORDER[..] {
        return Err(SignatureError::BadR);
    }
    if is_zero(s) {
        return Err(SignatureError::ZeroS);
    }
    // Big-endian byte slices of equal length compare like the numbers they encode.
    if s > &SECP256K1_HALF_ORDER[..] {
        return Err(SignatureError::HighS);
    }
    Ok(sig)
}

/// Checks signatures that are expected to come from one key, many times (the vouchers of a settlement batch): the
/// first signature whose key maps to the expected address is remembered by its public key, and a later signature
/// whose recovered key is that key passes without mapping it to an address again (one `ecdsa_to_eth_address` per
/// batch instead of one per voucher). The rules and the result are exactly [`check_signature`]'s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignerCache {
    /// A key and the address it maps to, once a signature by it passed.
    key: Option<([u8; 33], EthAddress)>,
}

impl SignerCache {
    /// [`check_signature`], remembering the expected signer's key once seen.
    pub fn check(
        &mut self,
        c: &impl Crypto,
        digest: &Hash32,
        signature: &[u8],
        expected: &EthAddress,
    ) -> Result<(), SignatureError> {
        let key = c.recover_key(well_formed(signature)?, digest).ok_or(SignatureError::RecoveryFailed)?;
        if self.key == Some((key, *expected)) {
            return Ok(());
        }
        match c.key_address(&key) {
            Some(a) if a == [0u8; 20] => Err(SignatureError::RecoveryFailed),
            Some(a) if &a == expected => {
                self.key = Some((key, a));
                Ok(())
            }
            Some(_) => Err(SignatureError::WrongSigner),
            None => Err(SignatureError::RecoveryFailed),
        }
    }
}

/// Checks that `signature` over `digest` is by `expected` under the rules above.
pub fn check_signature(
    c: &impl Crypto,
    digest: &Hash32,
    signature: &[u8],
    expected: &EthAddress,
) -> Result<(), SignatureError> {
    if &recover_signer(c, digest, signature)? == expected {
        Ok(())
    } else {
        Err(SignatureError::WrongSigner)
    }
}

fn is_zero(b: &[u8]) -> bool {
    b.iter().all(|x| *x == 0)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::{high_s_twin, LocalCrypto, LocalSigner};

    #[test]
    fn the_signer_cache_decides_exactly_as_check_signature() {
        let c = LocalCrypto;
        let alice = LocalSigner::from_bytes(&[7; 32]).unwrap();
        let mallory = LocalSigner::from_bytes(&[9; 32]).unwrap();
        let (d1, d2) = ([1u8; 32], [2u8; 32]);
        let mut cache = SignerCache::default();
        // Before the signer's key is known, and after: a stranger's signature, a malformed one and a malleable
        // twin are refused with check_signature's error, and the signer's own pass.
        for _ in 0..2 {
            for (digest, sig) in [
                (d1, mallory.sign_digest(&d1).to_vec()),
                (d1, alice.sign_digest(&d1)[..64].to_vec()),
                (d2, high_s_twin(&alice.sign_digest(&d2)).to_vec()),
                (d2, alice.sign_digest(&d2).to_vec()),
                (d1, alice.sign_digest(&d1).to_vec()),
            ] {
                assert_eq!(
                    cache.check(&c, &digest, &sig, &alice.address()),
                    check_signature(&c, &digest, &sig, &alice.address())
                );
            }
        }
        assert_eq!(cache.check(&c, &d1, &alice.sign_digest(&d1), &alice.address()), Ok(()));
        // A cache filled by one signer does not let that key through for another expected address.
        assert_eq!(cache.check(&c, &d1, &alice.sign_digest(&d1), &mallory.address()), Err(SignatureError::WrongSigner));
        // The key is remembered only once it matched.
        let mut fresh = SignerCache::default();
        assert_eq!(fresh.check(&c, &d1, &mallory.sign_digest(&d1), &alice.address()), Err(SignatureError::WrongSigner));
        assert_eq!(fresh, SignerCache::default());
    }
}
