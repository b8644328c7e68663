//! `serving settle` against a node: the [`Chain`] of the settlement runner over subxt (ink_e2e's node client,
//! which signs with sr25519 and waits for the extrinsic's inclusion).
use inference::inference::{
    BatchEntry, Error, Inference, SettlementOutcome, TeeSettlementData, TeeSettlementResult, TeeSettlementResults,
};
use ink::env::DefaultEnvironment;
use ink::primitives::AccountId;
use ink::scale::Decode;
use ink_e2e::{CallBuilderFinal, ContractsBackend, Keypair, PolkadotConfig};
use serving_cli::settle::Chain;
use serving_cli::watch::Watch;

type R<T> = Result<T, String>;

pub struct NodeChain {
    client: ink_e2e::Client<PolkadotConfig, DefaultEnvironment>,
    signer: Keypair,
    contract: AccountId,
}

impl NodeChain {
    pub async fn connect(url: &str, signer: Keypair, contract: AccountId) -> R<NodeChain> {
        let rpc = ink_e2e::RpcClient::from_url(url).await.map_err(|e| format!("connecting to {url}: {e}"))?;
        let client = ink_e2e::Client::new(rpc, Vec::<String>::new())
            .await
            .map_err(|e| format!("reading the chain's metadata at {url}: {e}"))?;
        Ok(NodeChain { client, signer, contract })
    }

    fn provider(&self) -> AccountId {
        AccountId::from(self.signer.public_key().0)
    }

    /// The results of this contract's `TeeSettlementResults` event in the extrinsic's events.
    fn results(&self, events: &ink_e2e::subxt::blocks::ExtrinsicEvents<PolkadotConfig>) -> R<Vec<TeeSettlementResult>> {
        for ev in events.find::<ink_e2e::events::ContractEmitted<DefaultEnvironment>>() {
            let ev = ev.map_err(|e| format!("decoding the extrinsic's events: {e}"))?;
            if ev.contract == self.contract {
                if let Ok(r) = TeeSettlementResults::decode(&mut &ev.data[..]) {
                    return Ok(r.results);
                }
            }
        }
        Err("the extrinsic was included but emitted no TeeSettlementResults event".into())
    }
}

/// The inference contract's batch limit (`config().max_batch`), read with a dry run on the node at `url`.
pub fn max_batch(url: &str, contract: AccountId) -> R<usize> {
    let rt = ink_e2e::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    rt.block_on(async {
        // Any account can dry-run a view; nothing is signed or sent.
        let mut chain = NodeChain::connect(url, ink_e2e::alice(), contract).await?;
        let i = ink_e2e::create_call_builder::<Inference>(contract);
        let dry = chain.client.call(&chain.signer, &i.config()).dry_run().await.map_err(err)?;
        let config = dry.return_value();
        usize::try_from(config.max_batch).map_err(|_| "max_batch too large".to_string())
    })
}

impl NodeChain {
    /// The contract's batch limit (`config().max_batch`).
    pub async fn max_batch(&mut self) -> R<usize> {
        let i = ink_e2e::create_call_builder::<Inference>(self.contract);
        let config = self.client.call(&self.signer, &i.config()).dry_run().await.map_err(err)?.return_value();
        usize::try_from(config.max_batch).map_err(|_| "max_batch too large".to_string())
    }
}

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl Chain for NodeChain {
    async fn preview(&mut self, vouchers: &[TeeSettlementData]) -> R<Result<Vec<SettlementOutcome>, Error>> {
        let i = ink_e2e::create_call_builder::<Inference>(self.contract);
        let msg = i.preview_settlement_results(self.provider(), vouchers.to_vec());
        Ok(self.client.call(&self.signer, &msg).dry_run().await.map_err(err)?.return_value())
    }

    async fn preview_batch(
        &mut self,
        entries: &[BatchEntry],
        signature: &[u8],
    ) -> R<Result<Vec<SettlementOutcome>, Error>> {
        // A dry run of the settlement itself is its preview (same judging, nothing written).
        let mut i = ink_e2e::create_call_builder::<Inference>(self.contract);
        let msg = i.settle_fees_with_tee_batch(entries.to_vec(), signature.to_vec());
        Ok(self.client.call(&self.signer, &msg).dry_run().await.map_err(err)?.return_value())
    }

    async fn settle(&mut self, vouchers: Vec<TeeSettlementData>) -> R<Result<Vec<TeeSettlementResult>, Error>> {
        let mut i = ink_e2e::create_call_builder::<Inference>(self.contract);
        self.submit(&i.settle_fees_with_tee(vouchers)).await
    }

    async fn settle_batch(
        &mut self,
        entries: Vec<BatchEntry>,
        signature: Vec<u8>,
    ) -> R<Result<Vec<TeeSettlementResult>, Error>> {
        let mut i = ink_e2e::create_call_builder::<Inference>(self.contract);
        self.submit(&i.settle_fees_with_tee_batch(entries, signature)).await
    }
}

impl Watch for NodeChain {
    async fn accounts(&mut self, users: &[AccountId]) -> R<Vec<Option<inference::inference::AccountView>>> {
        let i = ink_e2e::create_call_builder::<Inference>(self.contract);
        let msg = i.get_batch_accounts_by_users(self.provider(), users.to_vec());
        let views = self.client.call(&self.signer, &msg).dry_run().await.map_err(err)?.return_value();
        views.map_err(|e| format!("get_batch_accounts_by_users: {e:?}"))
    }

    fn now_ms(&mut self) -> u64 {
        // Block times follow the wall clock; a little early is on the safe side of every deadline.
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }
}

impl NodeChain {
    /// Dry-runs a settlement message (a refusal is returned as the contract's error, nothing is sent), then
    /// submits it, waits for inclusion and reads the outcomes from the extrinsic's events.
    async fn submit<Args: ink::scale::Encode + Clone + Sync>(
        &mut self,
        msg: &CallBuilderFinal<DefaultEnvironment, Args, Result<Vec<SettlementOutcome>, Error>>,
    ) -> R<Result<Vec<TeeSettlementResult>, Error>> {
        let dry = self.client.call(&self.signer, msg).dry_run().await.map_err(err)?;
        if let Err(e) = dry.return_value() {
            return Ok(Err(e));
        }
        let r = self.client.call(&self.signer, msg).submit().await.map_err(err)?;
        self.results(&r.events).map(Ok)
    }
}
