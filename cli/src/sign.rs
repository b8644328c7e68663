//! `serving sign`: vouchers signed with a TEE key, and the SCALE call data of the settle message that carries
//! them (what `cargo contract call` and polkadot.js submit; the same bytes ink!'s generated call builder
//! encodes, selector first).
//!
//! Input (JSON; amounts and nonces as numbers or decimal strings, bytes as 0x-hex, accounts as 0x-hex of their
//! 32 bytes):
//! - `{"kind": "inference", "chainId", "contract", "provider", "settlements": [{"user", "totalFee",
//!   "requestsHash", "nonce"}, ...]}`: 1..=80 vouchers (more than 50, the contracts' default limit, with a
//!   warning) for `settle_fees_with_tee`, each signed; with `--batch`,
//!   the same entries signed once as a `TEESettlementBatch` for `settle_fees_with_tee_batch`;
//! - `{"kind": "fine_tuning", "chainId", "contract", "provider", "user", "id", "encryptedSecret",
//!   "modelRootHash", "nonce", "taskFee"}`: one voucher for `settle_fees`.
use crate::{account, bytes, field, hex0, int, R};
use fine_tuning::fine_tuning::{FineTuning, VerifierInput};
use inference::inference::{BatchEntry, Inference, TeeSettlementData};
use ink::env::DefaultEnvironment;
use ink::primitives::AccountId;
use ink::scale::Encode;
use ink_e2e::CallBuilderFinal;
use serde_json::{json, Value};
use serving_verifier::{Domain, LocalCrypto, LocalSigner, VerifierMessage};

/// The encoded input of a message call: its selector, then its SCALE-encoded arguments.
pub fn call_data<Args: Encode + Clone, Ret>(msg: &CallBuilderFinal<DefaultEnvironment, Args, Ret>) -> Vec<u8> {
    msg.clone().params().exec_input().encode()
}

/// Signs the input: each voucher on its own, or (`batch`, inference only) the whole batch once. Refuses what every
/// contract would refuse (see `check_nonces`, `voucher`), and more vouchers than `max_batch` when it is known.
pub fn sign(key: &LocalSigner, v: &Value, batch: bool, max_batch: Option<usize>) -> R<Value> {
    let chain_id = u64::try_from(int(v, "chainId")?).map_err(|_| "chainId too large")?;
    let contract = account(field(v, "contract")?, "contract")?;
    let provider = account(field(v, "provider")?, "provider")?;
    let c = LocalCrypto;
    match field(v, "kind")? {
        "inference" => {
            let list = crate::settlements(v)?;
            let domain = Domain::inference(chain_id, contract);
            let separator = domain.separator(&c);
            let mut msgs = Vec::new();
            for (n, s) in list.iter().enumerate() {
                msgs.push(crate::voucher(s, provider).map_err(|e| format!("settlements[{n}]: {e}"))?);
            }
            let keys: Vec<Value> =
                msgs.iter().map(|m| json!({ "user": hex0(&m.user), "nonce": m.nonce.to_string() })).collect();
            crate::check_nonces(keys.iter())?;
            match max_batch {
                Some(max) if msgs.len() > max => {
                    return Err(format!(
                        "{} vouchers in one call, but the contract's limit (config().max_batch) is {max}: it would \
                         refuse the call (TooMany); sign at most {max} per input, or let `serving settle` split",
                        msgs.len()
                    ))
                }
                Some(_) => {}
                None => crate::warn_batch_size(msgs.len(), None),
            }
            let mut i = ink_e2e::create_call_builder::<Inference>(AccountId::from(contract));
            if batch {
                let entries: Vec<BatchEntry> = msgs
                    .iter()
                    .map(|m| BatchEntry {
                        user: AccountId::from(m.user),
                        total_fee: m.total_fee,
                        requests_hash: m.requests_hash,
                        nonce: m.nonce,
                    })
                    .collect();
                let digest = service_core::settle::batch_digest(&c, &separator, &AccountId::from(provider), &entries);
                let signature = key.sign_digest(&digest).to_vec();
                let shown: Vec<Value> = msgs
                    .iter()
                    .map(|m| {
                        json!({
                            "user": hex0(&m.user),
                            "totalFee": m.total_fee.to_string(),
                            "requestsHash": hex0(&m.requests_hash),
                            "nonce": m.nonce.to_string(),
                        })
                    })
                    .collect();
                let args = vec![
                    scon_list(msgs.iter().map(|m| {
                        format!(
                            "BatchEntry {{ user: {}, total_fee: {}, requests_hash: {}, nonce: {} }}",
                            ss58(&m.user),
                            m.total_fee,
                            hex0(&m.requests_hash),
                            m.nonce
                        )
                    })),
                    hex0(&signature),
                ];
                return Ok(json!({
                    "message": "settle_fees_with_tee_batch",
                    "signer": hex0(&key.address()),
                    "provider": hex0(&provider),
                    "entries": shown,
                    "signature": hex0(&signature),
                    "digest": hex0(&digest),
                    "callData": hex0(&call_data(&i.settle_fees_with_tee_batch(entries, signature))),
                    "args": args,
                }));
            }
            let mut data = Vec::new();
            let mut out = Vec::new();
            for msg in msgs {
                let digest = serving_verifier::typed_digest(&c, &separator, &msg.struct_hash(&c));
                let signature = key.sign_digest(&digest).to_vec();
                out.push(json!({
                    "user": hex0(&msg.user),
                    "provider": hex0(&provider),
                    "totalFee": msg.total_fee.to_string(),
                    "requestsHash": hex0(&msg.requests_hash),
                    "nonce": msg.nonce.to_string(),
                    "signature": hex0(&signature),
                    "digest": hex0(&digest),
                }));
                data.push(TeeSettlementData {
                    user: AccountId::from(msg.user),
                    provider: AccountId::from(provider),
                    total_fee: msg.total_fee,
                    requests_hash: msg.requests_hash,
                    nonce: msg.nonce,
                    signature,
                });
            }
            let args = vec![scon_list(data.iter().map(|d| {
                format!(
                    "TeeSettlementData {{ user: {}, provider: {}, total_fee: {}, requests_hash: {}, nonce: {}, signature: {} }}",
                    ss58(d.user.as_ref()),
                    ss58(&provider),
                    d.total_fee,
                    hex0(&d.requests_hash),
                    d.nonce,
                    hex0(&d.signature)
                )
            }))];
            Ok(json!({
                "message": "settle_fees_with_tee",
                "signer": hex0(&key.address()),
                "settlements": out,
                "callData": hex0(&call_data(&i.settle_fees_with_tee(data))),
                "args": args,
            }))
        }
        "fine_tuning" if batch => Err("--batch applies to inference vouchers only".into()),
        "fine_tuning" => {
            let id = field(v, "id")?;
            let secret = bytes(field(v, "encryptedSecret")?, "encryptedSecret")?;
            let root = bytes(field(v, "modelRootHash")?, "modelRootHash")?;
            let user = account(field(v, "user")?, "user")?;
            use service_core::tuning::{MAX_ROOT_HASH_LENGTH, MAX_SECRET_LENGTH};
            for (name, len, max) in [
                ("encryptedSecret", secret.len(), MAX_SECRET_LENGTH),
                ("modelRootHash", root.len(), MAX_ROOT_HASH_LENGTH),
            ] {
                if service_core::check_len(len, max).is_err() {
                    return Err(format!("{name}: at most {max} bytes, got {len}"));
                }
            }
            let msg = VerifierMessage {
                id: id.as_bytes(),
                encrypted_secret: &secret,
                model_root_hash: &root,
                nonce: int(v, "nonce")?,
                task_fee: int(v, "taskFee")?,
                user,
                provider,
            };
            if !msg.id_len_ok() {
                return Err("id must be 1..=256 bytes".into());
            }
            let digest = Domain::fine_tuning(chain_id, contract).digest(&c, &msg.struct_hash(&c));
            let signature = key.sign_digest(&digest).to_vec();
            let input = VerifierInput {
                id: id.into(),
                encrypted_secret: secret.clone(),
                model_root_hash: root.clone(),
                nonce: msg.nonce,
                task_fee: msg.task_fee,
                user: AccountId::from(user),
                signature: signature.clone(),
            };
            let args = vec![format!(
                "VerifierInput {{ id: {:?}, encrypted_secret: {}, model_root_hash: {}, nonce: {}, task_fee: {}, user: {}, signature: {} }}",
                id,
                hex0(&secret),
                hex0(&root),
                msg.nonce,
                msg.task_fee,
                ss58(&user),
                hex0(&signature)
            )];
            let mut f = ink_e2e::create_call_builder::<FineTuning>(AccountId::from(contract));
            Ok(json!({
                "message": "settle_fees",
                "signer": hex0(&key.address()),
                "input": {
                    "id": id,
                    "encryptedSecret": hex0(&secret),
                    "modelRootHash": hex0(&root),
                    "nonce": msg.nonce.to_string(),
                    "taskFee": msg.task_fee.to_string(),
                    "user": hex0(&user),
                    "signature": hex0(&signature),
                },
                "digest": hex0(&digest),
                "callData": hex0(&call_data(&f.settle_fees(input))),
                "args": args,
            }))
        }
        other => Err(format!("unknown kind `{other}` (inference, fine_tuning)")),
    }
}

/// An account as SS58 (generic prefix 42), the form cargo-contract's `--args` reads.
fn ss58(account: &[u8; 32]) -> String {
    ink_e2e::subxt::utils::AccountId32(*account).to_string()
}

/// A list in cargo-contract's argument syntax (SCON): `[ a, b ]`.
fn scon_list(items: impl Iterator<Item = String>) -> String {
    format!("[ {} ]", items.collect::<Vec<_>>().join(", "))
}
