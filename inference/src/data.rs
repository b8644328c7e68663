//! The inference service's own rules (the rules both services share are in `service-core`): what a provider may
//! publish, which changes end its signer's acknowledgement, the revoked-token bitmap, and the one event a
//! settlement batch emits.
use crate::inference::{AccountView, ServiceUpdated, TeeSettlementResults};
use ink::prelude::string::String;
use ink::primitives::AccountId;
use service_core::service::AccountState;
use service_core::settle::Judgement;
use service_core::settle::SettlementStatus;
use service_core::{check_len, Balance, Error};

/// Most users in `get_batch_accounts_by_users`.
pub const MAX_BATCH_USERS: u32 = 50;
/// Most token ids in one `revoke_tokens`.
pub const MAX_TOKEN_IDS: u32 = 256;
/// Longest service type and verifiability, in bytes.
pub const MAX_SHORT_FIELD: u32 = 64;
/// Longest url and model, in bytes.
pub const MAX_URL_LENGTH: u32 = 512;
/// Longest additional info, in bytes.
pub const MAX_INFO_LENGTH: u32 = 4096;

/// What a provider publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct ServiceParams {
    pub service_type: String,
    pub url: String,
    /// Price per input token, in the smallest unit.
    pub input_price: Balance,
    /// Price per output token.
    pub output_price: Balance,
    pub model: String,
    pub verifiability: String,
    pub additional_info: String,
    /// Ethereum address of the key inside the provider's TEE that signs vouchers.
    pub tee_signer: [u8; 20],
}

/// One voucher's outcome in a [`TeeSettlementResults`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct TeeSettlementResult {
    pub user: AccountId,
    pub status: SettlementStatus,
    pub settled: Balance,
    pub unsettled: Balance,
    pub nonce: u128,
}

/// A sub-account's balances after a settlement batch, in a [`TeeSettlementResults`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct SubAccountBalance {
    pub user: AccountId,
    pub balance: Balance,
    pub pending_refund: Balance,
}

impl ServiceParams {
    /// Every field within its limit (`TooLong`).
    pub fn check(&self) -> Result<(), Error> {
        check_len(self.service_type.len(), MAX_SHORT_FIELD)?;
        check_len(self.verifiability.len(), MAX_SHORT_FIELD)?;
        check_len(self.url.len(), MAX_URL_LENGTH)?;
        check_len(self.model.len(), MAX_URL_LENGTH)?;
        check_len(self.additional_info.len(), MAX_INFO_LENGTH)
    }

    /// A change that ends the owner's acknowledgement and the attestation (url and prices do not).
    pub fn critical_change(&self, new: &Self) -> bool {
        self.service_type != new.service_type
            || self.model != new.model
            || self.verifiability != new.verifiability
            || self.tee_signer != new.tee_signer
            || self.additional_info != new.additional_info
    }

    /// The event of `provider`'s registration or update with these parameters at `updated_at`.
    pub fn updated(&self, provider: AccountId, updated_at: u64) -> ServiceUpdated {
        ServiceUpdated {
            provider,
            service_type: self.service_type.clone(),
            url: self.url.clone(),
            input_price: self.input_price,
            output_price: self.output_price,
            updated_at,
            model: self.model.clone(),
            verifiability: self.verifiability.clone(),
            tee_signer: self.tee_signer,
        }
    }
}

/// A sub-account as the views show it.
pub fn account_view(user: AccountId, provider: AccountId, state: AccountState) -> AccountView {
    let AccountState { account: a, additional_info, acknowledged } = state;
    AccountView {
        user,
        provider,
        nonce: a.nonce,
        balance: a.balance,
        pending_refund: a.pending_refund,
        refunds: a.refunds,
        additional_info,
        acknowledged,
        consent_ends_at: a.consent_ends_at,
        generation: a.generation,
    }
}

/// (the token generation the bits belong to, revoked token ids 0..=255 as bits)
pub type RevokedBits = (u32, [u8; 32]);

/// The bits revoked in `generation`: a bitmap stored for an older generation counts as nothing revoked.
pub fn current_bits(stored: Option<RevokedBits>, generation: u32) -> [u8; 32] {
    match stored {
        Some((g, bits)) if g == generation => bits,
        _ => [0u8; 32],
    }
}

/// `bits` with `ids` revoked too (duplicates are harmless).
pub fn revoke(mut bits: [u8; 32], ids: &[u8]) -> [u8; 32] {
    for id in ids {
        bits[usize::from(id / 8)] |= 1u8 << (id % 8);
    }
    bits
}

/// Whether `id` is revoked in `bits`.
pub fn is_revoked(bits: &[u8; 32], id: u8) -> bool {
    bits[usize::from(id / 8)] & (1u8 << (id % 8)) != 0
}

/// The batch's one event (every entry's outcome in order, with `nonces` of the entries, and the new balances of
/// the sub-accounts it changed) and the total to pay the provider.
pub fn settlement_event(
    provider: AccountId,
    judgement: &Judgement,
    nonces: &mut dyn Iterator<Item = u128>,
) -> Result<(TeeSettlementResults, Balance), Error> {
    let total = judgement.total_settled().ok_or(Error::Overflow)?;
    let balances = judgement
        .changed
        .iter()
        .map(|(user, _, a)| SubAccountBalance { user: *user, balance: a.balance, pending_refund: a.pending_refund })
        .collect();
    let results = judgement
        .outcomes
        .iter()
        .zip(nonces)
        .map(|(o, nonce)| TeeSettlementResult {
            user: o.user,
            status: o.status,
            settled: o.settled,
            unsettled: o.unsettled,
            nonce,
        })
        .collect();
    Ok((TeeSettlementResults { provider, results, balances }, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_bits_belong_to_their_generation() {
        let bits = revoke([0; 32], &[0, 9, 255, 9]);
        assert!(is_revoked(&bits, 0) && is_revoked(&bits, 9) && is_revoked(&bits, 255));
        assert!(!is_revoked(&bits, 1) && !is_revoked(&bits, 254));
        assert_eq!(current_bits(Some((3, bits)), 3), bits);
        assert_eq!(current_bits(Some((3, bits)), 4), [0; 32], "a new generation starts with nothing revoked");
        assert_eq!(current_bits(None, 0), [0; 32]);
    }
}
