//! Off-chain tests of the owner messages that make no cross-contract call. Deliverable rules are tested in
//! `service_core::tuning`; the flows between contracts in `e2e-tests/`.
use super::fine_tuning::*;
use ink::env::test;
use ink::env::DefaultEnvironment as Env;
use service_core::provider::OwnershipError;

const HOUR: u64 = 3_600_000;
const ME: ink::primitives::AccountId = ink::primitives::AccountId([0x42; 32]);

fn setup() -> FineTuning {
    let a = test::default_accounts::<Env>();
    test::set_caller::<Env>(a.alice);
    test::set_callee::<Env>(ME);
    test::set_account_balance::<Env>(ME, 0);
    FineTuning::new(a.django, 42, HOUR, 100, 30, ink::primitives::Hash::from([7; 32])).unwrap()
}

fn events() -> usize {
    test::recorded_events().count()
}

#[ink::test]
fn parameter_updates_emit_only_on_change() {
    let mut c = setup();
    let n = events();
    assert_eq!(c.update_lock_time(HOUR), Ok(()));
    assert_eq!(c.update_penalty_percentage(30), Ok(()));
    assert_eq!(c.update_min_stake(100), Ok(()));
    assert_eq!(events(), n, "no change, no event");
    assert_eq!(c.update_penalty_percentage(40), Ok(()));
    assert_eq!(events(), n + 1);
    assert_eq!(c.penalty_percentage(), 40);
    assert_eq!(c.update_penalty_percentage(101), Err(Error::PenaltyPercentageTooHigh { percent: 101 }));
}

#[ink::test]
fn pending_owner_is_visible_until_accepted() {
    let mut c = setup();
    let a = test::default_accounts::<Env>();
    assert_eq!(c.transfer_ownership(a.bob), Ok(()));
    assert_eq!(c.config().pending_owner, Some(a.bob));
    test::set_caller::<Env>(a.bob);
    assert_eq!(c.accept_ownership(), Ok(()));
    assert_eq!((c.config().owner, c.config().pending_owner), (a.bob, None));
}

#[ink::test]
fn surplus_goes_to_whom_the_owner_names() {
    let mut c = setup();
    let a = test::default_accounts::<Env>();
    assert_eq!(c.withdraw_surplus(a.frank), Err(Error::NoSurplus));
    // A plain transfer to the contract (no code runs for it on chain) is surplus: nobody's balance.
    test::set_account_balance::<Env>(ME, 1_000_077);
    assert_eq!(c.config().surplus, 1_000_077);
    test::set_caller::<Env>(a.bob);
    assert_eq!(c.withdraw_surplus(a.bob), Err(Error::Ownership(OwnershipError::NotOwner)));
    test::set_caller::<Env>(a.alice);
    let frank0 = test::get_account_balance::<Env>(a.frank).unwrap_or(0);
    assert_eq!(c.withdraw_surplus(a.frank), Ok(1_000_077));
    assert_eq!(test::get_account_balance::<Env>(a.frank).unwrap(), frank0 + 1_000_077);
    assert_eq!((c.config().surplus, c.config().liabilities), (0, 0));
    assert_eq!(c.withdraw_surplus(a.frank), Err(Error::NoSurplus));
}

/// The packed storage root is frozen (docs/owner-guide.md, "Upgrades"): this fails when it changes.
#[test]
fn storage_root_never_changes() {
    service_core::layout::check_root::<FineTuning>(env!("CARGO_MANIFEST_DIR"), "fine_tuning");
}
