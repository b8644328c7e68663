//! The providers' services as contract storage: who is registered, in which enumeration slot, since when, with
//! which TEE signer and whether the owner acknowledged it. The service's own parameters (prices, urls, …) stay
//! in the contract, keyed by provider; everything the two services decide alike is here.
use crate::error::{page_range, Error};
use crate::indexed::{push, read, swap_remove};
use crate::provider::SignerState;
use ink::prelude::vec::Vec;
use ink::primitives::AccountId;
use ink::storage::Mapping;

/// A registered service as the registry keeps it (one storage read answers "has a service" and "which signer").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Registration {
    pub signer: SignerState,
    pub updated_at: u64,
    /// Slot in the enumeration.
    pub index: u32,
}

#[ink::storage_item]
#[derive(Default, Debug)]
pub struct Registry {
    entries: Mapping<AccountId, Registration>,
    at: Mapping<u32, AccountId>,
    count: u32,
}

impl Registry {
    pub fn get(&self, provider: AccountId) -> Option<Registration> {
        self.entries.get(provider)
    }

    pub fn contains(&self, provider: AccountId) -> bool {
        self.entries.contains(provider)
    }

    /// Registers or updates `provider` with `signer`; `critical` (a first registration is always critical) ends
    /// the owner's acknowledgement. Returns the state before (the default for a new service) and after.
    pub fn upsert(
        &mut self,
        provider: AccountId,
        signer: [u8; 20],
        critical: bool,
        now: u64,
    ) -> Result<(SignerState, SignerState), Error> {
        let (before, index) = match self.entries.get(provider) {
            Some(r) => (r.signer, r.index),
            None => {
                let index = self.count;
                self.count = push(&mut self.at, index, &provider).ok_or(Error::Overflow)?;
                (SignerState::default(), index)
            }
        };
        let after = SignerState { signer, acknowledged: before.acknowledged && !critical };
        self.entries.insert(provider, &Registration { signer: after, updated_at: now, index });
        Ok((before, after))
    }

    /// Removes `provider`'s service; returns its registration.
    pub fn remove(&mut self, provider: AccountId) -> Result<Registration, Error> {
        let r = self.entries.take(provider).ok_or(Error::ServiceNotExist)?;
        let (count, moved) = swap_remove(&mut self.at, r.index, self.count).ok_or(Error::Overflow)?;
        self.count = count;
        if let Some(moved) = moved {
            if let Some(mut m) = self.entries.get(moved) {
                m.index = r.index;
                self.entries.insert(moved, &m);
            }
        }
        Ok(r)
    }

    /// The owner's acknowledgement of `provider`'s current signer; returns the new state.
    pub fn set_acknowledged(&mut self, provider: AccountId, acknowledged: bool) -> Result<SignerState, Error> {
        let mut r = self.entries.get(provider).ok_or(Error::ServiceNotExist)?;
        if acknowledged && r.signer.signer == [0u8; 20] {
            return Err(crate::provider::AttestationRuleError::NoTeeSigner.into());
        }
        r.signer.acknowledged = acknowledged;
        self.entries.insert(provider, &r);
        Ok(r.signer)
    }

    /// A page of providers (limit 0 = 50, at most 50) and their number.
    pub fn page(&self, offset: u32, limit: u32) -> Result<(Vec<AccountId>, u32), Error> {
        Ok((read(&self.at, page_range(offset, limit, self.count)?), self.count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(b: u8) -> AccountId {
        AccountId::from([b; 32])
    }

    #[ink::test]
    fn registration_acknowledgement_and_enumeration() {
        let mut r = Registry::default();
        let (s1, s2) = ([1u8; 20], [2u8; 20]);
        assert_eq!(r.set_acknowledged(acc(1), true), Err(Error::ServiceNotExist));
        let (before, after) = r.upsert(acc(1), s1, true, 5).unwrap();
        assert_eq!((before, after), (SignerState::default(), SignerState { signer: s1, acknowledged: false }));
        r.upsert(acc(2), [0; 20], true, 6).unwrap();
        r.upsert(acc(3), s2, true, 7).unwrap();
        assert_eq!(r.set_acknowledged(acc(2), true), Err(crate::provider::AttestationRuleError::NoTeeSigner.into()));
        assert_eq!(r.set_acknowledged(acc(1), true), Ok(SignerState { signer: s1, acknowledged: true }));
        // A non-critical update keeps the acknowledgement; a critical one ends it.
        assert_eq!(r.upsert(acc(1), s1, false, 8).unwrap().1.acknowledged, true);
        assert_eq!(r.upsert(acc(1), s1, true, 9).unwrap().1.acknowledged, false);
        assert_eq!(r.page(0, 0).unwrap(), (vec![acc(1), acc(2), acc(3)], 3));
        assert_eq!(r.remove(acc(1)).map(|x| x.updated_at), Ok(9));
        assert_eq!(r.remove(acc(1)), Err(Error::ServiceNotExist));
        assert_eq!(r.page(0, 0).unwrap(), (vec![acc(3), acc(2)], 2), "the last moved into the freed slot");
        assert_eq!(r.get(acc(3)).map(|x| x.index), Some(0));
        assert_eq!(r.page(0, 51), Err(Error::LimitTooLarge { limit: 51, max: 50 }));
    }
}
