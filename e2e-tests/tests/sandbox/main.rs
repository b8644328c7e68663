//! The e2e suite in ink!'s sandbox runtime (real pallet-contracts), one test binary. ink_e2e builds every contract a
//! test names once per process: as separate binaries, each of the seven would build the thirteen contracts again
//! (about four minutes each, most of a cold CI run). Tests run in parallel threads; the sandbox's clock, event
//! buffer and watched accounts are per thread (`serving_sandbox`), so they do not see each other.
//!
//! Run one part with a filter: `cargo test -p serving-e2e-tests --test sandbox ledger_e2e::`.
mod attacks;
#[path = "fine_tuning.rs"]
mod fine_tuning_e2e;
#[path = "inference.rs"]
mod inference_e2e;
mod interop;
#[path = "ledger.rs"]
mod ledger_e2e;
mod random;
mod settle;
