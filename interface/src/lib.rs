//! The cross-contract interface of the serving contracts, in a crate of its own so that services link it
//! without linking the ledger contract.
#![cfg_attr(not(feature = "std"), no_std)]

pub mod interface;

pub use interface::{
    AccountError, Retrieval, Serving, ServingError, ServingInfo, MAX_ACCOUNTS_PER_CALL, SERVING_INTERFACE_VERSION,
};

/// The chain's balance type.
pub type Balance = u128;
