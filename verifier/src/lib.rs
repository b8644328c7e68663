//! EIP-712 typed-data hashing, signature rules and TEE attestation checks for the serving contracts.
//!
//! The same code runs on chain (inside the contracts, with the host's keccak and `ecdsa_recover` behind the
//! [`Crypto`] trait, feature `ink`) and off chain (providers' tools and tests, feature `std`, with pure-Rust
//! keccak and secp256k1). See `docs/signed-messages.md` for the formats.
//!
//! Encoding follows EIP-712 exactly: every field is one 32-byte word (`uint256` big-endian, `address`
//! left-padded, `bytes32` as is, `string`/`bytes` replaced by their keccak256), and
//! `digest = keccak256(0x19 0x01 ‖ domainSeparator ‖ structHash)`. The domain is
//! `EIP712Domain(string name,string version,uint256 chainId,bytes32 salt)` with the verifying contract's
//! 32-byte account id as `salt`.
#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "std")]
pub mod fuzz;
#[cfg(feature = "ink")]
mod host;
#[cfg(feature = "std")]
mod local;
mod sig;

#[cfg(feature = "ink")]
pub use host::HostCrypto;
#[cfg(feature = "std")]
pub use local::{high_s_twin, LocalCrypto, LocalSigner, SignerError};
pub use sig::{check_signature, recover_signer, SignatureError, SignerCache, SECP256K1_HALF_ORDER, SECP256K1_ORDER};

/// A 32-byte hash.
pub type Hash32 = [u8; 32];
/// A 20-byte Ethereum address (the last 20 bytes of keccak256 of an uncompressed secp256k1 public key).
pub type EthAddress = [u8; 20];
/// A 32-byte Substrate account id, as raw bytes.
pub type AccountBytes = [u8; 32];

/// The cryptographic primitives the verifier needs. Contracts implement them with host functions, off-chain
/// code with Rust libraries; the hashing and the signature rules above them are shared.
pub trait Crypto {
    /// keccak256 of `data`.
    fn keccak256(&self, data: &[u8]) -> Hash32;
    /// Recovers the Ethereum address of the key that produced `signature` (r ‖ s ‖ v, v ∈ {27, 28}) over
    /// `digest`. `None` when recovery fails. Callers go through [`recover_signer`], which enforces the rules.
    fn recover_address(&self, signature: &[u8; 65], digest: &Hash32) -> Option<EthAddress> {
        self.key_address(&self.recover_key(signature, digest)?)
    }
    /// Recovers the compressed public key (33 bytes) that produced `signature` over `digest`. `None` when recovery
    /// fails. Comparing keys lets a batch of vouchers by one signer map the key to an address once
    /// ([`SignerCache`]).
    fn recover_key(&self, signature: &[u8; 65], digest: &Hash32) -> Option<[u8; 33]>;
    /// The Ethereum address of a compressed public key (keccak256 of the uncompressed point, last 20 bytes).
    fn key_address(&self, key: &[u8; 33]) -> Option<EthAddress>;
}

/// keccak256("EIP712Domain(string name,string version,uint256 chainId,bytes32 salt)")
pub const DOMAIN_TYPEHASH: Hash32 = hex32("a604fff5a27d5951f334ccda7abff3286a8af29caeeb196a6f2b40a1dce7612b");
/// keccak256("1"), the version of every domain here.
pub const VERSION_1_HASH: Hash32 = hex32("c89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc6");
/// keccak256("0G Inference Serving")
pub const INFERENCE_DOMAIN_NAME_HASH: Hash32 =
    hex32("2f4ba393a20b900f9f0a8fdd993b162f640c29a02a710d04f515521a29be839b");
/// keccak256("0G Fine-Tuning Serving")
pub const FINE_TUNING_DOMAIN_NAME_HASH: Hash32 =
    hex32("ee2d3041cec28b9a0a957f2f0163e12e53119960d5a7d160e2a52db3594161e7");

/// The type strings, exactly as signed.
pub const DOMAIN_TYPE: &str = "EIP712Domain(string name,string version,uint256 chainId,bytes32 salt)";
pub const TEE_SETTLEMENT_TYPE: &str =
    "TEESettlement(bytes32 requestsHash,uint256 nonce,bytes32 provider,bytes32 user,uint256 totalFee)";
pub const VERIFIER_MESSAGE_TYPE: &str = "VerifierMessage(string id,bytes encryptedSecret,bytes modelRootHash,uint256 nonce,uint256 taskFee,bytes32 user,bytes32 provider)";
pub const TEE_ATTESTATION_TYPE: &str =
    "TeeAttestation(bytes32 provider,address signer,bytes32 measurement,uint256 expiresAt)";
/// A batch of inference vouchers signed once (EIP-712 `encodeType`: the primary type, then the referenced one).
pub const TEE_SETTLEMENT_BATCH_TYPE: &str = "TEESettlementBatch(bytes32 provider,TEESettlement[] settlements)TEESettlement(bytes32 requestsHash,uint256 nonce,bytes32 provider,bytes32 user,uint256 totalFee)";

/// keccak256(TEE_SETTLEMENT_TYPE)
pub const TEE_SETTLEMENT_TYPEHASH: Hash32 = hex32("e99235af604905a8f618c15c19d4f8ec65bdd35273c0948714531ae65ce1b1c5");
/// keccak256(VERIFIER_MESSAGE_TYPE)
pub const VERIFIER_MESSAGE_TYPEHASH: Hash32 = hex32("bba3b18eefe70d94835d9c1353fd226152a37733b5a5e7e4b5b5921cfc8ac505");
/// keccak256(TEE_SETTLEMENT_BATCH_TYPE)
pub const TEE_SETTLEMENT_BATCH_TYPEHASH: Hash32 =
    hex32("d187ebe5c1daea4b0c7966d945a198022753bd4a2f139fbe8f9bfbd3648730f6");
/// keccak256(TEE_ATTESTATION_TYPE)
pub const TEE_ATTESTATION_TYPEHASH: Hash32 = hex32("e23d420554dc8f842248c4fe6b3081b9bb57cde468d2add30f8b6ec6af3338d6");

/// The longest deliverable id a fine-tuning voucher may carry, in bytes.
pub const MAX_DELIVERABLE_ID_LEN: usize = 256;

/// The EIP-712 domain of one service contract on one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain {
    /// keccak256 of the domain name ([`INFERENCE_DOMAIN_NAME_HASH`] or [`FINE_TUNING_DOMAIN_NAME_HASH`]).
    pub name_hash: Hash32,
    /// The chain id the contract was instantiated with.
    pub chain_id: u64,
    /// The verifying contract's account id.
    pub contract: AccountBytes,
}

impl Domain {
    pub const fn inference(chain_id: u64, contract: AccountBytes) -> Self {
        Self { name_hash: INFERENCE_DOMAIN_NAME_HASH, chain_id, contract }
    }

    pub const fn fine_tuning(chain_id: u64, contract: AccountBytes) -> Self {
        Self { name_hash: FINE_TUNING_DOMAIN_NAME_HASH, chain_id, contract }
    }

    /// keccak256(abi.encode(DOMAIN_TYPEHASH, nameHash, keccak256("1"), chainId, salt))
    pub fn separator(&self, c: &impl Crypto) -> Hash32 {
        hash_words(
            c,
            &[DOMAIN_TYPEHASH, self.name_hash, VERSION_1_HASH, uint(u128::from(self.chain_id)), self.contract],
        )
    }

    /// The EIP-712 digest of a message with `struct_hash` in this domain.
    pub fn digest(&self, c: &impl Crypto, struct_hash: &Hash32) -> Hash32 {
        typed_digest(c, &self.separator(c), struct_hash)
    }
}

/// The inference voucher a provider's TEE signs: "the user owes `total_fee` for the requests committed to by
/// `requests_hash`; settle it under `nonce`".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeeSettlement {
    pub requests_hash: Hash32,
    pub nonce: u128,
    pub provider: AccountBytes,
    pub user: AccountBytes,
    pub total_fee: u128,
}

impl TeeSettlement {
    pub fn struct_hash(&self, c: &impl Crypto) -> Hash32 {
        hash_words(
            c,
            &[
                TEE_SETTLEMENT_TYPEHASH,
                self.requests_hash,
                uint(self.nonce),
                self.provider,
                self.user,
                uint(self.total_fee),
            ],
        )
    }
}

/// The struct hash of `TEESettlementBatch(bytes32 provider,TEESettlement[] settlements)`, given the
/// concatenated struct hashes of its entries in order (`entry_hashes`, 32 bytes each): EIP-712 encodes an array
/// of structs as keccak256 of its members' struct hashes, concatenated. Every entry names `provider` too.
pub fn batch_struct_hash(c: &impl Crypto, provider: &AccountBytes, entry_hashes: &[u8]) -> Hash32 {
    hash_words(c, &[TEE_SETTLEMENT_BATCH_TYPEHASH, *provider, c.keccak256(entry_hashes)])
}

/// The fine-tuning voucher: the fee for deliverable `id` (whose model has root hash `model_root_hash`), with
/// the key to the model (`encrypted_secret`, empty for a penalty settlement).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifierMessage<'a> {
    /// The deliverable id as UTF-8 bytes (1..=256 bytes).
    pub id: &'a [u8],
    pub encrypted_secret: &'a [u8],
    pub model_root_hash: &'a [u8],
    pub nonce: u128,
    pub task_fee: u128,
    pub user: AccountBytes,
    pub provider: AccountBytes,
}

impl VerifierMessage<'_> {
    pub fn struct_hash(&self, c: &impl Crypto) -> Hash32 {
        hash_words(
            c,
            &[
                VERIFIER_MESSAGE_TYPEHASH,
                c.keccak256(self.id),
                c.keccak256(self.encrypted_secret),
                c.keccak256(self.model_root_hash),
                uint(self.nonce),
                uint(self.task_fee),
                self.user,
                self.provider,
            ],
        )
    }

    /// Whether the id length is within 1..=[`MAX_DELIVERABLE_ID_LEN`].
    pub fn id_len_ok(&self) -> bool {
        !self.id.is_empty() && self.id.len() <= MAX_DELIVERABLE_ID_LEN
    }
}

/// An attestor's statement: "`signer` is a key held inside a TEE running `measurement` for `provider`, valid
/// until `expires_at` (milliseconds)". Signed in the domain of the service contract that accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeeAttestation {
    pub provider: AccountBytes,
    pub signer: EthAddress,
    pub measurement: Hash32,
    pub expires_at: u64,
}

impl TeeAttestation {
    pub fn struct_hash(&self, c: &impl Crypto) -> Hash32 {
        hash_words(
            c,
            &[
                TEE_ATTESTATION_TYPEHASH,
                self.provider,
                address_word(&self.signer),
                self.measurement,
                uint(u128::from(self.expires_at)),
            ],
        )
    }
}

/// Why an attestation is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestationError {
    /// `expires_at` is not after `now`.
    Expired,
    /// The attestation names another signer than the provider's current one.
    SignerMismatch,
    /// The signature breaks the rules or is not by the claimed attestor.
    Signature(SignatureError),
}

/// Checks an attestation for `expected_signer` at time `now_ms`, signed by `attestor` in `domain`.
/// Whether `attestor` and `measurement` are accepted is the contract's business (its registries).
pub fn check_attestation(
    c: &impl Crypto,
    domain: &Domain,
    attestation: &TeeAttestation,
    expected_signer: &EthAddress,
    attestor: &EthAddress,
    signature: &[u8],
    now_ms: u64,
) -> Result<(), AttestationError> {
    if attestation.expires_at <= now_ms {
        return Err(AttestationError::Expired);
    }
    if &attestation.signer != expected_signer {
        return Err(AttestationError::SignerMismatch);
    }
    let digest = domain.digest(c, &attestation.struct_hash(c));
    check_signature(c, &digest, signature, attestor).map_err(AttestationError::Signature)
}

/// keccak256 of the concatenated 32-byte words: `keccak256(abi.encode(...))` for static fields.
pub fn hash_words<const N: usize>(c: &impl Crypto, words: &[[u8; 32]; N]) -> Hash32 {
    c.keccak256(words.as_flattened())
}

/// keccak256(0x19 0x01 ‖ domain_separator ‖ struct_hash)
pub fn typed_digest(c: &impl Crypto, domain_separator: &Hash32, struct_hash: &Hash32) -> Hash32 {
    let mut buf = [0u8; 2 + 64];
    buf[0] = 0x19;
    buf[1] = 0x01;
    buf[2..34].copy_from_slice(domain_separator);
    buf[34..66].copy_from_slice(struct_hash);
    c.keccak256(&buf)
}

/// An unsigned integer as a uint256 word (big-endian, left-padded).
pub fn uint(v: u128) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

/// An address as a word (left-padded with 12 zero bytes).
pub fn address_word(a: &EthAddress) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a);
    w
}

/// Parses 64 hex digits at compile time (for the constants above). Wrapping arithmetic: every index and
/// digit value here is in range by construction, and a bad digit fails the build.
const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    assert!(b.len() == 64, "hex32 needs 64 hex digits");
    let mut out = [0u8; 32];
    let mut i: usize = 0;
    while i < 32 {
        let hi = nibble(b[i.wrapping_mul(2)]);
        let lo = nibble(b[i.wrapping_mul(2).wrapping_add(1)]);
        out[i] = (hi << 4) | lo;
        i = i.wrapping_add(1);
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c.wrapping_sub(b'0'),
        b'a'..=b'f' => c.wrapping_sub(b'a').wrapping_add(10),
        b'A'..=b'F' => c.wrapping_sub(b'A').wrapping_add(10),
        _ => panic!("not a hex digit"),
    }
}
