//! Ledger + inference + fine-tuning deployed together: the training story, the penalty path, abandonment, the
//! old deadlock (a penalty settlement followed by a new task), the ring, replays and cross-provider vouchers,
//! with the native balances of every party after each money step.
use fine_tuning::fine_tuning::{
    DeliverableEvicted, DeliverablesRemoved, Error as FError, FineTuning, FineTuningRef, ServiceParams, VerifierInput,
};
use inference::inference::InferenceRef;
use ink::primitives::AccountId;
use ink_e2e::{ChainBackend, ContractsBackend, Keypair};
use ledger::ledger::{Ledger, LedgerRef};
use service_core::book::AccountFilter;
use service_core::provider::AttestationRuleError;
use service_core::tuning::DeliverableState;
use service_core::tuning::TaskError;
use service_core::AccountError;
use serving_e2e_tests::{advance_ms, bob, bytes, charlie, dave, events_of, storage_deposit, take_events, tee, Client};
use serving_verifier::{Domain, LocalCrypto, LocalSigner, VerifierMessage};

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;

const CHAIN_ID: u64 = 42;
const LOCK_MS: u64 = 3_600_000;
const MIN_STAKE: u128 = 100_000_000;
const PENALTY: u8 = 30;
const ROOT: &[u8] = b"model-root-hash-0001";

fn params() -> ServiceParams {
    serving_e2e_tests::fine_tuning_service("https://trainer.example", 1, tee().address())
}

struct World {
    ledger: AccountId,
    ft: AccountId,
}

impl World {
    /// A voucher for `provider`'s task `id`, signed by the shared TEE key.
    fn voucher(&self, provider: AccountId, id: &str, secret: &[u8], fee: u128, nonce: u128) -> VerifierInput {
        let msg = VerifierMessage {
            id: id.as_bytes(),
            encrypted_secret: secret,
            model_root_hash: ROOT,
            nonce,
            task_fee: fee,
            user: bytes(&bob()),
            provider: bytes(&provider),
        };
        let c = LocalCrypto;
        let digest = Domain::fine_tuning(CHAIN_ID, bytes(&self.ft)).digest(&c, &msg.struct_hash(&c));
        VerifierInput {
            id: id.into(),
            encrypted_secret: secret.to_vec(),
            model_root_hash: ROOT.to_vec(),
            nonce,
            task_fee: fee,
            user: bob(),
            signature: tee().sign_digest(&digest).to_vec(),
        }
    }
}

/// All three contracts; charlie and dave provide fine-tuning with the same TEE key (acknowledged); bob has a
/// 20 M ledger and 10 M with charlie.
async fn setup(client: &mut Client) -> E2EResult<World> {
    let full = serving_e2e_tests::upload_full_builds(client).await?;
    let mut c = LedgerRef::new(CHAIN_ID, 3_000_000, 1_000_000, full.ledger);
    let ledger = client.instantiate("ledger", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut c = InferenceRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, full.inference);
    let inference = client.instantiate("inference", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut c = FineTuningRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, PENALTY, full.fine_tuning);
    let ft = client.instantiate("fine_tuning", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    for (t, a) in [("inference", inference), ("fine-tuning", ft)] {
        let r = client
            .call(&ink_e2e::alice(), &l.register_service(t.into(), "v1".into(), a, String::new()))
            .submit()
            .await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    let mut f = ink_e2e::create_call_builder::<FineTuning>(ft);
    for (kp, p) in [(ink_e2e::charlie(), charlie()), (ink_e2e::dave(), dave())] {
        let r = client.call(&kp, &f.add_or_update_service(params())).value(MIN_STAKE).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
        let r = client.call(&ink_e2e::alice(), &f.set_tee_signer_acknowledgement(p, true)).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(20_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), ft, 10_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    take_events();
    Ok(World { ledger, ft })
}

async fn add(client: &mut Client, w: &World, provider: &Keypair, id: &str) -> E2EResult<Result<(), FError>> {
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    Ok(client.call(provider, &f.add_deliverable(bob(), id.into(), ROOT.to_vec())).submit().await?.return_value())
}

/// Settles as `provider`; returns the result and the provider's native gain (storage deposit accounted), after
/// checking that the fine-tuning contract paid exactly the fee and the ledger total dropped by it.
async fn settle(
    client: &mut Client,
    w: &World,
    provider: &Keypair,
    v: VerifierInput,
) -> E2EResult<Result<u128, FError>> {
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let p = AccountId::from(provider.public_key().0);
    let before = (client.free_balance(p).await?, client.free_balance(w.ft).await?);
    let total0 =
        client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap().total_balance;
    let r = client.call(provider, &f.settle_fees(v)).submit().await?;
    let d = storage_deposit(&r.dry_run);
    let out = r.return_value();
    let fee = *out.as_ref().unwrap_or(&0);
    assert_eq!(client.free_balance(p).await? as i128, before.0 as i128 + fee as i128 - d, "provider paid the fee");
    assert_eq!(client.free_balance(w.ft).await?, before.1 - fee, "contract paid out the fee");
    let total1 =
        client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap().total_balance;
    assert_eq!(total0 - total1, fee, "ledger total dropped by the fee");
    check(client, w).await?;
    Ok(out)
}

/// Invariants: bob's ledger total = available + Σ his sub-accounts at fine-tuning (live), which never exceeds
/// what he funded it with net; contract solvent.
async fn check(client: &mut Client, w: &World) -> E2EResult<()> {
    let l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let v = client.call(&ink_e2e::bob(), &l.get_ledger(bob())).dry_run().await?.return_value().unwrap();
    let funded = client.call(&ink_e2e::bob(), &l.get_funded(bob(), w.ft)).dry_run().await?.return_value();
    let (accounts, _) = client
        .call(&ink_e2e::bob(), &f.get_accounts(AccountFilter::User(bob()), 0, 0))
        .dry_run()
        .await?
        .return_value()
        .unwrap();
    let live = accounts.iter().map(|a| a.balance).sum::<u128>();
    assert_eq!(v.total_balance - v.available_balance, live, "total != available + live sub-accounts");
    assert!(live <= funded, "fine-tuning holds more than bob funded it with net");
    for a in &accounts {
        assert!(a.pending_refund <= a.balance);
    }
    let liab = client.call(&ink_e2e::bob(), &f.config()).dry_run().await?.return_value().liabilities;
    // Equality, not ≥: the contract holds exactly what it owes plus the existential deposit (no surplus here).
    assert_eq!(client.free_balance(w.ft).await?, liab + serving_e2e_tests::EXISTENTIAL_DEPOSIT);
    let l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let ledger_owes = client.call(&ink_e2e::bob(), &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(client.free_balance(w.ledger).await?, ledger_owes + serving_e2e_tests::EXISTENTIAL_DEPOSIT);
    Ok(())
}

async fn state(client: &mut Client, w: &World, provider: AccountId, id: &str) -> E2EResult<DeliverableState> {
    let f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    Ok(client
        .call(&ink_e2e::bob(), &f.get_deliverable(bob(), provider, id.into()))
        .dry_run()
        .await?
        .return_value()
        .unwrap()
        .state)
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn training_story_penalty_and_the_old_deadlock(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let c = ink_e2e::charlie();
    check(&mut client, &w).await?;

    // Task 1: acknowledged, settled in full with the key.
    assert_eq!(add(&mut client, &w, &c, "task-1").await?, Ok(()));
    assert_eq!(
        add(&mut client, &w, &c, "task-2").await?,
        Err(FError::Task(TaskError::PreviousDeliverableNotAcknowledged))
    );
    let r = client.call(&ink_e2e::bob(), &f.acknowledge_deliverable(charlie(), "task-1".into())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "task-1", b"", 2_000_000, 1)).await?,
        Err(FError::Task(TaskError::SecretShouldNotBeEmpty))
    );
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "task-1", b"key-1", 2_000_000, 1)).await?,
        Ok(2_000_000)
    );
    let d = client
        .call(&ink_e2e::bob(), &f.get_deliverable(bob(), charlie(), "task-1".into()))
        .dry_run()
        .await?
        .return_value()
        .unwrap();
    assert_eq!((d.state, d.encrypted_secret), (DeliverableState::Settled { penalized: false }, b"key-1".to_vec()));
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "task-1", b"key-1", 2_000_000, 2)).await?,
        Err(FError::Task(TaskError::DeliverableAlreadySettled))
    );
    let r = client.call(&ink_e2e::bob(), &f.acknowledge_deliverable(charlie(), "task-1".into())).submit().await?;
    assert_eq!(r.return_value(), Err(FError::Task(TaskError::DeliverableAlreadySettled)));

    // Task 2: never acknowledged → penalty share, no key; the penalty is the one in force when it was added.
    assert_eq!(add(&mut client, &w, &c, "task-2").await?, Ok(()));
    let r = client.call(&ink_e2e::alice(), &f.update_penalty_percentage(90)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::alice(), &f.update_penalty_percentage(101)).submit().await?;
    assert_eq!(r.return_value(), Err(FError::PenaltyPercentageTooHigh { percent: 101 }));
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "task-2", b"key-2", 1_000_000, 3)).await?,
        Err(FError::Task(TaskError::SecretShouldBeEmpty))
    );
    // Balance 8 M: a 20 M task's 30 % (6 M) fits although the full fee does not (the reference refused it).
    assert_eq!(settle(&mut client, &w, &c, w.voucher(charlie(), "task-2", b"", 20_000_000, 3)).await?, Ok(6_000_000));
    assert_eq!(state(&mut client, &w, charlie(), "task-2").await?, DeliverableState::Settled { penalized: true });

    // The old deadlock: after a penalty settlement the next task can start (now at 90 %).
    assert_eq!(add(&mut client, &w, &c, "task-3").await?, Ok(()));
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "task-3", b"", 10_000_000, 4)).await?,
        Err(FError::Task(TaskError::InsufficientBalance { balance: 2_000_000, fee: 9_000_000 }))
    );
    assert_eq!(settle(&mut client, &w, &c, w.voucher(charlie(), "task-3", b"", 2_000_000, 4)).await?, Ok(1_800_000));
    let a = client.call(&ink_e2e::bob(), &f.get_account(bob(), charlie())).dry_run().await?.return_value().unwrap();
    assert_eq!((a.balance, a.nonce, a.deliverables), (200_000, 4, 3));
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn abandon_checks_and_ring(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let c = ink_e2e::charlie();
    assert_eq!(
        add(&mut client, &w, &c, "").await?,
        Err(FError::Task(TaskError::DeliverableIdInvalidLength { len: 0 }))
    );
    assert_eq!(
        add(&mut client, &w, &c, &"x".repeat(257)).await?,
        Err(FError::Task(TaskError::DeliverableIdInvalidLength { len: 257 }))
    );
    assert_eq!(add(&mut client, &w, &ink_e2e::eve(), "t").await?, Err(FError::ServiceNotExist));
    assert_eq!(
        add(&mut client, &w, &ink_e2e::dave(), "t").await?,
        Err(FError::Account(AccountError::AccountNotExists))
    );
    assert_eq!(add(&mut client, &w, &c, &"x".repeat(256)).await?, Ok(()));
    let r = client.call(&c, &f.abandon_deliverable(bob(), "x".repeat(256))).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(
        add(&mut client, &w, &c, &"x".repeat(256)).await?,
        Err(FError::Task(TaskError::DeliverableAlreadyExists))
    );
    let r = client.call(&ink_e2e::bob(), &f.acknowledge_deliverable(charlie(), "x".repeat(256))).submit().await?;
    assert_eq!(r.return_value(), Err(FError::Task(TaskError::DeliverableAbandoned)));
    let r = client.call(&c, &f.abandon_deliverable(bob(), "nope".into())).submit().await?;
    assert_eq!(r.return_value(), Err(FError::Task(TaskError::DeliverableNotExists)));
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), &"x".repeat(256), b"", 1, 1)).await?,
        Err(FError::Task(TaskError::DeliverableAbandoned))
    );
    // Fill the ring (20) with abandoned tasks; the 21st evicts the oldest.
    for n in 1..20 {
        assert_eq!(add(&mut client, &w, &c, &format!("t{n}")).await?, Ok(()));
        let r = client.call(&c, &f.abandon_deliverable(bob(), format!("t{n}"))).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    take_events();
    assert_eq!(add(&mut client, &w, &c, "t20").await?, Ok(()));
    let ev = take_events();
    let evicted = events_of::<DeliverableEvicted>(&ev, &bytes(&w.ft));
    assert_eq!((evicted[0].evicted_id.clone(), evicted[0].new_id.clone()), ("x".repeat(256), "t20".to_string()));
    let (all, total) =
        client.call(&c, &f.get_deliverables(bob(), charlie(), 0, 0)).dry_run().await?.return_value().unwrap();
    assert_eq!((total, all.len(), all[0].id.as_str(), all[19].id.as_str()), (20, 20, "t1", "t20"));
    // Paged (review finding, issue 23): the page from 18 holds the last two.
    let (page, _) =
        client.call(&c, &f.get_deliverables(bob(), charlie(), 18, 5)).dry_run().await?.return_value().unwrap();
    assert_eq!(page.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["t19", "t20"]);
    let r = client.call(&c, &f.get_deliverables(bob(), charlie(), 0, 51)).dry_run().await?.return_value();
    assert_eq!(r, Err(FError::LimitTooLarge { limit: 51, max: 50 }));
    // The evicted id can be reused later; a pending oldest can never be evicted.
    let r = client.call(&ink_e2e::bob(), &f.acknowledge_deliverable(charlie(), "t20".into())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(add(&mut client, &w, &c, &"x".repeat(256)).await?, Ok(()), "t1 (abandoned) evicted");
    check(&mut client, &w).await?;
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn replays_and_cross_provider_vouchers_fail(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let (c, d) = (ink_e2e::charlie(), ink_e2e::dave());
    let r = client.call(&ink_e2e::bob(), &l.transfer_fund(dave(), w.ft, 5_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    // Both providers add the same task id and root; both share one TEE key.
    assert_eq!(add(&mut client, &w, &c, "same").await?, Ok(()));
    assert_eq!(add(&mut client, &w, &d, "same").await?, Ok(()));
    let charlies = w.voucher(charlie(), "same", b"", 1_000_000, 1);
    // Dave cannot use Charlie's voucher: it names Charlie as the provider.
    assert_eq!(settle(&mut client, &w, &d, charlies.clone()).await?, Err(FError::Task(TaskError::InvalidSignature)));
    assert_eq!(settle(&mut client, &w, &c, charlies.clone()).await?, Ok(300_000));
    assert_eq!(settle(&mut client, &w, &c, charlies).await?, Err(FError::Task(TaskError::InvalidNonce)));
    // Tampering with the fee or the root breaks the voucher.
    assert_eq!(add(&mut client, &w, &c, "next").await?, Ok(()));
    let mut v = w.voucher(charlie(), "next", b"", 1_000_000, 2);
    v.task_fee = 5_000_000;
    assert_eq!(settle(&mut client, &w, &c, v).await?, Err(FError::Task(TaskError::InvalidSignature)));
    let mut v = w.voucher(charlie(), "next", b"", 1_000_000, 2);
    v.model_root_hash = b"other".to_vec();
    assert_eq!(settle(&mut client, &w, &c, v).await?, Err(FError::Task(TaskError::ModelRootHashMismatch)));
    // The user withdraws consent: it takes effect after the lock time (difference 5), so the task already
    // served still settles (here with the penalty, unacknowledged) inside the window...
    let r = client.call(&ink_e2e::bob(), &f.acknowledge_tee_signer(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    advance_ms(LOCK_MS - 1);
    assert_eq!(settle(&mut client, &w, &c, w.voucher(charlie(), "next", b"", 1_000_000, 2)).await?, Ok(300_000));
    // ...and nothing settles once it took effect.
    advance_ms(1);
    assert_eq!(add(&mut client, &w, &c, "late").await?, Ok(()));
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "late", b"", 1_000_000, 3)).await?,
        Err(FError::Attestation(AttestationRuleError::NoTeeSigner))
    );
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn settles_through_an_attestation_until_it_expires(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let c = ink_e2e::charlie();
    let r = client.call(&ink_e2e::alice(), &f.set_tee_signer_acknowledgement(charlie(), false)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(add(&mut client, &w, &c, "t1").await?, Ok(()));
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "t1", b"", 1_000_000, 1)).await?,
        Err(FError::Attestation(AttestationRuleError::NoTeeSigner))
    );

    let attestor = LocalSigner::from_bytes(&[11u8; 32]).unwrap();
    let m = [0x42u8; 32];
    client.call(&ink_e2e::alice(), &f.set_attestor(attestor.address(), true)).submit().await?;
    client.call(&ink_e2e::alice(), &f.set_measurement(m, true)).submit().await?;
    let until = serving_e2e_tests::now_ms() + LOCK_MS;
    let a = serving_verifier::TeeAttestation {
        provider: bytes(&charlie()),
        signer: tee().address(),
        measurement: m,
        expires_at: until,
    };
    let cr = LocalCrypto;
    // Signed in the inference domain: refused here.
    let wrong = attestor.sign_digest(&Domain::inference(CHAIN_ID, bytes(&w.ft)).digest(&cr, &a.struct_hash(&cr)));
    let r = client
        .call(&ink_e2e::eve(), &f.submit_attestation(charlie(), m, until, attestor.address(), wrong.to_vec()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Err(FError::Attestation(AttestationRuleError::InvalidAttestationSignature)));
    let sig = attestor.sign_digest(&Domain::fine_tuning(CHAIN_ID, bytes(&w.ft)).digest(&cr, &a.struct_hash(&cr)));
    let r = client
        .call(&ink_e2e::eve(), &f.submit_attestation(charlie(), m, until, attestor.address(), sig.to_vec()))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(()));
    assert_eq!(settle(&mut client, &w, &c, w.voucher(charlie(), "t1", b"", 1_000_000, 1)).await?, Ok(300_000));
    assert_eq!(add(&mut client, &w, &c, "t2").await?, Ok(()));
    serving_e2e_tests::advance_ms(LOCK_MS);
    assert_eq!(
        settle(&mut client, &w, &c, w.voucher(charlie(), "t2", b"", 1_000_000, 2)).await?,
        Err(FError::Attestation(AttestationRuleError::NoTeeSigner))
    );
    Ok(())
}

/// Review finding (issue 23): deleting a sub-account removed the provider's deliverables with it, and pallet-contracts
/// refunds freed storage deposits to the signer of the call that frees them: the user was handed the provider's
/// deposits. Deliverables now outlive the sub-account; the provider removes them and gets back exactly what it paid.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn deliverable_deposits_go_back_to_the_provider(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(w.ledger);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let (c, bob_kp) = (ink_e2e::charlie(), ink_e2e::bob());
    let r = client.call(&c, &f.add_deliverable(bob(), "t1".into(), ROOT.to_vec())).submit().await?;
    let paid = storage_deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(()));
    assert!(paid > 0, "the provider paid for the deliverable's storage");
    let r = client.call(&c, &f.remove_deliverables(bob())).submit().await?;
    assert_eq!(r.return_value(), Err(FError::Task(TaskError::AccountStillOpen)));
    // Bob takes everything back and deletes his ledger (and with it the sub-account).
    let r = client.call(&bob_kp, &l.retrieve_fund(vec![charlie()], w.ft)).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    advance_ms(LOCK_MS);
    let r = client.call(&bob_kp, &l.retrieve_fund(vec![charlie()], w.ft)).submit().await?;
    assert_eq!(r.return_value(), Ok(10_000_000));
    let r = client.call(&bob_kp, &l.refund(20_000_000)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&bob_kp, &l.delete_ledger()).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    // The deliverable is still there: Bob's call did not free (and was not refunded) the provider's storage.
    let (left, total) =
        client.call(&c, &f.get_deliverables(bob(), charlie(), 0, 0)).dry_run().await?.return_value().unwrap();
    assert_eq!((left.len(), total), (1, 1), "deliverables outlive the sub-account");
    // Another provider removes nothing; Charlie removes his and gets his deposit back to the unit.
    let r = client.call(&ink_e2e::dave(), &f.remove_deliverables(bob())).submit().await?;
    assert_eq!(r.return_value(), Ok(0));
    take_events();
    let r = client.call(&c, &f.remove_deliverables(bob())).submit().await?;
    assert_eq!(storage_deposit(&r.dry_run), -paid, "the provider gets back exactly what it paid");
    assert_eq!(r.return_value(), Ok(1));
    assert_eq!(events_of::<DeliverablesRemoved>(&take_events(), &bytes(&w.ft)).len(), 1);
    let (left, total) =
        client.call(&c, &f.get_deliverables(bob(), charlie(), 0, 0)).dry_run().await?.return_value().unwrap();
    assert_eq!((left.len(), total), (0, 0));
    // Bob has no ledger left to check; both contracts hold exactly what they owe.
    let liab = client.call(&bob_kp, &f.config()).dry_run().await?.return_value().liabilities;
    assert_eq!(client.free_balance(w.ft).await?, liab + serving_e2e_tests::EXISTENTIAL_DEPOSIT);
    let owes = client.call(&bob_kp, &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(client.free_balance(w.ledger).await?, owes + serving_e2e_tests::EXISTENTIAL_DEPOSIT);
    Ok(())
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn owner_upgrade_keeps_deliverables_and_stakes(mut client: Client) -> E2EResult<()> {
    let w = setup(&mut client).await?;
    let mut f = ink_e2e::create_call_builder::<FineTuning>(w.ft);
    let c = ink_e2e::charlie();
    assert_eq!(add(&mut client, &w, &c, "t1").await?, Ok(()));
    let r = client.call(&ink_e2e::bob(), &f.acknowledge_deliverable(charlie(), "t1".into())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    // A real second version (fine_tuning/v2 and fine_tuning/full-v2: the same source plus a new `Lazy` field, a
    // view, and `set_v2_note`, which runs only in the second full build), not the same code again.
    let alice = ink_e2e::alice();
    let v2_thin = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "fine_tuning-v2", &alice)
        .submit()
        .await?
        .code_hash;
    let v2_full = ContractsBackend::<ink::env::DefaultEnvironment>::upload(&mut client, "fine_tuning-full-v2", &alice)
        .submit()
        .await?
        .code_hash;
    let r = client.call(&alice, &f.set_code(v2_full, v2_full)).submit().await?;
    assert_eq!(r.return_value(), Err(FError::FullCodeIsThinCode));
    let v1_full = client.call(&alice, &f.full_code()).dry_run().await?.return_value().expect("a full build");
    use ink_e2e::subxt::dynamic::Value;
    let r = client.runtime_call(&alice, "Contracts", "remove_code", vec![Value::from_bytes(v1_full)]).await;
    assert!(r.is_err(), "the full build in use is locked: not even its uploader can remove it");
    let balance0 = client.free_balance(w.ft).await?;
    let r = client.call(&alice, &f.set_code(v2_thin, v2_full)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let mut v2 = ink_e2e::create_call_builder::<fine_tuning_v2::fine_tuning::FineTuning>(w.ft);
    assert_eq!(client.call(&alice, &v2.full_code()).dry_run().await?.return_value(), Some(v2_full));
    assert_eq!(client.call(&alice, &v2.v2_note()).dry_run().await?.return_value(), 0, "new state");
    // `set_v2_note` exists only in the second full build: it fails when the full build was left behind.
    let r = client.call(&alice, &v2.set_v2_note(7)).submit().await?;
    assert_eq!(r.return_value(), Ok(7), "the message ran in the second full build");
    assert_eq!(client.call(&alice, &v2.v2_note()).dry_run().await?.return_value(), 7);
    assert_eq!(client.free_balance(w.ft).await?, balance0, "money intact");
    // The first full build was unlocked by the upgrade: its uploader can remove it now; the second is locked.
    let r = client.runtime_call(&alice, "Contracts", "remove_code", vec![Value::from_bytes(v1_full)]).await;
    assert!(r.is_ok(), "the old full build was unlocked: {r:?}");
    let r = client.runtime_call(&alice, "Contracts", "remove_code", vec![Value::from_bytes(v2_full)]).await;
    assert!(r.is_err(), "the new full build is locked");
    assert_eq!(state(&mut client, &w, charlie(), "t1").await?, DeliverableState::Acknowledged);
    assert_eq!(settle(&mut client, &w, &c, w.voucher(charlie(), "t1", b"key", 1_000_000, 1)).await?, Ok(1_000_000));
    // The stake survived too: remove, wait, withdraw it.
    let r = client.call(&c, &f.remove_service()).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    serving_e2e_tests::advance_ms(LOCK_MS);
    let (c0, f0) = (client.free_balance(charlie()).await?, client.free_balance(w.ft).await?);
    let r = client.call(&c, &f.withdraw_stake()).submit().await?;
    let d = storage_deposit(&r.dry_run);
    assert_eq!(r.return_value(), Ok(MIN_STAKE));
    assert_eq!(client.free_balance(charlie()).await? as i128, c0 as i128 + MIN_STAKE as i128 - d);
    assert_eq!(client.free_balance(w.ft).await?, f0 - MIN_STAKE);
    check(&mut client, &w).await?;
    Ok(())
}
