//! The same contracts on a real node (ink_e2e's node backend): `make node-e2e` builds with `--features node`
//! and runs this against substrate-contracts-node (spawned by ink_e2e from `CONTRACTS_NODE` or the PATH, or the
//! node at `CONTRACTS_NODE_URL` when that is set at build time). A real chain charges transaction fees and its
//! clock is the wall clock, so this story checks contract state and contract balances, not callers' wallets,
//! and does not wait out lock times (the sandbox suite does both exactly).
#![cfg(feature = "node")]

use fine_tuning::fine_tuning::{FineTuning, FineTuningRef};
use inference::inference::{Inference, InferenceRef, SettlementStatus};
use ink::primitives::AccountId;
use ink_e2e::{ChainBackend, ContractsBackend};
use ledger::ledger::{Ledger, LedgerRef};
use serving_e2e_tests::{id, inference_voucher, tee};

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;

const CHAIN_ID: u64 = 42;
const LOCK_MS: u64 = 3_600_000;
const MIN_STAKE: u128 = 1_000_000_000_000;
const UNIT: u128 = 1_000_000_000_000;

#[ink_e2e::test]
async fn whole_story_on_a_node<Client: E2EBackend>(mut client: Client) -> E2EResult<()> {
    let (alice, bob, charlie) = (ink_e2e::alice(), ink_e2e::bob(), ink_e2e::charlie());
    let (bob_id, charlie_id) = (id(&bob), id(&charlie));
    let full = serving_e2e_tests::upload_full_builds(&mut client).await?;
    let mut c = LedgerRef::new(CHAIN_ID, UNIT, UNIT / 10, full.ledger);
    let ledger = client.instantiate("ledger", &alice, &mut c).submit().await?.account_id;
    let mut c = InferenceRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, full.inference);
    let inference = client.instantiate("inference", &alice, &mut c).submit().await?.account_id;
    let mut c = FineTuningRef::new(ledger, CHAIN_ID, LOCK_MS, MIN_STAKE, 30, full.fine_tuning);
    let ft = client.instantiate("fine_tuning", &alice, &mut c).submit().await?.account_id;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(ft);
    for (t, a) in [("inference", inference), ("fine-tuning", ft)] {
        let r = client.call(&alice, &l.register_service(t.into(), "v1".into(), a, String::new())).submit().await?;
        assert_eq!(r.return_value(), Ok(()));
    }
    let p = serving_e2e_tests::inference_service("https://charlie.example/v1", tee().address());
    let r = client.call(&charlie, &i.add_or_update_service(p)).value(MIN_STAKE).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&alice, &i.set_tee_signer_acknowledgement(charlie_id, true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let q = serving_e2e_tests::fine_tuning_service("https://charlie.example/ft", 1, tee().address());
    let r = client.call(&charlie, &f.add_or_update_service(q)).value(MIN_STAKE).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&alice, &f.set_tee_signer_acknowledgement(charlie_id, true)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));

    // Bob: a ledger of 20, 10 at inference, 5 at fine-tuning.
    let r = client.call(&bob, &l.add_ledger(String::new())).value(20 * UNIT).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&bob, &l.transfer_fund(charlie_id, inference, 10 * UNIT)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&bob, &l.transfer_fund(charlie_id, ft, 5 * UNIT)).submit().await?;
    assert_eq!(r.return_value(), Ok(()));

    // Inference: one voucher in full, one partial.
    let batch = vec![
        inference_voucher(&tee(), CHAIN_ID, inference, bob_id, charlie_id, 3 * UNIT, 1),
        inference_voucher(&tee(), CHAIN_ID, inference, bob_id, charlie_id, 9 * UNIT, 2),
    ];
    let inference_before = client.free_balance(inference).await?;
    let r = client.call(&charlie, &i.settle_fees_with_tee(batch)).submit().await?;
    let out = r.return_value().expect("settled");
    assert_eq!(
        out.iter().map(|o| (o.status, o.settled, o.unsettled)).collect::<Vec<_>>(),
        vec![(SettlementStatus::Success, 3 * UNIT, 0), (SettlementStatus::Partial, 7 * UNIT, 2 * UNIT)]
    );
    assert_eq!(client.free_balance(inference).await?, inference_before - 10 * UNIT);

    // Fine-tuning: delivered, acknowledged, settled for 4.
    let root = b"merkle root".to_vec();
    let r = client.call(&charlie, &f.add_deliverable(bob_id, "task-1".into(), root.clone())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let r = client.call(&bob, &f.acknowledge_deliverable(charlie_id, "task-1".into())).submit().await?;
    assert_eq!(r.return_value(), Ok(()));
    let secret = b"encrypted model key".to_vec();
    let task = serving_e2e_tests::Task {
        user: bob_id,
        provider: charlie_id,
        id: "task-1",
        secret: &secret,
        root: &root,
        nonce: 1,
        fee: 4 * UNIT,
    };
    let input = serving_e2e_tests::fine_tuning_voucher(&tee(), CHAIN_ID, ft, &task);
    let r = client.call(&charlie, &f.settle_fees(input)).submit().await?;
    assert_eq!(r.return_value(), Ok(4 * UNIT));

    // Bob's ledger: 20 - 10 - 4 = 6 in total, 5 available, 1 at fine-tuning; the ledger holds what it owes.
    let v = client.call(&bob, &l.get_ledger(bob_id)).dry_run().await?.return_value().expect("ledger");
    assert_eq!((v.available_balance, v.total_balance), (5 * UNIT, 6 * UNIT));
    let liab = client.call(&bob, &l.liabilities()).dry_run().await?.return_value();
    assert_eq!(liab, 5 * UNIT);
    assert!(client.free_balance(ledger).await? >= liab);
    for (contract, owed) in [(inference, MIN_STAKE), (ft, MIN_STAKE + UNIT)] {
        assert!(client.free_balance(contract).await? >= owed);
    }
    let _: AccountId = ledger;
    Ok(())
}
