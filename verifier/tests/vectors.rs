//! Our EIP-712 digests and signatures against an independent implementation (eth-account; see
//! verifier/vectors/gen_vectors.py) and against the reference's own vectors (upstream-behaviour.md §5.3).
use serde_json::Value;
use serving_verifier::*;

fn h32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap().try_into().unwrap()
}
fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}
fn num(v: &Value) -> u128 {
    v.as_str().unwrap().parse().unwrap()
}

const HARDHAT_1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const HARDHAT_2: &str = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

#[test]
fn eth_account_vectors() {
    let c = LocalCrypto;
    let file: Value = serde_json::from_str(include_str!("../vectors/vectors.json")).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 8, "too few vectors");
    let mut kinds = std::collections::BTreeSet::new();
    for case in cases {
        let i = &case["input"];
        let kind = case["kind"].as_str().unwrap();
        kinds.insert(kind.to_string());
        let chain_id = u64::try_from(num(&i["chainId"])).unwrap();
        let contract = h32(&i["contract"]);
        let (domain, struct_hash, key) = match kind {
            "inference" => (
                Domain::inference(chain_id, contract),
                TeeSettlement {
                    requests_hash: h32(&i["requestsHash"]),
                    nonce: num(&i["nonce"]),
                    provider: h32(&i["provider"]),
                    user: h32(&i["user"]),
                    total_fee: num(&i["totalFee"]),
                }
                .struct_hash(&c),
                HARDHAT_1,
            ),
            "fine_tuning" => {
                let secret = bytes(&i["encryptedSecret"]);
                let root = bytes(&i["modelRootHash"]);
                let msg = VerifierMessage {
                    id: i["id"].as_str().unwrap().as_bytes(),
                    encrypted_secret: &secret,
                    model_root_hash: &root,
                    nonce: num(&i["nonce"]),
                    task_fee: num(&i["taskFee"]),
                    user: h32(&i["user"]),
                    provider: h32(&i["provider"]),
                };
                (Domain::fine_tuning(chain_id, contract), msg.struct_hash(&c), HARDHAT_1)
            }
            "inference_batch" => {
                let provider = h32(&i["provider"]);
                let mut hashes = Vec::new();
                for e in i["settlements"].as_array().unwrap() {
                    let entry = TeeSettlement {
                        requests_hash: h32(&e["requestsHash"]),
                        nonce: num(&e["nonce"]),
                        provider: h32(&e["provider"]),
                        user: h32(&e["user"]),
                        total_fee: num(&e["totalFee"]),
                    };
                    assert_eq!(entry.provider, provider, "a batch's entries name its provider");
                    hashes.extend_from_slice(&entry.struct_hash(&c));
                }
                (Domain::inference(chain_id, contract), batch_struct_hash(&c, &provider, &hashes), HARDHAT_1)
            }
            "attestation" => {
                let name_hash = c.keccak256(i["domainName"].as_str().unwrap().as_bytes());
                let signer: [u8; 20] = bytes(&i["signer"]).try_into().unwrap();
                let a = TeeAttestation {
                    provider: h32(&i["provider"]),
                    signer,
                    measurement: h32(&i["measurement"]),
                    expires_at: u64::try_from(num(&i["expiresAt"])).unwrap(),
                };
                (Domain { name_hash, chain_id, contract }, a.struct_hash(&c), HARDHAT_2)
            }
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(domain.separator(&c), h32(&case["domain_separator"]), "{kind} domain separator: {case}");
        assert_eq!(struct_hash, h32(&case["struct_hash"]), "{kind} struct hash: {case}");
        let digest = domain.digest(&c, &struct_hash);
        assert_eq!(digest, h32(&case["digest"]), "{kind} digest: {case}");
        let signer = LocalSigner::from_bytes(&hex::decode(key).unwrap()).unwrap();
        let expected_signer: [u8; 20] = bytes(&case["signer"]).try_into().unwrap();
        assert_eq!(signer.address(), expected_signer);
        // RFC 6979 on both sides: the same bytes.
        assert_eq!(signer.sign_digest(&digest).to_vec(), bytes(&case["signature"]), "{kind} signature");
        check_signature(&c, &digest, &bytes(&case["signature"]), &expected_signer).unwrap();
    }
    assert_eq!(kinds.len(), 4, "every message kind must have vectors: {kinds:?}");
}

/// The reference's own format (address verifyingContract, address user/provider, no provider in the
/// fine-tuning message), built with our word encoder and digest: proves the shared primitives byte for byte.
#[test]
fn reference_vectors() {
    let c = LocalCrypto;
    let ref_domain_typehash =
        c.keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    assert_eq!(hex::encode(ref_domain_typehash), "8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f");
    let addr = |s: &str| -> [u8; 20] { hex::decode(s).unwrap().try_into().unwrap() };
    let contract = address_word(&addr("5fbdb2315678afecb367f032d93f642f64180aa3"));
    let user = address_word(&addr("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"));
    let provider = address_word(&addr("3c44cdddb6a900fa2b585dd299e03d12fa4293bc"));
    let signer = LocalSigner::from_bytes(&hex::decode(HARDHAT_1).unwrap()).unwrap();
    assert_eq!(hex::encode(signer.address()), "70997970c51812dc3a010c7d01b50e0d17dc79c8");

    // Inference.
    let sep = hash_words(&c, &[ref_domain_typehash, INFERENCE_DOMAIN_NAME_HASH, VERSION_1_HASH, uint(31337), contract]);
    assert_eq!(hex::encode(sep), "5e9e221e5f8f7cbbe8af60d8d96a928129a96e678b65ea192079c1dbb5b0458a");
    let typehash = c
        .keccak256(b"TEESettlement(bytes32 requestsHash,uint256 nonce,address provider,address user,uint256 totalFee)");
    assert_eq!(hex::encode(typehash), "6e525043a6c7323bdf60ce222f35127cdd9d8e867ec6350c83fcc254ed18b756");
    let requests_hash = c.keccak256(b"test_requests_hash");
    assert_eq!(hex::encode(requests_hash), "333aac39186d3b62ace6a42d52a0efc9012043512346ae4db05d4b3433163522");
    let sh = hash_words(&c, &[typehash, requests_hash, uint(1), provider, user, uint(50)]);
    assert_eq!(hex::encode(sh), "efbbd51955920f8075c9ea440761eac7e367e66d0438410d3415ca45dd9656bd");
    let digest = typed_digest(&c, &sep, &sh);
    assert_eq!(hex::encode(digest), "58de85a3299dbc4560aada8c47667465c720e3895c13cc6c8e7a20af3a5cbdbd");
    let sig = hex::decode("ee8a61822b5aec8c8e4ad4d9a9bb9a0d98e55408acea5277a9435c54d76cae4a530b13997e2a25009a2c18adaf75d105784a84b20c9963163005b8d5a3410fea1c").unwrap();
    assert_eq!(signer.sign_digest(&digest).to_vec(), sig);
    check_signature(&c, &digest, &sig, &signer.address()).unwrap();

    // Fine-tuning.
    let sep =
        hash_words(&c, &[ref_domain_typehash, FINE_TUNING_DOMAIN_NAME_HASH, VERSION_1_HASH, uint(31337), contract]);
    assert_eq!(hex::encode(sep), "71cabdd3e794b106d57ed8e9d71874dba16dc7c7583801fbec922f8a567cf458");
    let typehash = c.keccak256(
        b"VerifierMessage(string id,bytes encryptedSecret,bytes modelRootHash,uint256 nonce,uint256 taskFee,address user)",
    );
    assert_eq!(hex::encode(typehash), "62159bda4585d49f24b8da323cfc70b1fbad40f51efbf45e18fe3bdfb409945e");
    let blob = hex::decode("1234567890abcdef1234567890abcdef12345678").unwrap();
    let sh = hash_words(
        &c,
        &[typehash, c.keccak256(b"task-0001"), c.keccak256(&blob), c.keccak256(&blob), uint(1), uint(10), user],
    );
    assert_eq!(hex::encode(sh), "c9c230d5f900c11b295f9d9aeb4777c066efce8dd3f0b2ba01cf17370245ca54");
    let digest = typed_digest(&c, &sep, &sh);
    assert_eq!(hex::encode(digest), "edafe74dd07beacfb1ba2cc0d6cb7a2c2cea90d1fe56767b41edc5f4a0354b50");
    let sig = hex::decode("6e02d554d05fc318d3cb7e8e104de112a2fcbec164faaa1fce46354020248a9f43e6955f3820e0fed588a5a24203affde8e8439ff3399a03c352e61ab888907c1b").unwrap();
    assert_eq!(signer.sign_digest(&digest).to_vec(), sig);
    check_signature(&c, &digest, &sig, &signer.address()).unwrap();
    assert_eq!(hex::encode(c.keccak256(b"")), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    let sh2 = hash_words(
        &c,
        &[typehash, c.keccak256(b"task-0001"), c.keccak256(b""), c.keccak256(&blob), uint(2), uint(10), user],
    );
    assert_eq!(hex::encode(sh2), "c1e43a90957d0e16b301508e3960753c7530e6e4d9a8f7deaae7968b0f672623");
}
