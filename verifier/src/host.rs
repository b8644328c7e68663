//! On-chain crypto: the contract host functions (cheap, and the same code the chain runs for everyone).
use crate::{Crypto, EthAddress, Hash32};
use ink::env::hash::{HashOutput, Keccak256};

/// [`Crypto`] through ink's environment: `hash_keccak_256`, `ecdsa_recover`, `ecdsa_to_eth_address`.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostCrypto;

impl Crypto for HostCrypto {
    fn keccak256(&self, data: &[u8]) -> Hash32 {
        let mut out = <Keccak256 as HashOutput>::Type::default();
        ink::env::hash_bytes::<Keccak256>(data, &mut out);
        out
    }

    fn recover_key(&self, signature: &[u8; 65], digest: &Hash32) -> Option<[u8; 33]> {
        let mut pubkey = [0u8; 33];
        ink::env::ecdsa_recover(signature, digest, &mut pubkey).ok()?;
        Some(pubkey)
    }

    fn key_address(&self, key: &[u8; 33]) -> Option<EthAddress> {
        let mut address = [0u8; 20];
        ink::env::ecdsa_to_eth_address(key, &mut address).ok()?;
        Some(address)
    }
}
