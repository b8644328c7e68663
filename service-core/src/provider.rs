//! Provider-side rules both services share: stakes with unbonding, the TEE signer and its owner
//! acknowledgement, and two-step ownership of the contract.
use crate::Balance;
use ink::primitives::AccountId;
use ink::storage::Mapping;

/// Why a stake operation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum StakeError {
    /// First registration with less than the minimum stake.
    InsufficientStake {
        value: Balance,
        minimum: Balance,
    },
    /// Value sent with an update of an already staked service.
    CannotAddStakeWhenUpdating,
    /// No stake is unbonding.
    NoUnbondingStake,
    /// The unbonding stake is not released yet.
    StakeLocked {
        release_at: u64,
    },
    Overflow,
}

/// A removed service's stake, payable from `release_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Unbonding {
    pub amount: Balance,
    pub release_at: u64,
}

/// Active stakes of registered services and unbonding stakes of removed ones.
#[ink::storage_item]
#[derive(Default, Debug)]
pub struct StakeBook {
    active: Mapping<AccountId, Balance>,
    unbonding: Mapping<AccountId, Unbonding>,
    /// Σ active + Σ unbonding: what the service owes providers.
    total: Balance,
}

impl StakeBook {
    pub fn active(&self, provider: AccountId) -> Balance {
        self.active.get(provider).unwrap_or(0)
    }

    pub fn unbonding(&self, provider: AccountId) -> Option<Unbonding> {
        self.unbonding.get(provider)
    }

    pub fn total(&self) -> Balance {
        self.total
    }

    /// Applies the stake rule of `add_or_update_service`: an update carries no value; a first registration
    /// (or one after removal) carries at least `minimum`, all of which is kept. Returns `Some(staked)` for a
    /// new stake.
    pub fn on_register(
        &mut self,
        provider: AccountId,
        value: Balance,
        minimum: Balance,
    ) -> Result<Option<Balance>, StakeError> {
        if self.active(provider) > 0 {
            if value != 0 {
                return Err(StakeError::CannotAddStakeWhenUpdating);
            }
            return Ok(None);
        }
        if value < minimum || value == 0 {
            return Err(StakeError::InsufficientStake { value, minimum });
        }
        self.total = self.total.checked_add(value).ok_or(StakeError::Overflow)?;
        self.active.insert(provider, &value);
        Ok(Some(value))
    }

    /// Moves the active stake to unbonding until `now + lock_ms` (added to any stake still unbonding, whose
    /// release moves to the later time). Returns the new unbonding record, or `None` without an active stake.
    pub fn unbond(&mut self, provider: AccountId, now: u64, lock_ms: u64) -> Result<Option<Unbonding>, StakeError> {
        let amount = self.active(provider);
        if amount == 0 {
            return Ok(None);
        }
        let release_at = now.checked_add(lock_ms).ok_or(StakeError::Overflow)?;
        let u = match self.unbonding.get(provider) {
            Some(prev) => Unbonding {
                amount: prev.amount.checked_add(amount).ok_or(StakeError::Overflow)?,
                release_at: prev.release_at.max(release_at),
            },
            None => Unbonding { amount, release_at },
        };
        self.active.remove(provider);
        self.unbonding.insert(provider, &u);
        Ok(Some(u))
    }

    /// Releases the unbonding stake at `now` (≥ release time). Returns the amount to pay the provider.
    pub fn withdraw(&mut self, provider: AccountId, now: u64) -> Result<Balance, StakeError> {
        let u = self.unbonding.get(provider).ok_or(StakeError::NoUnbondingStake)?;
        if now < u.release_at {
            return Err(StakeError::StakeLocked { release_at: u.release_at });
        }
        self.total = self.total.checked_sub(u.amount).ok_or(StakeError::Overflow)?;
        self.unbonding.remove(provider);
        Ok(u.amount)
    }
}

/// A provider's TEE signer and whether the owner acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct SignerState {
    /// The Ethereum address of the TEE key; zero = none.
    pub signer: [u8; 20],
    /// The owner acknowledged this signer.
    pub acknowledged: bool,
}

impl SignerState {
    /// The signer settlements may be checked against, if any: set and acknowledged.
    pub fn usable(&self) -> Option<[u8; 20]> {
        (self.acknowledged && self.signer != [0u8; 20]).then_some(self.signer)
    }
}

pub use serving_common::{Ownership, OwnershipError};

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(b: u8) -> AccountId {
        AccountId::from([b; 32])
    }

    #[ink::test]
    fn stake_lifecycle() {
        let mut s = StakeBook::default();
        let p = acc(1);
        assert_eq!(s.on_register(p, 99, 100), Err(StakeError::InsufficientStake { value: 99, minimum: 100 }));
        assert_eq!(s.on_register(p, 0, 0), Err(StakeError::InsufficientStake { value: 0, minimum: 0 }));
        assert_eq!(s.on_register(p, 150, 100), Ok(Some(150)));
        assert_eq!(s.on_register(p, 1, 100), Err(StakeError::CannotAddStakeWhenUpdating));
        assert_eq!(s.on_register(p, 0, 100), Ok(None));
        assert_eq!(s.total(), 150);
        assert_eq!(s.withdraw(p, 0), Err(StakeError::NoUnbondingStake));
        assert_eq!(s.unbond(p, 10, 100), Ok(Some(Unbonding { amount: 150, release_at: 110 })));
        assert_eq!(s.active(p), 0);
        // Re-register and remove again before withdrawing: amounts add, release moves later.
        assert_eq!(s.on_register(p, 100, 100), Ok(Some(100)));
        assert_eq!(s.unbond(p, 50, 100), Ok(Some(Unbonding { amount: 250, release_at: 150 })));
        assert_eq!(s.unbond(p, 60, 100), Ok(None));
        assert_eq!(s.withdraw(p, 149), Err(StakeError::StakeLocked { release_at: 150 }));
        assert_eq!(s.total(), 250);
        assert_eq!(s.withdraw(p, 150), Ok(250));
        assert_eq!(s.total(), 0);
        assert_eq!(s.withdraw(p, 150), Err(StakeError::NoUnbondingStake));
    }

    #[test]
    fn signer_usable_only_when_set_and_acknowledged() {
        assert_eq!(SignerState { signer: [1; 20], acknowledged: false }.usable(), None);
        assert_eq!(SignerState { signer: [0; 20], acknowledged: true }.usable(), None);
        assert_eq!(SignerState { signer: [1; 20], acknowledged: true }.usable(), Some([1; 20]));
    }
}

/// An attestor's statement that a provider's signer runs in an accepted TEE, accepted on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Attestation {
    pub signer: [u8; 20],
    pub attestor: [u8; 20],
    pub measurement: [u8; 32],
    /// Milliseconds; the attestation counts while `now < expires_at`.
    pub expires_at: u64,
}

/// Why an attestation is refused (the signature itself is checked by the verifier crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum AttestationRuleError {
    /// The provider has no TEE signer to attest.
    NoTeeSigner,
    UnknownAttestor,
    MeasurementNotAccepted,
    /// `expires_at` is not in the future.
    AttestationExpired,
    /// The signature breaks the rules or is not by the attestor over exactly this statement and domain.
    InvalidAttestationSignature,
    /// The provider already has an attestation for this signer that lasts as long or longer (a replay).
    AttestationNotNewer,
    /// An attestation of this signer for this provider that lasted as long or longer already ended (a signer
    /// rotation, a critical service change, a removal): a statement made before that cannot revive it.
    AttestationEnded,
    /// The provider's current attestation still counts: only the provider may replace it (docs/attestation.md).
    AttestationInPlace,
}

/// (provider, TEE signer address)
pub type ProviderSigner = (AccountId, [u8; 20]);

/// The owner's registries of attestors and accepted measurements, and the providers' current attestations.
#[ink::storage_item]
#[derive(Default, Debug)]
pub struct AttestationBook {
    attestors: Mapping<[u8; 20], ()>,
    measurements: Mapping<[u8; 32], ()>,
    attestations: Mapping<AccountId, Attestation>,
    /// (provider, signer) → the expiry of the last attestation of that signer that was ended early. A new one
    /// must outlast it, so a statement submitted before the end cannot be submitted again to revive the signer.
    ended: Mapping<ProviderSigner, u64>,
}

impl AttestationBook {
    pub fn is_attestor(&self, a: [u8; 20]) -> bool {
        self.attestors.contains(a)
    }

    pub fn is_measurement(&self, m: [u8; 32]) -> bool {
        self.measurements.contains(m)
    }

    /// Registers or removes an attestor; returns whether anything changed.
    pub fn set_attestor(&mut self, a: [u8; 20], registered: bool) -> bool {
        let was = self.is_attestor(a);
        match registered {
            true => self.attestors.insert(a, &()),
            false => {
                self.attestors.remove(a);
                None
            }
        };
        was != registered
    }

    /// Accepts or removes a measurement; returns whether anything changed.
    pub fn set_measurement(&mut self, m: [u8; 32], accepted: bool) -> bool {
        let was = self.is_measurement(m);
        match accepted {
            true => self.measurements.insert(m, &()),
            false => {
                self.measurements.remove(m);
                None
            }
        };
        was != accepted
    }

    pub fn get(&self, provider: AccountId) -> Option<Attestation> {
        self.attestations.get(provider)
    }

    /// Checks the registries and the replay rule, then stores the attestation (its signature must have been
    /// checked by the caller).
    pub fn accept(&mut self, provider: AccountId, a: Attestation) -> Result<(), AttestationRuleError> {
        if !self.is_attestor(a.attestor) {
            return Err(AttestationRuleError::UnknownAttestor);
        }
        if !self.is_measurement(a.measurement) {
            return Err(AttestationRuleError::MeasurementNotAccepted);
        }
        if let Some(old) = self.get(provider) {
            if old.signer == a.signer && old.expires_at >= a.expires_at {
                return Err(AttestationRuleError::AttestationNotNewer);
            }
        }
        if self.ended.get((provider, a.signer)).is_some_and(|end| a.expires_at <= end) {
            return Err(AttestationRuleError::AttestationEnded);
        }
        self.attestations.insert(provider, &a);
        Ok(())
    }

    /// Who may replace `provider`'s attestation at `now`: anyone while the current one no longer counts (none,
    /// expired, its attestor or measurement removed, another signer); only the provider while it still does, so
    /// nobody else can swap a good attestation for a longer-lived statement whose attestor or measurement is later
    /// removed.
    pub fn may_replace(
        &self,
        provider: AccountId,
        submitter: AccountId,
        signer: [u8; 20],
        now: u64,
    ) -> Result<(), AttestationRuleError> {
        if submitter != provider && self.attests(provider, signer, now) {
            return Err(AttestationRuleError::AttestationInPlace);
        }
        Ok(())
    }

    /// Checks a submitted attestation of `provider`'s current `signer` end to end, in this order: a signer
    /// exists, the attestor is registered, the measurement accepted, not expired at `now`, the signature is the
    /// attestor's over exactly this statement in `domain`, `submitter` may replace the current one
    /// ([`Self::may_replace`]), and it is newer than the current one. Stores it.
    #[allow(clippy::too_many_arguments)]
    pub fn submit(
        &mut self,
        c: &impl serving_verifier::Crypto,
        domain: &serving_verifier::Domain,
        submitter: AccountId,
        provider: AccountId,
        signer: [u8; 20],
        measurement: [u8; 32],
        expires_at: u64,
        attestor: [u8; 20],
        signature: &[u8],
        now: u64,
    ) -> Result<Attestation, AttestationRuleError> {
        if signer == [0u8; 20] {
            return Err(AttestationRuleError::NoTeeSigner);
        }
        if !self.is_attestor(attestor) {
            return Err(AttestationRuleError::UnknownAttestor);
        }
        if !self.is_measurement(measurement) {
            return Err(AttestationRuleError::MeasurementNotAccepted);
        }
        let statement =
            serving_verifier::TeeAttestation { provider: *provider.as_ref(), signer, measurement, expires_at };
        serving_verifier::check_attestation(c, domain, &statement, &signer, &attestor, signature, now).map_err(
            |e| match e {
                serving_verifier::AttestationError::Expired => AttestationRuleError::AttestationExpired,
                _ => AttestationRuleError::InvalidAttestationSignature,
            },
        )?;
        self.may_replace(provider, submitter, signer, now)?;
        let a = Attestation { signer, attestor, measurement, expires_at };
        self.accept(provider, a)?;
        Ok(a)
    }

    /// Ends the provider's attestation (its signer changed, a critical service change ended the owner's
    /// acknowledgement too, or its service is gone); returns whether it had one. Remembers its expiry so the
    /// same statement (or any lasting no longer) cannot be submitted again for that signer.
    pub fn clear(&mut self, provider: AccountId) -> bool {
        let Some(a) = self.attestations.take(provider) else { return false };
        let end = self.ended.get((provider, a.signer)).unwrap_or(0).max(a.expires_at);
        self.ended.insert((provider, a.signer), &end);
        true
    }

    /// Whether `signer` is attested for `provider` at `now`: an attestation for exactly this signer, not
    /// expired, by a still-registered attestor, for a still-accepted measurement.
    pub fn attests(&self, provider: AccountId, signer: [u8; 20], now: u64) -> bool {
        self.get(provider).is_some_and(|a| {
            a.signer == signer
                && now < a.expires_at
                && self.is_attestor(a.attestor)
                && self.is_measurement(a.measurement)
        })
    }

    /// The signer settlements may be checked against: acknowledged by the owner, or attested now.
    pub fn usable_signer(&self, provider: AccountId, state: SignerState, now: u64) -> Option<[u8; 20]> {
        if state.signer == [0u8; 20] {
            return None;
        }
        state.usable().or_else(|| self.attests(provider, state.signer, now).then_some(state.signer))
    }
}

#[cfg(test)]
mod attestation_tests {
    use super::*;

    #[ink::test]
    fn attestation_rules() {
        let mut b = AttestationBook::default();
        let p = AccountId::from([1u8; 32]);
        let a = Attestation { signer: [2; 20], attestor: [3; 20], measurement: [4; 32], expires_at: 100 };
        let state = SignerState { signer: [2; 20], acknowledged: false };
        assert_eq!(b.accept(p, a), Err(AttestationRuleError::UnknownAttestor));
        assert!(b.set_attestor([3; 20], true));
        assert!(!b.set_attestor([3; 20], true), "no change");
        assert_eq!(b.accept(p, a), Err(AttestationRuleError::MeasurementNotAccepted));
        assert!(b.set_measurement([4; 32], true));
        assert_eq!(b.accept(p, a), Ok(()));
        assert_eq!(b.accept(p, a), Err(AttestationRuleError::AttestationNotNewer), "replay");
        assert_eq!(b.usable_signer(p, state, 99), Some([2; 20]));
        assert_eq!(b.usable_signer(p, state, 100), None, "expired at expires_at");
        assert_eq!(b.usable_signer(p, SignerState { signer: [9; 20], acknowledged: false }, 0), None, "other signer");
        assert!(b.set_measurement([4; 32], false));
        assert_eq!(b.usable_signer(p, state, 0), None, "measurement removed");
        b.set_measurement([4; 32], true);
        assert_eq!(b.usable_signer(p, state, 0), Some([2; 20]));
        b.set_attestor([3; 20], false);
        assert_eq!(b.usable_signer(p, state, 0), None, "attestor removed");
        // The owner's acknowledgement works on its own.
        assert_eq!(b.usable_signer(p, SignerState { signer: [2; 20], acknowledged: true }, 1000), Some([2; 20]));
        assert!(b.clear(p));
        assert!(!b.clear(p));
        // Ended early (rotation A → B → A, removal, critical change): the old statement cannot revive it, a
        // newer one can; another signer is not affected.
        b.set_attestor([3; 20], true);
        assert_eq!(b.accept(p, a), Err(AttestationRuleError::AttestationEnded));
        let other = Attestation { signer: [9; 20], expires_at: 50, ..a };
        assert_eq!(b.accept(p, other), Ok(()));
        assert!(b.clear(p));
        assert_eq!(b.accept(p, Attestation { expires_at: 101, ..a }), Ok(()));
        assert_eq!(b.accept(p, other), Err(AttestationRuleError::AttestationEnded));
        let p2 = AccountId::from([5u8; 32]);
        assert_eq!(b.accept(p2, a), Ok(()), "another provider is not affected");
    }

    #[ink::test]
    fn only_the_provider_replaces_an_attestation_that_still_counts() {
        let mut b = AttestationBook::default();
        let (p, anyone) = (AccountId::from([1u8; 32]), AccountId::from([7u8; 32]));
        let a = Attestation { signer: [2; 20], attestor: [3; 20], measurement: [4; 32], expires_at: 100 };
        b.set_attestor([3; 20], true);
        b.set_measurement([4; 32], true);
        assert_eq!(b.may_replace(p, anyone, [2; 20], 0), Ok(()), "none yet: anyone");
        b.accept(p, a).unwrap();
        assert_eq!(b.may_replace(p, anyone, [2; 20], 99), Err(AttestationRuleError::AttestationInPlace));
        assert_eq!(b.may_replace(p, p, [2; 20], 99), Ok(()), "the provider may");
        assert_eq!(b.may_replace(p, anyone, [2; 20], 100), Ok(()), "expired: anyone");
        assert_eq!(b.may_replace(p, anyone, [8; 20], 0), Ok(()), "another signer's: anyone");
        b.set_measurement([4; 32], false);
        assert_eq!(b.may_replace(p, anyone, [2; 20], 0), Ok(()), "no longer trusted: anyone");
    }
}
