//! The administration events both the ledger and the services emit (ink! puts every `#[ink::event]` of a linked
//! crate into a contract's metadata, so only events every contract emits live here).
use ink::primitives::AccountId;

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipTransferStarted {
    #[ink(topic)]
    pub owner: AccountId,
    #[ink(topic)]
    pub pending_owner: AccountId,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipTransferred {
    #[ink(topic)]
    pub previous_owner: AccountId,
    #[ink(topic)]
    pub new_owner: AccountId,
}

#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeUpgraded {
    pub code_hash: [u8; 32],
}

/// The owner changed the code hash of the full build that the contract's rarely used messages run in.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullCodeUpdated {
    pub code_hash: [u8; 32],
}

/// The owner sent tokens the contract held beyond what it owes (plain transfers to it, over-payments).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurplusWithdrawn {
    #[ink(topic)]
    pub to: AccountId,
    pub amount: u128,
}
