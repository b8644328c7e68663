// The contracts' typed errors in words. Every variant of the ledger's and the services' `Error` (and the nested
// enums) has a text; an unknown variant (a newer contract) is shown by name, never hidden. `fmt` formats amounts.
import { variant } from './codec.js';

const ownership = {
  NotOwner: 'Only the contract owner may do this.',
  NotPendingOwner: 'Only the proposed new owner may accept ownership.',
  ZeroAddress: 'The zero address cannot be the owner.',
};

const account = {
  InvalidAddress: 'That address is not valid here.',
  ProviderCannotBeUser: 'A provider cannot open a sub-account with itself.',
  ProviderHasNoService: 'That provider has no service on this contract.',
  AccountExists: 'You already have a sub-account with this provider.',
  AccountNotExists: 'You have no sub-account with this provider.',
  InfoTooLong: 'The note is too long.',
  TooManyRefunds: 'Too many refunds are pending with this provider: collect them first.',
  Overflow: 'The amount would overflow.',
};

const stake = {
  InsufficientStake: (d, f) => `The stake must be at least ${f(d.minimum)} (sent ${f(d.value)}).`,
  CannotAddStakeWhenUpdating: 'Send no stake when updating a service.',
  NoUnbondingStake: 'There is no stake to withdraw.',
  StakeLocked: (d, _f, t) => `The stake stays locked until ${t(d.releaseAt)}.`,
  Overflow: 'The stake would overflow.',
};

const attestation = {
  NoTeeSigner: 'The service has no TEE signer.',
  UnknownAttestor: 'The attestor is not registered.',
  MeasurementNotAccepted: 'The enclave measurement is not accepted.',
  AttestationExpired: 'The attestation has expired.',
  InvalidAttestationSignature: 'The attestation signature is not valid.',
  AttestationNotNewer: 'A newer attestation is already in place.',
  AttestationEnded: 'The attestation has ended.',
  AttestationInPlace: 'Only the provider may replace an attestation that still counts.',
};

const task = {
  DeliverableIdInvalidLength: (d) => `The task id has ${d.len} bytes: it must be 1 to 64.`,
  DeliverableAlreadyExists: 'That deliverable already exists.',
  DeliverableNotExists: 'There is no such deliverable.',
  PreviousDeliverableNotAcknowledged: 'The previous deliverable is not acknowledged yet.',
  CannotEvictUnsettledDeliverable: 'An unsettled deliverable cannot be replaced.',
  DeliverableAlreadySettled: 'This deliverable is already settled.',
  DeliverableAbandoned: 'This deliverable was abandoned by the provider.',
  InvalidNonce: 'The nonce is not newer than the last one.',
  ModelRootHashMismatch: 'The model hash does not match the deliverable.',
  InvalidSignature: 'The signature is not valid.',
  SecretShouldNotBeEmpty: 'An acknowledged deliverable needs its key revealed.',
  SecretShouldBeEmpty: 'An unacknowledged deliverable must not reveal a key.',
  InsufficientBalance: (d, f) => `The sub-account holds ${f(d.balance)}, less than the fee ${f(d.fee)}.`,
  AccountStillOpen: 'The sub-account is still open.',
};

const serving = {
  CallerNotLedger: 'Only the ledger may call this.',
  Account: (d) => nested(account, d),
  TransferFailed: 'The service could not pay out.',
  NotAllowed: 'The service refused the call.',
  TooManyProviders: (d) => `Too many providers in one call (${d.len}; at most ${d.max}).`,
};

const ledger = {
  Ownership: (d) => nested(ownership, d),
  ZeroAmount: 'The amount must be more than 0.',
  ZeroAddress: 'The zero address is not allowed.',
  MinimumDepositRequired: (d, f) => `At least ${f(d.minimum)} is needed here (sent ${f(d.amount)}).`,
  TooLong: (d) => `The text is too long (${d.len} bytes; at most ${d.max}).`,
  LedgerExists: 'You already have a ledger.',
  LedgerNotExists: 'You have no ledger yet: open one first.',
  InsufficientBalance: (d, f) => `Your ledger has ${f(d.available)} available, less than ${f(d.requested)}.`,
  InsufficientAvailableBalance: (d, f) =>
    `Only ${f(d.available)} is available; ${f(d.required)} is needed (what stays must be 0 or at least the minimum).`,
  ServiceNotFound: 'That service is not registered in the ledger.',
  ServiceDisabled: 'That service is disabled by the owner.',
  ServiceAlreadyRegistered: 'That service is already registered.',
  ServiceNameExists: 'That service type and version are taken.',
  ServiceTypeRequired: 'A service type is required.',
  VersionRequired: 'A version is required.',
  ServiceRegistryLimitReached: (d) => `The registry is full (${d.max} services).`,
  TooManyVersions: (d) => `Too many versions (at most ${d.max}).`,
  ServiceMustImplementServing: 'That contract is not a serving contract.',
  TooManyProvidersForService: (d) => `You fund too many providers at this service (at most ${d.max}).`,
  TooManyServicesForUser: (d) => `You use too many services (at most ${d.max}).`,
  TooManyProviders: (d) => `Too many providers in one call (${d.len}; at most ${d.max}).`,
  LimitTooLarge: (d) => `Page size ${d.limit} is over ${d.max}.`,
  MustWithdrawAllFundsFirst: (d, f) => `Take all your funds back first (${f(d.total)} still held).`,
  NoRecommendedService: 'No recommended service of that type.',
  Service: (d) => nested(serving, d),
  ServiceCallFailed: 'The service contract did not answer.',
  TransferFailed: 'The ledger could not pay out.',
  Overflow: 'The amount would overflow.',
  UpgradeFailed: 'The upgrade failed.',
  FullCodeUnavailable: 'The ledger’s full build is missing on chain: tell the owner.',
  FullCodeIsThinCode: 'The full build must differ from the contract’s own code.',
};

const service = {
  Ownership: (d) => nested(ownership, d),
  Stake: (d, f, t) => nested(stake, d, f, t),
  Account: (d) => nested(account, d),
  Attestation: (d) => nested(attestation, d),
  Task: (d, f) => nested(task, d, f),
  ServiceNotExist: 'That provider has no service here.',
  ZeroAddress: 'The zero address is not allowed.',
  LockTimeOutOfRange: 'The lock time is out of range.',
  PenaltyPercentageTooHigh: (d) => `A penalty of ${d.percent} % is too high.`,
  TooLong: (d) => `The text is too long (${d.len} bytes; at most ${d.max}).`,
  TooMany: (d) => `Too many items (${d.len}; at most ${d.max}).`,
  NoSettlementsProvided: 'No settlements were given.',
  LimitTooLarge: (d) => `Page size ${d.limit} is over ${d.max}.`,
  NoSurplus: 'There is no surplus to withdraw.',
  TransferFailed: 'The service could not pay out.',
  Overflow: 'The amount would overflow.',
  UpgradeFailed: 'The upgrade failed.',
  NoTeeSigner: 'The provider has no usable TEE signer.',
  InvalidBatchSignature: 'The batch signature is not valid.',
  BatchLimitOutOfRange: (d) => `Batch limit ${d.limit} is out of range (1 to ${d.max}).`,
  FullCodeUnavailable: 'The contract’s full build is missing on chain: tell the owner.',
  FullCodeIsThinCode: 'The full build must differ from the contract’s own code.',
};

// Failures of the call itself (pallet-contracts' DispatchError names, ink's LangError).
const dispatch = {
  StorageDepositLimitExhausted: 'The storage deposit needed is more than allowed.',
  StorageDepositNotEnoughFunds: 'Your account cannot pay the storage deposit.',
  TransferFailed: 'Your account cannot pay this amount (balance or existential deposit).',
  OutOfGas: 'The call ran out of gas.',
  ContractTrapped: 'The contract trapped: nothing was changed.',
  ContractNotFound: 'There is no contract at that address: check the deployment file.',
  CodeNotFound: 'The contract’s code is missing on chain.',
  CouldNotReadInput: 'The contract did not understand the call: its metadata does not match the code on chain.',
  InsufficientBalance: 'Your account balance is too low for this call and its fees.',
};

// The text of `d` in `table` (a nested enum's text comes from its own table); undefined when there is none.
function nested(table, d, f, t) {
  const [name, data] = variant(d);
  const text = table[name];
  if (text === undefined) return undefined;
  return typeof text === 'function' ? text(data ?? {}, f, t) : text;
}

// "Service.Account.TooManyRefunds": the variant names down the nesting.
function path(e) {
  const [name, data] = variant(e);
  if (typeof data === 'string') return `${name}.${data}`;
  const keys = data && typeof data === 'object' ? Object.keys(data) : [];
  return keys.length === 1 && /^[A-Z]/.test(keys[0]) ? `${name}.${path(data)}` : name;
}

/**
 * A contract error (plain, see codec.js) in words. `contract` is 'ledger' or a service; `fmt` formats an amount in
 * the smallest unit, `time` a chain time. A variant without words (a newer contract) is named, never hidden.
 */
export function describeError(contract, err, fmt = String, time = String) {
  const text = nested(contract === 'ledger' ? ledger : service, err, fmt, time);
  return text ?? `The contract refused the call (${path(err)}).`;
}

/** A dispatch or language error (by its name, e.g. "Contracts.StorageDepositLimitExhausted") in words. */
export function describeDispatch(name) {
  const short = String(name).split('.').pop();
  return dispatch[short] ?? `The chain refused the call (${name}).`;
}

export const tables = { ledger, service, ownership, account, stake, attestation, task, serving };
