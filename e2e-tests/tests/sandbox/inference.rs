//! Ledger + inference deployed together in the real pallet-contracts runtime: the user story, every settlement
//! status, replays and forgeries, stakes, acknowledgements, token revocation. Native balances of user,
//! provider, ledger and contract are checked after each money step; the invariants of docs/reliability.md after each step.
use inference::inference::{
    Error as IError, Inference, InferenceRef, ServiceParams, SettlementOutcome, SettlementStatus as S,
    SubAccountBalance, TeeSettlementData, TeeSettlementResult, TeeSettlementResults,
};
use ink::primitives::AccountId;
use ink_e2e::subxt::dynamic::Value;
use ink_e2e::{ChainBackend, ContractsBackend};
use ledger::ledger::{Ledger, LedgerRef};
use service_core::book::AccountFilter;
use service_core::provider::{AttestationRuleError, OwnershipError, StakeError};
use service_core::AccountError;
use serving_e2e_tests::{
    advance_ms, bob, bytes, charlie, dave, eve, events_of, high_s_twin, inference_batch, inference_voucher,
    storage_deposit, take_events, tee, Client,
};
use serving_verifier::{Domain, LocalCrypto, LocalSigner};

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;

const CHAIN_ID: u64 = 42;
const LOCK_MS: u64 = 3_600_000;
const MIN_STAKE: u128 = 100_000_000;
/// pallet_balances' existential deposit in ink_e2e's sandbox runtime.
const SANDBOX_EXISTENTIAL_DEPOSIT: u128 = 1;

fn params(signer: [u8; 20]) -> ServiceParams {
    serving_e2e_tests::inference_service("https://provider.example/v1", signer)
}

struct World {
    ledger: AccountId,
    inference: AccountId,
}

impl World {
    fn voucher(&self, user: AccountId, fee: u128, nonce: u128) -> TeeSettlementData {
        inference_voucher(&tee(), CHAIN_ID, self.inference, user, charlie(), fee, nonce)
    }
}

/// Ledger (owner alice) + inference registered as ("inference", "v1"); charlie provides with an acknowledged
/// TEE signer; bob has a ledger of 20 M and a 10 M sub-account with charlie.
async fn setup(client: &mut Client) -> E2EResult<World> {
    let full = serving_e2e_tests::upload_full_builds(client).await?;
    let mut c = LedgerRef::new(CHAIN_ID, 3_000_000, 1_000_000, full.ledger);
    let ledger = client.instantiate("ledger", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut c = InferenceRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, full.inference);
    let inference = client.instantiate("inference", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let r = client
        .call(&ink_e2e::alice(), &l.register_service("inference".into(), "v1".into(), inference, String::new()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let r = client
        .call(&ink_e2e::charlie(), &i.add_or_update_service(params(tee().address())))
        .value(MIN_STAKE)
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(20_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), inference, 10_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    take_events();
    Ok(World { ledger, inference })
}

/// The invariants (docs/reliability.md) for the given users with charlie, plus both contracts' solvency.
async fn check(client: &mut Client, w: &World, users: &[AccountId]) -> E2EResult<()> {
    let l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let i = ink_e2e::create_call_builder::<Inference>(w.inference);
    for u in users {
        let Ok(v) = client.call(&ink_e2e::alice(), &l.get_ledger(*u)).dry_run().await?.return_value() else { continue };
        assert!(v.available_balance <= v.total_balance);
        let funded = client.call(&ink_e2e::alice(), &l.get_funded(*u, w.inference)).dry_run().await?.return_value();
        let (accounts, _) = client
            .call(&ink_e2e::alice(), &i.get_accounts(AccountFilter::User(*u), 0, 0))
            .dry_run()
            .await?
            .return_value()
            .unwrap();
        let mut sum = 0;
        for a in &accounts {
            assert!(a.pending_refund <= a.balance, "pending > balance");
            assert_eq!(a.pending_refund, a.refunds.iter().map(|r| r.amount).sum::<u128>(), "pending != Σ refunds");
            sum += a.balance;
        }
        assert_eq!(v.total_balance - v.available_balance, sum, "ledger: total != available + live sub-accounts");
        assert!(sum <= funded, "inference holds more for the user than the user funded it with net");
    }
    let liab = client.call(&ink_e2e::alice(), &i.config()).dry_run().await?.return_value().liabilities;
    let ed = serving_e2e_tests::EXISTENTIAL_DEPOSIT;
    assert_eq!(client.free_balance(w.inference).await?, liab + ed, "inference holds exactly what it owes (+ ED)");
    let liab = client.call(&ink_e2e::alice(), &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(client.free_balance(w.ledger).await?, liab + ed, "ledger holds exactly what it owes (+ ED)");
    Ok(())
}

async fn ledger_of(client: &mut Client, w: &World, user: AccountId) -> E2EResult<(u128, u128)> {
    let l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let v = client.call(&ink_e2e::alice(), &l.get_ledger(user)).dry_run().await?.return_value().unwrap();
    Ok((v.available_balance, v.total_balance))
}

async fn sub_of(client: &mut Client, w: &World, user: AccountId) -> E2EResult<(u128, u128, u128)> {
    let i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let a = client.call(&ink_e2e::alice(), &i.get_account(user, charlie())).dry_run().await?.return_value().unwrap();
    Ok((a.balance, a.pending_refund, a.nonce))
}

/// Settles as charlie; returns the outcomes and charlie's native gain (storage deposit accounted).
async fn settle(
    client: &mut Client,
    w: &World,
    batch: Vec<TeeSettlementData>,
) -> E2EResult<(Vec<SettlementOutcome>, i128)> {
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let preview = client
        .call(&ink_e2e::charlie(), &i.preview_settlement_results(charlie(), batch.clone()))
        .dry_run()
        .await?
        .return_value();
    let before = client.free_balance(charlie()).await?;
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee(batch)).submit().await?;
    let d = storage_deposit(&r.dry_run);
    let out = r.return_value().unwrap();
    assert_eq!(preview, Ok(out.clone()), "preview predicts the settlement exactly");
    let gain = client.free_balance(charlie()).await? as i128 - before as i128 + d;
    Ok((out, gain))
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn full_user_story(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let i = ink_e2e::create_call_builder::<Inference>(w.inference);
    check(&mut client, &w, &[bob()]).await?;
    // The contract holds the stake, the sub-account and the existential deposit (which it cannot spend, so
    // `balance()` and `surplus()` exclude it).
    let liab = client.call(&ink_e2e::bob(), &i.config()).dry_run().await?.return_value().liabilities;
    let surplus = client.call(&ink_e2e::bob(), &i.config()).dry_run().await?.return_value().surplus;
    assert_eq!((liab, surplus), (MIN_STAKE + 10_000_000, 0));
    assert_eq!(client.free_balance(w.inference).await?, liab + SANDBOX_EXISTENTIAL_DEPOSIT);

    // The contract hashes exactly like the off-chain signer: this voucher, signed off chain over the digest the
    // eth-account vectors fix, settles.
    let v = w.voucher(bob(), 3_000_000, 1);

    // 1. Settle 3 M: success; charlie +3 M, inference −3 M, ledger total −3 M.
    let inf0 = client.free_balance(w.inference).await?;
    let (out, gain) = settle(&mut client, &w, vec![v]).await?;
    assert_eq!(out, vec![SettlementOutcome { user: bob(), status: S::Success, settled: 3_000_000, unsettled: 0 }]);
    assert_eq!(gain, 3_000_000);
    assert_eq!(client.free_balance(w.inference).await?, inf0 - 3_000_000);
    assert_eq!(ledger_of(&mut client, &w, bob()).await?, (10_000_000, 17_000_000));
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (7_000_000, 0, 1));
    let ev = take_events();
    let res = events_of::<TeeSettlementResults>(&ev, &bytes(&w.inference));
    assert_eq!(res.len(), 1, "one event per batch");
    assert_eq!(res[0].provider, charlie());
    assert_eq!(
        res[0].results,
        vec![TeeSettlementResult { user: bob(), status: S::Success, settled: 3_000_000, unsettled: 0, nonce: 1 }]
    );
    assert_eq!(res[0].balances, vec![SubAccountBalance { user: bob(), balance: 7_000_000, pending_refund: 0 }]);
    check(&mut client, &w, &[bob()]).await?;

    // 2. Ask for the rest back: 7 M pending.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (7_000_000, 7_000_000, 1));
    check(&mut client, &w, &[bob()]).await?;

    // 3. During the lock window a fee can still be taken, from the pending refund.
    let (out, gain) = settle(&mut client, &w, vec![w.voucher(bob(), 2_000_000, 5)]).await?;
    assert_eq!(out[0].status, S::Success);
    assert_eq!(gain, 2_000_000);
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (5_000_000, 5_000_000, 5));
    check(&mut client, &w, &[bob()]).await?;

    // 4. Partial: a 6 M fee takes the 5 M left; the rest is forgiven and the nonce moves on.
    let (out, gain) = settle(&mut client, &w, vec![w.voucher(bob(), 6_000_000, 6)]).await?;
    assert_eq!(
        out,
        vec![SettlementOutcome { user: bob(), status: S::Partial, settled: 5_000_000, unsettled: 1_000_000 }]
    );
    assert_eq!(gain, 5_000_000);
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (0, 0, 6));
    assert_eq!(ledger_of(&mut client, &w, bob()).await?, (10_000_000, 10_000_000));
    check(&mut client, &w, &[bob()]).await?;

    // 5. A second user's full refund path, waiting out the lock time on the sandbox clock.
    let r = client.call(&ink_e2e::dave(), &l.add_ledger(String::new())).value(5_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &l.transfer_fund(charlie(), w.inference, 4_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS - 1);
    let r = client.call(&ink_e2e::dave(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(0), "one millisecond early: still locked");
    advance_ms(1);
    let (ledger0, inf0) = (client.free_balance(w.ledger).await?, client.free_balance(w.inference).await?);
    let r = client.call(&ink_e2e::dave(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(4_000_000));
    assert_eq!(client.free_balance(w.ledger).await?, ledger0 + 4_000_000);
    assert_eq!(client.free_balance(w.inference).await?, inf0 - 4_000_000);
    assert_eq!(ledger_of(&mut client, &w, dave()).await?, (5_000_000, 5_000_000));
    check(&mut client, &w, &[bob(), dave()]).await?;
    let dave0 = client.free_balance(dave()).await?;
    let r = client.call(&ink_e2e::dave(), &l.refund(5_000_000)).submit().await?;
    let d = storage_deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.free_balance(dave()).await? as i128, dave0 as i128 + 5_000_000 - d);
    check(&mut client, &w, &[bob(), dave()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn every_status_in_one_batch(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    // dave: a sub-account whose user withdrew consent.
    let r = client.call(&ink_e2e::dave(), &l.add_ledger(String::new())).value(5_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &l.transfer_fund(charlie(), w.inference, 2_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &i.acknowledge_tee_signer(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::eve(), &i.acknowledge_tee_signer(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Account(AccountError::AccountNotExists)));
    advance_ms(LOCK_MS); // the withdrawal takes effect after the lock time

    let good = w.voucher(bob(), 1_000_000, 10);
    let mut mismatch = w.voucher(bob(), 1, 11);
    mismatch.provider = dave();
    let stranger = inference_voucher(&tee(), CHAIN_ID, w.inference, eve(), charlie(), 1, 1);
    let no_consent = inference_voucher(&tee(), CHAIN_ID, w.inference, dave(), charlie(), 1, 1);
    let replay = good.clone(); // same nonce again, after `good` in the same batch
    let wrong_key = inference_voucher(
        &LocalSigner::from_bytes(&[8u8; 32]).unwrap(),
        CHAIN_ID,
        w.inference,
        bob(),
        charlie(),
        1,
        12,
    );
    let other_chain = inference_voucher(&tee(), CHAIN_ID + 1, w.inference, bob(), charlie(), 1, 13);
    let other_contract = inference_voucher(&tee(), CHAIN_ID, w.ledger, bob(), charlie(), 1, 14);
    let mut high_s = w.voucher(bob(), 1, 15);
    high_s.signature = high_s_twin(&high_s.signature);
    let mut bad_v = w.voucher(bob(), 1, 16);
    bad_v.signature[64] -= 27; // 0/1 style
    let mut short = w.voucher(bob(), 1, 17);
    short.signature.truncate(64);
    let mut tampered = w.voucher(bob(), 1, 18);
    tampered.total_fee = 2; // signed for 1
    let after = w.voucher(bob(), 500_000, 19);

    let batch = vec![
        good,
        mismatch,
        stranger,
        no_consent,
        replay,
        wrong_key,
        other_chain,
        other_contract,
        high_s,
        bad_v,
        short,
        tampered,
        after,
    ];
    let inf0 = client.free_balance(w.inference).await?;
    let (out, gain) = settle(&mut client, &w, batch).await?;
    let statuses: Vec<_> = out.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        vec![
            S::Success,
            S::ProviderMismatch,
            S::AccountNotFound,
            S::NoTeeSigner,
            S::InvalidNonce,
            S::InvalidSignature,
            S::InvalidSignature,
            S::InvalidSignature,
            S::InvalidSignature,
            S::InvalidSignature,
            S::InvalidSignature,
            S::InvalidSignature,
            S::Success,
        ]
    );
    for o in &out[1..12] {
        assert_eq!(o.settled, 0);
    }
    assert_eq!(gain, 1_500_000, "one payment for the batch");
    assert_eq!(client.free_balance(w.inference).await?, inf0 - 1_500_000);
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (8_500_000, 0, 19));
    let a = client.call(&ink_e2e::dave(), &i.get_account(dave(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!((a.balance, a.nonce), (2_000_000, 0), "failed entries change nothing");
    let ev = take_events();
    let res = events_of::<TeeSettlementResults>(&ev, &bytes(&w.inference));
    assert_eq!(res.len(), 1, "one result event per batch");
    assert_eq!(
        res[0].results.iter().map(|r| r.status).collect::<Vec<_>>(),
        out.iter().map(|o| o.status).collect::<Vec<_>>()
    );
    check(&mut client, &w, &[bob(), dave()]).await?;

    // Replaying the whole batch settles nothing.
    let (out, gain) =
        settle(&mut client, &w, vec![w.voucher(bob(), 1_000_000, 10), w.voucher(bob(), 500_000, 19)]).await?;
    assert_eq!(out.iter().map(|o| o.status).collect::<Vec<_>>(), vec![S::InvalidNonce, S::InvalidNonce]);
    assert_eq!(gain, 0);

    // Consent restored: dave's voucher goes through.
    let r = client.call(&ink_e2e::dave(), &i.acknowledge_tee_signer(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) =
        settle(&mut client, &w, vec![inference_voucher(&tee(), CHAIN_ID, w.inference, dave(), charlie(), 1, 1)])
            .await?;
    assert_eq!(out[0].status, S::Success);

    // Batch bounds.
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee(vec![])).submit().await?;
    assert_eq!(r.return_value(), Err(IError::NoSettlementsProvided));
    let many: Vec<_> = (0..51).map(|n| w.voucher(bob(), 1, 100 + n)).collect();
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee(many)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::TooMany { len: 51, max: 50 }));

    // The owner raises the limit to its ceiling: 80 vouchers fit ink!'s 16 KiB input buffer and the event
    // limit, per voucher and batch-signed; 81 are refused.
    let r = client.call(&ink_e2e::alice(), &i.set_max_settlements(80)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let many: Vec<_> = (0..80).map(|n| w.voucher(bob(), 1, 200 + n)).collect();
    let (out, gain) = settle(&mut client, &w, many).await?;
    assert!(out.iter().all(|o| o.status == S::Success) && out.len() == 80);
    assert_eq!(gain, 80);
    let list: Vec<_> = (0..80).map(|n| (bob(), 1u128, 300 + n)).collect();
    let (e, s) = inference_batch(&tee(), CHAIN_ID, w.inference, charlie(), &list);
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(e, s)).submit().await?;
    assert_eq!(r.return_value().map(|o| o.len()), Ok(80));
    let many: Vec<_> = (0..81).map(|n| w.voucher(bob(), 1, 400 + n)).collect();
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee(many)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::TooMany { len: 81, max: 80 }));
    check(&mut client, &w, &[bob(), dave()]).await?;
    Ok(())
}

/// Batch-signed settlement (docs/signed-messages.md): one TEE signature over the whole batch; entries judged as vouchers
/// (statuses, one event, one payment); a bad batch signature refuses the whole call and moves nothing; a
/// replayed batch settles nothing; without a usable signer the call is refused.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn batch_signed_settlement(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let r = client.call(&ink_e2e::dave(), &l.add_ledger(String::new())).value(5_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::dave(), &l.transfer_fund(charlie(), w.inference, 2_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    take_events();
    let sign =
        |vouchers: &[(AccountId, u128, u128)]| inference_batch(&tee(), CHAIN_ID, w.inference, charlie(), vouchers);
    // bob in full, dave beyond his 2 M (partial), bob again (sees the first charge), a replay inside the batch,
    // eve without a sub-account.
    let (entries, sig) =
        sign(&[(bob(), 1_000_000, 1), (dave(), 3_000_000, 1), (bob(), 500_000, 2), (bob(), 1, 2), (eve(), 1, 1)]);

    // Tampered batches are refused whole and move nothing.
    let balances = (client.free_balance(charlie()).await?, client.free_balance(w.inference).await?);
    let mut reordered = entries.clone();
    reordered.swap(0, 1);
    let mut altered = entries.clone();
    altered[0].total_fee = 1_000_001;
    let (other_key_entries, other_key_sig) = inference_batch(
        &LocalSigner::from_bytes(&[8u8; 32]).unwrap(),
        CHAIN_ID,
        w.inference,
        charlie(),
        &[(bob(), 1_000_000, 1)],
    );
    let (other_contract_entries, other_contract_sig) =
        inference_batch(&tee(), CHAIN_ID, w.ledger, charlie(), &[(bob(), 1_000_000, 1)]);
    let high_s = high_s_twin(&sig);
    for (label, e, s) in [
        ("reordered", reordered, sig.clone()),
        ("dropped", entries[..4].to_vec(), sig.clone()),
        ("altered", altered, sig.clone()),
        ("other key", other_key_entries, other_key_sig),
        ("other contract", other_contract_entries, other_contract_sig),
        ("high s", entries.clone(), high_s),
        ("short", entries.clone(), sig[..64].to_vec()),
    ] {
        let preview = client
            .call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(e.clone(), s.clone()))
            .dry_run()
            .await?
            .return_value();
        assert_eq!(preview, Err(IError::InvalidBatchSignature), "{label}: dry run");
        let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(e, s)).submit().await?;
        assert_eq!(r.return_value(), Err(IError::InvalidBatchSignature), "{label}");
    }
    // dave's signature is not charlie's batch: another provider sending charlie's batch is refused too.
    let r = client.call(&ink_e2e::dave(), &i.settle_fees_with_tee_batch(entries.clone(), sig.clone())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::ServiceNotExist));
    assert_eq!(
        (client.free_balance(charlie()).await?, client.free_balance(w.inference).await?),
        balances,
        "refused batches move nothing"
    );
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (10_000_000, 0, 0));
    assert!(take_events().is_empty(), "refused batches emit nothing");

    // The good batch: a dry run (the preview of the batch-signed path) predicts it, one payment, one event.
    let preview = client
        .call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(entries.clone(), sig.clone()))
        .dry_run()
        .await?
        .return_value();
    let before = client.free_balance(charlie()).await?;
    let inf0 = client.free_balance(w.inference).await?;
    let r =
        client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(entries.clone(), sig.clone())).submit().await?;
    let d = storage_deposit(&r.dry_run);
    let out = r.return_value().unwrap();
    assert_eq!(preview, Ok(out.clone()));
    assert_eq!(
        out.iter().map(|o| o.status).collect::<Vec<_>>(),
        vec![S::Success, S::Partial, S::Success, S::InvalidNonce, S::AccountNotFound]
    );
    assert_eq!(out.iter().map(|o| o.settled).collect::<Vec<_>>(), vec![1_000_000, 2_000_000, 500_000, 0, 0]);
    let gain = client.free_balance(charlie()).await? as i128 - before as i128 + d;
    assert_eq!(gain, 3_500_000, "one payment for the batch");
    assert_eq!(client.free_balance(w.inference).await?, inf0 - 3_500_000);
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (8_500_000, 0, 2));
    let a = client.call(&ink_e2e::dave(), &i.get_account(dave(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!((a.balance, a.nonce), (0, 1));
    let ev = take_events();
    let res = events_of::<TeeSettlementResults>(&ev, &bytes(&w.inference));
    assert_eq!(res.len(), 1, "one result event per batch");
    assert_eq!(res[0].provider, charlie());
    assert_eq!(res[0].results.iter().map(|r| r.nonce).collect::<Vec<_>>(), vec![1, 1, 2, 2, 1]);
    check(&mut client, &w, &[bob(), dave()]).await?;

    // The same signed batch again: every entry is a replay, nothing is paid.
    let before = client.free_balance(charlie()).await?;
    let r =
        client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(entries.clone(), sig.clone())).submit().await?;
    let d = storage_deposit(&r.dry_run);
    let out = r.return_value().unwrap();
    assert!(out.iter().all(|o| matches!(o.status, S::InvalidNonce | S::AccountNotFound) && o.settled == 0));
    assert_eq!(client.free_balance(charlie()).await? as i128 - before as i128 + d, 0);

    // Bounds, and no usable signer: refused before any entry.
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(vec![], sig.clone())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::NoSettlementsProvided));
    let many: Vec<_> = (0..51).map(|n| (bob(), 1, 100 + n)).collect();
    let (e, s) = sign(&many);
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(e, s)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::TooMany { len: 51, max: 50 }));
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (e, s) = sign(&[(bob(), 1, 3)]);
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee_batch(e, s)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::NoTeeSigner));
    check(&mut client, &w, &[bob(), dave()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn signer_acknowledgement_rules(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    // A price/url change keeps the owner's acknowledgement.
    let mut p = params(tee().address());
    p.url = "https://elsewhere.example".into();
    p.input_price = 5;
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(p.clone())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 1)]).await?;
    assert_eq!(out[0].status, S::Success);
    // A model change clears it.
    p.model = "llama-3-70b".into();
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(p.clone())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let svc = client.call(&ink_e2e::charlie(), &i.get_service(charlie())).dry_run().await?.return_value().unwrap();
    assert!(!svc.tee_signer_acknowledged);
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 2)]).await?;
    assert_eq!(out[0].status, S::NoTeeSigner);
    // Only the owner acknowledges; a service without a signer cannot be acknowledged.
    let r = client.call(&ink_e2e::bob(), &i.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Ownership(OwnershipError::NotOwner)));
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(dave(), true)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::ServiceNotExist));
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 3)]).await?;
    assert_eq!(out[0].status, S::Success);
    // A new signer key clears it, and vouchers of the old key stop working even once re-acknowledged.
    let new_key = LocalSigner::from_bytes(&[9u8; 32]).unwrap();
    p.tee_signer = new_key.address();
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(p.clone())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 4)]).await?;
    assert_eq!(out[0].status, S::InvalidSignature);
    let (out, _) =
        settle(&mut client, &w, vec![inference_voucher(&new_key, CHAIN_ID, w.inference, bob(), charlie(), 1, 5)])
            .await?;
    assert_eq!(out[0].status, S::Success);
    // The owner revokes.
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) =
        settle(&mut client, &w, vec![inference_voucher(&new_key, CHAIN_ID, w.inference, bob(), charlie(), 1, 6)])
            .await?;
    assert_eq!(out[0].status, S::NoTeeSigner);
    check(&mut client, &w, &[bob()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn stake_unbonds_and_removed_service_cannot_settle(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let r =
        client.call(&ink_e2e::eve(), &i.add_or_update_service(params([1; 20]))).value(MIN_STAKE - 1).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(IError::Stake(StakeError::InsufficientStake { value: MIN_STAKE - 1, minimum: MIN_STAKE }))
    );
    let r =
        client.call(&ink_e2e::charlie(), &i.add_or_update_service(params(tee().address()))).value(1).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Stake(StakeError::CannotAddStakeWhenUpdating)));
    let mut long = params([1; 20]);
    long.additional_info = "x".repeat(4097);
    let r = client.call(&ink_e2e::eve(), &i.add_or_update_service(long)).value(MIN_STAKE).submit().await?;
    assert_eq!(r.return_value(), Err(IError::TooLong { len: 4097, max: 4096 }));
    // A sub-account can only be opened with a provider that has a service.
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(eve(), w.inference, 1_000_000)).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(ledger::Error::Service(ledger::ServingError::Account(service_core::AccountError::ProviderHasNoService)))
    );

    let r = client.call(&ink_e2e::eve(), &i.remove_service()).submit().await?;
    assert_eq!(r.return_value(), Err(IError::ServiceNotExist));
    let r = client.call(&ink_e2e::charlie(), &i.remove_service()).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 1)]).await?;
    assert_eq!(out[0].status, S::ServiceNotFound);
    let r = client.call(&ink_e2e::charlie(), &i.withdraw_stake()).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(IError::Stake(StakeError::StakeLocked { release_at: serving_e2e_tests::now_ms() + LOCK_MS }))
    );
    advance_ms(LOCK_MS);
    let (charlie0, inf0) = (client.free_balance(charlie()).await?, client.free_balance(w.inference).await?);
    let r = client.call(&ink_e2e::charlie(), &i.withdraw_stake()).submit().await?;
    let d = storage_deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(MIN_STAKE));
    assert_eq!(client.free_balance(charlie()).await? as i128, charlie0 as i128 + MIN_STAKE as i128 - d);
    assert_eq!(client.free_balance(w.inference).await?, inf0 - MIN_STAKE);
    let r = client.call(&ink_e2e::charlie(), &i.withdraw_stake()).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Stake(StakeError::NoUnbondingStake)));
    // Users still get their money back from a removed service.
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(10_000_000));
    check(&mut client, &w, &[bob()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn ledger_only_messages_and_token_revocation(mut client: Client) -> E2EResult<()> {
    use ledger::Serving as _;
    let w = setup(&mut client).await?;
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    // Nobody but the ledger opens, funds, refunds or deletes sub-accounts.
    let r = client.call(&ink_e2e::bob(), &i.add_account(bob(), dave(), String::new())).value(5).submit().await?;
    assert_eq!(r.return_value(), Err(ledger::ServingError::CallerNotLedger));
    let r = client.call(&ink_e2e::bob(), &i.retrieve(bob(), vec![charlie()])).submit().await?;
    assert_eq!(r.return_value(), Err(ledger::ServingError::CallerNotLedger));
    let r = client.call(&ink_e2e::charlie(), &i.delete_accounts(bob(), vec![charlie()])).submit().await?;
    assert_eq!(r.return_value(), Err(ledger::ServingError::CallerNotLedger));

    let r = client.call(&ink_e2e::bob(), &i.revoke_tokens(charlie(), vec![3])).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &i.revoke_tokens(charlie(), vec![200, 255, 3])).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &i.revoke_tokens(charlie(), vec![0; 257])).submit().await?;
    assert_eq!(r.return_value(), Err(IError::TooMany { len: 257, max: 256 }));
    for (id, revoked) in [(3u8, true), (200, true), (255, true), (4, false)] {
        let got =
            client.call(&ink_e2e::bob(), &i.is_token_revoked(bob(), charlie(), id)).dry_run().await?.return_value();
        assert_eq!(got, Ok(revoked), "token {id}");
    }
    let r = client.call(&ink_e2e::bob(), &i.revoke_all_tokens(charlie())).submit().await?;
    assert_eq!(r.return_value(), Ok(1));
    let got = client.call(&ink_e2e::bob(), &i.is_token_revoked(bob(), charlie(), 3)).dry_run().await?.return_value();
    assert_eq!(got, Ok(false), "a new generation starts clean");
    let a = client.call(&ink_e2e::bob(), &i.get_account(bob(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!(a.generation, 1);
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn deleted_and_recreated_account_keeps_nonce_and_new_generation(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 10_000_000, 7)]).await?;
    assert_eq!(out[0].status, S::Success);
    let r = client.call(&ink_e2e::bob(), &i.revoke_tokens(charlie(), vec![9])).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.refund(10_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    let r = client.call(&ink_e2e::bob(), &i.get_account(bob(), charlie())).dry_run().await?.return_value();
    assert_eq!(r, Err(IError::Account(AccountError::AccountNotExists)));
    // Re-created: the old voucher (nonce 7) cannot be replayed, and the generation moved on.
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(5_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), w.inference, 5_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let a = client.call(&ink_e2e::bob(), &i.get_account(bob(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!((a.nonce, a.generation, a.balance), (7, 1, 5_000_000));
    let (out, gain) = settle(&mut client, &w, vec![w.voucher(bob(), 10_000_000, 7)]).await?;
    assert_eq!((out[0].status, gain), (S::InvalidNonce, 0));
    check(&mut client, &w, &[bob()]).await?;
    Ok(())
}

fn attest(w: &World, attestor: &LocalSigner, signer: [u8; 20], measurement: [u8; 32], expires_at: u64) -> Vec<u8> {
    let a = serving_verifier::TeeAttestation { provider: bytes(&charlie()), signer, measurement, expires_at };
    let c = LocalCrypto;
    let digest = Domain::inference(CHAIN_ID, bytes(&w.inference)).digest(&c, &a.struct_hash(&c));
    attestor.sign_digest(&digest).to_vec()
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn attestation_makes_a_signer_usable_until_it_ends(mut client: Client) -> E2EResult<()> {
    use service_core::events::{TeeAttestationAccepted, TeeAttestationCleared};
    let w = setup(&mut client).await?;
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let attestor = LocalSigner::from_bytes(&[11u8; 32]).unwrap();
    let (m, m2) = ([0x42u8; 32], [0x43u8; 32]);
    // Only the attestation path: the owner withdraws its own acknowledgement.
    let r = client.call(&ink_e2e::alice(), &i.set_tee_signer_acknowledgement(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 1)]).await?;
    assert_eq!(out[0].status, S::NoTeeSigner);

    let now = serving_e2e_tests::now_ms();
    let until = now + 10 * LOCK_MS;
    let sig = attest(&w, &attestor, tee().address(), m, until);
    let inference = w.inference;
    let submit = move |sig: Vec<u8>, m: [u8; 32], until: u64, who: [u8; 20]| {
        let mut b = ink_e2e::create_call_builder::<Inference>(inference);
        b.submit_attestation(charlie(), m, until, who, sig)
    };
    // Registries first: unknown attestor, then unaccepted measurement.
    let r = client.call(&ink_e2e::eve(), &submit(sig.clone(), m, until, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::UnknownAttestor)));
    let r = client.call(&ink_e2e::bob(), &i.set_attestor(attestor.address(), true)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Ownership(OwnershipError::NotOwner)));
    let r = client.call(&ink_e2e::alice(), &i.set_attestor(attestor.address(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::eve(), &submit(sig.clone(), m, until, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::MeasurementNotAccepted)));
    for mm in [m, m2] {
        let r = client.call(&ink_e2e::alice(), &i.set_measurement(mm, true)).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    // Forgeries: another key, another measurement than signed, a longer expiry than signed, already expired.
    let forged = attest(&w, &LocalSigner::from_bytes(&[12u8; 32]).unwrap(), tee().address(), m, until);
    let r = client.call(&ink_e2e::eve(), &submit(forged, m, until, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::InvalidAttestationSignature)));
    let r = client.call(&ink_e2e::eve(), &submit(sig.clone(), m2, until, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::InvalidAttestationSignature)));
    let r = client.call(&ink_e2e::eve(), &submit(sig.clone(), m, until + 1, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::InvalidAttestationSignature)));
    let stale = attest(&w, &attestor, tee().address(), m, now);
    let r = client.call(&ink_e2e::eve(), &submit(stale, m, now, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::AttestationExpired)));
    // The real one, submitted by anyone.
    take_events();
    let r = client.call(&ink_e2e::eve(), &submit(sig.clone(), m, until, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let ev = take_events();
    assert_eq!(events_of::<TeeAttestationAccepted>(&ev, &bytes(&w.inference))[0].expires_at, until);
    let r = client.call(&ink_e2e::charlie(), &submit(sig.clone(), m, until, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::AttestationNotNewer)), "replay");
    // While it counts, only the provider may replace it (issue 23): Eve cannot swap in a longer-lived statement
    // (say, of an attestor about to be removed), nor replay the same one.
    let longer = attest(&w, &attestor, tee().address(), m2, until + LOCK_MS);
    let r = client.call(&ink_e2e::eve(), &submit(longer, m2, until + LOCK_MS, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::AttestationInPlace)));
    let r = client.call(&ink_e2e::eve(), &submit(sig.clone(), m, until, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Attestation(AttestationRuleError::AttestationInPlace)));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 2)]).await?;
    assert_eq!(out[0].status, S::Success, "settles through the attestation");

    // Measurement removed → no signer; restored → usable again.
    let r = client.call(&ink_e2e::alice(), &i.set_measurement(m, false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 3)]).await?;
    assert_eq!(out[0].status, S::NoTeeSigner);
    client.call(&ink_e2e::alice(), &i.set_measurement(m, true)).submit().await?;
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 4)]).await?;
    assert_eq!(out[0].status, S::Success);
    // Attestor removed → no signer.
    client.call(&ink_e2e::alice(), &i.set_attestor(attestor.address(), false)).submit().await?;
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 5)]).await?;
    assert_eq!(out[0].status, S::NoTeeSigner);
    client.call(&ink_e2e::alice(), &i.set_attestor(attestor.address(), true)).submit().await?;
    // Expiry: usable one millisecond before, not at expires_at.
    let left = until - serving_e2e_tests::now_ms();
    advance_ms(left - 1);
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 6)]).await?;
    assert_eq!(out[0].status, S::Success);
    advance_ms(1);
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 7)]).await?;
    assert_eq!(out[0].status, S::NoTeeSigner, "expired");
    // A fresh attestation, then a signer change ends it (and an attestation of the old signer is refused).
    let until2 = serving_e2e_tests::now_ms() + LOCK_MS;
    let sig2 = attest(&w, &attestor, tee().address(), m, until2);
    let r = client.call(&ink_e2e::eve(), &submit(sig2.clone(), m, until2, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 8)]).await?;
    assert_eq!(out[0].status, S::Success);
    let new_key = LocalSigner::from_bytes(&[9u8; 32]).unwrap();
    take_events();
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(params(new_key.address()))).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let ev = take_events();
    assert_eq!(events_of::<TeeAttestationCleared>(&ev, &bytes(&w.inference)).len(), 1);
    let (out, _) =
        settle(&mut client, &w, vec![inference_voucher(&new_key, CHAIN_ID, w.inference, bob(), charlie(), 1, 9)])
            .await?;
    assert_eq!(out[0].status, S::NoTeeSigner, "the new signer is not attested");
    let r = client.call(&ink_e2e::eve(), &submit(sig2.clone(), m, until2, attestor.address())).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(IError::Attestation(AttestationRuleError::InvalidAttestationSignature)),
        "old signer's attestation"
    );
    let usable = client.call(&ink_e2e::eve(), &i.provider_state(charlie())).dry_run().await?.return_value();
    assert_eq!(usable.usable_signer, None);
    // Review finding 4 (issue 14): rotating back to the old signer (A → B → A) must not let anyone revive the
    // ended, still unexpired statement; the attestor has to attest again.
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(params(tee().address()))).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::eve(), &submit(sig2.clone(), m, until2, attestor.address())).submit().await?;
    assert_eq!(
        r.return_value(),
        Err(IError::Attestation(AttestationRuleError::AttestationEnded)),
        "the ended statement cannot come back"
    );
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 10)]).await?;
    assert_eq!(out[0].status, S::NoTeeSigner);
    let until3 = until2 + 1;
    let sig3 = attest(&w, &attestor, tee().address(), m, until3);
    let r = client.call(&ink_e2e::eve(), &submit(sig3, m, until3, attestor.address())).submit().await?;
    assert_eq!(r.return_value(), Ok(()), "a new statement works");
    let svc = client.call(&ink_e2e::bob(), &i.get_service(charlie())).dry_run().await?.return_value().unwrap();
    assert!(svc.tee_signer_acknowledged, "an attested signer shows as acknowledged (finding 6)");
    // A critical change (the model) ends the attestation as it ends the owner's acknowledgement.
    let mut changed = params(tee().address());
    changed.model = "another-model".into();
    take_events();
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(changed)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(events_of::<TeeAttestationCleared>(&take_events(), &bytes(&w.inference)).len(), 1);
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 11)]).await?;
    assert_eq!(out[0].status, S::NoTeeSigner, "model changed: attestation ended");
    check(&mut client, &w, &[bob()]).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn owner_upgrade_keeps_accounts_services_and_refunds(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1_000_000, 1)]).await?;
    assert_eq!(out[0].status, S::Success);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    // A real second version (inference/v2 and inference/full-v2: the same source plus a new `Lazy` field, a view,
    // and `set_v2_note`, which runs only in the second full build), not the same code again (review finding 2).
    let alice = ink_e2e::alice();
    let v2_thin = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "inference-v2", &alice)
        .submit()
        .await?
        .code_hash;
    let v2_full = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "inference-full-v2", &alice)
        .submit()
        .await?
        .code_hash;
    let v1_full = client.call(&alice, &i.full_code()).dry_run().await?.return_value().expect("a full build");
    let r = client.call(&ink_e2e::bob(), &i.set_code(v2_thin, v2_full)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::Ownership(OwnershipError::NotOwner)));
    let r = client.call(&alice, &i.set_code(v2_thin, v2_thin)).submit().await?;
    assert_eq!(r.return_value(), Err(IError::FullCodeIsThinCode), "a thin build never delegates to itself");
    let balance0 = client.free_balance(w.inference).await?;
    take_events();
    // One call moves both builds (issue 23): the second thin build never runs on the first full build.
    let r = client.call(&alice, &i.set_code(v2_thin, v2_full)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let ev = take_events();
    let upgraded = events_of::<service_core::events::CodeUpgraded>(&ev, &bytes(&w.inference));
    let moved = events_of::<service_core::events::FullCodeUpdated>(&ev, &bytes(&w.inference));
    assert_eq!((upgraded.len(), moved.len()), (1, 1));
    assert_eq!((upgraded[0].code_hash, moved[0].code_hash), (v2_thin.into(), v2_full.into()));
    let mut v2 = ink_e2e::create_call_builder::<inference_v2::inference::Inference>(w.inference);
    assert_eq!(client.call(&alice, &v2.full_code()).dry_run().await?.return_value(), Some(v2_full));
    assert_eq!(client.call(&alice, &v2.v2_note()).dry_run().await?.return_value(), 0, "new state");
    // `set_v2_note` exists only in the second full build: it fails when the full build was left behind.
    let r = client.call(&alice, &v2.set_v2_note(7)).submit().await?;
    assert_eq!(r.return_value(), Ok(7), "the message ran in the second full build");
    assert_eq!(client.call(&alice, &v2.v2_note()).dry_run().await?.return_value(), 7);
    assert_eq!(client.free_balance(w.inference).await?, balance0, "money intact");
    // The first full build is no longer locked: its uploader can remove it now.
    let r = client.runtime_call(&alice, "Contracts", "remove_code", vec![Value::from_bytes(v1_full)]).await;
    assert!(r.is_ok(), "the old full build was unlocked: {r:?}");
    // Everything survives and keeps working: the account (nonce 1, 9 M pending), the service, the refund.
    assert_eq!(sub_of(&mut client, &w, bob()).await?, (9_000_000, 9_000_000, 1));
    let svc = client.call(&ink_e2e::bob(), &i.get_service(charlie())).dry_run().await?.return_value().unwrap();
    assert!(svc.tee_signer_acknowledged);
    let (out, _) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 1), w.voucher(bob(), 1_000_000, 2)]).await?;
    assert_eq!(out.iter().map(|o| o.status).collect::<Vec<_>>(), vec![S::InvalidNonce, S::Success]);
    advance_ms(LOCK_MS);
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(8_000_000));
    check(&mut client, &w, &[bob()]).await?;
    Ok(())
}

/// Review finding (issue 23): the services delegated to their full build without locking it, so whoever uploaded
/// the (reproducible) full build first owned its code and could `remove_code` it later: every forwarded message
/// (registration, stake withdrawal, the owner's parameters) then failed. The constructor now locks the full build as
/// a delegate dependency of the contract, and a full build equal to the thin one is refused.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn nobody_can_remove_a_full_build_in_use(mut client: Client) -> E2EResult<()> {
    let (alice, eve) = (ink_e2e::alice(), ink_e2e::eve());
    // Eve uploads both full builds before the deployer: she owns their code.
    let fi = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "inference_full", &eve)
        .submit()
        .await?
        .code_hash;
    let ff = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "fine_tuning_full", &eve)
        .submit()
        .await?
        .code_hash;
    // The deployer's uploads store nothing new; the services are instantiated with the same hashes.
    let (ledger, inference, ft) =
        serving_e2e_tests::deploy_three(&mut client, CHAIN_ID, LOCK_MS, MIN_STAKE, 30).await.expect("deployed");
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let mut f = ink_e2e::create_call_builder::<fine_tuning::fine_tuning::FineTuning>(ft);
    assert_eq!(client.call(&alice, &i.full_code()).dry_run().await?.return_value(), Some(fi));
    assert_eq!(client.call(&alice, &f.full_code()).dry_run().await?.return_value(), Some(ff));
    for h in [fi, ff] {
        let r = client.runtime_call(&eve, "Contracts", "remove_code", vec![Value::from_bytes(h)]).await;
        let e = format!("{:?}", r.expect_err("a locked full build cannot be removed"));
        assert!(e.contains("CodeInUse"), "{e}");
    }
    // The forwarded messages keep working: a registration with a stake, an owner parameter on each service.
    let register = i.add_or_update_service(params(tee().address()));
    let r = client.call(&ink_e2e::charlie(), &register).value(MIN_STAKE).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &i.update_lock_time(2 * LOCK_MS)).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &f.update_lock_time(2 * LOCK_MS)).submit().await?.return_value(), Ok(()));
    // A service whose full build is its own code is refused at instantiation.
    let thin = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "inference", &alice)
        .submit()
        .await?
        .code_hash;
    let mut c = InferenceRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, thin);
    let r = client.instantiate("inference", &alice, &mut c).dry_run().await?;
    assert_eq!(r.constructor_result::<Result<(), IError>>(), Ok(Err(IError::FullCodeIsThinCode)));
    Ok(())
}

/// Review finding 1 (issue 14): withdrawing consent used to take effect at once, so a user could be served,
/// withdraw consent, and take everything back while every voucher settled as `NoTeeSigner`. The withdrawal now
/// takes effect a lock time later (docs/differences.md, D5): the provider settles what it served before.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn withdrawn_consent_still_pays_for_what_was_served(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    // Bob has 10 M at charlie, is served 6 M worth, then withdraws consent and asks for everything back.
    let r = client.call(&ink_e2e::bob(), &i.acknowledge_tee_signer(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let ev = take_events();
    let changed = events_of::<service_core::events::UserAcknowledgementChanged>(&ev, &bytes(&w.inference));
    assert_eq!(changed.len(), 1);
    assert!(!changed[0].acknowledged);
    let a = client.call(&ink_e2e::bob(), &i.get_account(bob(), charlie())).dry_run().await?.return_value().unwrap();
    assert!(a.acknowledged, "consent holds until the withdrawal takes effect");
    assert_eq!(a.consent_ends_at, Some(changed[0].effective_at));
    // Asking again changes nothing and emits nothing.
    let r = client.call(&ink_e2e::bob(), &i.acknowledge_tee_signer(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert!(
        events_of::<service_core::events::UserAcknowledgementChanged>(&take_events(), &bytes(&w.inference)).is_empty()
    );
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS - 1);
    let (out, gain) = settle(&mut client, &w, vec![w.voucher(bob(), 6_000_000, 1)]).await?;
    assert_eq!((out[0].status, out[0].settled), (S::Success, 6_000_000));
    assert_eq!(gain, 6_000_000, "the provider is paid for what it served");
    check(&mut client, &w, &[bob()]).await?;
    advance_ms(1);
    let (out, gain) = settle(&mut client, &w, vec![w.voucher(bob(), 1, 2)]).await?;
    assert_eq!((out[0].status, gain), (S::NoTeeSigner, 0), "nothing settles once the withdrawal took effect");
    let r = client.call(&ink_e2e::bob(), &l.retrieve_fund(vec![charlie()], w.inference)).submit().await?;
    assert_eq!(r.return_value(), Ok(4_000_000), "the user gets back what was not spent");
    assert_eq!(ledger_of(&mut client, &w, bob()).await?, (14_000_000, 14_000_000));
    check(&mut client, &w, &[bob()]).await?;
    Ok(())
}

/// Review finding 3 (issue 14): four users with the allowed 4,096-byte info at one provider made the paged
/// account views trap (ink!'s 16 KiB output buffer), and so could the ledger's and the service lists. Every list
/// view now returns what fits; the caller continues from `offset + returned`, and nothing is skipped.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn list_views_return_what_fits_and_never_trap(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let info = "i".repeat(4096);
    let users = [ink_e2e::alice(), ink_e2e::dave(), ink_e2e::eve(), ink_e2e::ferdie()];
    for kp in &users {
        let r = client.call(kp, &l.add_ledger(info.clone())).value(5_000_000).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
        let r = client.call(kp, &l.transfer_fund(charlie(), w.inference, 1_000_000)).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    // bob (no info) and the four: five sub-accounts at charlie, four of them over 4 KB each as views.
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let r = client
            .call(&ink_e2e::bob(), &i.get_accounts(AccountFilter::Provider(charlie()), offset, 0))
            .dry_run()
            .await?;
        let (page, total) = r.return_value().expect("no trap, no error");
        assert_eq!(total, 5);
        assert!(!page.is_empty() && page.len() < 5, "a page that fits: {} items", page.len());
        offset += page.len() as u32;
        seen.extend(page.into_iter().map(|a| a.user));
        if offset >= total {
            break;
        }
    }
    seen.sort();
    let mut all: Vec<AccountId> =
        [bob(), dave(), eve()].into_iter().chain(users.iter().map(|k| AccountId::from(k.public_key().0))).collect();
    all.sort();
    all.dedup();
    assert_eq!(seen, all, "every sub-account exactly once");
    let (page, total) = client
        .call(&ink_e2e::bob(), &i.get_accounts(AccountFilter::All, 0, 0))
        .dry_run()
        .await?
        .return_value()
        .unwrap();
    assert!(page.len() < 5 && total == 5);
    let batch = client
        .call(&ink_e2e::bob(), &i.get_batch_accounts_by_users(charlie(), all.clone()))
        .dry_run()
        .await?
        .return_value()
        .unwrap();
    assert!(!batch.is_empty() && batch.len() < all.len(), "the first users that fit, in input order");
    // The ledger's list of ledgers too (its views also ask the service for live totals).
    let (page, total) = client.call(&ink_e2e::bob(), &l.get_all_ledgers(0, 0)).dry_run().await?.return_value().unwrap();
    assert!(!page.is_empty() && page.len() < 5 && total == 5, "{} of {total}", page.len());
    Ok(())
}
