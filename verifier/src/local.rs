//! Off-chain crypto and signing (feature `std`): pure-Rust keccak (sha3) and secp256k1 (k256).
use crate::{Crypto, EthAddress, Hash32};
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};

/// [`Crypto`] for tools and tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalCrypto;

fn keccak(data: &[u8]) -> Hash32 {
    Keccak256::digest(data).into()
}

/// The Ethereum address of a secp256k1 public key.
pub fn eth_address(key: &VerifyingKey) -> EthAddress {
    let point = key.to_encoded_point(false);
    let hash = keccak(&point.as_bytes()[1..]);
    let mut a = [0u8; 20];
    a.copy_from_slice(&hash[12..]);
    a
}

impl Crypto for LocalCrypto {
    fn keccak256(&self, data: &[u8]) -> Hash32 {
        keccak(data)
    }

    fn recover_key(&self, signature: &[u8; 65], digest: &Hash32) -> Option<[u8; 33]> {
        let v = signature[64].checked_sub(27)?;
        let id = RecoveryId::from_byte(v)?;
        let sig = Signature::from_slice(&signature[..64]).ok()?;
        let key = VerifyingKey::recover_from_prehash(digest, &sig, id).ok()?;
        key.to_encoded_point(true).as_bytes().try_into().ok()
    }

    fn key_address(&self, key: &[u8; 33]) -> Option<EthAddress> {
        Some(eth_address(&VerifyingKey::from_sec1_bytes(key).ok()?))
    }
}

/// Why a key cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum SignerError {
    /// Not 32 bytes, zero, or not below the group order.
    InvalidKey,
}

impl core::fmt::Display for SignerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("invalid secp256k1 secret key (need 32 bytes, non-zero, below the group order)")
    }
}

impl std::error::Error for SignerError {}

/// A secp256k1 key that signs digests the way a provider's TEE (or an attestor) does: deterministic k
/// (RFC 6979), low-s, v ∈ {27, 28}.
#[derive(Clone)]
pub struct LocalSigner {
    key: SigningKey,
}

impl LocalSigner {
    /// A key from exactly 32 secret bytes (k256 would left-pad 24..=31 bytes silently; eth-account refuses
    /// them, and so do we).
    pub fn from_bytes(secret: &[u8]) -> Result<Self, SignerError> {
        if secret.len() != 32 {
            return Err(SignerError::InvalidKey);
        }
        let key = SigningKey::from_slice(secret).map_err(|_| SignerError::InvalidKey)?;
        Ok(Self { key })
    }

    /// A fresh key from the operating system's randomness.
    pub fn random() -> Self {
        Self { key: SigningKey::random(&mut rand_core::OsRng) }
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    pub fn address(&self) -> EthAddress {
        eth_address(self.key.verifying_key())
    }

    /// Signs a 32-byte digest; returns r ‖ s ‖ v with low s and v ∈ {27, 28}.
    pub fn sign_digest(&self, digest: &Hash32) -> [u8; 65] {
        let (sig, id) =
            self.key.sign_prehash_recoverable(digest).expect("signing a 32-byte prehash with a valid key cannot fail");
        // k256 already returns low-s; normalise anyway and flip the recovery id if it changed s.
        let (sig, id) = match sig.normalize_s() {
            Some(low) => (low, RecoveryId::new(!id.is_y_odd(), id.is_x_reduced())),
            None => (sig, id),
        };
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + id.to_byte();
        out
    }
}

/// The malleable twin of a 65-byte signature: s replaced by n − s and v flipped (27 ↔ 28). It recovers the same
/// key, so only the low-s rule refuses it. For tests and fuzzing; the input must be 65 bytes with s ≤ n.
pub fn high_s_twin(signature: &[u8]) -> Vec<u8> {
    let mut out = signature.to_vec();
    let mut borrow = 0u16;
    for k in (0..32).rev() {
        let (n, s) = (u16::from(crate::SECP256K1_ORDER[k]), u16::from(signature[32 + k]) + borrow);
        let (v, b) = if n >= s { (n - s, 0) } else { (n + 256 - s, 1) };
        out[32 + k] = u8::try_from(v).unwrap_or(0);
        borrow = b;
    }
    out[64] = if signature[64] == 27 { 28 } else { 27 };
    out
}
