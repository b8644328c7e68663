//! The service's full build: `serving_common::full` (locked on chain, moved with the thin build in one call, never
//! the thin build itself), with its errors as the services' own.
pub use serving_common::full::{check_pair, forward, install, own_code, upgrade, Skip, TwoBuilds};

impl From<serving_common::full::Error> for crate::Error {
    fn from(e: serving_common::full::Error) -> Self {
        use serving_common::full::Error as F;
        match e {
            F::FullCodeIsThinCode => crate::Error::FullCodeIsThinCode,
            F::FullCodeUnavailable => crate::Error::FullCodeUnavailable,
            F::UpgradeFailed => crate::Error::UpgradeFailed,
        }
    }
}
