//! The library half of the `serving` command: the parts other crates test against the sandbox runtime
//! (`settle`: the provider's settlement runner, generic over the chain it talks to; `watch`: the agent around it).
pub mod settle;
pub mod watch;
