//! The sub-account book as contract storage: sub-accounts keyed by (user, provider), the tombstones that keep
//! nonces and token generations across deletion, additional info, and three paged indexes (all, by provider,
//! by user; removal moves the last entry into the freed slot). It also keeps the sum of all balances, which is
//! what the service owes its users in native tokens.
//!
//! Both services embed one `AccountBook` in their storage and go through it for every sub-account change, so
//! the rules in [`SubAccount`] and the bookkeeping here exist once.
use crate::error::{page_range, Error};
use crate::indexed::{push, read, swap_remove, Group};
use crate::{AccountError, Balance, SubAccount, Tombstone, MAX_INFO_LENGTH};
use ink::prelude::{string::String, vec::Vec};
use ink::primitives::AccountId;
use ink::storage::Mapping;

/// Most sub-accounts of one user that [`AccountBook::user_total`] reads (the ledger opens at most 50 per user
/// and service).
pub const MAX_USER_ACCOUNTS: u32 = 64;

/// (user, provider)
pub type Key = (AccountId, AccountId);

/// Which sub-accounts a page view lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub enum AccountFilter {
    /// Every sub-account of the service.
    All,
    /// One provider's sub-accounts.
    Provider(AccountId),
    /// One user's sub-accounts.
    User(AccountId),
}

/// Where a sub-account sits in the three indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Positions {
    pub all: u32,
    pub by_provider: u32,
    pub by_user: u32,
}

#[ink::storage_item]
#[derive(Default, Debug)]
pub struct AccountBook {
    accounts: Mapping<Key, SubAccount>,
    tombstones: Mapping<Key, Tombstone>,
    infos: Mapping<Key, String>,
    positions: Mapping<Key, Positions>,
    all: Mapping<u32, Key>,
    all_len: u32,
    by_provider: Mapping<(AccountId, u32), AccountId>,
    provider_len: Mapping<AccountId, u32>,
    by_user: Mapping<(AccountId, u32), AccountId>,
    user_len: Mapping<AccountId, u32>,
    /// Σ balance over all sub-accounts.
    total_balance: Balance,
}

impl AccountBook {
    pub fn get(&self, user: AccountId, provider: AccountId) -> Option<SubAccount> {
        self.accounts.get((user, provider))
    }

    /// The sub-account, or `AccountNotExists`.
    pub fn load(&self, user: AccountId, provider: AccountId) -> Result<SubAccount, AccountError> {
        self.get(user, provider).ok_or(AccountError::AccountNotExists)
    }

    pub fn contains(&self, user: AccountId, provider: AccountId) -> bool {
        self.accounts.contains((user, provider))
    }

    pub fn info(&self, user: AccountId, provider: AccountId) -> String {
        self.infos.get((user, provider)).unwrap_or_default()
    }

    /// Σ balance over all sub-accounts.
    pub fn total_balance(&self) -> Balance {
        self.total_balance
    }

    /// The nonce and generation a (possibly deleted) sub-account carries.
    pub fn tombstone(&self, user: AccountId, provider: AccountId) -> Option<Tombstone> {
        self.tombstones.get((user, provider))
    }

    /// Opens a sub-account holding `value`. Fails if it exists or `info` is too long.
    pub fn open(
        &mut self,
        user: AccountId,
        provider: AccountId,
        value: Balance,
        info: &str,
    ) -> Result<SubAccount, AccountError> {
        if info.len() > MAX_INFO_LENGTH {
            return Err(AccountError::InfoTooLong);
        }
        let key = (user, provider);
        if self.accounts.contains(key) {
            return Err(AccountError::AccountExists);
        }
        let account = SubAccount::open(value, self.tombstones.get(key));
        self.total_balance = self.total_balance.checked_add(value).ok_or(AccountError::Overflow)?;
        let positions = Positions {
            all: self.all_len,
            by_provider: self.provider_len.get(provider).unwrap_or(0),
            by_user: self.user_len.get(user).unwrap_or(0),
        };
        self.all_len = push(&mut self.all, positions.all, &key).ok_or(AccountError::Overflow)?;
        let len = push(&mut Group { map: &mut self.by_provider, group: provider }, positions.by_provider, &user);
        self.provider_len.insert(provider, &len.ok_or(AccountError::Overflow)?);
        let len = push(&mut Group { map: &mut self.by_user, group: user }, positions.by_user, &provider);
        self.user_len.insert(user, &len.ok_or(AccountError::Overflow)?);
        self.positions.insert(key, &positions);
        if !info.is_empty() {
            self.infos.insert(key, &String::from(info));
        }
        self.accounts.insert(key, &account);
        Ok(account)
    }

    /// Stores `account` after an operation that changed its balance from `old_balance`.
    pub fn store(
        &mut self,
        user: AccountId,
        provider: AccountId,
        old_balance: Balance,
        account: &SubAccount,
    ) -> Result<(), AccountError> {
        self.total_balance = self
            .total_balance
            .checked_sub(old_balance)
            .and_then(|t| t.checked_add(account.balance))
            .ok_or(AccountError::Overflow)?;
        self.accounts.insert((user, provider), account);
        Ok(())
    }

    /// Applies `f` to an existing sub-account and stores the result; returns what `f` returned and the new
    /// state. Nothing is stored when `f` fails.
    pub fn update<T>(
        &mut self,
        user: AccountId,
        provider: AccountId,
        f: impl FnOnce(&mut SubAccount) -> Result<T, AccountError>,
    ) -> Result<(T, SubAccount), AccountError> {
        let mut account = self.load(user, provider)?;
        let old = account.balance;
        let out = f(&mut account)?;
        self.store(user, provider, old, &account)?;
        Ok((out, account))
    }

    /// The user grants or withdraws consent (see [`SubAccount::set_consent`]); the sub-account is written only
    /// when something changes. Returns when the change takes effect, or `None` for no change.
    pub fn set_consent(
        &mut self,
        user: AccountId,
        provider: AccountId,
        on: bool,
        now: u64,
        lock_time_ms: u64,
    ) -> Result<Option<u64>, AccountError> {
        let mut account = self.load(user, provider)?;
        let change = account.set_consent(on, now, lock_time_ms)?;
        if change.is_some() {
            self.accounts.insert((user, provider), &account);
        }
        Ok(change)
    }

    /// Deletes a sub-account, keeping its nonce and advancing its token generation. Returns the balance it
    /// still held, or `None` if it did not exist.
    pub fn delete(&mut self, user: AccountId, provider: AccountId) -> Result<Option<Balance>, AccountError> {
        let key = (user, provider);
        let Some(account) = self.accounts.get(key) else { return Ok(None) };
        let Some(pos) = self.positions.get(key) else { return Err(AccountError::AccountNotExists) };
        self.tombstones.insert(key, &account.tombstone());
        self.total_balance = self.total_balance.checked_sub(account.balance).ok_or(AccountError::Overflow)?;
        let (len, moved) = swap_remove(&mut self.all, pos.all, self.all_len).ok_or(AccountError::Overflow)?;
        self.all_len = len;
        if let Some(moved) = moved {
            self.reposition(moved, |p| p.all = pos.all);
        }
        let len = self.provider_len.get(provider).unwrap_or(0);
        let mut group = Group { map: &mut self.by_provider, group: provider };
        let (len, moved) = swap_remove(&mut group, pos.by_provider, len).ok_or(AccountError::Overflow)?;
        self.provider_len.insert(provider, &len);
        if let Some(moved_user) = moved {
            self.reposition((moved_user, provider), |p| p.by_provider = pos.by_provider);
        }
        let len = self.user_len.get(user).unwrap_or(0);
        let mut group = Group { map: &mut self.by_user, group: user };
        let (len, moved) = swap_remove(&mut group, pos.by_user, len).ok_or(AccountError::Overflow)?;
        self.user_len.insert(user, &len);
        if let Some(moved_provider) = moved {
            self.reposition((user, moved_provider), |p| p.by_user = pos.by_user);
        }
        self.positions.remove(key);
        self.infos.remove(key);
        self.accounts.remove(key);
        Ok(Some(account.balance))
    }

    fn reposition(&mut self, key: Key, f: impl FnOnce(&mut Positions)) {
        if let Some(mut p) = self.positions.get(key) {
            f(&mut p);
            self.positions.insert(key, &p);
        }
    }

    /// `add_account` from the ledger: validates the pair, requires the provider's service, opens.
    pub fn ledger_open(
        &mut self,
        user: AccountId,
        provider: AccountId,
        provider_has_service: bool,
        value: Balance,
        info: &str,
    ) -> Result<SubAccount, AccountError> {
        validate_pair(user, provider)?;
        if !provider_has_service {
            return Err(AccountError::ProviderHasNoService);
        }
        self.open(user, provider, value, info)
    }

    /// `deposit_fund` from the ledger: validates the pair, adds `value`, cancels up to `cancel` of pending
    /// refunds newest first.
    pub fn ledger_deposit(
        &mut self,
        user: AccountId,
        provider: AccountId,
        value: Balance,
        cancel: Balance,
    ) -> Result<SubAccount, AccountError> {
        validate_pair(user, provider)?;
        Ok(self.update(user, provider, |a| a.deposit(value, cancel))?.1)
    }

    /// The sum of `user`'s sub-account balances here (pending refunds included): what this service holds for
    /// the user. Reads one value per provider the user has a sub-account with (the ledger opens at most 50 per
    /// user and service; the loop stops at [`MAX_USER_ACCOUNTS`] in any case).
    pub fn user_total(&self, user: AccountId) -> Balance {
        let len = self.user_len.get(user).unwrap_or(0).min(MAX_USER_ACCOUNTS);
        (0..len)
            .filter_map(|i| self.by_user.get((user, i)))
            .filter_map(|provider| self.accounts.get((user, provider)))
            .fold(0, |sum, a| sum.saturating_add(a.balance))
    }

    /// A page of the sub-accounts `filter` selects (limit 0 = 50, at most 50) and their number.
    pub fn page(&self, filter: AccountFilter, offset: u32, limit: u32) -> Result<(Vec<Key>, u32), Error> {
        match filter {
            AccountFilter::All => self.page_all(offset, limit),
            AccountFilter::Provider(p) => self.page_by_provider(p, offset, limit),
            AccountFilter::User(u) => self.page_by_user(u, offset, limit),
        }
    }

    /// A page of all sub-accounts (limit 0 = 50, at most 50) and their number.
    pub fn page_all(&self, offset: u32, limit: u32) -> Result<(Vec<Key>, u32), Error> {
        Ok((read(&self.all, page_range(offset, limit, self.all_len)?), self.all_len))
    }

    /// A page of one provider's sub-accounts and their number.
    pub fn page_by_provider(&self, provider: AccountId, offset: u32, limit: u32) -> Result<(Vec<Key>, u32), Error> {
        let len = self.provider_len.get(provider).unwrap_or(0);
        let range = page_range(offset, limit, len)?;
        Ok((range.filter_map(|i| self.by_provider.get((provider, i)).map(|u| (u, provider))).collect(), len))
    }

    /// A page of one user's sub-accounts and their number.
    pub fn page_by_user(&self, user: AccountId, offset: u32, limit: u32) -> Result<(Vec<Key>, u32), Error> {
        let len = self.user_len.get(user).unwrap_or(0);
        let range = page_range(offset, limit, len)?;
        Ok((range.filter_map(|i| self.by_user.get((user, i)).map(|p| (user, p))).collect(), len))
    }
}

/// Neither account is zero, and they differ.
pub fn validate_pair(user: AccountId, provider: AccountId) -> Result<(), AccountError> {
    let zero = AccountId::from([0u8; 32]);
    if user == zero || provider == zero {
        return Err(AccountError::InvalidAddress);
    }
    if user == provider {
        return Err(AccountError::ProviderCannotBeUser);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(b: u8) -> AccountId {
        AccountId::from([b; 32])
    }

    #[ink::test]
    fn open_update_delete_keep_indexes_and_totals() {
        let mut book = AccountBook::default();
        let (u1, u2, p1, p2) = (acc(1), acc(2), acc(10), acc(20));
        book.open(u1, p1, 100, "a").unwrap();
        book.open(u1, p2, 50, "").unwrap();
        book.open(u2, p1, 30, "").unwrap();
        assert_eq!(book.open(u2, p1, 1, ""), Err(AccountError::AccountExists));
        assert_eq!(book.open(u2, p2, 1, &"x".repeat(4097)), Err(AccountError::InfoTooLong));
        assert_eq!(book.total_balance(), 180);
        assert_eq!((book.user_total(u1), book.user_total(u2), book.user_total(p1)), (150, 30, 0));
        assert_eq!(book.page_all(0, 0).unwrap(), (vec![(u1, p1), (u1, p2), (u2, p1)], 3));
        assert_eq!(book.page_by_provider(p1, 0, 0).unwrap(), (vec![(u1, p1), (u2, p1)], 2));
        assert_eq!(book.page_by_user(u1, 1, 1).unwrap(), (vec![(u1, p2)], 2));
        assert_eq!(book.page_all(0, 51), Err(Error::LimitTooLarge { limit: 51, max: 50 }));

        let (paid, a) = book.update(u1, p1, |a| Ok(a.charge(40).settled)).unwrap();
        assert_eq!((paid, a.balance, book.total_balance()), (40, 60, 140));
        assert_eq!(book.update(acc(9), p1, |_| Ok(())), Err(AccountError::AccountNotExists));

        // A failing update stores nothing.
        let r: Result<((), SubAccount), _> = book.update(u1, p1, |a| {
            a.balance = 0;
            Err(AccountError::TooManyRefunds)
        });
        assert_eq!(r, Err(AccountError::TooManyRefunds));
        assert_eq!(book.get(u1, p1).unwrap().balance, 60);

        book.update(u1, p1, |a| {
            a.nonce = 7;
            Ok(())
        })
        .unwrap();
        assert_eq!(book.delete(u1, p1), Ok(Some(60)));
        assert_eq!(book.delete(u1, p1), Ok(None));
        assert_eq!(book.total_balance(), 80);
        assert_eq!(book.user_total(u1), 50, "a deleted sub-account no longer counts");
        assert_eq!(book.info(u1, p1), "");
        assert_eq!(book.page_all(0, 0).unwrap(), (vec![(u2, p1), (u1, p2)], 2), "last moved into the slot");
        assert_eq!(book.page_by_provider(p1, 0, 0).unwrap(), (vec![(u2, p1)], 1));
        assert_eq!(book.page_by_user(u1, 0, 0).unwrap(), (vec![(u1, p2)], 1));
        // Re-created: old nonce, new generation.
        let again = book.open(u1, p1, 5, "").unwrap();
        assert_eq!((again.nonce, again.generation, again.balance), (7, 1, 5));
        // Positions stay consistent after more removals.
        assert_eq!(book.delete(u2, p1), Ok(Some(30)));
        assert_eq!(book.delete(u1, p2), Ok(Some(50)));
        assert_eq!(book.page_all(0, 0).unwrap(), (vec![(u1, p1)], 1));
        assert_eq!(book.delete(u1, p1), Ok(Some(5)));
        assert_eq!(book.page_all(0, 0).unwrap(), (vec![], 0));
        assert_eq!(book.total_balance(), 0);
    }
}
