//! Every way a ledger message can fail.
use serving_common::OwnershipError;
use serving_interface::{Balance, ServingError};

/// Every way a ledger message can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum Error {
    /// An owner-only message from another account, or a refused ownership step.
    Ownership(OwnershipError),
    /// An amount of zero where a positive amount is required.
    ZeroAmount,
    /// The zero account where a real account is required.
    ZeroAddress,
    /// Less than the minimum needed to open a ledger / a sub-account, or to keep after a withdrawal.
    MinimumDepositRequired { amount: Balance, minimum: Balance },
    /// A string longer than its limit.
    TooLong { len: u32, max: u32 },
    /// The caller already has a ledger.
    LedgerExists,
    /// No ledger for this user.
    LedgerNotExists,
    /// Withdrawal larger than the available balance.
    InsufficientBalance { available: Balance, requested: Balance },
    /// A transfer to a service larger than the available balance.
    InsufficientAvailableBalance { available: Balance, required: Balance },
    /// No service registered at this address / under this (type, version).
    ServiceNotFound,
    /// The service is disabled: no new funding (money can still come back from it).
    ServiceDisabled,
    /// This address is already registered.
    ServiceAlreadyRegistered,
    /// This (type, version) is already taken.
    ServiceNameExists,
    /// Empty service type.
    ServiceTypeRequired,
    /// Empty version.
    VersionRequired,
    /// The registry is full.
    ServiceRegistryLimitReached { max: u32 },
    /// A service type already has the maximum number of versions.
    TooManyVersions { max: u32 },
    /// The address does not answer `Serving::serving_info`, speaks another interface version, or is bound to
    /// another ledger.
    ServiceMustImplementServing,
    /// The user already has sub-accounts with the maximum number of providers in this service.
    TooManyProvidersForService { max: u32 },
    /// The user already uses the maximum number of services.
    TooManyServicesForUser { max: u32 },
    /// More providers than one `retrieve_fund` handles.
    TooManyProviders { len: u32, max: u32 },
    /// A page larger than 50.
    LimitTooLarge { limit: u32, max: u32 },
    /// `delete_ledger` while funds remain.
    MustWithdrawAllFundsFirst { total: Balance },
    /// No recommended service for this type.
    NoRecommendedService,
    /// The service returned an error.
    Service(ServingError),
    /// The call to the service failed (trapped, ran out of gas, returned garbage, or re-entered).
    ServiceCallFailed,
    /// A native transfer out of the ledger failed.
    TransferFailed,
    /// Arithmetic overflow (cannot happen with real token supplies; reported instead of wrapping).
    Overflow,
    /// `set_code_hash` failed (unknown code hash).
    UpgradeFailed,
    /// The full build this ledger's rarely used messages run in is missing (no hash stored, or no code under it).
    FullCodeUnavailable,
    /// The full build given is the ledger's own (thin) code.
    FullCodeIsThinCode,
}

impl From<ServingError> for Error {
    fn from(e: ServingError) -> Self {
        Error::Service(e)
    }
}

impl From<OwnershipError> for Error {
    fn from(e: OwnershipError) -> Self {
        Error::Ownership(e)
    }
}

impl From<serving_common::full::Error> for Error {
    fn from(e: serving_common::full::Error) -> Self {
        use serving_common::full::Error as F;
        match e {
            F::FullCodeIsThinCode => Error::FullCodeIsThinCode,
            F::FullCodeUnavailable => Error::FullCodeUnavailable,
            F::UpgradeFailed => Error::UpgradeFailed,
        }
    }
}
