//! A test-only service contract for the ledger's e2e tests. In `Honest` mode it keeps simple sub-accounts
//! (balance, one pending refund with an unlock time) and plays by the rules; the other modes misbehave on
//! purpose, and the tests check that the ledger loses nothing to them. Never deploy this anywhere real.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

#[ink::contract]
pub mod mock_service {
    use ink::env::call::{build_call, ExecutionInput, Selector};
    use ink::prelude::string::String;
    use ink::prelude::vec::Vec;
    use ink::storage::Mapping;
    use serving_interface::{AccountError, Retrieval, Serving, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub enum Mode {
        /// Plays by the rules.
        Honest,
        /// `get_pending_refund` claims everything is pending, `retrieve` claims a huge payout but pays
        /// nothing, `user_balance` claims `Balance::MAX`.
        Liar,
        /// `retrieve` pays the ledger more than the sub-account holds (from the contract's own funds).
        OverPayer,
        /// `settle` skips its own balance check and pays the provider from whatever the contract holds (other
        /// users' money at this service).
        Thief,
        /// `add_account`/`deposit_fund` try to re-enter the ledger (`deposit_fund_for` with the value just
        /// received, to credit the user twice).
        Reenter,
        /// Every ledger-facing message traps.
        Trap,
        /// `retrieve` reports twice what it takes for the first provider of the call and pays only half of it.
        Misreporter,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct Sub {
        pub balance: Balance,
        pub pending_refund: Balance,
        pub unlock_at: u64,
    }

    #[ink(storage)]
    pub struct MockService {
        ledger: AccountId,
        lock_ms: u64,
        mode: Mode,
        info: ServingInfo,
        subs: Mapping<(AccountId, AccountId), Sub>,
        /// user → Σ balance of the user's subs here.
        totals: Mapping<AccountId, Balance>,
        /// Outcome of the last re-entry attempt (`Reenter` mode): did the ledger accept the nested call?
        reentry_succeeded: Option<bool>,
    }

    impl MockService {
        #[ink(constructor)]
        pub fn new(ledger: AccountId, lock_ms: u64) -> Self {
            Self::with_info(ledger, lock_ms, SERVING_INTERFACE_VERSION, ledger)
        }

        /// A service that reports `interface_version` and `claimed_ledger` (to test registration checks).
        #[ink(constructor)]
        pub fn with_info(ledger: AccountId, lock_ms: u64, interface_version: u32, claimed_ledger: AccountId) -> Self {
            Self {
                ledger,
                lock_ms,
                mode: Mode::Honest,
                info: ServingInfo { interface_version, ledger: claimed_ledger },
                subs: Mapping::default(),
                totals: Mapping::default(),
                reentry_succeeded: None,
            }
        }

        #[ink(message)]
        pub fn set_mode(&mut self, mode: Mode) {
            self.mode = mode;
        }

        #[ink(message)]
        pub fn get_sub(&self, user: AccountId, provider: AccountId) -> Option<Sub> {
            self.subs.get((user, provider))
        }

        #[ink(message)]
        pub fn reentry_succeeded(&self) -> Option<bool> {
            self.reentry_succeeded
        }

        /// Accepts tokens (tests fund the contract so an `OverPayer` can over-pay).
        #[ink(message, payable)]
        pub fn top_up(&mut self) {}

        /// The caller (a provider) settles `amount` from `user`'s sub-account and is paid by this contract. The
        /// ledger is not told (services never call it). A `Thief` skips the balance check.
        #[ink(message)]
        pub fn settle(&mut self, user: AccountId, amount: Balance) -> Result<(), ServingError> {
            let provider = self.env().caller();
            let mut sub = self.subs.get((user, provider)).unwrap_or_default();
            let taken = if self.mode == Mode::Thief {
                amount.min(sub.balance)
            } else {
                if amount > sub.balance {
                    return Err(ServingError::NotAllowed);
                }
                amount
            };
            let left = sub.balance.saturating_sub(taken);
            self.set_balance(user, &mut sub, left);
            sub.pending_refund = sub.pending_refund.min(sub.balance);
            self.subs.insert((user, provider), &sub);
            self.env().transfer(provider, amount).map_err(|_| ServingError::TransferFailed)
        }

        /// Sets a sub's balance and keeps the user's total in step (saturating: a test double).
        fn set_balance(&mut self, user: AccountId, sub: &mut Sub, balance: Balance) {
            let total = self.totals.get(user).unwrap_or(0).saturating_sub(sub.balance).saturating_add(balance);
            sub.balance = balance;
            self.totals.insert(user, &total);
        }

        fn only_ledger(&self) -> Result<(), ServingError> {
            if self.mode == Mode::Trap {
                panic!("mock service trapped on purpose");
            }
            if self.env().caller() != self.ledger {
                return Err(ServingError::CallerNotLedger);
            }
            Ok(())
        }

        fn try_reenter(&mut self, user: AccountId) {
            if self.mode != Mode::Reenter {
                return;
            }
            let value = self.env().transferred_value();
            let r = build_call::<ink::env::DefaultEnvironment>()
                .call(self.ledger)
                .transferred_value(value)
                .exec_input(ExecutionInput::new(Selector::new(ink::selector_bytes!("deposit_fund_for"))).push_arg(user))
                .returns::<Result<(), ()>>() // success or not is all the test asks; the ledger's error is not decoded
                .try_invoke();
            self.reentry_succeeded = Some(matches!(r, Ok(Ok(Ok(())))));
        }
    }

    impl Serving for MockService {
        #[ink(message)]
        fn serving_info(&self) -> ServingInfo {
            self.info
        }

        #[ink(message)]
        fn user_balance(&self, user: AccountId) -> Balance {
            if self.mode == Mode::Liar {
                return Balance::MAX;
            }
            self.totals.get(user).unwrap_or(0)
        }

        #[ink(message)]
        fn account_exists(&self, user: AccountId, provider: AccountId) -> bool {
            self.subs.contains((user, provider))
        }

        #[ink(message)]
        fn get_pending_refund(&self, user: AccountId, provider: AccountId) -> Result<Balance, ServingError> {
            let sub = self.subs.get((user, provider)).ok_or(ServingError::Account(AccountError::AccountNotExists))?;
            Ok(if self.mode == Mode::Liar { Balance::MAX } else { sub.pending_refund })
        }

        #[ink(message, payable)]
        fn add_account(&mut self, user: AccountId, provider: AccountId, _info: String) -> Result<(), ServingError> {
            self.only_ledger()?;
            if user == provider {
                return Err(ServingError::Account(AccountError::ProviderCannotBeUser));
            }
            if self.subs.contains((user, provider)) {
                return Err(ServingError::Account(AccountError::AccountExists));
            }
            let mut sub = Sub::default();
            self.set_balance(user, &mut sub, self.env().transferred_value());
            self.subs.insert((user, provider), &sub);
            self.try_reenter(user);
            Ok(())
        }

        #[ink(message, payable)]
        fn deposit_fund(&mut self, user: AccountId, provider: AccountId, cancel: Balance) -> Result<(), ServingError> {
            self.only_ledger()?;
            let mut sub =
                self.subs.get((user, provider)).ok_or(ServingError::Account(AccountError::AccountNotExists))?;
            sub.pending_refund = sub.pending_refund.saturating_sub(cancel);
            let balance = sub
                .balance
                .checked_add(self.env().transferred_value())
                .ok_or(ServingError::Account(AccountError::Overflow))?;
            self.set_balance(user, &mut sub, balance);
            self.subs.insert((user, provider), &sub);
            self.try_reenter(user);
            Ok(())
        }

        #[ink(message)]
        fn retrieve(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<Vec<Retrieval>, ServingError> {
            self.only_ledger()?;
            let (now, mut send) = (self.env().block_timestamp(), 0u128);
            let mut out = Vec::new();
            for provider in providers {
                let mut sub =
                    self.subs.get((user, provider)).ok_or(ServingError::Account(AccountError::AccountNotExists))?;
                // Collect an unlocked refund (a `Liar` claims a huge payout and pays nothing; an `OverPayer` pays
                // twice what it takes).
                let mut paid = 0;
                if self.mode == Mode::Liar {
                    paid = Balance::MAX / 2;
                } else if sub.pending_refund > 0 && now >= sub.unlock_at {
                    let taken = sub.pending_refund;
                    let left = sub.balance.saturating_sub(taken);
                    self.set_balance(user, &mut sub, left);
                    sub.pending_refund = 0;
                    let mut sent = if self.mode == Mode::OverPayer { taken.saturating_mul(2) } else { taken };
                    paid = sent;
                    if self.mode == Mode::Misreporter && out.is_empty() {
                        (sent, paid) = (taken / 2, taken.saturating_mul(2));
                    }
                    send = send.saturating_add(sent);
                }
                // Queue the rest (this mock keeps one refund only: a second request while one is pending is
                // refused).
                let requested = sub.balance.saturating_sub(sub.pending_refund);
                if requested > 0 {
                    if sub.pending_refund > 0 {
                        return Err(ServingError::Account(AccountError::TooManyRefunds));
                    }
                    sub.pending_refund = requested;
                    sub.unlock_at = now.saturating_add(self.lock_ms);
                }
                self.subs.insert((user, provider), &sub);
                out.push(Retrieval { provider, paid, requested });
            }
            if send > 0 {
                self.env().transfer(self.ledger, send).map_err(|_| ServingError::TransferFailed)?;
            }
            Ok(out)
        }

        #[ink(message)]
        fn delete_accounts(&mut self, user: AccountId, providers: Vec<AccountId>) -> Result<(), ServingError> {
            self.only_ledger()?;
            for provider in providers {
                if let Some(mut sub) = self.subs.get((user, provider)) {
                    self.set_balance(user, &mut sub, 0);
                }
                self.subs.remove((user, provider));
            }
            Ok(())
        }
    }
}
