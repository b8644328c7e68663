//! The cross-contract interface between the ledger and the service contracts.
//!
//! * [`Serving`]: what every service contract (inference, fine-tuning) implements for the ledger. Only the
//!   ledger the service was instantiated with may call the state-changing messages.
//!
//! Nothing goes from a service to the ledger but tokens: a service pays unlocked refunds back with a plain
//! transfer that the ledger credits by the value received. Settlement happens in the service alone and never
//! calls the ledger (docs/differences.md, D3).
use crate::Balance;
use ink::prelude::string::String;
use ink::prelude::vec::Vec;
use ink::primitives::AccountId;

/// The version of [`Serving`] this ledger speaks. A service reports it in [`ServingInfo`] and the ledger
/// refuses to register a service that reports another one.
pub const SERVING_INTERFACE_VERSION: u32 = 4;

/// Most providers one [`Serving::retrieve`] or [`Serving::delete_accounts`] call may name.
pub const MAX_ACCOUNTS_PER_CALL: u32 = 25;

/// What [`Serving::retrieve`] did at one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct Retrieval {
    pub provider: AccountId,
    /// Unlocked refunds paid to the ledger (in the call's one transfer).
    pub paid: Balance,
    /// The refund queued of what was neither pending nor paid (0: nothing queued).
    pub requested: Balance,
}

/// What a service tells the ledger about itself at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct ServingInfo {
    /// Must equal [`SERVING_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// The ledger the service accepts calls from; must be the registering ledger.
    pub ledger: AccountId,
}

/// Why a sub-account operation is refused (the rules live in `service-core`; the type is here so that the ledger
/// sees the same values the services return, nested in [`ServingError::Account`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum AccountError {
    /// The zero account as user or provider.
    InvalidAddress,
    /// user == provider.
    ProviderCannotBeUser,
    /// The provider has no service.
    ProviderHasNoService,
    /// The sub-account already exists.
    AccountExists,
    /// The sub-account does not exist.
    AccountNotExists,
    /// Additional info longer than the limit (4096 bytes).
    InfoTooLong,
    /// The sub-account already has the maximum number of active refunds.
    TooManyRefunds,
    /// An amount overflowed.
    Overflow,
}

/// What a service returns to the ledger's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum ServingError {
    /// The caller is not the service's ledger.
    CallerNotLedger,
    /// A sub-account rule refused the operation.
    Account(AccountError),
    /// Paying the ledger failed.
    TransferFailed,
    /// The service refuses this operation (for example: it is paused).
    NotAllowed,
    /// More providers in one call than [`MAX_ACCOUNTS_PER_CALL`].
    TooManyProviders { len: u32, max: u32 },
}

impl From<AccountError> for ServingError {
    fn from(e: AccountError) -> Self {
        ServingError::Account(e)
    }
}

/// Implemented by every service contract; called by the ledger only.
#[ink::trait_definition]
pub trait Serving {
    /// The interface version and the ledger this service is bound to.
    #[ink(message)]
    fn serving_info(&self) -> ServingInfo;

    /// Whether the (user, provider) sub-account exists.
    #[ink(message)]
    fn account_exists(&self, user: AccountId, provider: AccountId) -> bool;

    /// The sum of the balances of `user`'s sub-accounts at this service (pending refunds included): what the
    /// service holds for the user right now. The ledger reports a user's total from it.
    #[ink(message)]
    fn user_balance(&self, user: AccountId) -> Balance;

    /// The total of the sub-account's active refunds.
    #[ink(message)]
    fn get_pending_refund(&self, user: AccountId, provider: AccountId) -> Result<Balance, ServingError>;

    /// Opens the sub-account with the transferred value as its balance.
    #[ink(message, payable)]
    fn add_account(
        &mut self,
        user: AccountId,
        provider: AccountId,
        additional_info: String,
    ) -> Result<(), ServingError>;

    /// Adds the transferred value to the balance and cancels up to `cancel_refund` of pending refunds,
    /// newest first.
    #[ink(message, payable)]
    fn deposit_fund(
        &mut self,
        user: AccountId,
        provider: AccountId,
        cancel_refund: Balance,
    ) -> Result<(), ServingError>;

    /// For each of `providers` (at most [`MAX_ACCOUNTS_PER_CALL`], each with a sub-account of `user`): collects
    /// the unlocked refunds, then queues a refund of everything not already pending. Pays everything collected
    /// to the ledger in one plain transfer and reports per provider, in order. The ledger credits what it
    /// actually received, never the reported numbers. One call per service instead of two per provider.
    #[ink(message)]
    fn retrieve(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<Vec<Retrieval>, ServingError>;

    /// Deletes `user`'s sub-accounts with `providers` (at most [`MAX_ACCOUNTS_PER_CALL`]), keeping their nonces
    /// (so old vouchers stay spent). Providers without one are skipped.
    #[ink(message)]
    fn delete_accounts(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<(), ServingError>;
}
