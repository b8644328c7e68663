//! The events both services emit (ink! collects every `#[ink::event]` of a linked crate into a contract's metadata:
//! the sub-account and provider events sit behind the `service-events` feature, which the service contracts
//! enable). The administration events the ledger emits too are in `serving_common::events`, re-exported here.
pub use serving_common::events::*;

#[cfg(feature = "service-events")]
pub use service::*;

#[cfg(feature = "service-events")]
mod service {
    use crate::Balance;
    use ink::primitives::AccountId;

    /// A sub-account's balance changed (opened, funded, refunded, settled). Emitted once per user on the
    /// settlement hot path, so its fields are not topics: in pallet-contracts' weights every topic costs a storage
    /// read and write (about 128 M ps and 2.5 KB of proof). Filter by decoding (the signature topic remains).
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct BalanceUpdated {
        pub user: AccountId,
        pub provider: AccountId,
        pub balance: Balance,
        pub pending_refund: Balance,
    }

    /// A refund was queued (only emitted when one was).
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RefundRequested {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub amount: Balance,
        /// Position in the queue (0 = oldest).
        pub index: u32,
        pub unlock_at: u64,
    }

    /// A sub-account was deleted (only emitted when one existed). `balance` is what it still held (0 when the
    /// ledger deletes it, since the user's total is 0 then).
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AccountDeleted {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub balance: Balance,
    }

    /// The user granted or withdrew consent to settlements by the provider's TEE signer. Emitted only on a
    /// change. A grant takes effect at once (`effective_at` = now); a withdrawal a lock time later.
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UserAcknowledgementChanged {
        #[ink(topic)]
        pub user: AccountId,
        #[ink(topic)]
        pub provider: AccountId,
        pub acknowledged: bool,
        pub effective_at: u64,
    }

    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProviderStaked {
        #[ink(topic)]
        pub provider: AccountId,
        pub amount: Balance,
    }

    /// A removed service's stake starts unbonding; `withdraw_stake` pays it from `release_at`.
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProviderStakeUnbonding {
        #[ink(topic)]
        pub provider: AccountId,
        pub amount: Balance,
        pub release_at: u64,
    }

    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProviderStakeReturned {
        #[ink(topic)]
        pub provider: AccountId,
        pub amount: Balance,
    }

    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ServiceRemoved {
        #[ink(topic)]
        pub provider: AccountId,
    }

    /// The owner acknowledged or revoked a provider's TEE signer, or a provider update reset it.
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProviderTeeSignerAcknowledged {
        #[ink(topic)]
        pub provider: AccountId,
        pub signer: [u8; 20],
        pub acknowledged: bool,
    }

    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct LockTimeUpdated {
        pub old_ms: u64,
        pub new_ms: u64,
    }

    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MinStakeUpdated {
        pub old: Balance,
        pub new: Balance,
    }

    /// The owner registered or removed an attestor key.
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AttestorUpdated {
        pub attestor: [u8; 20],
        pub registered: bool,
    }

    /// The owner accepted or removed a TEE measurement (e.g. an image or compose hash).
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MeasurementUpdated {
        pub measurement: [u8; 32],
        pub accepted: bool,
    }

    /// A registered attestor vouched for the provider's current signer until `expires_at` (ms).
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TeeAttestationAccepted {
        #[ink(topic)]
        pub provider: AccountId,
        pub signer: [u8; 20],
        pub attestor: [u8; 20],
        pub measurement: [u8; 32],
        pub expires_at: u64,
    }

    /// The provider's attestation no longer applies: its signer changed or its service was removed.
    #[ink::event]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TeeAttestationCleared {
        #[ink(topic)]
        pub provider: AccountId,
        pub signer: [u8; 20],
    }
}
