//! The ledger in the real pallet-contracts runtime (ink_e2e sandbox), with a test-only service contract that
//! plays honest or misbehaves. After every step the money invariants of docs/reliability.md are checked, and native
//! balances are compared to the expected flows (storage deposits accounted for exactly).
use ink::primitives::AccountId;
use ink_e2e::{account_id, AccountKeyring, ChainBackend, ContractsBackend};
use ledger::ledger::{
    FundDeposited, FundRetrieved, FundTransferred, Ledger, LedgerAdded, LedgerDeleted, LedgerRef, LedgerRefunded,
    ServiceRegistered,
};
use ledger::{Error, ServingError};
use mock_service::mock_service::{MockService, MockServiceRef, Mode, Sub};
use service_core::provider::OwnershipError;
use serving_e2e_tests::{
    advance_ms, bob, bytes, charlie, dave, events_of, storage_deposit as deposit, take_events, Client,
};

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;

const CHAIN_ID: u64 = 42;
const MIN_ACCOUNT: u128 = 3_000_000;
const MIN_TRANSFER: u128 = 1_000_000;
const LOCK_MS: u64 = 3_600_000;

/// Deploys the ledger (owner: alice) and `n` mock services registered as ("mock", "v<i>").
async fn deploy(client: &mut Client, n: usize) -> E2EResult<(AccountId, Vec<AccountId>)> {
    let full = ContractsBackend::<ink::env::DefaultEnvironment>::upload(client, "ledger_full", &ink_e2e::alice())
        .submit()
        .await?
        .code_hash;
    let mut constructor = LedgerRef::new(CHAIN_ID, MIN_ACCOUNT, MIN_TRANSFER, full);
    let ledger = client.instantiate("ledger", &ink_e2e::alice(), &mut constructor).submit().await?.account_id;
    let mut services = Vec::new();
    for i in 0..n {
        let mut c = MockServiceRef::new(ledger, LOCK_MS);
        let svc = client.instantiate("mock-service", &ink_e2e::alice(), &mut c).submit().await?.account_id;
        let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
        let r = client
            .call(&ink_e2e::alice(), &l.register_service("mock".into(), format!("v{i}"), svc, "test".into()))
            .submit()
            .await?;
        assert_eq!(r.return_value(), Ok(()));
        services.push(svc);
    }
    Ok((ledger, services))
}

/// Checks every invariant of docs/reliability.md for the given users, services and providers: the ledger's total is
/// available plus the live sub-account balances, no honest service holds more for a user than the user funded it
/// with net, liabilities are the sum of available balances and the ledger holds exactly them (no surplus unless a
/// test made one on purpose).
async fn check_invariants(
    client: &mut Client,
    ledger: AccountId,
    services: &[AccountId],
    users: &[AccountId],
    providers: &[AccountId],
) -> E2EResult<()> {
    let l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut sum_available = 0u128;
    let mut live_by_service = vec![0u128; services.len()];
    for u in users {
        let view = client.call(&ink_e2e::alice(), &l.get_ledger(*u)).dry_run().await?.return_value();
        let Ok(view) = view else { continue };
        assert!(view.available_balance <= view.total_balance, "available > total for {u:?}");
        sum_available += view.available_balance;
        let mut live_sum = 0u128;
        for (i, s) in services.iter().enumerate() {
            let funded = client.call(&ink_e2e::alice(), &l.get_funded(*u, *s)).dry_run().await?.return_value();
            let m = ink_e2e::create_call_builder::<MockService>(*s);
            let mut subs = 0u128;
            for p in providers {
                let sub: Option<Sub> =
                    client.call(&ink_e2e::alice(), &m.get_sub(*u, *p)).dry_run().await?.return_value();
                if let Some(sub) = sub {
                    assert!(sub.pending_refund <= sub.balance, "pending > balance");
                    subs += sub.balance;
                }
            }
            assert!(subs <= funded, "a service holds {subs} for the user, more than the net funding {funded}");
            live_sum += subs;
            live_by_service[i] += subs;
        }
        assert_eq!(view.total_balance - view.available_balance, live_sum, "total != available + live balances");
    }
    let liabilities = client.call(&ink_e2e::alice(), &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(liabilities, sum_available, "liabilities != sum of available");
    let ledger_balance = client.free_balance(ledger).await?;
    let surplus = client.call(&ink_e2e::alice(), &l.surplus()).dry_run().await?.return_value();
    assert_eq!(
        ledger_balance,
        liabilities + surplus + serving_e2e_tests::EXISTENTIAL_DEPOSIT,
        "the ledger holds what it owes, its surplus and the existential deposit"
    );
    assert_eq!(surplus, 0, "no surplus where a test did not make one on purpose");
    for (i, s) in services.iter().enumerate() {
        let b = client.free_balance(*s).await?;
        assert!(b >= live_by_service[i], "service balance {b} < live sub-accounts {}", live_by_service[i]);
    }
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn full_user_story(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    let users = [bob()];
    let providers = [charlie()];
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut m = ink_e2e::create_call_builder::<MockService>(svc);
    let ev = take_events();
    assert_eq!(events_of::<ServiceRegistered>(&ev, &bytes(&ledger)).len(), 1);

    // 1. add_ledger with 10 M.
    let bob0 = client.free_balance(bob()).await?;
    let ledger0 = client.free_balance(ledger).await?;
    let r = client.call(&ink_e2e::bob(), &l.add_ledger("info".into())).value(10_000_000).submit().await?;
    let d = deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.free_balance(bob()).await? as i128, bob0 as i128 - 10_000_000 - d);
    assert_eq!(client.free_balance(ledger).await?, ledger0 + 10_000_000);
    let ev = take_events();
    let added = events_of::<LedgerAdded>(&ev, &bytes(&ledger));
    assert_eq!((added.len(), added[0].user, added[0].amount), (1, bob(), 10_000_000));
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;

    // 2. deposit_fund 1 and deposit_fund_for from dave.
    let r = client.call(&ink_e2e::bob(), &l.deposit_fund()).value(1).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &l.deposit_fund_for(bob())).value(999_999).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let ev = take_events();
    let dep = events_of::<FundDeposited>(&ev, &bytes(&ledger));
    assert_eq!(dep.iter().map(|e| (e.from, e.amount)).collect::<Vec<_>>(), vec![(bob(), 1), (dave(), 999_999)]);
    let view = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap();
    assert_eq!((view.available_balance, view.total_balance), (11_000_000, 11_000_000));
    assert_eq!(view.additional_info, "info");
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;

    // 3. transfer 4 M to a new sub-account with charlie.
    let svc0 = client.free_balance(svc).await?;
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 4_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.free_balance(svc).await?, svc0 + 4_000_000);
    let view = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap();
    assert_eq!((view.available_balance, view.total_balance), (7_000_000, 11_000_000));
    let ev = take_events();
    let t = events_of::<FundTransferred>(&ev, &bytes(&ledger));
    assert_eq!((t[0].amount, t[0].cancelled, t[0].sent, t[0].provider), (4_000_000, 0, 4_000_000, charlie()));
    let providers_listed =
        client.call(&ink_e2e::bob(), &l.get_ledger_providers(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(providers_listed, Ok(vec![charlie()]));
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;

    // 4. the provider settles 1 M at the service alone: paid by the service, the ledger is not called, and the
    //    ledger's total (asked live from the service) drops; the net funding stays 4 M.
    let charlie0 = client.free_balance(charlie()).await?;
    let r = client.call(&ink_e2e::charlie(), &m.settle(bob(), 1_000_000)).submit().await?;
    let d = deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.free_balance(charlie()).await? as i128, charlie0 as i128 + 1_000_000 - d);
    let view = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap();
    assert_eq!((view.available_balance, view.total_balance), (7_000_000, 10_000_000));
    assert!(take_events().iter().all(|e| e.contract != bytes(&ledger)), "the ledger took no part");
    let funded = client.call(&ink_e2e::bob(), &l.get_funded(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(funded, 4_000_000);
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;

    // 5. retrieve: queues a refund of the remaining 3 M; nothing credited yet.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie(), dave()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    let ev = take_events();
    let rf = events_of::<FundRetrieved>(&ev, &bytes(&ledger));
    assert_eq!(rf.len(), 1, "dave has no sub-account: skipped");
    assert_eq!((rf[0].amount, rf[0].refund_requested), (0, 3_000_000));
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;

    // 6. a transfer of 1 M now cancels 1 M of the pending refund and moves no tokens.
    let svc1 = client.free_balance(svc).await?;
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 1_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.free_balance(svc).await?, svc1);
    let sub = client.call(&ink_e2e::bob(), &m.get_sub(bob(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!((sub.balance, sub.pending_refund), (3_000_000, 2_000_000));
    let ev = take_events();
    let t = events_of::<FundTransferred>(&ev, &bytes(&ledger));
    assert_eq!((t[0].cancelled, t[0].sent), (1_000_000, 0));
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;

    // 7. before the lock time nothing comes back; after it the 2 M do.
    advance_ms(LOCK_MS - 1);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(Error::Service(ServingError::Account(service_core::AccountError::TooManyRefunds))),
        "mock keeps one refund"
    );
    let r = client.call(&ink_e2e::charlie(), &m.settle(bob(), 1_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    advance_ms(1);
    let ledger1 = client.free_balance(ledger).await?;
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(2_000_000));
    assert_eq!(client.free_balance(ledger).await?, ledger1 + 2_000_000);
    let view = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap();
    assert_eq!((view.available_balance, view.total_balance), (9_000_000, 9_000_000));
    let funded = client.call(&ink_e2e::bob(), &l.get_funded(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(funded, 2_000_000, "4 M funded, 2 M came back: the 2 M settled stay counted");
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;

    // 8. withdraw everything: the sub-account remains, so the ledger stays (total 0) until delete_ledger.
    let bob1 = client.free_balance(bob()).await?;
    let r = client.call(&ink_e2e::bob(), &l.refund(9_000_000)).submit().await?;
    let d = deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.free_balance(bob()).await? as i128, bob1 as i128 + 9_000_000 - d);
    let ev = take_events();
    assert_eq!(events_of::<LedgerRefunded>(&ev, &bytes(&ledger))[0].amount, 9_000_000);
    check_invariants(&mut client, ledger, &services, &users, &providers).await?;
    let r = client.call(&ink_e2e::bob(), &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    let ev = take_events();
    assert_eq!(events_of::<LedgerDeleted>(&ev, &bytes(&ledger)).len(), 1);
    let gone = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value();
    assert_eq!(gone, Err(Error::LedgerNotExists));
    let sub = client.call(&ink_e2e::bob(), &m.get_sub(bob(), charlie())).dry_run().await?.return_value();
    assert_eq!(sub, None, "sub-account deleted in the service");
    assert_eq!(client.call(&ink_e2e::bob(), &l.liabilities()).dry_run().await?.return_value(), 0);
    assert_eq!(client.call(&ink_e2e::bob(), &l.surplus()).dry_run().await?.return_value(), 0);
    Ok(())
}

/// Opens bob's ledger with `amount` and a sub-account with charlie at `svc` holding `sub`.
async fn open_with_sub(
    client: &mut Client,
    ledger: AccountId,
    svc: AccountId,
    amount: u128,
    sub: u128,
) -> E2EResult<()> {
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(amount).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, sub)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    Ok(())
}

async fn ledger_of(client: &mut Client, ledger: AccountId, user: AccountId) -> E2EResult<(u128, u128)> {
    let l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let v = client.call(&ink_e2e::alice(), &l.get_ledger(user)).dry_run().await?.return_value().unwrap();
    Ok((v.available_balance, v.total_balance))
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn transfer_fund_checks_in_order(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 0)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::ZeroAmount));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 5)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::LedgerNotExists));
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(5_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), dave(), 5)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::ServiceNotFound));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, MIN_TRANSFER - 1)).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(Error::MinimumDepositRequired { amount: MIN_TRANSFER - 1, minimum: MIN_TRANSFER })
    );
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 5_000_001)).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(Error::InsufficientAvailableBalance { available: 5_000_000, required: 5_000_001 })
    );
    // The service's own refusal comes back typed: user == provider.
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(bob(), svc, MIN_TRANSFER)).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(Error::Service(ServingError::Account(service_core::AccountError::ProviderCannotBeUser)))
    );
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (5_000_000, 5_000_000), "nothing moved");
    assert_eq!(client.free_balance(svc).await?, client.free_balance(svc).await?);
    let got = client.call(&ink_e2e::bob(), &l.get_ledger_providers(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(got, Ok(vec![]), "failed transfers track nothing");
    check_invariants(&mut client, ledger, &services, &[bob()], &[charlie(), bob()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn transfer_to_new_sub_account_checks_minimum_and_cap(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(200_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    // 50 providers are accepted, the 51st is refused.
    for i in 0..50u8 {
        let p = AccountId::from([i + 100; 32]);
        let r = client.call(&ink_e2e::bob(), &l.transfer_fund(p, svc, MIN_TRANSFER)).submit().await?;
        assert_eq!(r.return_value(), Ok(()), "provider {i}");
    }
    let p = AccountId::from([200; 32]);
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(p, svc, MIN_TRANSFER)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::TooManyProvidersForService { max: 50 }));
    // An existing sub-account takes any positive amount.
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(AccountId::from([100; 32]), svc, 1)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (200_000_000 - 50 * MIN_TRANSFER - 1, 200_000_000));
    let funded = client.call(&ink_e2e::bob(), &l.get_funded(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(funded, 50 * MIN_TRANSFER + 1);
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn liar_service_cannot_inflate_balances(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    open_with_sub(&mut client, ledger, svc, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut m = ink_e2e::create_call_builder::<MockService>(svc);
    client.call(&ink_e2e::alice(), &m.set_mode(Mode::Liar)).submit().await?;
    let ledger0 = client.free_balance(ledger).await?;
    // It claims a huge payout but pays nothing: nothing is credited.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    // It claims to hold `u128::MAX` for bob: the view shows the claim (saturated, no trap) but the available
    // balance, the only money the ledger holds for bob, is untouched.
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (6_000_000, u128::MAX));
    // It claims everything is pending: a transfer then only cancels, no tokens leave the ledger.
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 2_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (6_000_000, u128::MAX));
    assert_eq!(client.free_balance(ledger).await?, ledger0);
    // And it cannot make the ledger forget the user: deletion needs a zero total.
    let r = client.call(&ink_e2e::bob(), &l.refund(6_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Err(Error::MustWithdrawAllFundsFirst { total: u128::MAX }));
    let liabilities = client.call(&ink_e2e::bob(), &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(liabilities, 0);
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn over_paying_service_creates_surplus_not_balance(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    open_with_sub(&mut client, ledger, svc, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut m = ink_e2e::create_call_builder::<MockService>(svc);
    client.call(&ink_e2e::alice(), &m.top_up()).value(50_000_000).submit().await?;
    client.call(&ink_e2e::alice(), &m.set_mode(Mode::OverPayer)).submit().await?;
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS);
    let ledger0 = client.free_balance(ledger).await?;
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    // It pays 8 M for a 4 M sub-account: 4 M credited, 4 M surplus.
    assert_eq!(r.return_value(), Ok(4_000_000));
    assert_eq!(client.free_balance(ledger).await?, ledger0 + 8_000_000);
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (10_000_000, 10_000_000));
    let surplus = client.call(&ink_e2e::bob(), &l.surplus()).dry_run().await?.return_value();
    assert_eq!(surplus, 4_000_000);
    let frank0 = client.free_balance(account_id(AccountKeyring::Ferdie)).await?;
    let r = client.call(&ink_e2e::alice(), &l.withdraw_surplus(account_id(AccountKeyring::Ferdie))).submit().await?;
    assert_eq!(r.return_value(), Ok(4_000_000));
    assert_eq!(client.free_balance(account_id(AccountKeyring::Ferdie)).await?, frank0 + 4_000_000);
    assert_eq!(client.free_balance(ledger).await?, ledger0 + 4_000_000);
    Ok(())
}

/// The ledger credits the tokens that arrived, never what a service says it paid, and shares them out over the
/// providers in the order of the service's report (each at most what it reports, the rest to the last). A service
/// that over-reports one provider and under-pays it moves the split between providers, never the total.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn misreported_retrieval_is_shared_by_the_report_but_credited_by_the_tokens(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    open_with_sub(&mut client, ledger, svc, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut m = ink_e2e::create_call_builder::<MockService>(svc);
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(dave(), svc, 2_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie(), dave()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS);
    client.call(&ink_e2e::alice(), &m.set_mode(Mode::Misreporter)).submit().await?;
    take_events();
    let ledger0 = client.free_balance(ledger).await?;
    // It takes 4 M from charlie's sub-account and 2 M from dave's, pays 2 M + 2 M, and reports 8 M and 2 M: trusting
    // the report would credit 6 M (all that was funded); the ledger credits the 4 M that arrived.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie(), dave()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(4_000_000));
    assert_eq!(client.free_balance(ledger).await?, ledger0 + 4_000_000);
    let ev = take_events();
    let rf = events_of::<FundRetrieved>(&ev, &bytes(&ledger));
    let shares: Vec<_> = rf.iter().map(|e| (e.provider, e.amount, e.refund_requested)).collect();
    assert_eq!(shares, vec![(charlie(), 4_000_000, 0), (dave(), 0, 0)], "shared as reported, capped by the tokens");
    // The ledger's books hold whatever the report said: bob's available balance rose by the 4 M that arrived (the
    // 2 M the service kept is the service's debt to him, not the ledger's), 2 M of his funding is still counted at
    // the service, and the ledger owes exactly what it holds for him.
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (8_000_000, 8_000_000));
    let funded = client.call(&ink_e2e::bob(), &l.get_funded(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(funded, 2_000_000);
    let liabilities = client.call(&ink_e2e::bob(), &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(liabilities, 8_000_000);
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn thief_service_cannot_touch_other_services_or_the_ledger(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 2).await?;
    let (honest, thief) = (services[0], services[1]);
    open_with_sub(&mut client, ledger, honest, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    // Bob gives the thief 1 M; dave gives it 2 M.
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), thief, 1_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &l.add_ledger(String::new())).value(5_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &l.transfer_fund(charlie(), thief, 2_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let mut t = ink_e2e::create_call_builder::<MockService>(thief);
    client.call(&ink_e2e::alice(), &t.set_mode(Mode::Thief)).submit().await?;
    let (ledger0, honest0, thief0) =
        (client.free_balance(ledger).await?, client.free_balance(honest).await?, client.free_balance(thief).await?);
    // The thief settles 3 M "from bob" though bob gave it 1 M: it can only pay out what its own contract holds
    // (here dave's money at the thief), never the ledger's or the honest service's.
    let charlie0 = client.free_balance(charlie()).await?;
    let r = client.call(&ink_e2e::charlie(), &t.settle(bob(), 3_000_000)).submit().await?;
    let d = deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.free_balance(charlie()).await? as i128, charlie0 as i128 + 3_000_000 - d);
    assert_eq!(client.free_balance(thief).await?, thief0 - 3_000_000);
    // Anything more fails: the contract has nothing left to pay with.
    let r = client.call(&ink_e2e::charlie(), &t.settle(bob(), 1)).submit().await?;
    assert!(r.return_value().is_err());
    assert_eq!((client.free_balance(ledger).await?, client.free_balance(honest).await?), (ledger0, honest0));
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?.0, 5_000_000, "bob's available untouched");
    assert_eq!(ledger_of(&mut client, ledger, dave()).await?.0, 3_000_000, "dave's available untouched");
    let funded = client.call(&ink_e2e::bob(), &l.get_funded(bob(), honest)).dry_run().await?.return_value();
    assert_eq!(funded, 4_000_000);
    let m = ink_e2e::create_call_builder::<MockService>(honest);
    let sub = client.call(&ink_e2e::bob(), &m.get_sub(bob(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!(sub.balance, 4_000_000, "the honest service still holds bob's 4 M");
    let liabilities = client.call(&ink_e2e::bob(), &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(liabilities, 8_000_000);
    assert_eq!(client.call(&ink_e2e::bob(), &l.surplus()).dry_run().await?.return_value(), 0);
    // Bob still gets his 4 M back from the honest service after the lock time.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], honest)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], honest)).submit().await?;
    assert_eq!(r.return_value(), Ok(4_000_000));
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?.0, 9_000_000);
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn reentering_service_is_refused(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut m = ink_e2e::create_call_builder::<MockService>(svc);
    client.call(&ink_e2e::alice(), &m.set_mode(Mode::Reenter)).submit().await?;
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(10_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    // The nested call into the ledger is refused by pallet-contracts (ReentranceDenied traps the service),
    // so the ledger sees a failed call, returns a typed error and reverts: nothing moves.
    let (ledger0, svc0) = (client.free_balance(ledger).await?, client.free_balance(svc).await?);
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 4_000_000)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::ServiceCallFailed));
    assert_eq!((client.free_balance(ledger).await?, client.free_balance(svc).await?), (ledger0, svc0));
    let reentered = client.call(&ink_e2e::bob(), &m.reentry_succeeded()).dry_run().await?.return_value();
    assert_eq!(reentered, None, "the service's own state was reverted too");
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (10_000_000, 10_000_000));
    let funded = client.call(&ink_e2e::bob(), &l.get_funded(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(funded, 0);
    check_invariants(&mut client, ledger, &services, &[bob()], &[charlie()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn trapping_service_gives_typed_error_and_loses_nothing(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    open_with_sub(&mut client, ledger, svc, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut m = ink_e2e::create_call_builder::<MockService>(svc);
    client.call(&ink_e2e::alice(), &m.set_mode(Mode::Trap)).submit().await?;
    let (ledger0, svc0) = (client.free_balance(ledger).await?, client.free_balance(svc).await?);
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(dave(), svc, 2_000_000)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::ServiceCallFailed));
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::ServiceCallFailed));
    assert_eq!((client.free_balance(ledger).await?, client.free_balance(svc).await?), (ledger0, svc0));
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (6_000_000, 10_000_000));
    let providers = client.call(&ink_e2e::bob(), &l.get_ledger_providers(bob(), svc)).dry_run().await?.return_value();
    assert_eq!(providers, Ok(vec![charlie()]), "the failed transfer to dave tracked nothing");
    Ok(())
}

/// Review finding 5 (issue 14): a service that traps while `delete_ledger` deletes its sub-account used to leave
/// an orphan the ledger forgot, so funding the same pair from a new ledger failed with `AccountExists` forever.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn failed_delete_leaves_no_stuck_pair(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    open_with_sub(&mut client, ledger, svc, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut m = ink_e2e::create_call_builder::<MockService>(svc);
    // Take everything back and withdraw it: total 0, one (empty) sub-account left.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(4_000_000));
    let r = client.call(&ink_e2e::bob(), &l.refund(10_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    // The service traps on delete: the ledger is deleted anyway, the failure reported.
    client.call(&ink_e2e::alice(), &m.set_mode(Mode::Trap)).submit().await?;
    take_events();
    let r = client.call(&ink_e2e::bob(), &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    let ev = take_events();
    let failed = events_of::<ledger::ledger::SubAccountDeleteFailed>(&ev, &bytes(&ledger));
    assert_eq!((failed.len(), failed[0].provider), (1, charlie()));
    assert_eq!(events_of::<LedgerDeleted>(&ev, &bytes(&ledger)).len(), 1);
    let sub = client.call(&ink_e2e::bob(), &m.get_sub(bob(), charlie())).dry_run().await?.return_value();
    assert!(sub.is_some(), "the orphan is still in the service");
    // Once the service works again, a new ledger can fund the same pair: the orphan is deleted first.
    client.call(&ink_e2e::alice(), &m.set_mode(Mode::Honest)).submit().await?;
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(5_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 2_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let sub = client.call(&ink_e2e::bob(), &m.get_sub(bob(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!(sub.balance, 2_000_000);
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (3_000_000, 5_000_000));
    check_invariants(&mut client, ledger, &services, &[bob()], &[charlie()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn disabled_service_cannot_be_funded(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    open_with_sub(&mut client, ledger, svc, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let r = client.call(&ink_e2e::bob(), &l.set_service_enabled(svc, false)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::Ownership(OwnershipError::NotOwner)));
    let r = client.call(&ink_e2e::alice(), &l.set_service_enabled(svc, false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 1_000_000)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::ServiceDisabled));
    // Money still comes back.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], svc)).submit().await?;
    assert_eq!(r.return_value(), Ok(4_000_000));
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (10_000_000, 10_000_000));
    let r = client.call(&ink_e2e::alice(), &l.set_service_enabled(svc, true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 1_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    check_invariants(&mut client, ledger, &services, &[bob()], &[charlie()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn registration_requires_serving_interface_bound_to_this_ledger(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let v = ledger::SERVING_INTERFACE_VERSION;
    let mut c = MockServiceRef::with_info(ledger, LOCK_MS, v - 1, ledger);
    let wrong_version = client.instantiate("mock-service", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut c = MockServiceRef::with_info(ledger, LOCK_MS, v, dave());
    let wrong_ledger = client.instantiate("mock-service", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    for (svc, name) in [(wrong_version, "a"), (wrong_ledger, "b"), (dave(), "c"), (ledger, "d")] {
        let r = client
            .call(&ink_e2e::alice(), &l.register_service("mock".into(), name.into(), svc, String::new()))
            .submit()
            .await?;
        assert_eq!(r.return_value(), Err(Error::ServiceMustImplementServing), "{name}");
    }
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("other".into(), "v".into(), services[0], String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Err(Error::ServiceAlreadyRegistered));
    let r = client
        .call(&ink_e2e::bob(), &l.register_service("other".into(), "v".into(), wrong_version, String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Err(Error::Ownership(OwnershipError::NotOwner)));
    let (all, total) = client.call(&ink_e2e::bob(), &l.get_all_services(0, 0)).dry_run().await?.return_value().unwrap();
    assert_eq!((all.len(), total), (1, 1));
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn registry_keys_are_pairs(mut client: Client) -> E2EResult<()> {
    let (ledger, _) = deploy(&mut client, 0).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut addrs = Vec::new();
    for _ in 0..3 {
        let mut c = MockServiceRef::new(ledger, LOCK_MS);
        addrs.push(client.instantiate("mock-service", &ink_e2e::alice(), &mut c).submit().await?.account_id);
    }
    // "fine" + "tuning-x" and "fine-tuning" + "x" are different keys.
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("fine".into(), "tuning-x".into(), addrs[0], String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("fine-tuning".into(), "x".into(), addrs[1], String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("fine-tuning".into(), "x".into(), addrs[2], String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Err(Error::ServiceNameExists));
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("fine-tuning".into(), "y".into(), addrs[2], String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    let got = client
        .call(&ink_e2e::bob(), &l.get_service_address_by_name("fine-tuning".into(), "x".into()))
        .dry_run()
        .await?
        .return_value();
    assert_eq!(got, Some(addrs[1]));
    let r =
        client.call(&ink_e2e::bob(), &l.get_recommended_service("fine-tuning".into())).dry_run().await?.return_value();
    assert_eq!(r, Err(Error::NoRecommendedService));
    let r =
        client.call(&ink_e2e::alice(), &l.set_recommended_service("fine-tuning".into(), "x".into())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r =
        client.call(&ink_e2e::alice(), &l.set_recommended_service("fine-tuning".into(), "y".into())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r =
        client.call(&ink_e2e::bob(), &l.get_recommended_service("fine-tuning".into())).dry_run().await?.return_value();
    assert_eq!(r, Ok(("y".to_string(), addrs[2])));
    let x = client
        .call(&ink_e2e::bob(), &l.is_recommended_version("fine-tuning".into(), "x".into()))
        .dry_run()
        .await?
        .return_value();
    assert!(!x, "the previous recommendation is cleared");
    let versions =
        client.call(&ink_e2e::bob(), &l.get_all_versions("fine-tuning".into())).dry_run().await?.return_value();
    assert_eq!(
        versions.iter().map(|e| (e.info.version.clone(), e.info.is_recommended)).collect::<Vec<_>>(),
        vec![("x".to_string(), false), ("y".to_string(), true)]
    );
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn delete_ledger_in_bounded_steps(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 2).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(40 * MIN_TRANSFER).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    // 20 providers in each of two services: 40 sub-accounts.
    for svc in &services {
        for i in 0..20u8 {
            let p = AccountId::from([i + 1; 32]);
            let r = client.call(&ink_e2e::bob(), &l.transfer_fund(p, *svc, MIN_TRANSFER)).submit().await?;
            assert_eq!(r.return_value(), Ok(()));
        }
    }
    let r = client.call(&ink_e2e::bob(), &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Err(Error::MustWithdrawAllFundsFirst { total: 40 * MIN_TRANSFER }));
    // Take everything back: request refunds, wait out the lock time, collect, withdraw.
    let providers: Vec<AccountId> = (0..20u8).map(|i| AccountId::from([i + 1; 32])).collect();
    for svc in &services {
        let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(providers.clone(), *svc)).submit().await?;
        assert_eq!(r.return_value(), Ok(0));
    }
    advance_ms(LOCK_MS);
    for svc in &services {
        let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(providers.clone(), *svc)).submit().await?;
        assert_eq!(r.return_value(), Ok(20 * MIN_TRANSFER));
    }
    let r = client.call(&ink_e2e::bob(), &l.refund(40 * MIN_TRANSFER)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (0, 0), "kept while sub-accounts exist");
    take_events();
    let r = client.call(&ink_e2e::bob(), &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Ok(15), "25 of 40 deleted in the first call");
    let ev = take_events();
    let progress = events_of::<ledger::ledger::LedgerDeletionProgress>(&ev, &bytes(&ledger));
    assert_eq!((progress[0].deleted, progress[0].remaining), (25, 15));
    let r = client.call(&ink_e2e::bob(), &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    let ev = take_events();
    assert_eq!(events_of::<LedgerDeleted>(&ev, &bytes(&ledger)).len(), 1);
    let gone = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value();
    assert_eq!(gone, Err(Error::LedgerNotExists));
    for svc in &services {
        let m = ink_e2e::create_call_builder::<MockService>(*svc);
        for p in &providers {
            let sub = client.call(&ink_e2e::bob(), &m.get_sub(bob(), *p)).dry_run().await?.return_value();
            assert_eq!(sub, None);
        }
        let listed = client.call(&ink_e2e::bob(), &l.get_ledger_providers(bob(), *svc)).dry_run().await?.return_value();
        assert_eq!(listed, Ok(vec![]));
    }
    assert_eq!(client.call(&ink_e2e::bob(), &l.get_user_services(bob())).dry_run().await?.return_value(), vec![]);
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn owner_upgrade_keeps_balances(mut client: Client) -> E2EResult<()> {
    let (ledger, services) = deploy(&mut client, 1).await?;
    let svc = services[0];
    open_with_sub(&mut client, ledger, svc, 10_000_000, 4_000_000).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    // A real second version (ledger/v2 and ledger/full-v2: the same source plus a new `Lazy` field, a view, and
    // `set_v2_note`, which runs only in the second full build), not the same code again.
    let alice = ink_e2e::alice();
    let v1_full = client.call(&alice, &l.full_code()).dry_run().await?.return_value().expect("a full build");
    let v2_thin = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "ledger-v2", &alice)
        .submit()
        .await?
        .code_hash;
    let v2_full = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "ledger-full-v2", &alice)
        .submit()
        .await?
        .code_hash;
    let r = client.call(&ink_e2e::bob(), &l.set_code(v2_thin, v2_full)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::Ownership(OwnershipError::NotOwner)));
    let r = client.call(&alice, &l.set_code(ink::primitives::Hash::from([7u8; 32]), v2_full)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::UpgradeFailed));
    let r = client.call(&alice, &l.set_code(v2_thin, v2_thin)).submit().await?;
    assert_eq!(r.return_value(), Err(Error::FullCodeIsThinCode));
    let balance0 = client.free_balance(ledger).await?;
    take_events();
    let r = client.call(&alice, &l.set_code(v2_thin, v2_full)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let ev = take_events();
    let moved = events_of::<service_core::events::FullCodeUpdated>(&ev, &bytes(&ledger));
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].code_hash, <[u8; 32]>::from(v2_full));
    let mut v2 = ink_e2e::create_call_builder::<ledger_v2::ledger::Ledger>(ledger);
    assert_eq!(client.call(&alice, &v2.v2_note()).dry_run().await?.return_value(), 0, "new state");
    // `set_v2_note` exists only in the second full build: it fails when the full build was left behind.
    let r = client.call(&alice, &v2.set_v2_note(7)).submit().await?;
    assert_eq!(r.return_value(), Ok(7));
    assert_eq!(client.call(&alice, &v2.v2_note()).dry_run().await?.return_value(), 7);
    // The old full build was unlocked: it can be removed now; the new one cannot.
    use ink_e2e::subxt::dynamic::Value;
    let r = client.runtime_call(&alice, "Contracts", "remove_code", vec![Value::from_bytes(v1_full)]).await;
    assert!(r.is_ok(), "the old full build is no longer locked: {r:?}");
    let r = client.runtime_call(&alice, "Contracts", "remove_code", vec![Value::from_bytes(v2_full)]).await;
    assert!(r.is_err(), "the new full build is locked");
    assert_eq!(client.free_balance(ledger).await?, balance0, "money intact");
    let liabilities = client.call(&ink_e2e::bob(), &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(liabilities, 6_000_000);
    assert_eq!(ledger_of(&mut client, ledger, bob()).await?, (6_000_000, 10_000_000));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), svc, 1_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    check_invariants(&mut client, ledger, &services, &[bob()], &[charlie()]).await?;
    Ok(())
}
