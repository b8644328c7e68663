//! The event sink every storage item of ours emits through (services, ledger book).

/// Where the events a shared rule causes go: on chain, straight to `deposit_event` ([`OnChain`]); in unit tests, a
/// recorder. A generic sink rather than a returned `Vec` of an enum: each event type's emission is then compiled
/// only where it happens, which keeps the contracts' code (paid by every call) as small as hand-written emits.
pub trait Emit {
    fn emit<E: ink::env::Event + core::fmt::Debug>(&mut self, event: E);
}

/// Emits from the running contract.
pub struct OnChain;

impl Emit for OnChain {
    fn emit<E: ink::env::Event + core::fmt::Debug>(&mut self, event: E) {
        ink::env::emit_event::<ink::env::DefaultEnvironment, E>(event)
    }
}

/// Records events as `Debug` strings, for unit tests.
#[cfg(feature = "std")]
#[derive(Debug, Default)]
pub struct Recorder(pub ink::prelude::vec::Vec<ink::prelude::string::String>);

#[cfg(feature = "std")]
impl Emit for Recorder {
    fn emit<E: ink::env::Event + core::fmt::Debug>(&mut self, event: E) {
        self.0.push(ink::prelude::format!("{event:?}"));
    }
}
