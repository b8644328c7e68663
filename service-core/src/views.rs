//! What both services' views return beside each service's own types.
use crate::service::ServiceCore;
use crate::Balance;
use ink::primitives::AccountId;

/// A service as the views return it: the provider's published parameters `P` (each service's own) and what the
/// registry knows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
pub struct ServiceView<P> {
    pub provider: AccountId,
    pub params: P,
    pub updated_at: u64,
    /// Usable now: acknowledged by the owner or attested.
    pub tee_signer_acknowledged: bool,
    pub stake: Balance,
}

impl ServiceCore {
    /// `provider`'s service as the views show it now, with its `params` (`None` without a service).
    pub fn service_view<P>(&self, provider: AccountId, params: Option<P>) -> Option<ServiceView<P>> {
        let status = self.service_now(provider)?;
        Some(ServiceView {
            provider,
            params: params?,
            updated_at: status.updated_at,
            tee_signer_acknowledged: status.tee_signer_acknowledged,
            stake: status.stake,
        })
    }
}
