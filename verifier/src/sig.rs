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
    match c.recover_address(sig, digest) {
        Some(a) if a != [0u8; 20] => Ok(a),
        _ => Err(SignatureError::RecoveryFailed),
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
