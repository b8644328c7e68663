//! Two-step ownership, shared by the three contracts (here because the ledger's error nests its refusal).
use ink::primitives::AccountId;

/// Why an ownership step or an owner-only message is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum OwnershipError {
    /// The caller is not the owner.
    NotOwner,
    /// `accept_ownership` by an account that was not proposed.
    NotPendingOwner,
    /// The zero account proposed as owner.
    ZeroAddress,
}

/// The owner and the account it proposed, if any: the owner proposes, the proposed account accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Ownership {
    pub owner: AccountId,
    pub pending: Option<AccountId>,
}

impl Ownership {
    pub fn new(owner: AccountId) -> Self {
        Self { owner, pending: None }
    }

    pub fn ensure(&self, caller: AccountId) -> Result<(), OwnershipError> {
        if caller == self.owner {
            Ok(())
        } else {
            Err(OwnershipError::NotOwner)
        }
    }

    pub fn propose(&mut self, caller: AccountId, new_owner: AccountId) -> Result<(), OwnershipError> {
        self.ensure(caller)?;
        if new_owner == AccountId::from([0u8; 32]) {
            return Err(OwnershipError::ZeroAddress);
        }
        self.pending = Some(new_owner);
        Ok(())
    }

    /// Returns the previous owner.
    pub fn accept(&mut self, caller: AccountId) -> Result<AccountId, OwnershipError> {
        if self.pending != Some(caller) {
            return Err(OwnershipError::NotPendingOwner);
        }
        let previous = self.owner;
        self.owner = caller;
        self.pending = None;
        Ok(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(b: u8) -> AccountId {
        AccountId::from([b; 32])
    }

    #[test]
    fn two_step_ownership() {
        let mut o = Ownership::new(acc(1));
        assert_eq!(o.propose(acc(2), acc(3)), Err(OwnershipError::NotOwner));
        assert_eq!(o.propose(acc(1), acc(0)), Err(OwnershipError::ZeroAddress));
        o.propose(acc(1), acc(3)).unwrap();
        assert_eq!(o.accept(acc(2)), Err(OwnershipError::NotPendingOwner));
        assert_eq!(o.accept(acc(3)), Ok(acc(1)));
        assert_eq!(o, Ownership { owner: acc(3), pending: None });
        assert_eq!(o.ensure(acc(1)), Err(OwnershipError::NotOwner));
    }
}
