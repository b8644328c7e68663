//! The end-to-end suite's support is the shared sandbox harness (`serving-sandbox`, also used by the CLI's
//! demo); this crate re-exports it so the tests name one place.
pub use serving_sandbox::*;
