//! The attack matrix: hostile or careless calls against the three contracts, each row asserting the typed
//! error (or, for vouchers inside a batch, the documented per-entry status) and that no balance anywhere moved
//! (every account's free and held balance, read from pallet-balances). The rows are written to
//! docs/attack-matrix.md; the test fails when the file differs (regenerate: SERVING_WRITE_MATRIX=1).
use fine_tuning::fine_tuning::{Error as FError, FineTuning, VerifierInput};
use inference::inference::{Error as IError, Inference, ServiceParams, SettlementStatus as S, TeeSettlementData};
use ink::env::DefaultEnvironment;
use ink::primitives::{AccountId, Hash};
use ink::scale::{Decode, Encode};
use ink_e2e::{CallBuilderFinal, ChainBackend, ContractsBackend, Keypair};
use ledger::ledger::Ledger;
use ledger::Error as LError;
use ledger::Serving;
use service_core::book::AccountFilter;
use service_core::provider::{OwnershipError, StakeError};
use service_core::tuning::TaskError;
use service_core::AccountError;
use serving_e2e_tests::{
    bob, bytes, charlie, dave, eve, high_s_twin, id, inference_voucher, tee, totals, watch, Client, Totals,
};
use serving_verifier::LocalSigner;

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;

const CHAIN_ID: u64 = 42;
const LOCK_MS: u64 = 3_600_000;
const MIN_STAKE: u128 = 100_000_000;

struct Row {
    contract: &'static str,
    message: &'static str,
    attack: String,
    outcome: String,
}

struct World {
    ledger: AccountId,
    inference: AccountId,
    ft: AccountId,
    rows: Vec<Row>,
}

async fn snapshot(client: &mut Client) -> E2EResult<Totals> {
    let _ = client.free_balance(id(&ink_e2e::alice())).await?;
    Ok(totals())
}

/// One row: the call is refused with `expected` (dry run and real submission), and no balance moved.
async fn refused<Args, T, E>(
    client: &mut Client,
    w: &mut World,
    (contract, message, attack): (&'static str, &'static str, &str),
    who: &Keypair,
    msg: &CallBuilderFinal<DefaultEnvironment, Args, Result<T, E>>,
    value: u128,
    expected: E,
) -> E2EResult<()>
where
    Args: Sync + Encode + Clone,
    T: Send + Decode + std::fmt::Debug,
    E: Send + Decode + std::fmt::Debug + PartialEq + Clone,
{
    let before = snapshot(client).await?;
    let r = client.call(who, msg).value(value).dry_run().await?;
    let got = r.return_value();
    assert!(
        matches!(&got, Err(e) if *e == expected),
        "{contract}.{message} ({attack}): got {got:?}, expected {expected:?}"
    );
    let outcome = format!("`{expected:?}`");
    // Submitted for real, the call reverts with the same error.
    let submitted = client.call(who, msg).value(value).submit().await?;
    assert!(
        submitted.dry_run.exec_result.result.as_ref().map(|x| x.did_revert()).unwrap_or(false),
        "{contract}.{message} ({attack}): not reverted"
    );
    assert!(matches!(submitted.return_value(), Err(e) if e == expected), "{contract}.{message} ({attack}): submitted");
    assert_eq!(snapshot(client).await?, before, "{contract}.{message} ({attack}): a balance moved");
    w.rows.push(Row { contract, message, attack: attack.into(), outcome });
    Ok(())
}

/// One row for a voucher inside a batch: the entry gets `status`, settles nothing, no balance moved, and the
/// sub-account it names (nonce, balance, refunds, consent) is exactly as before.
async fn bad_voucher(
    client: &mut Client,
    w: &mut World,
    attack: &str,
    who: &Keypair,
    voucher: TeeSettlementData,
    status: S,
) -> E2EResult<()> {
    let mut i = ink_e2e::create_call_builder::<Inference>(w.inference);
    let before = snapshot(client).await?;
    let (user, provider) = (voucher.user, voucher.provider);
    let account0 = client.call(who, &i.get_account(user, provider)).dry_run().await?.return_value();
    let r = client.call(who, &i.settle_fees_with_tee(vec![voucher])).submit().await?;
    let out = r.return_value().expect("the batch itself is accepted");
    assert_eq!((out[0].status, out[0].settled), (status, 0), "{attack}");
    assert_eq!(snapshot(client).await?, before, "settle_fees_with_tee ({attack}): a balance moved");
    let account1 = client.call(who, &i.get_account(user, provider)).dry_run().await?.return_value();
    assert_eq!(account1, account0, "settle_fees_with_tee ({attack}): the sub-account (nonce) changed");
    w.rows.push(Row {
        contract: "inference",
        message: "settle_fees_with_tee",
        attack: attack.into(),
        outcome: format!("entry status `{status:?}`, nothing settled"),
    });
    Ok(())
}

/// A fine-tuning voucher for bob's task `id` with the given (encrypted) model key.
#[allow(clippy::too_many_arguments)]
fn ft_voucher(
    key: &LocalSigner,
    chain_id: u64,
    contract: AccountId,
    provider: AccountId,
    id: &str,
    nonce: u128,
    secret: &[u8],
) -> VerifierInput {
    let task = serving_e2e_tests::Task { user: bob(), provider, id, secret, root: b"root", nonce, fee: 1_000_000 };
    serving_e2e_tests::fine_tuning_voucher(key, chain_id, contract, &task)
}

async fn setup(client: &mut Client) -> E2EResult<World> {
    let alice = ink_e2e::alice();
    let (ledger, inference, ft) = serving_e2e_tests::deploy_three(client, CHAIN_ID, LOCK_MS, MIN_STAKE, 30).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(ft);
    for (t, a) in [("inference", inference), ("fine-tuning", ft)] {
        let r = client.call(&alice, &l.register_service(t.into(), "v1".into(), a, String::new())).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    let p = serving_e2e_tests::inference_service("https://provider.example/v1", tee().address());
    let r = client.call(&ink_e2e::charlie(), &i.add_or_update_service(p)).value(MIN_STAKE).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&alice, &i.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let q = serving_e2e_tests::fine_tuning_service("https://trainer.example", 1, tee().address());
    let r = client.call(&ink_e2e::charlie(), &f.add_or_update_service(q)).value(MIN_STAKE).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&alice, &f.set_tee_signer_acknowledgement(charlie(), true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &l.add_ledger(String::new())).value(50_000_000).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    for s in [inference, ft] {
        let r = client.call(&ink_e2e::bob(), &l.transfer_fund(charlie(), s, 10_000_000)).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    // One settled voucher (nonce 5) and one settled task, for the replay rows.
    let v = inference_voucher(&tee(), CHAIN_ID, inference, bob(), charlie(), 1_000, 5);
    let r = client.call(&ink_e2e::charlie(), &i.settle_fees_with_tee(vec![v])).submit().await?;
    assert_eq!(r.return_value().unwrap()[0].status, S::Success);
    let r =
        client.call(&ink_e2e::charlie(), &f.add_deliverable(bob(), "task-1".into(), b"root".to_vec())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&ink_e2e::bob(), &f.acknowledge_deliverable(charlie(), "task-1".into())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client
        .call(&ink_e2e::charlie(), &f.settle_fees(ft_voucher(&tee(), CHAIN_ID, ft, charlie(), "task-1", 1, b"key")))
        .submit()
        .await?;
    assert_eq!(r.return_value(), Ok(1_000_000));
    let r =
        client.call(&ink_e2e::charlie(), &f.add_deliverable(bob(), "task-2".into(), b"root".to_vec())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let w = World { ledger, inference, ft, rows: Vec::new() };
    let mut all: Vec<[u8; 32]> =
        [ink_e2e::alice(), ink_e2e::bob(), ink_e2e::charlie(), ink_e2e::dave(), ink_e2e::eve()]
            .iter()
            .map(|k| bytes(&id(k)))
            .collect();
    all.extend([bytes(&ledger), bytes(&inference), bytes(&ft)]);
    watch(&all);
    Ok(w)
}

#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn attack_matrix(mut client: Client) -> E2EResult<()> {
    let mut w = setup(&mut client).await?;
    let (alice, bob_kp, charlie_kp, dave_kp, eve_kp) =
        (ink_e2e::alice(), ink_e2e::bob(), ink_e2e::charlie(), ink_e2e::dave(), ink_e2e::eve());
    let (ledger, inference, ft) = (w.ledger, w.inference, w.ft);
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(ft);
    let long = "x".repeat(4097);
    let c = &mut client;

    // ---------------------------------------------------------------- ledger
    refused(
        c,
        &mut w,
        ("ledger", "add_ledger", "zero value"),
        &eve_kp,
        &l.add_ledger(String::new()),
        0,
        LError::ZeroAmount,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "add_ledger", "below the minimum"),
        &eve_kp,
        &l.add_ledger(String::new()),
        2_999_999,
        LError::MinimumDepositRequired { amount: 2_999_999, minimum: 3_000_000 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "add_ledger", "a second ledger"),
        &bob_kp,
        &l.add_ledger(String::new()),
        5_000_000,
        LError::LedgerExists,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "add_ledger", "info of 4097 bytes"),
        &eve_kp,
        &l.add_ledger(long.clone()),
        5_000_000,
        LError::TooLong { len: 4097, max: 4096 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "deposit_fund", "no ledger yet and below the minimum"),
        &eve_kp,
        &l.deposit_fund(),
        1_000,
        LError::MinimumDepositRequired { amount: 1_000, minimum: 3_000_000 },
    )
    .await?;
    refused(c, &mut w, ("ledger", "deposit_fund", "zero value"), &bob_kp, &l.deposit_fund(), 0, LError::ZeroAmount)
        .await?;
    refused(
        c,
        &mut w,
        ("ledger", "deposit_fund_for", "zero address"),
        &bob_kp,
        &l.deposit_fund_for(AccountId::from([0; 32])),
        5,
        LError::ZeroAddress,
    )
    .await?;
    refused(c, &mut w, ("ledger", "refund", "zero"), &bob_kp, &l.refund(0), 0, LError::ZeroAmount).await?;
    refused(
        c,
        &mut w,
        ("ledger", "refund", "u128::MAX"),
        &bob_kp,
        &l.refund(u128::MAX),
        0,
        LError::InsufficientBalance { available: 30_000_000, requested: u128::MAX },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "refund", "leaving less than the minimum"),
        &bob_kp,
        &l.refund(29_000_000),
        0,
        LError::MinimumDepositRequired { amount: 1_000_000, minimum: 3_000_000 },
    )
    .await?;
    refused(c, &mut w, ("ledger", "refund", "no ledger"), &eve_kp, &l.refund(1), 0, LError::LedgerNotExists).await?;
    refused(
        c,
        &mut w,
        ("ledger", "transfer_fund", "zero"),
        &bob_kp,
        &l.transfer_fund(charlie(), inference, 0),
        0,
        LError::ZeroAmount,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "transfer_fund", "u128::MAX"),
        &bob_kp,
        &l.transfer_fund(charlie(), inference, u128::MAX),
        0,
        LError::InsufficientAvailableBalance { available: 30_000_000, required: u128::MAX },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "transfer_fund", "to an unregistered service"),
        &bob_kp,
        &l.transfer_fund(charlie(), id(&dave_kp), 1_000_000),
        0,
        LError::ServiceNotFound,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "transfer_fund", "to a provider without a service"),
        &bob_kp,
        &l.transfer_fund(dave(), inference, 1_000_000),
        0,
        LError::Service(ledger::ServingError::Account(service_core::AccountError::ProviderHasNoService)),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "retrieve_fund", "21 providers"),
        &bob_kp,
        &l.retrieve_fund(vec![charlie(); 21], inference),
        0,
        LError::TooManyProviders { len: 21, max: 20 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "retrieve_fund", "no ledger"),
        &eve_kp,
        &l.retrieve_fund(vec![charlie()], inference),
        0,
        LError::LedgerNotExists,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "register_service", "wrong caller"),
        &bob_kp,
        &l.register_service("x".into(), "v1".into(), inference, String::new()),
        0,
        LError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "register_service", "type of 65 bytes"),
        &alice,
        &l.register_service("t".repeat(65), "v1".into(), inference, String::new()),
        0,
        LError::TooLong { len: 65, max: 64 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "register_service", "a plain account, not a contract"),
        &alice,
        &l.register_service("x".into(), "v1".into(), dave(), String::new()),
        0,
        LError::ServiceMustImplementServing,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "set_service_enabled", "wrong caller"),
        &bob_kp,
        &l.set_service_enabled(inference, false),
        0,
        LError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "set_minimums", "wrong caller"),
        &bob_kp,
        &l.set_minimums(0, 0),
        0,
        LError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "withdraw_surplus", "wrong caller"),
        &bob_kp,
        &l.withdraw_surplus(bob()),
        0,
        LError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "set_code", "wrong caller"),
        &bob_kp,
        &l.set_code(Hash::from([1; 32]), Hash::from([2; 32])),
        0,
        LError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "transfer_ownership", "wrong caller"),
        &bob_kp,
        &l.transfer_ownership(bob()),
        0,
        LError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "accept_ownership", "nobody proposed"),
        &bob_kp,
        &l.accept_ownership(),
        0,
        LError::Ownership(OwnershipError::NotPendingOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "get_all_ledgers", "limit 51"),
        &bob_kp,
        &l.get_all_ledgers(0, 51),
        0,
        LError::LimitTooLarge { limit: 51, max: 50 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("ledger", "delete_ledger", "funds still in the ledger"),
        &bob_kp,
        &l.delete_ledger(),
        0,
        LError::MustWithdrawAllFundsFirst { total: 48_999_000 },
    )
    .await?;

    // ------------------------------------------------------------- inference
    let ok = |n| inference_voucher(&tee(), CHAIN_ID, inference, bob(), charlie(), 1_000, n);
    refused(
        c,
        &mut w,
        ("inference", "settle_fees_with_tee", "empty batch"),
        &charlie_kp,
        &i.settle_fees_with_tee(vec![]),
        0,
        IError::NoSettlementsProvided,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "settle_fees_with_tee", "51 vouchers"),
        &charlie_kp,
        &i.settle_fees_with_tee((0..51).map(|n| ok(100 + n)).collect()),
        0,
        IError::TooMany { len: 51, max: 50 },
    )
    .await?;
    bad_voucher(c, &mut w, "replay: the nonce already settled", &charlie_kp, ok(5), S::InvalidNonce).await?;
    bad_voucher(c, &mut w, "replay: a lower nonce", &charlie_kp, ok(4), S::InvalidNonce).await?;
    bad_voucher(
        c,
        &mut w,
        "replay: signed for the fine-tuning contract",
        &charlie_kp,
        {
            // The same voucher signed in the fine-tuning contract's own domain (its name and address).
            let v = ok(6);
            let msg = serving_verifier::TeeSettlement {
                requests_hash: v.requests_hash,
                nonce: v.nonce,
                provider: bytes(&v.provider),
                user: bytes(&v.user),
                total_fee: v.total_fee,
            };
            let c = serving_verifier::LocalCrypto;
            let digest = serving_verifier::Domain::fine_tuning(CHAIN_ID, bytes(&ft)).digest(&c, &msg.struct_hash(&c));
            TeeSettlementData { signature: tee().sign_digest(&digest).to_vec(), ..v }
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "replay: signed for another chain id",
        &charlie_kp,
        TeeSettlementData {
            signature: inference_voucher(&tee(), CHAIN_ID + 1, inference, bob(), charlie(), 1_000, 6).signature,
            ..ok(6)
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "replay: signed for another user",
        &charlie_kp,
        TeeSettlementData {
            signature: inference_voucher(&tee(), CHAIN_ID, inference, eve(), charlie(), 1_000, 6).signature,
            ..ok(6)
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "replay: signed for another provider",
        &charlie_kp,
        TeeSettlementData {
            signature: inference_voucher(&tee(), CHAIN_ID, inference, bob(), dave(), 1_000, 6).signature,
            ..ok(6)
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(c, &mut w, "another provider submits charlie's voucher", &dave_kp, ok(6), S::ProviderMismatch).await?;
    bad_voucher(
        c,
        &mut w,
        "fee raised after signing",
        &charlie_kp,
        TeeSettlementData { total_fee: 2_000, ..ok(6) },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "wrong key",
        &charlie_kp,
        inference_voucher(&LocalSigner::from_bytes(&[9; 32]).unwrap(), CHAIN_ID, inference, bob(), charlie(), 1_000, 6),
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "malformed: 64-byte signature",
        &charlie_kp,
        {
            let mut v = ok(6);
            v.signature.truncate(64);
            v
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "malformed: empty signature",
        &charlie_kp,
        TeeSettlementData { signature: vec![], ..ok(6) },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "high-s twin of a valid signature",
        &charlie_kp,
        {
            let mut v = ok(6);
            v.signature = high_s_twin(&v.signature);
            v
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "v = 0/1 instead of 27/28",
        &charlie_kp,
        {
            let mut v = ok(6);
            v.signature[64] -= 27;
            v
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "r = 0",
        &charlie_kp,
        {
            let mut v = ok(6);
            v.signature[..32].fill(0);
            v
        },
        S::InvalidSignature,
    )
    .await?;
    bad_voucher(
        c,
        &mut w,
        "user without a sub-account",
        &charlie_kp,
        inference_voucher(&tee(), CHAIN_ID, inference, eve(), charlie(), 1_000, 1),
        S::AccountNotFound,
    )
    .await?;
    // Batch-signed settlement: one signature over the whole batch.
    let batch = |key: &LocalSigner, contract: AccountId, vouchers: &[(AccountId, u128, u128)]| {
        serving_e2e_tests::inference_batch(key, CHAIN_ID, contract, charlie(), vouchers)
    };
    let (entries, sig) = batch(&tee(), inference, &[(bob(), 1_000, 6), (bob(), 1_000, 7)]);
    let other_key = LocalSigner::from_bytes(&[8u8; 32]).unwrap();
    let mut reordered = entries.clone();
    reordered.swap(0, 1);
    let mut raised = entries.clone();
    raised[1].total_fee = 2_000;
    let foreign = batch(&tee(), ledger, &[(bob(), 1_000, 6)]);
    let wrong_key = batch(&other_key, inference, &[(bob(), 1_000, 6)]);
    for (attack, e, sg) in [
        ("batch signed by another key", wrong_key.0, wrong_key.1),
        ("batch signed for another contract", foreign.0, foreign.1),
        ("entries reordered after signing", reordered, sig.clone()),
        ("an entry dropped after signing", entries[..1].to_vec(), sig.clone()),
        ("a fee raised after signing", raised, sig.clone()),
        ("high-s twin of the batch signature", entries.clone(), high_s_twin(&sig)),
    ] {
        refused(
            c,
            &mut w,
            ("inference", "settle_fees_with_tee_batch", attack),
            &charlie_kp,
            &i.settle_fees_with_tee_batch(e, sg),
            0,
            IError::InvalidBatchSignature,
        )
        .await?;
    }
    refused(
        c,
        &mut w,
        ("inference", "settle_fees_with_tee_batch", "another account submits charlie's batch"),
        &dave_kp,
        &i.settle_fees_with_tee_batch(entries.clone(), sig.clone()),
        0,
        IError::ServiceNotExist,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "settle_fees_with_tee_batch", "empty batch"),
        &charlie_kp,
        &i.settle_fees_with_tee_batch(vec![], sig.clone()),
        0,
        IError::NoSettlementsProvided,
    )
    .await?;
    {
        // A replayed batch (nonce 5 settled in setup): accepted, every entry InvalidNonce, nothing moves.
        let (e, sg) = batch(&tee(), inference, &[(bob(), 1_000, 5)]);
        let before = snapshot(c).await?;
        let account0 = c.call(&charlie_kp, &i.get_account(bob(), charlie())).dry_run().await?.return_value();
        let r = c.call(&charlie_kp, &i.settle_fees_with_tee_batch(e, sg)).submit().await?;
        let out = r.return_value().expect("the batch itself is accepted");
        assert_eq!((out[0].status, out[0].settled), (S::InvalidNonce, 0));
        assert_eq!(snapshot(c).await?, before, "replayed batch: a balance moved");
        let account1 = c.call(&charlie_kp, &i.get_account(bob(), charlie())).dry_run().await?.return_value();
        assert_eq!(account1, account0, "replayed batch: the sub-account changed");
        w.rows.push(Row {
            contract: "inference",
            message: "settle_fees_with_tee_batch",
            attack: "replay: a batch whose nonces are settled".into(),
            outcome: format!("entry status `{:?}`, nothing settled", S::InvalidNonce),
        });
    }
    refused(
        c,
        &mut w,
        ("inference", "add_or_update_service", "stake below the minimum"),
        &dave_kp,
        &i.add_or_update_service(ServiceParams {
            service_type: "chatbot".into(),
            url: "u".into(),
            input_price: 1,
            output_price: 1,
            model: "m".into(),
            verifiability: "TeeML".into(),
            additional_info: String::new(),
            tee_signer: tee().address(),
        }),
        MIN_STAKE - 1,
        IError::Stake(StakeError::InsufficientStake { value: MIN_STAKE - 1, minimum: MIN_STAKE }),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "add_or_update_service", "url of 513 bytes"),
        &dave_kp,
        &i.add_or_update_service(ServiceParams {
            service_type: "chatbot".into(),
            url: "u".repeat(513),
            input_price: 1,
            output_price: 1,
            model: "m".into(),
            verifiability: "TeeML".into(),
            additional_info: String::new(),
            tee_signer: tee().address(),
        }),
        MIN_STAKE,
        IError::TooLong { len: 513, max: 512 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "add_or_update_service", "value sent with an update"),
        &charlie_kp,
        &i.add_or_update_service(ServiceParams {
            service_type: "chatbot".into(),
            url: "u".into(),
            input_price: 1,
            output_price: 1,
            model: "llama-3-8b".into(),
            verifiability: "TeeML".into(),
            additional_info: String::new(),
            tee_signer: tee().address(),
        }),
        1,
        IError::Stake(StakeError::CannotAddStakeWhenUpdating),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "remove_service", "no service"),
        &dave_kp,
        &i.remove_service(),
        0,
        IError::ServiceNotExist,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "withdraw_stake", "nothing unbonding"),
        &charlie_kp,
        &i.withdraw_stake(),
        0,
        IError::Stake(StakeError::NoUnbondingStake),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "revoke_tokens", "257 token ids"),
        &bob_kp,
        &i.revoke_tokens(charlie(), vec![1; 257]),
        0,
        IError::TooMany { len: 257, max: 256 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "revoke_tokens", "no sub-account"),
        &eve_kp,
        &i.revoke_tokens(charlie(), vec![1]),
        0,
        IError::Account(AccountError::AccountNotExists),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "acknowledge_tee_signer", "no sub-account"),
        &eve_kp,
        &i.acknowledge_tee_signer(charlie(), true),
        0,
        IError::Account(AccountError::AccountNotExists),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "set_tee_signer_acknowledgement", "wrong caller"),
        &bob_kp,
        &i.set_tee_signer_acknowledgement(charlie(), true),
        0,
        IError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "update_lock_time", "wrong caller"),
        &bob_kp,
        &i.update_lock_time(1),
        0,
        IError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "update_lock_time", "out of range (0)"),
        &alice,
        &i.update_lock_time(0),
        0,
        IError::LockTimeOutOfRange,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "update_min_stake", "wrong caller"),
        &bob_kp,
        &i.update_min_stake(1),
        0,
        IError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "set_attestor", "wrong caller"),
        &bob_kp,
        &i.set_attestor([1; 20], true),
        0,
        IError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "set_code", "wrong caller"),
        &bob_kp,
        &i.set_code(Hash::from([1; 32]), Hash::from([2; 32])),
        0,
        IError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "get_accounts", "all, limit 51"),
        &bob_kp,
        &i.get_accounts(AccountFilter::All, 0, 51),
        0,
        IError::LimitTooLarge { limit: 51, max: 50 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "retrieve", "caller is not the ledger"),
        &bob_kp,
        &ink_e2e::create_call_builder::<Inference>(inference).retrieve(bob(), vec![charlie()]),
        0,
        ledger::ServingError::CallerNotLedger,
    )
    .await?;

    // ----------------------------------------------------------- fine-tuning
    // The acknowledged task-1 reveals the model key; task-2 (never acknowledged) settles with an empty secret.
    let ftv = |key: &LocalSigner, chain: u64, contract: AccountId, provider: AccountId, task: &str, nonce: u128| {
        let secret: &[u8] = if task == "task-1" { b"key" } else { b"" };
        ft_voucher(key, chain, contract, provider, task, nonce, secret)
    };
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "replay: the settled task's voucher"),
        &charlie_kp,
        &f.settle_fees(ftv(&tee(), CHAIN_ID, ft, charlie(), "task-1", 1)),
        0,
        FError::Task(TaskError::InvalidNonce),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "replay: an old nonce on a new task"),
        &charlie_kp,
        &f.settle_fees(ftv(&tee(), CHAIN_ID, ft, charlie(), "task-2", 1)),
        0,
        FError::Task(TaskError::InvalidNonce),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "signed for another provider"),
        &charlie_kp,
        &f.settle_fees(ftv(&tee(), CHAIN_ID, ft, dave(), "task-2", 2)),
        0,
        FError::Task(TaskError::InvalidSignature),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "signed for another chain id"),
        &charlie_kp,
        &f.settle_fees(ftv(&tee(), CHAIN_ID + 1, ft, charlie(), "task-2", 2)),
        0,
        FError::Task(TaskError::InvalidSignature),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "signed for the inference contract"),
        &charlie_kp,
        &f.settle_fees(ftv(&tee(), CHAIN_ID, inference, charlie(), "task-2", 2)),
        0,
        FError::Task(TaskError::InvalidSignature),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "wrong key"),
        &charlie_kp,
        &f.settle_fees(ftv(&LocalSigner::from_bytes(&[9; 32]).unwrap(), CHAIN_ID, ft, charlie(), "task-2", 2)),
        0,
        FError::Task(TaskError::InvalidSignature),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "high-s twin"),
        &charlie_kp,
        &f.settle_fees({
            let mut v = ftv(&tee(), CHAIN_ID, ft, charlie(), "task-2", 2);
            v.signature = high_s_twin(&v.signature);
            v
        }),
        0,
        FError::Task(TaskError::InvalidSignature),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "another provider submits it"),
        &dave_kp,
        &f.settle_fees(ftv(&tee(), CHAIN_ID, ft, charlie(), "task-2", 2)),
        0,
        FError::Account(AccountError::AccountNotExists),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "settle_fees", "not acknowledged but carries the secret"),
        &charlie_kp,
        &f.settle_fees(ft_voucher(&tee(), CHAIN_ID, ft, charlie(), "task-2", 2, b"key")),
        0,
        FError::Task(TaskError::SecretShouldBeEmpty),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "add_deliverable", "id of 257 bytes"),
        &charlie_kp,
        &f.add_deliverable(bob(), "i".repeat(257), b"root".to_vec()),
        0,
        FError::Task(TaskError::DeliverableIdInvalidLength { len: 257 }),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "add_deliverable", "empty id"),
        &charlie_kp,
        &f.add_deliverable(bob(), String::new(), b"root".to_vec()),
        0,
        FError::Task(TaskError::DeliverableIdInvalidLength { len: 0 }),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "add_deliverable", "root hash of 257 bytes"),
        &charlie_kp,
        &f.add_deliverable(bob(), "t".into(), vec![1; 257]),
        0,
        FError::TooLong { len: 257, max: 256 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "add_deliverable", "previous task still open"),
        &charlie_kp,
        &f.add_deliverable(bob(), "task-3".into(), b"root".to_vec()),
        0,
        FError::Task(TaskError::PreviousDeliverableNotAcknowledged),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "add_deliverable", "caller has no service"),
        &dave_kp,
        &f.add_deliverable(bob(), "t".into(), b"root".to_vec()),
        0,
        FError::ServiceNotExist,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "acknowledge_deliverable", "someone else's task"),
        &eve_kp,
        &f.acknowledge_deliverable(charlie(), "task-2".into()),
        0,
        FError::Account(AccountError::AccountNotExists),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "acknowledge_deliverable", "unknown task"),
        &bob_kp,
        &f.acknowledge_deliverable(charlie(), "task-9".into()),
        0,
        FError::Task(TaskError::DeliverableNotExists),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "update_penalty_percentage", "wrong caller"),
        &bob_kp,
        &f.update_penalty_percentage(10),
        0,
        FError::Ownership(OwnershipError::NotOwner),
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "update_penalty_percentage", "above 100 %"),
        &alice,
        &f.update_penalty_percentage(101),
        0,
        FError::PenaltyPercentageTooHigh { percent: 101 },
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "set_code", "wrong caller"),
        &bob_kp,
        &f.set_code(Hash::from([1; 32]), Hash::from([2; 32])),
        0,
        FError::Ownership(OwnershipError::NotOwner),
    )
    .await?;

    // ------------------------------------- the full builds (where the contracts' rarely used messages run)
    refused(
        c,
        &mut w,
        ("ledger", "set_code", "full build = thin build"),
        &alice,
        &l.set_code(Hash::from([1; 32]), Hash::from([1; 32])),
        0,
        LError::FullCodeIsThinCode,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("inference", "set_code", "full build = thin build"),
        &alice,
        &i.set_code(Hash::from([1; 32]), Hash::from([1; 32])),
        0,
        IError::FullCodeIsThinCode,
    )
    .await?;
    refused(
        c,
        &mut w,
        ("fine_tuning", "set_code", "full build = thin build"),
        &alice,
        &f.set_code(Hash::from([1; 32]), Hash::from([1; 32])),
        0,
        FError::FullCodeIsThinCode,
    )
    .await?;
    // An upgrade naming a full build no code is uploaded under traps as a whole (pallet-contracts refuses to lock
    // it: `CodeNotFound`): the thin build and the full build stay as they were, and the forwarded messages work.
    let real_i = c.call(&alice, &i.full_code()).dry_run().await?.return_value().expect("a full build");
    let real_f = c.call(&alice, &f.full_code()).dry_run().await?.return_value().expect("a full build");
    let thin_i =
        ContractsBackend::<ink::env::DefaultEnvironment>::upload(c, "inference", &alice).submit().await?.code_hash;
    let thin_f =
        ContractsBackend::<ink::env::DefaultEnvironment>::upload(c, "fine_tuning", &alice).submit().await?.code_hash;
    let before = snapshot(c).await?;
    let r = c.call(&alice, &i.set_code(thin_i, Hash::from([9; 32]))).dry_run().await?;
    assert!(format!("{:?}", r.exec_result.result).contains("CodeNotFound"), "{:?}", r.exec_result.result);
    let r = c.call(&alice, &f.set_code(thin_f, Hash::from([9; 32]))).dry_run().await?;
    assert!(format!("{:?}", r.exec_result.result).contains("CodeNotFound"), "{:?}", r.exec_result.result);
    assert!(c.call(&alice, &i.set_code(thin_i, Hash::from([9; 32]))).submit().await.is_err());
    assert_eq!(snapshot(c).await?, before, "a refused upgrade moves nothing");
    assert_eq!(c.call(&alice, &i.full_code()).dry_run().await?.return_value(), Some(real_i));
    assert_eq!(c.call(&alice, &f.full_code()).dry_run().await?.return_value(), Some(real_f));
    for r in [
        c.call(&alice, &i.update_lock_time(LOCK_MS)).submit().await?.return_value(),
        c.call(&alice, &f.update_lock_time(LOCK_MS)).submit().await?.return_value(),
    ] {
        assert_eq!(r, Ok(()), "the full builds answer as before");
    }

    // --------------------------------------------------------------- the table
    let mut table = String::new();
    table.push_str("| # | contract | message | attack | outcome (and: no balance moved) |\n|---:|---|---|---|---|\n");
    for (n, r) in w.rows.iter().enumerate() {
        table.push_str(&format!("| {} | {} | `{}` | {} | {} |\n", n + 1, r.contract, r.message, r.attack, r.outcome));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/attack-matrix.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let (begin, end) = ("<!-- matrix:begin -->\n", "<!-- matrix:end -->");
    let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/attack-matrix.md lacks the matrix markers")
    };
    let current = &doc[a + begin.len()..b];
    if current != table {
        if std::env::var("SERVING_WRITE_MATRIX").is_ok() {
            std::fs::write(&path, format!("{}{begin}{table}{}", &doc[..a], &doc[b..]))?;
        } else {
            panic!("docs/attack-matrix.md is out of date: run SERVING_WRITE_MATRIX=1 cargo test -p serving-e2e-tests --test sandbox attacks::");
        }
    }
    Ok(())
}
