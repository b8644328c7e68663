//! A contract's full build: the code its rarely used messages run in (see `FULL` in the ledger and the service
//! contracts), kept on chain and moved together with the deployed (thin) build.
//!
//! * **Locked.** The contract locks the full build's code hash as a delegate dependency (pallet-contracts'
//!   `lock_delegate_dependency`): the code's reference count then includes the contract, so nobody, not even the
//!   account that uploaded it, can `remove_code` it while the contract points at it. A change unlocks the old hash
//!   (its lock-up deposit comes back). Locking costs a deposit of the chain's `CodeHashLockupDepositPercent` of the
//!   code's own deposit (0 % in ink!'s sandbox, 30 % on substrate-contracts-node 0.42).
//! * **One call.** The owner's `set_code(code_hash, full_code)` moves both builds at once, so a new thin build never
//!   runs on an old full build.
//! * **Never itself.** A full hash equal to the thin build's code is refused (`FullCodeIsThinCode`): the thin build
//!   would delegate to itself until the call stack is exhausted.
use crate::emit::Emit;
use crate::events::{CodeUpgraded, FullCodeUpdated};
use ink::primitives::Hash;
use ink::storage::traits::StorageKey;
use ink::storage::Lazy;

/// Why a full build cannot be set or reached; each contract's error has a variant for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The full build given is the thin build itself.
    FullCodeIsThinCode,
    /// No full build is stored, or no code is under its hash.
    FullCodeUnavailable,
    /// No code is uploaded under the new thin build's hash.
    UpgradeFailed,
}

/// Refuses a full build that is the thin build itself.
pub fn check_pair(thin: Hash, full: Hash) -> Result<(), Error> {
    if thin == full {
        return Err(Error::FullCodeIsThinCode);
    }
    Ok(())
}

/// Constructor: stores and locks the full build `full` of a contract whose own (thin) code is `thin`. Traps (the
/// instantiation fails with pallet-contracts' `CodeNotFound`) when no code is uploaded under `full`.
pub fn install<K: StorageKey>(slot: &mut Lazy<Hash, K>, thin: Hash, full: Hash) -> Result<(), Error> {
    check_pair(thin, full)?;
    host::lock(&full);
    slot.set(&full);
    Ok(())
}

/// The owner's upgrade: replaces the contract's code with `thin` and its full build with `full` in one call (the
/// caller checked ownership). Emits `CodeUpgraded`, and `FullCodeUpdated` when the full build changes (the new one
/// locked, the old one unlocked). `UpgradeFailed` when no code is uploaded under `thin`; traps (the whole call
/// reverts, `CodeNotFound`) when none is under `full`.
pub fn upgrade<K: StorageKey>(
    slot: &mut Lazy<Hash, K>,
    thin: Hash,
    full: Hash,
    ev: &mut impl Emit,
) -> Result<(), Error> {
    check_pair(thin, full)?;
    host::set_code_hash(&thin)?;
    ev.emit(CodeUpgraded { code_hash: thin.into() });
    let old = slot.get();
    if old != Some(full) {
        host::lock(&full);
        if let Some(old) = old {
            host::unlock(&old);
        }
        slot.set(&full);
        ev.emit(FullCodeUpdated { code_hash: full.into() });
    }
    Ok(())
}

/// The running contract's own code hash (in a constructor: the thin build being instantiated).
pub fn own_code() -> Hash {
    host::own_code()
}

/// Runs the current call's message in the full build (code hash `full_code`): a delegate call that hands it this
/// call's input and, as a tail call, ends this call with its output (flags included, so its errors revert as they
/// would in the caller). Returns only when there is no full build to run (`FullCodeUnavailable`: no hash stored, or
/// no code under it, which the lock rules out); traps when the full build trapped.
pub fn forward<T, E: From<Error>>(full_code: Option<Hash>) -> Result<T, E> {
    use ink::env::call::{build_call, ExecutionInput, Selector};
    use ink::env::CallFlags;
    let code = full_code.ok_or(Error::FullCodeUnavailable)?;
    match build_call::<ink::env::DefaultEnvironment>()
        .delegate(code)
        .call_flags(CallFlags::FORWARD_INPUT | CallFlags::TAIL_CALL)
        .exec_input(ExecutionInput::new(Selector::new([0; 4])))
        .returns::<()>()
        .try_invoke()
    {
        Err(ink::env::Error::ReturnError(ink::env::ReturnErrorCode::CodeNotFound)) => {
            Err(Error::FullCodeUnavailable.into())
        }
        _ => panic!("the full build trapped"),
    }
}

/// Runs a message's `body` on `this` in the full build (`full`); in the thin build hands the whole call to the full
/// build whose code hash `code` reads ([`forward`]), and `body` is compiled out. Every forwarded message of the
/// three contracts goes through here ([`TwoBuilds`]).
///
/// `O` is what the message returns: `T` itself, or in the thin build's Wasm a [`Skip`] of it, so that the thin
/// build carries no encoder for a result only the full build ever produces.
pub fn run<S, T, O: From<T>, E: From<Error>>(
    full: bool,
    this: S,
    code: impl FnOnce(&S) -> Option<Hash>,
    body: impl FnOnce(S) -> Result<T, E>,
) -> Result<O, E> {
    if full {
        body(this).map(O::from)
    } else {
        forward(code(&this))
    }
}

/// [`run`] for a view whose signature has no `Result` (it predates the two builds): the thin build traps when the
/// full build is missing (its hash unset, which a constructed contract rules out).
pub fn run_plain<S, T, O: From<T>>(
    full: bool,
    this: S,
    code: impl FnOnce(&S) -> Option<Hash>,
    body: impl FnOnce(S) -> T,
) -> O {
    match run::<S, T, O, Error>(full, this, code, |s| Ok(body(s))) {
        Ok(v) => v,
        Err(_) => panic!("the full build is missing"),
    }
}

/// A contract with a thin and a full build: [`run`] and [`run_plain`] bound to its build flag and to where it keeps
/// its full build's code hash, so that each contract states those two facts once and its messages call
/// `self.full(..)`, `self.full_view(..)` or `self.full_plain(..)`.
pub trait TwoBuilds: Sized {
    /// Whether this is the full build: `cfg!(any(test, serving_full))` in the contract's crate.
    const FULL: bool;
    /// The contract's error type.
    type Error: From<Error>;

    /// The full build's code hash as this contract stores it.
    fn stored_full_code(&self) -> Option<Hash>;

    /// Runs `body` here in the full build; in the thin build, hands the whole call to the full build ([`run`]).
    fn full<T, O: From<T>>(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<T, Self::Error>,
    ) -> Result<O, Self::Error> {
        run(Self::FULL, self, |s| s.stored_full_code(), body)
    }

    /// [`Self::full`] for a view.
    fn full_view<T, O: From<T>>(&self, body: impl FnOnce(&Self) -> Result<T, Self::Error>) -> Result<O, Self::Error> {
        run(Self::FULL, self, |s| s.stored_full_code(), body)
    }

    /// [`Self::full_view`] for a view that returns no `Result`: the thin build traps when the full build is missing
    /// ([`run_plain`]).
    fn full_plain<T, O: From<T>>(&self, body: impl FnOnce(&Self) -> T) -> O {
        run_plain(Self::FULL, self, |s| s.stored_full_code(), body)
    }
}

/// What a forwarded message returns in the thin build's Wasm (each contract's `Fwd<T>`): nothing to encode, as the
/// thin build never produces the value (the full build's answer ends the call, [`forward`]). Only in the Wasm: with
/// `std` (metadata, off-chain callers, tests) `Fwd<T>` is `T`, so both builds' metadata stay the same (the interop
/// tests compare them).
pub struct Skip<T>(core::marker::PhantomData<T>);

impl<T> From<T> for Skip<T> {
    fn from(_: T) -> Self {
        Skip(core::marker::PhantomData)
    }
}

impl<T> Skip<T> {
    /// A forwarded message's argument, as its body takes it (each contract's `arg::take`): a `Skip` holds none,
    /// and the thin build, the only one with `Skip` arguments, never runs a body ([`run`]).
    pub fn take(self) -> T {
        unreachable!("a thin build runs no forwarded message's body")
    }
}

impl<T> ink::scale::Encode for Skip<T> {
    fn size_hint(&self) -> usize {
        0
    }

    fn encode_to<W: ink::scale::Output + ?Sized>(&self, _: &mut W) {}
}

impl<T> ink::scale::Decode for Skip<T> {
    fn decode<I: ink::scale::Input>(_: &mut I) -> Result<Self, ink::scale::Error> {
        Ok(Skip(core::marker::PhantomData))
    }
}

/// Declares, in a contract module, what its forwarded messages take and return in each build:
/// * `Fwd<T>`, a forwarded message's result: `T`, except in the thin build's Wasm, which never produces it and so
///   carries no encoder for it;
/// * `arg::<Name>`, for each `Name = Type` listed, a forwarded message's argument: `Type`, except in the thin build's
///   Wasm, which never reads it (the full build decodes the input it is handed) and so carries no decoder for it;
///   a body takes the value with `arg::take`.
///
/// Both are [`Skip`]s in the thin build's Wasm (neither `serving_full`, nor `std`, nor `test`). The metadata is
/// generated with `std`, where both are the types themselves: the two builds' metadata stay the same, and an
/// argument's display name keeps its last segment (`arg::String` shows as `String`).
#[macro_export]
macro_rules! forwarded_types {
    ($($name:ident = $ty:ty),* $(,)?) => {
        #[cfg(any(test, serving_full, feature = "std"))]
        type Fwd<T> = T;
        #[cfg(not(any(test, serving_full, feature = "std")))]
        type Fwd<T> = $crate::full::Skip<T>;

        #[allow(non_camel_case_types, dead_code)]
        mod arg {
            $(
                #[cfg(any(test, serving_full, feature = "std"))]
                pub type $name = $ty;
                #[cfg(not(any(test, serving_full, feature = "std")))]
                pub type $name = $crate::full::Skip<$ty>;
            )*

            /// The argument's value, in a forwarded message's body.
            #[cfg(any(test, serving_full, feature = "std"))]
            pub fn take<T>(v: T) -> T {
                v
            }
            #[cfg(not(any(test, serving_full, feature = "std")))]
            pub fn take<T>(v: $crate::full::Skip<T>) -> T {
                v.take()
            }
        }
    };
}

/// The host functions, on chain.
#[cfg(not(feature = "std"))]
mod host {
    use super::{Error, Hash};
    type E = ink::env::DefaultEnvironment;

    pub fn lock(h: &Hash) {
        ink::env::lock_delegate_dependency::<E>(h)
    }

    pub fn unlock(h: &Hash) {
        ink::env::unlock_delegate_dependency::<E>(h)
    }

    pub fn set_code_hash(h: &Hash) -> Result<(), Error> {
        ink::env::set_code_hash::<E>(h).map_err(|_| Error::UpgradeFailed)
    }

    pub fn own_code() -> Hash {
        ink::env::own_code_hash::<E>().unwrap_or_default()
    }
}

/// Off chain (the contracts' unit tests; ink!'s off-chain engine has no code hashes): locks are not kept, the
/// upgrade only records, and the own code is a fixed hash no test uses as a full build.
#[cfg(feature = "std")]
mod host {
    use super::{Error, Hash};

    pub fn lock(_: &Hash) {}

    pub fn unlock(_: &Hash) {}

    pub fn set_code_hash(_: &Hash) -> Result<(), Error> {
        Ok(())
    }

    pub fn own_code() -> Hash {
        Hash::from([0xee; 32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::Recorder;

    #[test]
    fn the_full_build_is_never_the_thin_one() {
        let (a, b) = (Hash::from([1; 32]), Hash::from([2; 32]));
        assert_eq!(check_pair(a, a), Err(Error::FullCodeIsThinCode));
        assert_eq!(check_pair(a, b), Ok(()));
    }

    #[ink::test]
    fn upgrade_moves_both_builds_and_reports_a_new_full_build() {
        let mut slot = Lazy::<Hash>::default();
        let (thin, full, full2) = (Hash::from([1; 32]), Hash::from([2; 32]), Hash::from([3; 32]));
        assert_eq!(install(&mut slot, thin, thin), Err(Error::FullCodeIsThinCode));
        assert_eq!(slot.get(), None, "nothing stored when refused");
        install(&mut slot, thin, full).unwrap();
        let mut ev = Recorder::default();
        assert_eq!(upgrade(&mut slot, full, full, &mut ev), Err(Error::FullCodeIsThinCode));
        assert!(ev.0.is_empty());
        upgrade(&mut slot, thin, full, &mut ev).unwrap();
        assert_eq!(ev.0.len(), 1, "same full build: only CodeUpgraded");
        upgrade(&mut slot, thin, full2, &mut ev).unwrap();
        assert_eq!(slot.get(), Some(full2));
        assert_eq!(ev.0.len(), 3);
        assert!(ev.0[2].starts_with("FullCodeUpdated"));
    }
}
