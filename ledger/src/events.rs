//! The ledger's events. Each names the user (or service) as a topic; amounts are fields. Kept out of the
//! contract module so the module is wiring only; `ink::event` structs here are part of the ledger's metadata.
use crate::Balance;
use ink::prelude::string::String;
use ink::primitives::AccountId;

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAdded {
    #[ink(topic)]
    pub user: AccountId,
    pub amount: Balance,
}

/// Money into `user`'s ledger; `from` paid it (the user itself for `deposit_fund`). Only `user` is a topic: in
/// pallet-contracts' weights each topic costs about 128 M ps and 2.5 KB of proof, and `deposit_fund` is a daily call.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundDeposited {
    #[ink(topic)]
    pub user: AccountId,
    pub from: AccountId,
    pub amount: Balance,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerInfoUpdated {
    #[ink(topic)]
    pub user: AccountId,
    pub additional_info: String,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRefunded {
    #[ink(topic)]
    pub user: AccountId,
    pub amount: Balance,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerDeleted {
    #[ink(topic)]
    pub user: AccountId,
}

/// One step of `delete_ledger` that left sub-accounts to delete.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerDeletionProgress {
    #[ink(topic)]
    pub user: AccountId,
    pub deleted: u32,
    pub remaining: u32,
}

/// A service failed to delete a (zero-balance) sub-account; the ledger stops tracking it, remembers it as an
/// orphan and deletes it before the pair is funded again. Not counted in `LedgerDeletionProgress.deleted`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAccountDeleteFailed {
    #[ink(topic)]
    pub user: AccountId,
    #[ink(topic)]
    pub service: AccountId,
    pub provider: AccountId,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundTransferred {
    #[ink(topic)]
    pub user: AccountId,
    #[ink(topic)]
    pub service: AccountId,
    #[ink(topic)]
    pub provider: AccountId,
    /// The amount the user asked to move.
    pub amount: Balance,
    /// Of it, what cancelled pending refunds (no tokens moved for that part).
    pub cancelled: Balance,
    /// Of it, what the ledger sent to the service.
    pub sent: Balance,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundRetrieved {
    #[ink(topic)]
    pub user: AccountId,
    #[ink(topic)]
    pub service: AccountId,
    #[ink(topic)]
    pub provider: AccountId,
    /// Credited to the user's available balance.
    pub amount: Balance,
    /// A new refund queued for this amount (0: none).
    pub refund_requested: Balance,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRegistered {
    #[ink(topic)]
    pub service: AccountId,
    pub service_type: String,
    pub version: String,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecommendedServiceUpdated {
    pub service_type: String,
    pub version: String,
    #[ink(topic)]
    pub service: AccountId,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEnabledChanged {
    #[ink(topic)]
    pub service: AccountId,
    pub enabled: bool,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinimumsUpdated {
    pub min_account_balance: Balance,
    pub min_transfer_amount: Balance,
}
