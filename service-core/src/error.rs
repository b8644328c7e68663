//! The one error type of the two service contracts. Refusals of a shared rule are nested under the rule's own
//! type (`Ownership(..)`, `Stake(..)`, `Account(..)`, `Attestation(..)`, `Task(..)`), so each variant is
//! defined once and no mapping can lose information.
use crate::provider::{AttestationRuleError, OwnershipError, StakeError};
use crate::tuning::TaskError;
use crate::AccountError;

/// Every way an inference or fine-tuning message can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum Error {
    /// Owner-only message from another account, or a refused ownership step.
    Ownership(OwnershipError),
    /// Registration stake and its unbonding.
    Stake(StakeError),
    /// A sub-account rule.
    Account(AccountError),
    /// The TEE signer and its attestation.
    Attestation(AttestationRuleError),
    /// Fine-tuning tasks: deliverables and their settlement.
    Task(TaskError),
    /// The provider has no service.
    ServiceNotExist,
    /// The ledger given to the constructor is the zero account.
    ZeroAddress,
    /// Lock time outside [1 h, 7 d].
    LockTimeOutOfRange,
    /// Fine-tuning penalty share above 100 %.
    PenaltyPercentageTooHigh { percent: u8 },
    /// A string or byte field longer than its limit.
    TooLong { len: u32, max: u32 },
    /// A list argument (token ids, models, vouchers, users) longer than its limit.
    TooMany { len: u32, max: u32 },
    /// A settlement batch without vouchers.
    NoSettlementsProvided,
    /// A page larger than [`crate::MAX_PAGE`].
    LimitTooLarge { limit: u32, max: u32 },
    /// `withdraw_surplus` with nothing beyond what the contract owes.
    NoSurplus,
    /// A native transfer out of the contract failed.
    TransferFailed,
    /// Arithmetic overflow (cannot happen with real token supplies; reported instead of wrapping).
    Overflow,
    /// `set_code_hash` failed (unknown code hash).
    UpgradeFailed,
    /// A batch-signed settlement from a provider without a usable TEE signer (none acknowledged by the owner,
    /// none attested): nothing can check the batch's signature.
    NoTeeSigner,
    /// A batch-signed settlement whose signature breaks the rules or is not by the provider's TEE signer over
    /// exactly these entries, in this order, for this provider and contract: the whole call is refused.
    InvalidBatchSignature,
    /// `set_max_settlements` outside 1..=`max` (`MAX_SETTLEMENTS_LIMIT`).
    BatchLimitOutOfRange { limit: u32, max: u32 },
    /// A message that runs in the service's full build while the contract has none (cannot happen once
    /// constructed: the constructor stores one and locks its code on chain). Nothing changed.
    FullCodeUnavailable,
    /// A full build equal to the thin build (the code deployed at the address) in the constructor or `set_code`:
    /// it would delegate to itself. Nothing changed.
    FullCodeIsThinCode,
}

impl From<OwnershipError> for Error {
    fn from(e: OwnershipError) -> Self {
        Error::Ownership(e)
    }
}

impl From<StakeError> for Error {
    fn from(e: StakeError) -> Self {
        Error::Stake(e)
    }
}

impl From<AccountError> for Error {
    fn from(e: AccountError) -> Self {
        Error::Account(e)
    }
}

impl From<AttestationRuleError> for Error {
    fn from(e: AttestationRuleError) -> Self {
        Error::Attestation(e)
    }
}

impl From<TaskError> for Error {
    fn from(e: TaskError) -> Self {
        Error::Task(e)
    }
}

/// `TooLong` for a field of `len` bytes with limit `max`, or `Ok`.
pub fn check_len(len: usize, max: u32) -> Result<(), Error> {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    if len > max {
        return Err(Error::TooLong { len, max });
    }
    Ok(())
}

/// `TooMany` for a list of `len` items with limit `max`, or `Ok`.
pub fn check_count(len: usize, max: u32) -> Result<(), Error> {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    if len > max {
        return Err(Error::TooMany { len, max });
    }
    Ok(())
}

/// The page `offset..offset+limit` of `0..len` (limit 0 = [`crate::MAX_PAGE`]), or `LimitTooLarge`.
pub fn page_range(offset: u32, limit: u32, len: u32) -> Result<core::ops::Range<u32>, Error> {
    crate::page(offset, limit, len, crate::MAX_PAGE).ok_or(Error::LimitTooLarge { limit, max: crate::MAX_PAGE })
}
