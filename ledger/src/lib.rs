//! The ledger of the serving network: every user's main account, the registry of service contracts, and the
//! interface ([`Serving`]) it calls on the services. Services never call the ledger: settlement happens in the
//! service alone, and the ledger reports a user's total from the services' live sub-account balances.
//!
//! Money rules live in [`book`]; this crate's `#[ink::contract]` module wires storage, callers, value, events
//! and cross-contract calls around them. See `docs/ledger.md` for every message, its checks in order and its
//! events.
#![cfg_attr(not(feature = "std"), no_std, no_main)]

pub mod book;
mod errors;
pub mod events;

pub use errors::Error;
pub use serving_interface::{Balance, Serving, ServingError, ServingInfo, SERVING_INTERFACE_VERSION};

/// Most providers handled by one `retrieve_fund`.
pub const MAX_PROVIDERS_PER_BATCH: u32 = 20;
/// Most registered services.
pub const MAX_SERVICES: u32 = 500;
/// Most versions of one service type.
pub const MAX_VERSIONS_PER_TYPE: u32 = 50;
/// Most providers a user can have sub-accounts with in one service.
pub const MAX_PROVIDERS_PER_USER_PER_SERVICE: u32 = 50;
/// Most services a user can have sub-accounts in at once.
pub const MAX_SERVICES_PER_USER: u32 = 20;
/// Most sub-accounts one `delete_ledger` call deletes; call again for the rest.
pub const MAX_DELETIONS_PER_CALL: u32 = 25;
/// Longest additional info and service description, in bytes.
pub const MAX_ADDITIONAL_INFO_LENGTH: u32 = 4096;
/// Longest service type or version, in bytes.
pub const MAX_NAME_LENGTH: u32 = 64;
/// Largest page of any list view.
pub const MAX_PAGE: u32 = 50;

#[ink::contract]
pub mod ledger {
    pub use crate::book::LedgerRecord;
    use crate::book::{self, check_len, Deletion, LedgerBook};
    use crate::*;
    use ink::codegen::TraitCallBuilder;
    use ink::prelude::{string::String, vec::Vec};
    use ink::storage::Mapping;
    use serving_common::emit::OnChain;
    use serving_common::events::{OwnershipTransferStarted, OwnershipTransferred, SurplusWithdrawn};
    use serving_common::indexed::push;
    use serving_common::Ownership;
    use serving_interface::{Serving, ServingInfo, SERVING_INTERFACE_VERSION};

    /// A user's main account as returned by the views.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct LedgerView {
        pub user: AccountId,
        /// Held by the ledger: withdrawable, or to fund sub-accounts with.
        pub available_balance: Balance,
        /// `available_balance` plus the live balances of the user's sub-accounts, as the user's services report
        /// them at the time of the call (pending refunds included).
        pub total_balance: Balance,
        pub additional_info: String,
    }

    /// A registered service contract.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    #[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
    pub struct ServiceInfo {
        pub service_type: String,
        pub version: String,
        pub description: String,
        pub is_recommended: bool,
        /// A disabled service cannot be funded; money can still come back from it.
        pub enabled: bool,
        /// Block timestamp (ms) of the registration.
        pub registered_at: u64,
    }

    /// A registered service and its address, as returned by the list views.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[ink::scale_derive(Encode, Decode, TypeInfo)]
    pub struct ServiceEntry {
        pub address: AccountId,
        pub info: ServiceInfo,
    }

    pub use crate::events::*;

    #[ink(storage)]
    pub struct Ledger {
        ownership: Ownership,
        chain_id: u64,
        min_account_balance: Balance,
        min_transfer_amount: Balance,
        /// Users' main accounts, their enumeration and info, what they funded each service with, their providers
        /// and services, the liabilities total and orphaned sub-accounts.
        book: LedgerBook,
        services: Mapping<AccountId, ServiceInfo>,
        service_by_name: Mapping<(String, String), AccountId>,
        service_at: Mapping<u32, AccountId>,
        service_count: u32,
        versions_by_type: Mapping<String, Vec<AccountId>>,
        recommended: Mapping<String, AccountId>,
        /// Only in the upgrade test's second build (cfg `serving_upgrade_v2`, set by the build script of
        /// `ledger/v2`): the kind of state a new version may add, in a field with its own storage key,
        /// so the packed root stays as it was.
        #[cfg(serving_upgrade_v2)]
        v2_note: ink::storage::Lazy<u32>,
        /// The code hash of this contract's full build (`ledger/full`), which the messages used rarely run in: see
        /// [`FULL`]. Set by the constructor and the owner's `set_code`, and locked on chain
        /// (`serving_common::full`).
        full_code: ink::storage::Lazy<Hash>,
    }

    /// Whether this is the full build (`ledger/full`, cfg `serving_full`; unit tests run it too). Every user call
    /// loads the whole code at the ledger's address, so that code (the thin build) holds only what users call
    /// every day (`add_ledger`, `deposit_fund(_for)`, `refund`, `transfer_fund`, `retrieve_fund`, `get_ledger` and
    /// the small views) and hands every other message to the full build, uploaded once and locked on chain, by a
    /// delegate call ([`TwoBuilds::full`]; docs/ledger.md, "Two builds"). Same messages, selectors and metadata.
    const FULL: bool = cfg!(any(test, serving_full));

    use serving_common::full::TwoBuilds;

    impl TwoBuilds for Ledger {
        const FULL: bool = FULL;
        type Error = Error;

        fn stored_full_code(&self) -> Option<Hash> {
            self.full_code.get()
        }
    }

    // What the forwarded messages take and return (`Fwd<T>`, `arg::*`): nothing to decode or encode in the thin
    // build's Wasm, which never runs their bodies.
    serving_common::forwarded_types!(
        String = super::String,
        AccountId = super::AccountId,
        Balance = super::Balance,
        u32 = core::primitive::u32,
        bool = core::primitive::bool,
    );

    type ServingRef = ink::contract_ref!(Serving);

    /// Turns the nested result of a cross-contract call into the ledger's error.
    fn flatten<T>(r: Result<ink::MessageResult<Result<T, ServingError>>, ink::env::Error>) -> Result<T, Error> {
        match r {
            Ok(Ok(inner)) => inner.map_err(Error::Service),
            _ => Err(Error::ServiceCallFailed),
        }
    }

    fn zero_account() -> AccountId {
        AccountId::from([0u8; 32])
    }

    impl Ledger {
        /// A ledger owned by the caller. Defaults for an 18-decimal token: `min_account_balance` 3·10^18,
        /// `min_transfer_amount` 10^18. `full_code`: the code hash of the full build (`ledger/full`), uploaded
        /// beforehand and locked by this constructor (see [`FULL`]).
        #[ink(constructor)]
        pub fn new(
            chain_id: u64,
            min_account_balance: Balance,
            min_transfer_amount: Balance,
            full_code: Hash,
        ) -> Result<Self, Error> {
            let mut this = Self {
                ownership: Ownership::new(Self::env().caller()),
                chain_id,
                min_account_balance,
                min_transfer_amount,
                book: LedgerBook::default(),
                services: Mapping::default(),
                service_by_name: Mapping::default(),
                service_at: Mapping::default(),
                service_count: 0,
                versions_by_type: Mapping::default(),
                recommended: Mapping::default(),
                #[cfg(serving_upgrade_v2)]
                v2_note: Default::default(),
                full_code: Default::default(),
            };
            serving_common::full::install(&mut this.full_code, serving_common::full::own_code(), full_code)?;
            Ok(this)
        }

        // ------------------------------------------------------------------ users

        /// Opens the caller's ledger with the transferred value (≥ `min_account_balance`).
        #[ink(message, payable)]
        pub fn add_ledger(&mut self, additional_info: String) -> Result<(), Error> {
            let (user, value) = (self.env().caller(), self.env().transferred_value());
            self.book.open(user, value, self.min_account_balance, additional_info, &mut OnChain)
        }

        /// Replaces the caller's additional info (copied into sub-accounts opened from now on).
        #[ink(message)]
        pub fn update_additional_info(&mut self, additional_info: arg::String) -> Result<(), Error> {
            self.full(|s| s.book.set_info(s.env().caller(), arg::take(additional_info), &mut OnChain))
        }

        /// Adds the transferred value to the caller's ledger, opening it (with the minimum) if needed.
        #[ink(message, payable)]
        pub fn deposit_fund(&mut self) -> Result<(), Error> {
            let user = self.env().caller();
            self.deposit_to(user)
        }

        /// Adds the transferred value to `recipient`'s ledger, opening it (with the minimum) if needed.
        #[ink(message, payable)]
        pub fn deposit_fund_for(&mut self, recipient: AccountId) -> Result<(), Error> {
            if recipient == zero_account() {
                return Err(Error::ZeroAddress);
            }
            self.deposit_to(recipient)
        }

        /// Withdraws `amount` of the available balance to the caller. What remains available must be zero or at
        /// least `min_account_balance`. A ledger whose available balance reaches zero and that has no
        /// sub-accounts is removed; with sub-accounts, `delete_ledger` removes it.
        #[ink(message)]
        pub fn refund(&mut self, amount: Balance) -> Result<(), Error> {
            let user = self.env().caller();
            self.book.withdraw(user, amount, self.min_account_balance, &mut OnChain)?;
            self.env().transfer(user, amount).map_err(|_| Error::TransferFailed)
        }

        /// Moves `amount` into the caller's sub-account with `provider` at `service`. For an existing
        /// sub-account the amount first cancels pending refunds (newest first) and only the rest leaves the
        /// ledger; a new sub-account needs at least `min_transfer_amount`.
        #[ink(message)]
        pub fn transfer_fund(&mut self, provider: AccountId, service: AccountId, amount: Balance) -> Result<(), Error> {
            let user = self.env().caller();
            if amount == 0 {
                return Err(Error::ZeroAmount);
            }
            let record = self.book.record(user)?;
            let info = self.services.get(service).ok_or(Error::ServiceNotFound)?;
            if !info.enabled {
                return Err(Error::ServiceDisabled);
            }
            let mut svc: ServingRef = service.into();
            let pending = || flatten(svc.call().get_pending_refund(user, provider).try_invoke());
            let min = self.min_transfer_amount;
            let f = self.book.fund(user, record, service, provider, amount, pending, min, &mut OnChain)?;
            if !f.opens {
                return flatten(
                    svc.call_mut().deposit_fund(user, provider, f.cancelled).transferred_value(f.sent).try_invoke(),
                );
            }
            // A sub-account whose deletion failed earlier: delete it now (its balance was 0), then open afresh.
            if self.book.take_orphan(user, service, provider) {
                flatten(svc.call_mut().delete_accounts(user, ink::prelude::vec![provider]).try_invoke())?;
            }
            let info = self.book.info(user);
            flatten(svc.call_mut().add_account(user, provider, info).transferred_value(f.sent).try_invoke())
        }

        /// For each listed provider the caller has a sub-account with at `service` (others are skipped):
        /// collects the unlocked refunds (credited by the tokens actually received, at most what the caller
        /// funded that service with net of earlier refunds) and queues a refund of the rest. Works on disabled
        /// services too.
        #[ink(message)]
        pub fn retrieve_fund(&mut self, providers: Vec<AccountId>, service: AccountId) -> Result<Balance, Error> {
            let user = self.env().caller();
            let len = u32::try_from(providers.len()).unwrap_or(u32::MAX);
            if len > MAX_PROVIDERS_PER_BATCH {
                return Err(Error::TooManyProviders { len, max: MAX_PROVIDERS_PER_BATCH });
            }
            if !self.services.contains(service) {
                return Err(Error::ServiceNotFound);
            }
            let mut r = self.book.start_retrieval(user, service)?;
            let tracked: Vec<AccountId> = providers.into_iter().filter(|p| r.tracks(p)).collect();
            if !tracked.is_empty() {
                // One call for all of them (the service's code is loaded once, its payment is one transfer).
                let before = self.env().balance();
                let mut svc: ServingRef = service.into();
                let report = flatten(svc.call_mut().retrieve(user, tracked.clone()).try_invoke())?;
                if report.len() != tracked.len() || report.iter().zip(&tracked).any(|(x, p)| x.provider != *p) {
                    return Err(Error::ServiceCallFailed);
                }
                // Credit what actually arrived (capped by what the user funded the service with, net), shared
                // out over the providers in the order the service reported (`Retrieval::credit_report`).
                for (provider, amount, refund_requested) in r.credit_report((before, self.env().balance()), &report)? {
                    self.env().emit_event(FundRetrieved { user, service, provider, amount, refund_requested });
                }
            }
            self.book.finish_retrieval(r)
        }

        /// Deletes the caller's ledger once its total is zero (nothing available, and every service reports
        /// zero for the caller): deletes up to `MAX_DELETIONS_PER_CALL` sub-accounts per call (their nonces
        /// survive in the services) and then the ledger itself. Returns the number of sub-accounts still to
        /// delete (call again while it is non-zero).
        #[ink(message)]
        pub fn delete_ledger(&mut self) -> Result<Fwd<u32>, Error> {
            self.full(|s| s.delete())
        }

        // ------------------------------------------------------------------ owner

        /// Registers a service contract under (service_type, version). The contract must answer
        /// `Serving::serving_info` with this ledger and interface version.
        #[ink(message)]
        pub fn register_service(
            &mut self,
            service_type: arg::String,
            version: arg::String,
            service: arg::AccountId,
            description: arg::String,
        ) -> Result<(), Error> {
            self.full(|s| {
                s.register(arg::take(service_type), arg::take(version), arg::take(service), arg::take(description))
            })
        }

        /// Marks (service_type, version) as the recommended version of its type.
        #[ink(message)]
        pub fn set_recommended_service(
            &mut self,
            service_type: arg::String,
            version: arg::String,
        ) -> Result<(), Error> {
            self.full(|s| s.recommend(arg::take(service_type), arg::take(version)))
        }

        /// Enables or disables a service. A disabled service cannot be funded; refunds still flow back.
        #[ink(message)]
        pub fn set_service_enabled(&mut self, service: arg::AccountId, enabled: arg::bool) -> Result<(), Error> {
            self.full(|s| {
                let service = arg::take(service);
                let enabled = arg::take(enabled);
                s.ensure_owner()?;
                let mut info = s.services.get(service).ok_or(Error::ServiceNotFound)?;
                info.enabled = enabled;
                s.services.insert(service, &info);
                s.env().emit_event(ServiceEnabledChanged { service, enabled });
                Ok(())
            })
        }

        /// Sets the minimum to open a ledger (and to keep after a partial withdrawal) and the minimum first
        /// transfer to a sub-account. Applies to later operations only.
        #[ink(message)]
        pub fn set_minimums(
            &mut self,
            min_account_balance: arg::Balance,
            min_transfer_amount: arg::Balance,
        ) -> Result<(), Error> {
            self.full(|s| {
                let min_account_balance = arg::take(min_account_balance);
                let min_transfer_amount = arg::take(min_transfer_amount);
                s.ensure_owner()?;
                s.min_account_balance = min_account_balance;
                s.min_transfer_amount = min_transfer_amount;
                s.env().emit_event(MinimumsUpdated { min_account_balance, min_transfer_amount });
                Ok(())
            })
        }

        /// First step of an ownership transfer: proposes `new_owner`, who must call `accept_ownership`.
        #[ink(message)]
        pub fn transfer_ownership(&mut self, new_owner: arg::AccountId) -> Result<(), Error> {
            self.full(|s| {
                let new_owner = arg::take(new_owner);
                let owner = s.env().caller();
                s.ownership.propose(owner, new_owner)?;
                s.env().emit_event(OwnershipTransferStarted { owner, pending_owner: new_owner });
                Ok(())
            })
        }

        /// Second step: the proposed owner takes over.
        #[ink(message)]
        pub fn accept_ownership(&mut self) -> Result<(), Error> {
            self.full(|s| {
                let new_owner = s.env().caller();
                let previous_owner = s.ownership.accept(new_owner)?;
                s.env().emit_event(OwnershipTransferred { previous_owner, new_owner });
                Ok(())
            })
        }

        /// Sends tokens the ledger holds beyond what it owes (direct transfers, over-payments by services) to
        /// `to`. Never touches users' money.
        #[ink(message)]
        pub fn withdraw_surplus(&mut self, to: arg::AccountId) -> Result<Fwd<Balance>, Error> {
            self.full(|s| {
                let to = arg::take(to);
                s.ensure_owner()?;
                let amount = s.book.surplus(s.env().balance());
                if amount == 0 {
                    return Err(Error::ZeroAmount);
                }
                s.env().emit_event(SurplusWithdrawn { to, amount });
                s.env().transfer(to, amount).map_err(|_| Error::TransferFailed)?;
                Ok(amount)
            })
        }

        /// Owner: upgrades both builds in one call, keeping the storage: `code_hash` becomes the code at this
        /// address (the thin build) and `full_code` the full build its rarely used messages run in (see [`FULL`]),
        /// the new full build locked on chain and the old one unlocked (`serving_common::full`). Never forwarded.
        #[ink(message)]
        pub fn set_code(&mut self, code_hash: Hash, full_code: Hash) -> Result<(), Error> {
            self.ensure_owner()?;
            Ok(serving_common::full::upgrade(&mut self.full_code, code_hash, full_code, &mut OnChain)?)
        }

        /// The code hash of the full build the rarely used messages run in (see [`FULL`]).
        #[ink(message)]
        pub fn full_code(&self) -> Option<Hash> {
            self.full_code.get()
        }
        /// `delete_ledger` in the full build.
        fn delete(&mut self) -> Result<u32, Error> {
            let user = self.env().caller();
            let record = self.book.record(user)?;
            let total = self.live_total(user, &record)?;
            if total != 0 {
                return Err(Error::MustWithdrawAllFundsFirst { total });
            }
            // One call per service for its providers (the pairs come grouped by service).
            let pairs = self.book.deletions(user, MAX_DELETIONS_PER_CALL);
            let mut done: Vec<Deletion> = Vec::with_capacity(pairs.len());
            for group in pairs.chunk_by(|a, b| a.0 == b.0) {
                let Some(&(service, _)) = group.first() else { continue };
                let providers: Vec<AccountId> = group.iter().map(|(_, p)| *p).collect();
                let mut svc: ServingRef = service.into();
                let deleted = flatten(svc.call_mut().delete_accounts(user, providers).try_invoke()).is_ok();
                done.extend(group.iter().map(|&(service, provider)| Deletion { service, provider, deleted }));
            }
            self.book.finish_deletions(user, record.index, &done, &mut OnChain)
        }

        /// `register_service` in the full build.
        fn register(
            &mut self,
            service_type: String,
            version: String,
            service: AccountId,
            description: String,
        ) -> Result<(), Error> {
            self.ensure_owner()?;
            if service == zero_account() {
                return Err(Error::ZeroAddress);
            }
            if service_type.is_empty() {
                return Err(Error::ServiceTypeRequired);
            }
            if version.is_empty() {
                return Err(Error::VersionRequired);
            }
            check_len(&service_type, MAX_NAME_LENGTH)?;
            check_len(&version, MAX_NAME_LENGTH)?;
            check_len(&description, MAX_ADDITIONAL_INFO_LENGTH)?;
            if self.services.contains(service) {
                return Err(Error::ServiceAlreadyRegistered);
            }
            let key = (service_type.clone(), version.clone());
            if self.service_by_name.contains(&key) {
                return Err(Error::ServiceNameExists);
            }
            if self.service_count >= MAX_SERVICES {
                return Err(Error::ServiceRegistryLimitReached { max: MAX_SERVICES });
            }
            let mut versions = self.versions_by_type.get(&service_type).unwrap_or_default();
            if versions.len() >= MAX_VERSIONS_PER_TYPE as usize {
                return Err(Error::TooManyVersions { max: MAX_VERSIONS_PER_TYPE });
            }
            // Calling itself would be a re-entrant call, which pallet-contracts turns into a trap.
            if service == self.env().account_id() {
                return Err(Error::ServiceMustImplementServing);
            }
            let svc: ServingRef = service.into();
            let expected =
                ServingInfo { interface_version: SERVING_INTERFACE_VERSION, ledger: self.env().account_id() };
            match svc.call().serving_info().try_invoke() {
                Ok(Ok(info)) if info == expected => {}
                _ => return Err(Error::ServiceMustImplementServing),
            }
            versions.push(service);
            self.versions_by_type.insert(&service_type, &versions);
            self.service_by_name.insert(&key, &service);
            self.service_count = push(&mut self.service_at, self.service_count, &service).ok_or(Error::Overflow)?;
            self.services.insert(
                service,
                &ServiceInfo {
                    service_type: service_type.clone(),
                    version: version.clone(),
                    description,
                    is_recommended: false,
                    enabled: true,
                    registered_at: self.env().block_timestamp(),
                },
            );
            self.env().emit_event(ServiceRegistered { service, service_type, version });
            Ok(())
        }

        /// `set_recommended_service` in the full build.
        fn recommend(&mut self, service_type: String, version: String) -> Result<(), Error> {
            self.ensure_owner()?;
            let service =
                self.service_by_name.get((service_type.clone(), version.clone())).ok_or(Error::ServiceNotFound)?;
            if let Some(previous) = self.recommended.get(&service_type) {
                if previous != service {
                    if let Some(mut p) = self.services.get(previous) {
                        p.is_recommended = false;
                        self.services.insert(previous, &p);
                    }
                }
            }
            let mut info = self.services.get(service).ok_or(Error::ServiceNotFound)?;
            info.is_recommended = true;
            self.services.insert(service, &info);
            self.recommended.insert(&service_type, &service);
            self.env().emit_event(RecommendedServiceUpdated { service_type, version, service });
            Ok(())
        }

        // ------------------------------------------------------------------ views

        /// Upgrade test only: what the second build stores in its new field.
        #[cfg(serving_upgrade_v2)]
        #[ink(message)]
        pub fn v2_note(&self) -> u32 {
            self.v2_note.get().unwrap_or(0)
        }

        /// Upgrade test only: writes the second build's new field, in the second full build (so it fails when
        /// an upgrade moved only the thin build). Returns the note written.
        #[cfg(serving_upgrade_v2)]
        #[ink(message)]
        pub fn set_v2_note(&mut self, note: arg::u32) -> Result<Fwd<u32>, Error> {
            self.full(|s| {
                let note = arg::take(note);
                s.v2_note.set(&note);
                Ok(note)
            })
        }

        #[ink(message)]
        pub fn owner(&self) -> AccountId {
            self.ownership.owner
        }

        #[ink(message)]
        pub fn pending_owner(&self) -> Option<AccountId> {
            self.ownership.pending
        }

        #[ink(message)]
        pub fn chain_id(&self) -> u64 {
            self.chain_id
        }

        /// (min_account_balance, min_transfer_amount)
        #[ink(message)]
        pub fn minimums(&self) -> (Balance, Balance) {
            (self.min_account_balance, self.min_transfer_amount)
        }

        /// What the ledger owes in native tokens: the sum of all available balances.
        #[ink(message)]
        pub fn liabilities(&self) -> Fwd<Balance> {
            self.full_plain(|s| s.book.liabilities())
        }

        /// Native tokens beyond what the ledger owes.
        #[ink(message)]
        pub fn surplus(&self) -> Fwd<Balance> {
            self.full_plain(|s| s.book.surplus(s.env().balance()))
        }

        /// The user's ledger; `total_balance` asks each of the user's services for its live balance (one call
        /// per service), so it is true after every settlement. Fails with `ServiceCallFailed` if a service does
        /// not answer. A view (users read it with a dry run, which costs nothing on chain): it runs in the full
        /// build, so the thin build at the address, loaded by every user call, carries none of its code.
        #[ink(message)]
        pub fn get_ledger(&self, user: arg::AccountId) -> Result<Fwd<LedgerView>, Error> {
            self.full_view(|s| {
                let user = arg::take(user);
                s.view(user, s.book.record(user)?)
            })
        }

        /// A page of ledgers (limit 0 = 50, at most 50) and the number of ledgers. Order is insertion order with
        /// the last ledger moved into a deleted one's place.
        #[ink(message)]
        pub fn get_all_ledgers(&self, offset: arg::u32, limit: arg::u32) -> Result<Fwd<(Vec<LedgerView>, u32)>, Error> {
            self.full_view(|s| {
                let offset = arg::take(offset);
                let limit = arg::take(limit);
                let users = s.book.users(offset, limit)?;
                // Each view asks the user's services for live balances: compute only those that fit.
                let views = users.into_iter().filter_map(|u| s.book.record(u).ok().map(|record| s.view(u, record)));
                Ok((serving_common::try_fit(views)?, s.book.count()))
            })
        }

        /// The providers the user has sub-accounts with at `service`.
        #[ink(message)]
        pub fn get_ledger_providers(
            &self,
            user: arg::AccountId,
            service: arg::AccountId,
        ) -> Result<Fwd<Vec<AccountId>>, Error> {
            self.full_view(|s| {
                let user = arg::take(user);
                let service = arg::take(service);
                if !s.services.contains(service) {
                    return Err(Error::ServiceNotFound);
                }
                Ok(s.book.providers_of(user, service))
            })
        }

        /// The services the user has sub-accounts in.
        #[ink(message)]
        pub fn get_user_services(&self, user: arg::AccountId) -> Fwd<Vec<AccountId>> {
            self.full_plain(|s| s.book.services_of(arg::take(user)))
        }

        /// What `user` funded `service` with, net of what came back: the most a refund from that service can
        /// still credit. Not the live balance there (fees settled at the service do not reduce it); the service's
        /// `user_balance` is.
        #[ink(message)]
        pub fn get_funded(&self, user: arg::AccountId, service: arg::AccountId) -> Fwd<Balance> {
            self.full_plain(|s| s.book.record(arg::take(user)).map(|r| r.funded(&arg::take(service))).unwrap_or(0))
        }

        #[ink(message)]
        pub fn get_service_info(&self, service: arg::AccountId) -> Fwd<Option<ServiceInfo>> {
            self.full_plain(|s| s.services.get(arg::take(service)))
        }

        #[ink(message)]
        pub fn get_service_address_by_name(
            &self,
            service_type: arg::String,
            version: arg::String,
        ) -> Fwd<Option<AccountId>> {
            self.full_plain(|s| s.service_by_name.get((arg::take(service_type), arg::take(version))))
        }

        /// A page of registered services in registration order (stable: services are never removed).
        #[ink(message)]
        pub fn get_all_services(
            &self,
            offset: arg::u32,
            limit: arg::u32,
        ) -> Result<Fwd<(Vec<ServiceEntry>, u32)>, Error> {
            self.full_view(|s| {
                let offset = arg::take(offset);
                let limit = arg::take(limit);
                let range = book::page(offset, limit, s.service_count, MAX_PAGE)?;
                let entries = range
                    .filter_map(|i| s.service_at.get(i))
                    .filter_map(|address| s.services.get(address).map(|info| ServiceEntry { address, info }));
                Ok((serving_common::fit(entries), s.service_count))
            })
        }

        /// (version, address) of the recommended service of a type.
        #[ink(message)]
        pub fn get_recommended_service(&self, service_type: arg::String) -> Result<Fwd<(String, AccountId)>, Error> {
            self.full_view(|s| {
                let address = s.recommended.get(arg::take(service_type)).ok_or(Error::NoRecommendedService)?;
                let info = s.services.get(address).ok_or(Error::NoRecommendedService)?;
                Ok((info.version, address))
            })
        }

        /// Every version of a type (at most `MAX_VERSIONS_PER_TYPE`), in registration order, as many as fit in the
        /// output buffer (`serving_common::fit`; with long descriptions page through `get_all_services` for the rest).
        #[ink(message)]
        pub fn get_all_versions(&self, service_type: arg::String) -> Fwd<Vec<ServiceEntry>> {
            self.full_plain(|s| {
                serving_common::fit(
                    s.versions_by_type
                        .get(arg::take(service_type))
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|address| s.services.get(address).map(|info| ServiceEntry { address, info })),
                )
            })
        }

        #[ink(message)]
        pub fn is_recommended_version(&self, service_type: arg::String, version: arg::String) -> Fwd<bool> {
            self.full_plain(|s| {
                s.service_by_name
                    .get((arg::take(service_type), arg::take(version)))
                    .and_then(|a| s.services.get(a))
                    .map(|i| i.is_recommended)
                    .unwrap_or(false)
            })
        }

        // ------------------------------------------------------------------ internals

        fn ensure_owner(&self) -> Result<(), Error> {
            Ok(self.ownership.ensure(self.env().caller())?)
        }

        fn view(&self, user: AccountId, record: LedgerRecord) -> Result<LedgerView, Error> {
            Ok(LedgerView {
                user,
                available_balance: record.balance.available,
                total_balance: self.live_total(user, &record)?,
                additional_info: self.book.info(user),
            })
        }

        /// Available plus what each of the user's services reports holding for the user (one call each).
        fn live_total(&self, user: AccountId, record: &LedgerRecord) -> Result<Balance, Error> {
            let mut at_services = Vec::new();
            for service in self.book.services_of(user) {
                let svc: ServingRef = service.into();
                match svc.call().user_balance(user).try_invoke() {
                    Ok(Ok(b)) => at_services.push(b),
                    _ => return Err(Error::ServiceCallFailed),
                }
            }
            Ok(book::total(record.balance.available, at_services))
        }

        fn deposit_to(&mut self, user: AccountId) -> Result<(), Error> {
            let (from, amount) = (self.env().caller(), self.env().transferred_value());
            self.book.deposit(user, from, amount, self.min_account_balance, &mut OnChain)
        }
    }
}

/// Off-chain tests of the messages that make no cross-contract call: checks in order, every error, events.
/// The cross-contract flows (transfer, retrieve, registration, deletion, live totals) are in `e2e-tests/`.
#[cfg(test)]
mod tests {
    use super::ledger::*;
    use super::*;
    use ink::env::test::{self, DefaultAccounts};
    use ink::env::DefaultEnvironment as Env;
    use ink::primitives::AccountId;
    use serving_common::OwnershipError;

    const MIN: Balance = 300;
    const MIN_T: Balance = 100;

    fn accounts() -> DefaultAccounts<Env> {
        test::default_accounts::<Env>()
    }

    /// What the contract account holds before any user money (the off-chain engine's existential deposit).
    const BASE: Balance = 1_000_000;

    fn setup() -> Ledger {
        let a = accounts();
        test::set_caller::<Env>(a.alice);
        test::set_callee::<Env>(AccountId::from([0x42; 32]));
        test::set_account_balance::<Env>(AccountId::from([0x42; 32]), BASE);
        Ledger::new(7, MIN, MIN_T, ink::primitives::Hash::from([0x11; 32])).expect("a full build")
    }

    fn call(who: AccountId, value: Balance) {
        test::set_caller::<Env>(who);
        test::set_value_transferred::<Env>(value);
        // The off-chain engine does not move the value itself: credit the contract like the chain would.
        let me = AccountId::from([0x42; 32]);
        let b = test::get_account_balance::<Env>(me).unwrap_or(0);
        test::set_account_balance::<Env>(me, b + value);
    }

    fn events() -> usize {
        test::recorded_events().count()
    }

    #[ink::test]
    fn add_ledger_checks_in_order() {
        let a = accounts();
        let mut l = setup();
        let long = "x".repeat(MAX_ADDITIONAL_INFO_LENGTH as usize + 1);
        call(a.bob, 0);
        assert_eq!(l.add_ledger(long.clone()), Err(Error::ZeroAmount));
        call(a.bob, MIN - 1);
        assert_eq!(l.add_ledger(long.clone()), Err(Error::MinimumDepositRequired { amount: MIN - 1, minimum: MIN }));
        call(a.bob, MIN);
        assert_eq!(l.add_ledger(long), Err(Error::TooLong { len: 4097, max: 4096 }));
        assert_eq!(l.get_ledger(a.bob), Err(Error::LedgerNotExists));
        assert_eq!(events(), 0);
        call(a.bob, MIN);
        assert_eq!(l.add_ledger("x".repeat(4096)), Ok(()));
        assert_eq!(events(), 1);
        call(a.bob, MIN);
        assert_eq!(l.add_ledger(String::new()), Err(Error::LedgerExists));
        let v = l.get_ledger(a.bob).unwrap();
        assert_eq!((v.available_balance, v.total_balance, v.additional_info.len()), (MIN, MIN, 4096));
        assert_eq!(l.liabilities(), MIN);
    }

    #[ink::test]
    fn deposits_create_or_top_up() {
        let a = accounts();
        let mut l = setup();
        call(a.bob, 0);
        assert_eq!(l.deposit_fund(), Err(Error::ZeroAmount));
        call(a.bob, MIN - 1);
        assert_eq!(l.deposit_fund(), Err(Error::MinimumDepositRequired { amount: MIN - 1, minimum: MIN }));
        call(a.bob, MIN);
        assert_eq!(l.deposit_fund(), Ok(()));
        call(a.bob, 1);
        assert_eq!(l.deposit_fund(), Ok(()), "any positive amount tops up an existing ledger");
        call(a.charlie, 5);
        assert_eq!(l.deposit_fund_for(AccountId::from([0u8; 32])), Err(Error::ZeroAddress));
        assert_eq!(l.deposit_fund_for(a.bob), Ok(()));
        assert_eq!(l.deposit_fund_for(a.django), Err(Error::MinimumDepositRequired { amount: 5, minimum: MIN }));
        let v = l.get_ledger(a.bob).unwrap();
        assert_eq!((v.available_balance, v.total_balance), (MIN + 6, MIN + 6));
        assert_eq!(l.liabilities(), MIN + 6);
        // LedgerAdded, FundDeposited (bob), FundDeposited (charlie for bob)
        assert_eq!(events(), 3);
        call(a.charlie, MIN);
        assert_eq!(l.deposit_fund_for(a.django), Ok(()));
        assert_eq!(events(), 5, "LedgerAdded + FundDeposited for a ledger opened by someone else");
        assert_eq!(l.get_all_ledgers(0, 0).unwrap().1, 2);
    }

    #[ink::test]
    fn refund_checks_in_order_and_pays() {
        let a = accounts();
        let mut l = setup();
        call(a.bob, 0);
        assert_eq!(l.refund(1), Err(Error::LedgerNotExists));
        call(a.bob, 1000);
        l.add_ledger(String::new()).unwrap();
        call(a.bob, 0);
        assert_eq!(l.refund(0), Err(Error::ZeroAmount));
        assert_eq!(l.refund(1001), Err(Error::InsufficientBalance { available: 1000, requested: 1001 }));
        assert_eq!(l.refund(701), Err(Error::MinimumDepositRequired { amount: 299, minimum: MIN }));
        let bob0 = test::get_account_balance::<Env>(a.bob).unwrap();
        let n = events();
        assert_eq!(l.refund(700), Ok(()));
        assert_eq!(events(), n + 1, "LedgerRefunded only: the ledger stays");
        assert_eq!(test::get_account_balance::<Env>(a.bob).unwrap(), bob0 + 700);
        assert_eq!(l.liabilities(), 300);
        assert_eq!(l.refund(300), Ok(()));
        assert_eq!(l.get_ledger(a.bob), Err(Error::LedgerNotExists), "total 0 and no sub-accounts: removed");
        // Review finding 6: the removal is reported (LedgerRefunded, then LedgerDeleted).
        let recorded: Vec<_> = test::recorded_events().collect();
        assert_eq!(recorded.len(), n + 3);
        let deleted = <LedgerDeleted as ink::scale::Decode>::decode(&mut &recorded[n + 2].data[..]).unwrap();
        assert_eq!(deleted.user, a.bob);
        assert_eq!(l.get_all_ledgers(0, 0).unwrap(), (vec![], 0));
        assert_eq!(l.liabilities(), 0);
    }

    #[ink::test]
    fn delete_ledger_requires_zero_total() {
        let a = accounts();
        let mut l = setup();
        call(a.bob, 0);
        assert_eq!(l.delete_ledger(), Err(Error::LedgerNotExists));
        call(a.bob, 500);
        l.add_ledger(String::new()).unwrap();
        call(a.bob, 0);
        assert_eq!(l.delete_ledger(), Err(Error::MustWithdrawAllFundsFirst { total: 500 }));
    }

    #[ink::test]
    fn update_info() {
        let a = accounts();
        let mut l = setup();
        call(a.bob, 0);
        assert_eq!(l.update_additional_info("a".into()), Err(Error::LedgerNotExists));
        assert_eq!(l.update_additional_info("x".repeat(5000)), Err(Error::TooLong { len: 5000, max: 4096 }));
        call(a.bob, MIN);
        l.add_ledger("old".into()).unwrap();
        call(a.bob, 0);
        assert_eq!(l.update_additional_info("new".into()), Ok(()));
        assert_eq!(l.get_ledger(a.bob).unwrap().additional_info, "new");
        assert_eq!(events(), 2);
    }

    #[ink::test]
    fn paging_and_swap_remove() {
        let a = accounts();
        let mut l = setup();
        for u in [a.bob, a.charlie, a.django, a.eve] {
            call(u, MIN);
            l.add_ledger(String::new()).unwrap();
        }
        assert_eq!(l.get_all_ledgers(0, 51), Err(Error::LimitTooLarge { limit: 51, max: 50 }));
        let (page, total) = l.get_all_ledgers(1, 2).unwrap();
        assert_eq!(total, 4);
        assert_eq!(page.iter().map(|v| v.user).collect::<Vec<_>>(), vec![a.charlie, a.django]);
        call(a.charlie, 0);
        l.refund(MIN).unwrap();
        let (page, total) = l.get_all_ledgers(0, 0).unwrap();
        assert_eq!(total, 3);
        assert_eq!(page.iter().map(|v| v.user).collect::<Vec<_>>(), vec![a.bob, a.eve, a.django]);
        assert_eq!(l.get_all_ledgers(u32::MAX, 50).unwrap(), (vec![], 3));
    }

    #[ink::test]
    fn owner_only_and_two_step_ownership() {
        let a = accounts();
        let mut l = setup();
        call(a.bob, 0);
        assert_eq!(l.set_minimums(1, 1), Err(Error::Ownership(OwnershipError::NotOwner)));
        assert_eq!(l.transfer_ownership(a.bob), Err(Error::Ownership(OwnershipError::NotOwner)));
        assert_eq!(l.set_service_enabled(a.eve, false), Err(Error::Ownership(OwnershipError::NotOwner)));
        assert_eq!(l.set_recommended_service("t".into(), "v".into()), Err(Error::Ownership(OwnershipError::NotOwner)));
        assert_eq!(
            l.register_service("t".into(), "v".into(), a.eve, String::new()),
            Err(Error::Ownership(OwnershipError::NotOwner))
        );
        assert_eq!(l.withdraw_surplus(a.bob), Err(Error::Ownership(OwnershipError::NotOwner)));
        assert_eq!(
            l.set_code(ink::primitives::Hash::from([1u8; 32]), ink::primitives::Hash::from([2u8; 32])),
            Err(Error::Ownership(OwnershipError::NotOwner))
        );
        call(a.alice, 0);
        assert_eq!(l.set_minimums(10, 5), Ok(()));
        assert_eq!(l.minimums(), (10, 5));
        assert_eq!(l.set_service_enabled(a.eve, false), Err(Error::ServiceNotFound));
        assert_eq!(l.set_recommended_service("t".into(), "v".into()), Err(Error::ServiceNotFound));
        assert_eq!(
            l.transfer_ownership(AccountId::from([0u8; 32])),
            Err(Error::Ownership(OwnershipError::ZeroAddress))
        );
        assert_eq!(l.transfer_ownership(a.bob), Ok(()));
        assert_eq!(l.owner(), a.alice, "not transferred until accepted");
        assert_eq!(l.pending_owner(), Some(a.bob));
        call(a.charlie, 0);
        assert_eq!(l.accept_ownership(), Err(Error::Ownership(OwnershipError::NotPendingOwner)));
        call(a.bob, 0);
        assert_eq!(l.accept_ownership(), Ok(()));
        assert_eq!((l.owner(), l.pending_owner()), (a.bob, None));
        call(a.alice, 0);
        assert_eq!(l.set_minimums(1, 1), Err(Error::Ownership(OwnershipError::NotOwner)), "old owner lost its rights");
        // MinimumsUpdated, OwnershipTransferStarted, OwnershipTransferred
        assert_eq!(events(), 3);
    }

    #[ink::test]
    fn register_service_input_checks_before_any_call() {
        let a = accounts();
        let mut l = setup();
        call(a.alice, 0);
        let zero = AccountId::from([0u8; 32]);
        assert_eq!(l.register_service("t".into(), "v".into(), zero, String::new()), Err(Error::ZeroAddress));
        assert_eq!(l.register_service("".into(), "v".into(), a.eve, String::new()), Err(Error::ServiceTypeRequired));
        assert_eq!(l.register_service("t".into(), "".into(), a.eve, String::new()), Err(Error::VersionRequired));
        assert_eq!(
            l.register_service("t".repeat(65), "v".into(), a.eve, String::new()),
            Err(Error::TooLong { len: 65, max: 64 })
        );
        assert_eq!(
            l.register_service("t".into(), "v".repeat(65), a.eve, String::new()),
            Err(Error::TooLong { len: 65, max: 64 })
        );
        assert_eq!(
            l.register_service("t".into(), "v".into(), a.eve, "d".repeat(4097)),
            Err(Error::TooLong { len: 4097, max: 4096 })
        );
    }

    #[ink::test]
    fn surplus_is_what_is_not_owed() {
        let a = accounts();
        let mut l = setup();
        call(a.bob, MIN);
        l.add_ledger(String::new()).unwrap();
        assert_eq!(l.surplus(), BASE);
        // A plain transfer to the contract (no code runs on chain) becomes surplus, not anyone's balance.
        call(a.eve, 0);
        let me = AccountId::from([0x42; 32]);
        test::set_account_balance::<Env>(me, BASE + MIN + 77);
        assert_eq!(l.surplus(), BASE + 77);
        call(a.alice, 0);
        let frank0 = test::get_account_balance::<Env>(a.frank).unwrap_or(0);
        assert_eq!(l.withdraw_surplus(a.frank), Ok(BASE + 77));
        assert_eq!(test::get_account_balance::<Env>(a.frank).unwrap(), frank0 + BASE + 77);
        assert_eq!(l.surplus(), 0);
        assert_eq!(l.withdraw_surplus(a.frank), Err(Error::ZeroAmount));
        assert_eq!(l.get_ledger(a.bob).unwrap().available_balance, MIN);
    }

    /// The packed storage root is frozen (docs/owner-guide.md, "Upgrades"): this fails when it changes.
    #[test]
    fn storage_root_never_changes() {
        serving_common::layout::check_root::<Ledger>(env!("CARGO_MANIFEST_DIR"), "ledger");
    }
}
