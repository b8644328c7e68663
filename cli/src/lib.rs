//! The library half of the `serving` command: the parts other crates test against the sandbox runtime
//! (`settle`: the provider's settlement runner, generic over the chain it talks to).
pub mod settle;
