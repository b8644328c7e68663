//! Fixtures for the interop tests in `interop/` (Node.js with @polkadot/api-contract, and `cargo contract
//! encode`): the bytes our Rust code encodes for calls and constructors with fixed arguments, and events the
//! contracts emitted in the sandbox with the values Rust decodes from them. Written to `target/interop/`; the
//! Node.js test encodes/decodes the same things from the bundles' metadata and compares.
use fine_tuning::fine_tuning::{FineTuning, FineTuningRef, Quota, ServiceParams as FtParams, VerifierInput};
use inference::inference::{Inference, InferenceRef, ServiceParams, TeeSettlementResults};
use ink::env::call::{utils::ReturnType, CreateBuilder, ExecutionInput, FromAccountId};
use ink::env::DefaultEnvironment;
use ink::primitives::{AccountId, Hash};
use ink::scale::Encode;
use ink_e2e::{CallBuilderFinal, ContractsBackend};
use ledger::ledger::{FundTransferred, Ledger, LedgerAdded, LedgerRef};
use service_core::events::BalanceUpdated;
use serving_e2e_tests::{bob, bytes, charlie, events_of, inference_voucher, take_events, tee};
use std::path::PathBuf;

type E2EResult<T> = Result<T, Box<dyn std::error::Error>>;

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/interop");
    std::fs::create_dir_all(&d).expect("create target/interop");
    d
}

fn hex0(b: &[u8]) -> String {
    format!("0x{}", hex(b))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn acc(n: u8) -> AccountId {
    AccountId::from([n; 32])
}

fn a(x: &AccountId) -> String {
    hex0(&bytes(x))
}

fn msg<Args: Encode + Clone, R>(m: &CallBuilderFinal<DefaultEnvironment, Args, R>) -> String {
    hex0(&m.clone().params().exec_input().encode())
}

/// The encoded input of a constructor (selector and arguments), as ink_e2e instantiates it.
#[allow(clippy::type_complexity)]
fn ctor<C, Args: Encode, R>(
    b: CreateBuilder<
        DefaultEnvironment,
        C,
        ink::env::call::utils::Unset<Hash>,
        ink::env::call::utils::Set<ink::env::call::LimitParamsV2<DefaultEnvironment>>,
        ink::env::call::utils::Unset<u128>,
        ink::env::call::utils::Set<ExecutionInput<Args>>,
        ink::env::call::utils::Unset<ink::env::call::state::Salt>,
        ink::env::call::utils::Set<ReturnType<R>>,
    >,
) -> String
where
    C: FromAccountId<DefaultEnvironment>,
{
    hex0(&b.endowment(0).code_hash(Hash::from([0; 32])).salt_bytes(Vec::<u8>::new()).params().exec_input().encode())
}

fn case(contract: &str, kind: &str, name: &str, args: serde_json::Value, rust: String) -> serde_json::Value {
    serde_json::json!({ "contract": contract, "kind": kind, "name": name, "args": args, "rust": rust })
}

/// Calls and constructors with fixed arguments. Argument JSON follows polkadot.js conventions: accounts and
/// byte arrays as 0x-hex, balances and u128 as decimal strings, structs as objects keyed by field name.
#[test]
fn call_data_fixtures() {
    use serde_json::json;
    let (user, provider, service, ledger_addr) = (acc(0xb0), acc(0xc0), acc(0x5e), acc(0x1e));
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger_addr);
    let mut i = ink_e2e::create_call_builder::<Inference>(service);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(service);
    let big: u128 = u128::MAX - 7;
    let voucher = inference_voucher(&tee(), 42, service, user, provider, 3_000_000, 9);
    let ft_input = VerifierInput {
        id: "task-ü-1".into(),
        encrypted_secret: vec![0xab; 40],
        model_root_hash: b"root".to_vec(),
        nonce: 3,
        task_fee: big,
        user,
        signature: vec![0x11; 65],
    };
    let ft_params = FtParams {
        url: "https://trainer.example".into(),
        quota: Quota { cpu_count: 8, node_memory: 64, gpu_count: 1, node_storage: 500, gpu_type: "H100".into() },
        price_per_token: 5,
        occupied: true,
        models: vec!["llama-3-8b".into(), "mistral-7b".into()],
        tee_signer: [0x70; 20],
    };
    let params = ServiceParams {
        service_type: "chatbot".into(),
        url: "https://provider.example/v1".into(),
        input_price: 1,
        output_price: big,
        model: "llama-3-8b".into(),
        verifiability: "TeeML".into(),
        additional_info: "ünïcode".into(),
        tee_signer: [0x70; 20],
    };
    let cases = vec![
        case(
            "ledger",
            "constructor",
            "new",
            json!([42, "3000000", "1000000", format!("0x{}", "11".repeat(32))]),
            ctor(LedgerRef::new(42, 3_000_000, 1_000_000, ink::primitives::Hash::from([0x11; 32]))),
        ),
        case("ledger", "message", "add_ledger", json!(["some info"]), msg(&l.add_ledger("some info".into()))),
        case("ledger", "message", "refund", json!([big.to_string()]), msg(&l.refund(big))),
        case(
            "ledger",
            "message",
            "transfer_fund",
            json!([a(&provider), a(&service), "5000000"]),
            msg(&l.transfer_fund(provider, service, 5_000_000)),
        ),
        case(
            "ledger",
            "message",
            "retrieve_fund",
            json!([[a(&provider), a(&acc(0xc1))], a(&service)]),
            msg(&l.retrieve_fund(vec![provider, acc(0xc1)], service)),
        ),
        case(
            "ledger",
            "message",
            "register_service",
            json!(["inference", "v1", a(&service), ""]),
            msg(&l.register_service("inference".into(), "v1".into(), service, String::new())),
        ),
        case("ledger", "message", "get_funded", json!([a(&user), a(&service)]), msg(&l.get_funded(user, service))),
        case(
            "inference",
            "constructor",
            "new",
            json!([a(&ledger_addr), 42, 3_600_000, "100000000", hex0(&[0xf1; 32])]),
            ctor(InferenceRef::new(ledger_addr, 42, 3_600_000, 100_000_000, [0xf1; 32].into())),
        ),
        case(
            "inference",
            "message",
            "add_or_update_service",
            json!([{
                "service_type": "chatbot", "url": "https://provider.example/v1", "input_price": "1",
                "output_price": big.to_string(), "model": "llama-3-8b", "verifiability": "TeeML",
                "additional_info": "ünïcode", "tee_signer": hex0(&[0x70; 20])
            }]),
            msg(&i.add_or_update_service(params)),
        ),
        case(
            "inference",
            "message",
            "settle_fees_with_tee",
            json!([[{
                "user": a(&voucher.user), "provider": a(&voucher.provider), "total_fee": voucher.total_fee.to_string(),
                "requests_hash": hex0(&voucher.requests_hash), "nonce": voucher.nonce.to_string(),
                "signature": hex0(&voucher.signature)
            }]]),
            msg(&i.settle_fees_with_tee(vec![voucher.clone()])),
        ),
        case(
            "inference",
            "message",
            "revoke_tokens",
            json!([a(&provider), hex0(&[1, 2, 255])]),
            msg(&i.revoke_tokens(provider, vec![1, 2, 255])),
        ),
        case(
            "inference",
            "message",
            "acknowledge_tee_signer",
            json!([a(&provider), true]),
            msg(&i.acknowledge_tee_signer(provider, true)),
        ),
        case(
            "fine_tuning",
            "constructor",
            "new",
            json!([a(&ledger_addr), 42, 3_600_000, "100000000", 30, hex0(&[0xf2; 32])]),
            ctor(FineTuningRef::new(ledger_addr, 42, 3_600_000, 100_000_000, 30, [0xf2; 32].into())),
        ),
        case(
            "fine_tuning",
            "message",
            "add_or_update_service",
            json!([{
                "url": "https://trainer.example",
                "quota": { "cpu_count": 8, "node_memory": 64, "gpu_count": 1, "node_storage": 500, "gpu_type": "H100" },
                "price_per_token": "5", "occupied": true, "models": ["llama-3-8b", "mistral-7b"],
                "tee_signer": hex0(&[0x70; 20])
            }]),
            msg(&f.add_or_update_service(ft_params)),
        ),
        case(
            "fine_tuning",
            "message",
            "add_deliverable",
            json!([a(&user), "task-ü-1", hex0(b"root")]),
            msg(&f.add_deliverable(user, "task-ü-1".into(), b"root".to_vec())),
        ),
        case(
            "fine_tuning",
            "message",
            "settle_fees",
            json!([{
                "id": "task-ü-1", "encrypted_secret": hex0(&[0xab; 40]), "model_root_hash": hex0(b"root"),
                "nonce": "3", "task_fee": big.to_string(), "user": a(&user), "signature": hex0(&[0x11; 65])
            }]),
            msg(&f.settle_fees(ft_input)),
        ),
    ];
    let text = serde_json::to_string_pretty(&cases).expect("json");
    std::fs::write(out_dir().join("calls.json"), text).expect("write calls.json");
    // The fixtures must be real encodings: a spot check by hand of one of them.
    let expect = {
        let mut v = ink::selector_bytes!("transfer_fund").to_vec();
        v.extend((provider, service, 5_000_000u128).encode());
        hex0(&v)
    };
    assert_eq!(cases[3]["rust"], serde_json::json!(expect));
}

/// A short story in the sandbox; every event the contracts emitted, with what Rust decodes from some of them.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn event_fixtures(mut client: Client) -> E2EResult<()> {
    use serde_json::json;
    let full = serving_e2e_tests::upload_full_builds(&mut client).await?;
    let mut c = LedgerRef::new(42, 3_000_000, 1_000_000, full.ledger);
    let ledger = client.instantiate("ledger", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut c = InferenceRef::new(ledger, 42, 3_600_000, 100_000_000, full.inference);
    let inference = client.instantiate("inference", &ink_e2e::alice(), &mut c).submit().await?.account_id;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let reg = l.register_service("inference".into(), "v1".into(), inference, String::new());
    assert_eq!(client.call(&ink_e2e::alice(), &reg).submit().await?.return_value(), Ok(()));
    let p = serving_e2e_tests::inference_service("https://provider.example/v1", tee().address());
    let add = i.add_or_update_service(p);
    assert_eq!(client.call(&ink_e2e::charlie(), &add).value(100_000_000).submit().await?.return_value(), Ok(()));
    let ack = i.set_tee_signer_acknowledgement(charlie(), true);
    assert_eq!(client.call(&ink_e2e::alice(), &ack).submit().await?.return_value(), Ok(()));
    take_events();
    let open = l.add_ledger(String::new());
    assert_eq!(client.call(&ink_e2e::bob(), &open).value(20_000_000).submit().await?.return_value(), Ok(()));
    let t = l.transfer_fund(charlie(), inference, 10_000_000);
    assert_eq!(client.call(&ink_e2e::bob(), &t).submit().await?.return_value(), Ok(()));
    let v = inference_voucher(&tee(), 42, inference, bob(), charlie(), 3_000_000, 1);
    let s = i.settle_fees_with_tee(vec![v]);
    assert!(client.call(&ink_e2e::charlie(), &s).submit().await?.return_value().is_ok());
    let consent = i.acknowledge_tee_signer(charlie(), false);
    assert_eq!(client.call(&ink_e2e::bob(), &consent).submit().await?.return_value(), Ok(()));
    let events = take_events();

    let (lb, ib) = (bytes(&ledger), bytes(&inference));
    let mut expected = Vec::new();
    for e in events_of::<LedgerAdded>(&events, &lb) {
        expected.push(json!({ "contract": "ledger", "event": "LedgerAdded",
            "args": { "user": a(&e.user), "amount": e.amount.to_string() } }));
    }
    for e in events_of::<FundTransferred>(&events, &lb) {
        expected.push(json!({ "contract": "ledger", "event": "FundTransferred", "args": {
            "user": a(&e.user), "service": a(&e.service), "provider": a(&e.provider),
            "amount": e.amount.to_string(), "cancelled": e.cancelled.to_string(), "sent": e.sent.to_string() } }));
    }
    for e in events_of::<BalanceUpdated>(&events, &ib) {
        expected.push(json!({ "contract": "inference", "event": "BalanceUpdated", "args": {
            "user": a(&e.user), "provider": a(&e.provider), "balance": e.balance.to_string(),
            "pending_refund": e.pending_refund.to_string() } }));
    }
    for e in events_of::<TeeSettlementResults>(&events, &ib) {
        let results: Vec<_> = e
            .results
            .iter()
            .map(|r| {
                json!({ "user": a(&r.user), "status": format!("{:?}", r.status), "settled": r.settled.to_string(),
                "unsettled": r.unsettled.to_string(), "nonce": r.nonce.to_string() })
            })
            .collect();
        let balances: Vec<_> = e
            .balances
            .iter()
            .map(|b| json!({ "user": a(&b.user), "balance": b.balance.to_string(), "pendingRefund": b.pending_refund.to_string() }))
            .collect();
        expected.push(json!({ "contract": "inference", "event": "TeeSettlementResults",
            "args": { "provider": a(&e.provider), "results": results, "balances": balances } }));
    }
    for e in events_of::<service_core::events::UserAcknowledgementChanged>(&events, &ib) {
        expected.push(json!({ "contract": "inference", "event": "UserAcknowledgementChanged", "args": {
            "user": a(&e.user), "provider": a(&e.provider), "acknowledged": e.acknowledged.to_string(),
            "effective_at": e.effective_at.to_string() } }));
    }
    assert!(expected.len() >= 5, "the story emits at least one of each decoded event: {expected:?}");
    let recorded: Vec<_> = events
        .iter()
        .map(|e| {
            let contract = if e.contract == lb {
                "ledger"
            } else if e.contract == ib {
                "inference"
            } else {
                "other"
            };
            json!({
                "contract": contract,
                "topics": e.topics.iter().map(|t| hex0(t)).collect::<Vec<_>>(),
                "data": hex0(&e.data),
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&json!({ "recorded": recorded, "expected": expected }))?;
    std::fs::write(out_dir().join("events.json"), text)?;
    Ok(())
}

/// The owner and admin events the other suites only meet as refusals, emitted for real, so that the interop check
/// (`interop/abi.test.mjs`, fed by `SERVING_EVENT_LOG`) sees every event type the contracts declare.
#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]
async fn admin_events(mut client: Client) -> E2EResult<()> {
    let (alice, bob_kp) = (ink_e2e::alice(), ink_e2e::bob());
    let (ledger, inference, ft) = serving_e2e_tests::deploy_three(&mut client, 42, 3_600_000, 100_000_000, 30).await?;
    let mut l = ink_e2e::create_call_builder::<Ledger>(ledger);
    let mut i = ink_e2e::create_call_builder::<Inference>(inference);
    let mut f = ink_e2e::create_call_builder::<FineTuning>(ft);
    let reg = l.register_service("inference".into(), "v1".into(), inference, String::new());
    assert_eq!(client.call(&alice, &reg).submit().await?.return_value(), Ok(()));
    let rec = l.set_recommended_service("inference".into(), "v1".into());
    assert_eq!(client.call(&alice, &rec).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &l.set_minimums(3_000_001, 1_000_001)).submit().await?.return_value(), Ok(()));
    let open = l.add_ledger(String::new());
    assert_eq!(client.call(&bob_kp, &open).value(20_000_000).submit().await?.return_value(), Ok(()));
    let info = l.update_additional_info("public key: 0x01".into());
    assert_eq!(client.call(&bob_kp, &info).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&bob_kp, &l.deposit_fund()).value(5).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &i.update_lock_time(7_200_000)).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &i.update_min_stake(5)).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &f.update_penalty_percentage(40)).submit().await?.return_value(), Ok(()));
    // The settlement batch limit: 1..=80, an event only when it changes, config() shows it, the refusals typed.
    assert_eq!(client.call(&alice, &i.config()).dry_run().await?.return_value().max_batch, 50);
    assert_eq!(client.call(&alice, &i.set_max_settlements(80)).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &i.set_max_settlements(80)).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&alice, &i.config()).dry_run().await?.return_value().max_batch, 80);
    let bad = |limit| Err(inference::inference::Error::BatchLimitOutOfRange { limit, max: 80 });
    assert_eq!(client.call(&alice, &i.set_max_settlements(0)).dry_run().await?.return_value(), bad(0));
    assert_eq!(client.call(&alice, &i.set_max_settlements(81)).dry_run().await?.return_value(), bad(81));
    let not_owner = Err(inference::inference::Error::Ownership(service_core::provider::OwnershipError::NotOwner));
    assert_eq!(client.call(&bob_kp, &i.set_max_settlements(10)).dry_run().await?.return_value(), not_owner);
    assert_eq!(client.call(&alice, &f.config()).dry_run().await?.return_value().max_batch, 1);
    assert_eq!(client.call(&alice, &l.transfer_ownership(bob())).submit().await?.return_value(), Ok(()));
    assert_eq!(client.call(&bob_kp, &l.accept_ownership()).submit().await?.return_value(), Ok(()));
    let ev = take_events();
    let (lb, ib, fb) = (bytes(&ledger), bytes(&inference), bytes(&ft));
    use service_core::events as se;
    assert_eq!(events_of::<ledger::ledger::LedgerInfoUpdated>(&ev, &lb).len(), 1);
    assert_eq!(events_of::<ledger::ledger::MinimumsUpdated>(&ev, &lb).len(), 1);
    assert_eq!(events_of::<ledger::ledger::RecommendedServiceUpdated>(&ev, &lb).len(), 1);
    assert_eq!(events_of::<ledger::ledger::FundDeposited>(&ev, &lb).len(), 1);
    assert_eq!(events_of::<se::OwnershipTransferStarted>(&ev, &lb).len(), 1);
    assert_eq!(events_of::<se::OwnershipTransferred>(&ev, &lb).len(), 1);
    assert_eq!(events_of::<se::LockTimeUpdated>(&ev, &ib).len(), 1);
    assert_eq!(events_of::<se::MinStakeUpdated>(&ev, &ib).len(), 1);
    assert_eq!(events_of::<fine_tuning::fine_tuning::PenaltyPercentageUpdated>(&ev, &fb).len(), 1);
    let max = events_of::<inference::inference::MaxSettlementsUpdated>(&ev, &ib);
    assert_eq!(max.iter().map(|e| e.max).collect::<Vec<_>>(), vec![80], "one event, for the change only");
    Ok(())
}
