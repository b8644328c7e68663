//! The sandbox harness shared by the end-to-end suite and the `serving` CLI's demo: a pallet-contracts sandbox
//! whose clock is in milliseconds and moves when asked, a recorder of the events the contracts emit (ink_e2e
//! 5.1.1's sandbox client returns none), native-balance totals, the dev accounts, and builders of service
//! parameters and signed vouchers.
//!
//! The e2e tests run on a current-thread runtime, so the test body and the sandbox share one thread: the
//! clock and the event log are thread-locals.
use ink_sandbox::macros::{DefaultSandboxRuntime, RuntimeEvent};
use ink_sandbox::{DefaultSandbox, Sandbox, Snapshot};
use std::cell::{Cell, RefCell};

/// The sandbox client the tests get with `backend(runtime_only(sandbox = ClockSandbox))`.
pub type Client = ink_e2e::SandboxClient<ink::primitives::AccountId, ink::primitives::Hash, ClockSandbox>;

/// The account id of a key pair.
pub fn id(kp: &ink_e2e::Keypair) -> ink::primitives::AccountId {
    ink::primitives::AccountId::from(kp.public_key().0)
}

/// pallet_balances' existential deposit in ink's sandbox runtime: every contract account keeps it.
pub const EXISTENTIAL_DEPOSIT: u128 = 1;

/// The raw 32 bytes of an account id.
pub fn bytes(a: &ink::primitives::AccountId) -> [u8; 32] {
    *AsRef::<[u8; 32]>::as_ref(a)
}

/// Signed storage deposit of a call: positive when the caller paid it, negative when refunded. Native balance
/// checks add it to the expected change.
pub fn storage_deposit<V>(r: &ink_e2e::CallDryRunResult<ink::env::DefaultEnvironment, V>) -> i128 {
    use ink_sandbox::pallet_contracts::StorageDeposit;
    match r.exec_result.storage_deposit {
        StorageDeposit::Charge(x) => i128::try_from(x).expect("deposit fits"),
        StorageDeposit::Refund(x) => -i128::try_from(x).expect("deposit fits"),
    }
}

/// The well-known dev accounts the sandbox funds.
pub fn bob() -> ink::primitives::AccountId {
    ink_e2e::account_id(ink_e2e::AccountKeyring::Bob)
}
pub fn charlie() -> ink::primitives::AccountId {
    ink_e2e::account_id(ink_e2e::AccountKeyring::Charlie)
}
pub fn dave() -> ink::primitives::AccountId {
    ink_e2e::account_id(ink_e2e::AccountKeyring::Dave)
}
pub fn eve() -> ink::primitives::AccountId {
    ink_e2e::account_id(ink_e2e::AccountKeyring::Eve)
}

/// The TEE key the tests' providers sign vouchers with.
pub fn tee() -> serving_verifier::LocalSigner {
    serving_verifier::LocalSigner::from_bytes(&[7u8; 32]).expect("valid key")
}

/// An inference voucher signed by `key` in the domain of (`chain_id`, `contract`); `requests_hash` derives
/// from the nonce.
pub fn inference_voucher(
    key: &serving_verifier::LocalSigner,
    chain_id: u64,
    contract: ink::primitives::AccountId,
    user: ink::primitives::AccountId,
    provider: ink::primitives::AccountId,
    fee: u128,
    nonce: u128,
) -> inference::inference::TeeSettlementData {
    use serving_verifier::{Domain, LocalCrypto, TeeSettlement};
    let mut requests_hash = [0u8; 32];
    requests_hash[..16].copy_from_slice(&nonce.to_be_bytes());
    let msg = TeeSettlement { requests_hash, nonce, provider: bytes(&provider), user: bytes(&user), total_fee: fee };
    let c = LocalCrypto;
    let digest = Domain::inference(chain_id, bytes(&contract)).digest(&c, &msg.struct_hash(&c));
    inference::inference::TeeSettlementData {
        user,
        provider,
        total_fee: fee,
        requests_hash,
        nonce,
        signature: key.sign_digest(&digest).to_vec(),
    }
}

/// Entries of a batch-signed settlement for `provider`, signed once by `key` over `TEESettlementBatch` in the
/// domain of (`chain_id`, `contract`): (entries, signature). `vouchers` are (user, fee, nonce); `requests_hash`
/// derives from the nonce as in [`inference_voucher`].
pub fn inference_batch(
    key: &serving_verifier::LocalSigner,
    chain_id: u64,
    contract: ink::primitives::AccountId,
    provider: ink::primitives::AccountId,
    vouchers: &[(ink::primitives::AccountId, u128, u128)],
) -> (Vec<inference::inference::BatchEntry>, Vec<u8>) {
    use serving_verifier::{Domain, LocalCrypto};
    let entries: Vec<_> = vouchers
        .iter()
        .map(|&(user, total_fee, nonce)| {
            let mut requests_hash = [0u8; 32];
            requests_hash[..16].copy_from_slice(&nonce.to_be_bytes());
            inference::inference::BatchEntry { user, total_fee, requests_hash, nonce }
        })
        .collect();
    let separator = Domain::inference(chain_id, bytes(&contract)).separator(&LocalCrypto);
    let digest = inference::inference::batch_digest(&LocalCrypto, &separator, &provider, &entries);
    (entries, key.sign_digest(&digest).to_vec())
}

/// The three contracts' full builds once uploaded: their code hashes (which the constructors take) and the
/// storage deposit the uploads held from the uploader.
pub struct FullBuilds {
    pub ledger: ink::primitives::Hash,
    pub inference: ink::primitives::Hash,
    pub fine_tuning: ink::primitives::Hash,
    pub deposit: u128,
}

/// Uploads the three contracts' full builds (`ledger/full`, `inference/full`, `fine_tuning/full`: the code their
/// rarely used messages run in, see `FULL` in the contracts) as Alice.
pub async fn upload_full_builds<C>(client: &mut C) -> Result<FullBuilds, Box<dyn std::error::Error>>
where
    C: ink_e2e::E2EBackend<ink::env::DefaultEnvironment>,
    <C as ink_e2e::ContractsBackend<ink::env::DefaultEnvironment>>::Error: std::fmt::Debug,
{
    let alice = ink_e2e::alice();
    let mut upload = async |name: &str| -> Result<(ink::primitives::Hash, u128), String> {
        let r = client.upload(name, &alice).submit().await.map_err(|e| format!("uploading {name}: {e:?}"))?;
        let deposit = r.dry_run.as_ref().map_err(|e| format!("uploading {name}: {e:?}"))?.deposit;
        Ok((r.code_hash, deposit))
    };
    let (ledger, d0) = upload("ledger_full").await?;
    let (inference, d1) = upload("inference_full").await?;
    let (fine_tuning, d2) = upload("fine_tuning_full").await?;
    let deposit = d0.checked_add(d1).and_then(|d| d.checked_add(d2)).ok_or("deposit overflow")?;
    Ok(FullBuilds { ledger, inference, fine_tuning, deposit })
}

/// The three contracts instantiated by Alice (the owner): the ledger (minimum account 3 M, minimum transfer
/// 1 M), inference and fine-tuning bound to it (their full builds uploaded first). Returns (ledger, inference,
/// fine-tuning); nothing registered.
pub async fn deploy_three(
    client: &mut Client,
    chain_id: u64,
    lock_ms: u64,
    min_stake: u128,
    penalty_percent: u8,
) -> Result<
    (ink::primitives::AccountId, ink::primitives::AccountId, ink::primitives::AccountId),
    Box<dyn std::error::Error>,
> {
    use ink_e2e::ContractsBackend;
    let alice = ink_e2e::alice();
    let full = upload_full_builds(client).await?;
    let mut c = ledger::ledger::LedgerRef::new(chain_id, 3_000_000, 1_000_000, full.ledger);
    let ledger = client.instantiate("ledger", &alice, &mut c).submit().await?.account_id;
    let mut c = inference::inference::InferenceRef::new(ledger, chain_id, lock_ms, min_stake, full.inference);
    let inference = client.instantiate("inference", &alice, &mut c).submit().await?.account_id;
    let mut c = fine_tuning::fine_tuning::FineTuningRef::new(
        ledger,
        chain_id,
        lock_ms,
        min_stake,
        penalty_percent,
        full.fine_tuning,
    );
    let ft = client.instantiate("fine_tuning", &alice, &mut c).submit().await?.account_id;
    Ok((ledger, inference, ft))
}

/// An inference service offer signed by `signer` (the tests' and tools' standard one).
pub fn inference_service(url: &str, signer: [u8; 20]) -> inference::inference::ServiceParams {
    inference::inference::ServiceParams {
        service_type: "chatbot".into(),
        url: url.into(),
        input_price: 1,
        output_price: 2,
        model: "llama-3-8b".into(),
        verifiability: "TeeML".into(),
        additional_info: String::new(),
        tee_signer: signer,
    }
}

/// A fine-tuning service offer with `models` models (`llama-3-8b` first), signed by `signer`.
pub fn fine_tuning_service(url: &str, models: usize, signer: [u8; 20]) -> fine_tuning::fine_tuning::ServiceParams {
    use fine_tuning::fine_tuning::{Quota, ServiceParams};
    ServiceParams {
        url: url.into(),
        quota: Quota { cpu_count: 8, node_memory: 64, gpu_count: 1, node_storage: 500, gpu_type: "H100".into() },
        price_per_token: 1,
        occupied: false,
        models: std::iter::once("llama-3-8b".to_string()).chain((1..models).map(|m| format!("model-{m}"))).collect(),
        tee_signer: signer,
    }
}

/// What a fine-tuning voucher says (everything but the domain and the key).
pub struct Task<'a> {
    pub user: ink::primitives::AccountId,
    pub provider: ink::primitives::AccountId,
    pub id: &'a str,
    pub secret: &'a [u8],
    pub root: &'a [u8],
    pub nonce: u128,
    pub fee: u128,
}

/// A fine-tuning voucher for `task`, signed by `key` in the domain of (`chain_id`, `contract`).
pub fn fine_tuning_voucher(
    key: &serving_verifier::LocalSigner,
    chain_id: u64,
    contract: ink::primitives::AccountId,
    task: &Task,
) -> fine_tuning::fine_tuning::VerifierInput {
    use serving_verifier::{Domain, LocalCrypto, VerifierMessage};
    let msg = VerifierMessage {
        id: task.id.as_bytes(),
        encrypted_secret: task.secret,
        model_root_hash: task.root,
        nonce: task.nonce,
        task_fee: task.fee,
        user: bytes(&task.user),
        provider: bytes(&task.provider),
    };
    let c = LocalCrypto;
    let digest = Domain::fine_tuning(chain_id, bytes(&contract)).digest(&c, &msg.struct_hash(&c));
    fine_tuning::fine_tuning::VerifierInput {
        id: task.id.into(),
        encrypted_secret: task.secret.to_vec(),
        model_root_hash: task.root.to_vec(),
        nonce: task.nonce,
        task_fee: task.fee,
        user: task.user,
        signature: key.sign_digest(&digest).to_vec(),
    }
}

pub use serving_verifier::high_s_twin;

/// The clock's starting point: 2026-01-01T00:00:00Z in milliseconds.
pub const START_MS: u64 = 1_767_225_600_000;

thread_local! {
    static NOW_MS: Cell<u64> = const { Cell::new(START_MS) };
    static EVENTS: RefCell<Vec<ContractEvent>> = const { RefCell::new(Vec::new()) };
    static WATCH: RefCell<Vec<[u8; 32]>> = const { RefCell::new(Vec::new()) };
    static TOTALS: RefCell<Totals> = const { RefCell::new(Totals { accounts: Vec::new(), issuance: 0 }) };
}

/// What the chain holds for the watched accounts, read after the sandbox's latest state change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Per watched account: (free, total = free + reserved + held, e.g. storage deposits).
    pub accounts: Vec<([u8; 32], u128, u128)>,
    /// pallet_balances' total issuance.
    pub issuance: u128,
}

impl Totals {
    /// The total (free + reserved + held) of a watched account.
    pub fn total_of(&self, a: &[u8; 32]) -> Option<u128> {
        self.accounts.iter().find(|(x, _, _)| x == a).map(|(_, _, t)| *t)
    }

    /// Sum of the watched accounts' totals.
    pub fn sum(&self) -> u128 {
        self.accounts.iter().map(|(_, _, t)| t).sum()
    }
}

/// Accounts whose balances the sandbox reads after every state change (see [`totals`]).
pub fn watch(accounts: &[[u8; 32]]) {
    WATCH.with(|w| *w.borrow_mut() = accounts.to_vec());
}

/// The watched accounts' balances and the total issuance after the latest client action (any call, dry run
/// excepted, or `free_balance` query).
pub fn totals() -> Totals {
    TOTALS.with(|t| t.borrow().clone())
}

/// The sandbox's current time in milliseconds (what `block_timestamp()` returns in the contracts).
pub fn now_ms() -> u64 {
    NOW_MS.with(|c| c.get())
}

/// Moves the clock forward.
pub fn advance_ms(delta: u64) {
    NOW_MS.with(|c| c.set(c.get().checked_add(delta).expect("clock overflow")));
}

/// One event emitted by a contract.
#[derive(Clone, Debug)]
pub struct ContractEvent {
    pub contract: [u8; 32],
    pub topics: Vec<[u8; 32]>,
    pub data: Vec<u8>,
}

/// Takes every event recorded since the last call.
pub fn take_events() -> Vec<ContractEvent> {
    EVENTS.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

/// Decodes the recorded events of type `E` emitted by `contract`: matched by the event's signature topic, or, for
/// an anonymous event (inference's `TeeSettlementResults`, the only one), by having no topic and decoding whole.
pub fn events_of<E>(events: &[ContractEvent], contract: &[u8; 32]) -> Vec<E>
where
    E: ink::env::Event + ink::scale::Decode,
{
    match E::SIGNATURE_TOPIC {
        Some(signature) => events
            .iter()
            .filter(|e| &e.contract == contract && e.topics.first() == Some(&signature))
            .map(|e| E::decode(&mut &e.data[..]).expect("event data decodes"))
            .collect(),
        None => events
            .iter()
            .filter(|e| &e.contract == contract && e.topics.is_empty())
            .filter_map(|e| ink::scale::DecodeAll::decode_all(&mut &e.data[..]).ok())
            .collect(),
    }
}

/// ink_e2e's default sandbox (real pallet-contracts, balances, timestamp), with a millisecond clock the
/// test controls and an event recorder. Use with
/// `#[ink_e2e::test(backend(runtime_only(sandbox = serving_e2e_tests::ClockSandbox)))]`.
#[derive(Default)]
pub struct ClockSandbox {
    inner: DefaultSandbox,
}

type Runtime = DefaultSandboxRuntime;

impl Sandbox for ClockSandbox {
    type Runtime = Runtime;

    fn execute_with<T>(&mut self, execute: impl FnOnce() -> T) -> T {
        let now = now_ms();
        self.inner.execute_with(|| {
            ink_sandbox::pallet_timestamp::Now::<Runtime>::put(now);
            ink_sandbox::frame_system::Pallet::<Runtime>::reset_events();
            let out = execute();
            record_events();
            record_totals();
            out
        })
    }

    fn dry_run<T>(&mut self, action: impl FnOnce(&mut Self) -> T) -> T {
        let snapshot = self.inner.take_snapshot();
        let recorded = EVENTS.with(|e| e.borrow().len());
        let totals = totals();
        let out = action(self);
        self.inner.restore_snapshot(snapshot);
        EVENTS.with(|e| e.borrow_mut().truncate(recorded));
        TOTALS.with(|t| *t.borrow_mut() = totals);
        out
    }

    fn register_extension<E: std::any::Any + ink_sandbox::Extension>(&mut self, ext: E) {
        self.inner.register_extension(ext);
    }

    fn initialize_block(
        height: ink_sandbox::frame_system::pallet_prelude::BlockNumberFor<Runtime>,
        parent_hash: <Runtime as ink_sandbox::frame_system::Config>::Hash,
    ) {
        DefaultSandbox::initialize_block(height, parent_hash)
    }

    fn finalize_block(
        height: ink_sandbox::frame_system::pallet_prelude::BlockNumberFor<Runtime>,
    ) -> <Runtime as ink_sandbox::frame_system::Config>::Hash {
        DefaultSandbox::finalize_block(height)
    }

    fn default_actor() -> ink_sandbox::AccountIdFor<Runtime> {
        DefaultSandbox::default_actor()
    }

    fn get_metadata() -> ink_sandbox::RuntimeMetadataPrefixed {
        DefaultSandbox::get_metadata()
    }

    fn convert_account_to_origin(
        account: ink_sandbox::AccountIdFor<Runtime>,
    ) -> <<Runtime as ink_sandbox::frame_system::Config>::RuntimeCall as ink_sandbox::frame_support::sp_runtime::traits::Dispatchable>::RuntimeOrigin{
        DefaultSandbox::convert_account_to_origin(account)
    }

    fn take_snapshot(&mut self) -> Snapshot {
        self.inner.take_snapshot()
    }

    fn restore_snapshot(&mut self, snapshot: Snapshot) {
        self.inner.restore_snapshot(snapshot)
    }
}

fn record_events() {
    let records = ink_sandbox::frame_system::Pallet::<Runtime>::events();
    let mut emitted = Vec::new();
    EVENTS.with(|log| {
        let mut log = log.borrow_mut();
        for r in records {
            if let RuntimeEvent::Contracts(ink_sandbox::pallet_contracts::Event::ContractEmitted { contract, data }) =
                r.event
            {
                let e = ContractEvent {
                    contract: *contract.as_ref(),
                    topics: r.topics.iter().map(|t| t.0).collect(),
                    data,
                };
                emitted.push(e.clone());
                log.push(e);
            }
        }
    });
    log_events(&emitted);
}

/// With `SERVING_EVENT_LOG=DIR`, every event a contract emits is also appended to `DIR/<process id>.jsonl` as
/// `{"contract","topics","data"}` (hex): the interop check decodes all of them with polkadot.js and requires every
/// event type in the metadata to be among them (`make test` sets it for the e2e suite).
fn log_events(events: &[ContractEvent]) {
    use std::io::Write;
    let Some(dir) = std::env::var_os("SERVING_EVENT_LOG") else { return };
    if events.is_empty() {
        return;
    }
    let hex = |b: &[u8]| format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>());
    let mut text = String::new();
    for e in events {
        let topics: Vec<String> = e.topics.iter().map(|t| format!("\"{}\"", hex(t))).collect();
        text.push_str(&format!(
            "{{\"contract\":\"{}\",\"topics\":[{}],\"data\":\"{}\"}}\n",
            hex(&e.contract),
            topics.join(","),
            hex(&e.data)
        ));
    }
    let dir = std::path::PathBuf::from(dir);
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        let path = dir.join(format!("{}.jsonl", std::process::id()));
        std::fs::OpenOptions::new().create(true).append(true).open(path)?.write_all(text.as_bytes())
    });
    if let Err(e) = written {
        panic!("SERVING_EVENT_LOG: cannot write to {}: {e}", dir.display());
    }
}

fn record_totals() {
    use ink_sandbox::frame_support::traits::fungible::Inspect;
    type Balances = ink_sandbox::pallet_balances::Pallet<Runtime>;
    let watched = WATCH.with(|w| w.borrow().clone());
    let accounts = watched
        .into_iter()
        .map(|a| {
            let who = ink_sandbox::AccountId32::new(a);
            (a, Balances::free_balance(&who), Balances::total_balance(&who))
        })
        .collect();
    TOTALS.with(|t| *t.borrow_mut() = Totals { accounts, issuance: Balances::total_issuance() });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The twin is refused by the low-s rule itself (not, say, for a bad v), and only by it.
    #[test]
    fn high_s_twin_is_refused_as_high_s() {
        use serving_verifier::{recover_signer, LocalCrypto, SignatureError};
        for n in 0..20u8 {
            let digest = [n; 32];
            let sig = tee().sign_digest(&digest);
            let twin = high_s_twin(&sig);
            assert_eq!(recover_signer(&LocalCrypto, &digest, &twin), Err(SignatureError::HighS));
            assert_eq!(high_s_twin(&twin), sig.to_vec(), "the twin of the twin is the original");
        }
    }
}
