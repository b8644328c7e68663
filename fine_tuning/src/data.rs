//! The fine-tuning service's own rules over its storage (the rules both services share are in `service-core`,
//! the deliverable rules themselves — ring, one task at a time, `judge_task` — in `service_core::tuning`): what a
//! provider may publish, and the deliverables of each (user, provider) pair as tasks are added, acknowledged,
//! abandoned, settled and removed. Each method takes the caller and the time and emits what it causes.
use crate::fine_tuning::{
    AccountView, DeliverableAbandoned, DeliverableAcknowledged, DeliverableAdded, DeliverableEvicted,
    DeliverablesRemoved, FeesSettled, FineTuning, PenaltyPercentageUpdated, ServiceUpdated,
};
use ink::prelude::{string::String, vec::Vec};
use ink::primitives::AccountId;
use service_core::service::AccountState;
use service_core::tuning::{self, check_id, judge_task, Deliverable, DeliverableState, TaskError, VerifierInput};
use service_core::{check_count, check_len, AccountError, Balance, Error};
use serving_verifier::{Crypto, Domain, HostCrypto};

/// Longest url and gpu type, in bytes.
pub const MAX_URL_LENGTH: u32 = 512;
/// Most supported models.
pub const MAX_MODELS: u32 = 20;
/// Longest model name, in bytes.
pub const MAX_MODEL_LENGTH: u32 = 256;
/// Most users in `get_batch_accounts_by_users`.
pub const MAX_BATCH_USERS: u32 = 50;

/// (user, provider, keccak256(deliverable id))
pub type DeliverableKey = (AccountId, AccountId, [u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct Quota {
    pub cpu_count: u64,
    pub node_memory: u64,
    pub gpu_count: u64,
    pub node_storage: u64,
    pub gpu_type: String,
}

/// What a provider publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
#[cfg_attr(feature = "std", derive(ink::storage::traits::StorageLayout))]
pub struct ServiceParams {
    pub url: String,
    pub quota: Quota,
    pub price_per_token: Balance,
    pub occupied: bool,
    pub models: Vec<String>,
    pub tee_signer: [u8; 20],
}

impl ServiceParams {
    /// Every field within its limit (`TooLong`, `TooMany`).
    pub fn check(&self) -> Result<(), Error> {
        check_len(self.url.len(), MAX_URL_LENGTH)?;
        check_len(self.quota.gpu_type.len(), MAX_URL_LENGTH)?;
        check_count(self.models.len(), MAX_MODELS)?;
        self.models.iter().try_for_each(|m| check_len(m.len(), MAX_MODEL_LENGTH))
    }

    /// The event of `provider`'s registration or update with these parameters.
    pub fn updated(&self, provider: AccountId) -> ServiceUpdated {
        ServiceUpdated {
            provider,
            url: self.url.clone(),
            quota: self.quota.clone(),
            price_per_token: self.price_per_token,
            tee_signer: self.tee_signer,
            occupied: self.occupied,
        }
    }
}

/// Emits one of this contract's events.
fn emit<E: ink::env::Event>(event: E) {
    ink::env::emit_event::<ink::env::DefaultEnvironment, E>(event)
}

/// The key of a deliverable id.
pub fn id_hash(id: &str) -> [u8; 32] {
    HostCrypto.keccak256(id.as_bytes())
}

/// A penalty share of at most 100 %.
pub fn check_penalty(percent: u8) -> Result<(), Error> {
    if percent > 100 {
        return Err(Error::PenaltyPercentageTooHigh { percent });
    }
    Ok(())
}

/// A sub-account as the views show it, with the number of the pair's deliverables.
pub fn account_view(user: AccountId, provider: AccountId, state: AccountState, deliverables: u32) -> AccountView {
    let AccountState { account: a, additional_info, acknowledged } = state;
    AccountView {
        user,
        provider,
        nonce: a.nonce,
        balance: a.balance,
        pending_refund: a.pending_refund,
        refunds: a.refunds,
        additional_info,
        acknowledged,
        consent_ends_at: a.consent_ends_at,
        deliverables,
    }
}

impl FineTuning {
    /// `add_deliverable`: the next task of (`user`, `provider`), with the penalty share in force now.
    pub(crate) fn add(
        &mut self,
        provider: AccountId,
        user: AccountId,
        id: String,
        root: Vec<u8>,
        now: u64,
    ) -> Result<(), Error> {
        check_id(&id)?;
        check_len(root.len(), tuning::MAX_ROOT_HASH_LENGTH)?;
        if !self.core.has_service(provider) {
            return Err(Error::ServiceNotExist);
        }
        if !self.core.book.contains(user, provider) {
            return Err(AccountError::AccountNotExists.into());
        }
        let key = id_hash(&id);
        if self.deliverables.contains((user, provider, key)) {
            return Err(TaskError::DeliverableAlreadyExists.into());
        }
        let mut ring = self.rings.get((user, provider)).unwrap_or_default();
        let state = |h: Option<[u8; 32]>| h.and_then(|h| self.deliverables.get((user, provider, h))).map(|d| d.state);
        let latest = state(ring.latest());
        let oldest = if ring.is_full() { state(ring.oldest()) } else { None };
        if let Some(evicted) = ring.admit(key, latest, oldest)? {
            if let Some(old) = self.deliverables.take((user, provider, evicted)) {
                emit(DeliverableEvicted { user, provider, evicted_id: old.id, new_id: id.clone() });
            }
        }
        self.rings.insert((user, provider), &ring);
        let penalty_percent = self.penalty_percent;
        let (id2, root2) = (id.clone(), root.clone());
        emit(DeliverableAdded { user, provider, id: id2, model_root_hash: root2, penalty_percent });
        let state = DeliverableState::Pending;
        let d = Deliverable {
            id,
            model_root_hash: root,
            encrypted_secret: Vec::new(),
            state,
            added_at: now,
            penalty_percent,
        };
        self.deliverables.insert((user, provider, key), &d);
        Ok(())
    }

    /// `acknowledge_deliverable` (`acknowledged`, by the user) or `abandon_deliverable` (by the provider): an open
    /// task moves to that state.
    pub(crate) fn close(
        &mut self,
        user: AccountId,
        provider: AccountId,
        id: String,
        acknowledged: bool,
    ) -> Result<(), Error> {
        if !self.core.book.contains(user, provider) {
            return Err(AccountError::AccountNotExists.into());
        }
        let key = (user, provider, id_hash(&id));
        let mut d = self.deliverables.get(key).ok_or(TaskError::DeliverableNotExists)?;
        d.check_open()?;
        d.state = if acknowledged { DeliverableState::Acknowledged } else { DeliverableState::Abandoned };
        self.deliverables.insert(key, &d);
        match acknowledged {
            true => emit(DeliverableAcknowledged { user, provider, id }),
            false => emit(DeliverableAbandoned { user, provider, id }),
        }
        Ok(())
    }

    /// `remove_deliverables`: `provider` removes the pair's deliverables once the sub-account is gone.
    pub(crate) fn remove_all(&mut self, provider: AccountId, user: AccountId) -> Result<u32, Error> {
        if self.core.book.contains(user, provider) {
            return Err(TaskError::AccountStillOpen.into());
        }
        let ids = self.rings.take((user, provider)).map(|r| r.ids).unwrap_or_default();
        for h in &ids {
            self.deliverables.remove((user, provider, *h));
        }
        let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        if count > 0 {
            emit(DeliverablesRemoved { user, provider, count });
        }
        Ok(count)
    }

    /// `settle_fees`: judge (`tuning::judge_task`) → store → emit; returns the fee to pay `provider`.
    pub(crate) fn settle_task(
        &mut self,
        provider: AccountId,
        input: VerifierInput,
        domain: &Domain,
        now: u64,
    ) -> Result<Balance, Error> {
        let user = input.user;
        let settler = self.core.settler(provider, domain, &HostCrypto, now);
        let account = self.core.book.get(user, provider);
        let key = (user, provider, id_hash(&input.id));
        let settled = judge_task(&HostCrypto, &settler, domain, account, &input, |_| self.deliverables.get(key))?;
        self.core.book.store(user, provider, settled.old_balance, &settled.account)?;
        self.deliverables.insert(key, &settled.deliverable);
        let (fee, acknowledged, a) = (settled.fee, settled.acknowledged, &settled.account);
        emit(FeesSettled { user, provider, id: input.id, fee, acknowledged, nonce: input.nonce });
        let (balance, pending_refund) = (a.balance, a.pending_refund);
        emit(service_core::events::BalanceUpdated { user, provider, balance, pending_refund });
        Ok(fee)
    }

    /// `update_penalty_percentage` (the caller must be the owner): tasks added from now on.
    pub(crate) fn set_penalty(&mut self, caller: AccountId, percent: u8) -> Result<(), Error> {
        self.core.ensure_owner(caller)?;
        check_penalty(percent)?;
        let old = core::mem::replace(&mut self.penalty_percent, percent);
        if old != percent {
            emit(PenaltyPercentageUpdated { old, new: percent });
        }
        Ok(())
    }

    /// `get_deliverables`: a page of the pair's deliverables, oldest first, and their number.
    pub(crate) fn deliverables_page(
        &self,
        user: AccountId,
        provider: AccountId,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<Deliverable>, u32), Error> {
        let ids = self.rings.get((user, provider)).unwrap_or_default().ids;
        let total = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        let range = service_core::error::page_range(offset, limit, total)?;
        let (skip, take) = (usize::try_from(range.start).unwrap_or(usize::MAX), range.len());
        let page = ids.into_iter().skip(skip).take(take);
        Ok((service_core::fit(page.filter_map(|h| self.deliverables.get((user, provider, h)))), total))
    }

    /// `get_deliverable`.
    pub(crate) fn deliverable(&self, user: AccountId, provider: AccountId, id: &str) -> Result<Deliverable, Error> {
        if !self.core.book.contains(user, provider) {
            return Err(AccountError::AccountNotExists.into());
        }
        Ok(self.deliverables.get((user, provider, id_hash(id))).ok_or(TaskError::DeliverableNotExists)?)
    }

    /// The number of the pair's deliverables.
    pub(crate) fn deliverable_count(&self, user: AccountId, provider: AccountId) -> u32 {
        self.rings.get((user, provider)).map_or(0, |r| u32::try_from(r.ids.len()).unwrap_or(u32::MAX))
    }
}
