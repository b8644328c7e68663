#!/usr/bin/env python3
"""Generates verifier/vectors/vectors.json with eth-account, an EIP-712 implementation independent of ours.

Regenerate (from the repository root):
    python3 -m venv /tmp/vectors-venv && /tmp/vectors-venv/bin/pip install eth-account==0.13.7
    /tmp/vectors-venv/bin/python verifier/vectors/gen_vectors.py > verifier/vectors/vectors.json

The Rust test verifier/tests/vectors.rs recomputes every domain separator, struct hash, digest and
signature with our code and compares.
"""
import json

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

# hardhat account #1, the key the reference's tests use as the TEE signer
KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
# a second key (hardhat account #2), used as an attestor
ATTESTOR_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "salt", "type": "bytes32"},
]
TYPES = {
    "TEESettlement": [
        {"name": "requestsHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "provider", "type": "bytes32"},
        {"name": "user", "type": "bytes32"},
        {"name": "totalFee", "type": "uint256"},
    ],
    "VerifierMessage": [
        {"name": "id", "type": "string"},
        {"name": "encryptedSecret", "type": "bytes"},
        {"name": "modelRootHash", "type": "bytes"},
        {"name": "nonce", "type": "uint256"},
        {"name": "taskFee", "type": "uint256"},
        {"name": "user", "type": "bytes32"},
        {"name": "provider", "type": "bytes32"},
    ],
    "TeeAttestation": [
        {"name": "provider", "type": "bytes32"},
        {"name": "signer", "type": "address"},
        {"name": "measurement", "type": "bytes32"},
        {"name": "expiresAt", "type": "uint256"},
    ],
}


def b32(fill):
    return "0x" + (bytes([fill]) * 32).hex()


TYPES["TEESettlementBatch"] = [
    {"name": "provider", "type": "bytes32"},
    {"name": "settlements", "type": "TEESettlement[]"},
]
# The types each primary type refers to (eth-account appends them to the encoded type, as EIP-712 says).
REFERENCED = {"TEESettlementBatch": ["TEESettlement"]}


def case(kind, domain_name, primary, message, key, json_message):
    domain = {"name": domain_name, "version": "1", "chainId": json_message["chainId"], "salt": json_message["contract"]}
    types = {"EIP712Domain": DOMAIN_FIELDS, primary: TYPES[primary]}
    for t in REFERENCED.get(primary, []):
        types[t] = TYPES[t]
    full = {
        "types": types,
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }
    signable = encode_typed_data(full_message=full)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    signed = Account.sign_message(signable, key)
    # Numbers as decimal strings: JSON readers differ on integers beyond 2^53.
    def show(v):
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return [show(x) for x in v]
        if isinstance(v, dict):
            return {k: show(x) for k, x in v.items()}
        return v

    shown = show(json_message)
    return {
        "kind": kind,
        "input": shown,
        "domain_separator": "0x" + signable.header.hex(),
        "struct_hash": "0x" + signable.body.hex(),
        "digest": "0x" + digest.hex(),
        "signer": Account.from_key(key).address.lower(),
        "signature": "0x" + bytes(signed.signature).hex(),
    }


def main():
    out = []
    contracts = [b32(0x11), "0x" + bytes(range(32)).hex()]
    users = [b32(0xAA), "0x" + keccak(b"user").hex()]
    providers = [b32(0xBB), "0x" + keccak(b"provider").hex()]
    for i, (chain, fee, nonce) in enumerate([(31337, 50, 1), (42, 10**18, 7), (1, 2**128 - 1, 2**64)]):
        m = {
            "chainId": chain,
            "contract": contracts[i % 2],
            "requestsHash": "0x" + keccak(b"test_requests_hash" + bytes([i])).hex(),
            "nonce": nonce,
            "provider": providers[i % 2],
            "user": users[(i + 1) % 2],
            "totalFee": fee,
        }
        msg = {k: m[k] for k in ["requestsHash", "nonce", "provider", "user", "totalFee"]}
        out.append(case("inference", "0G Inference Serving", "TEESettlement", msg, KEY, m))
    ft_inputs = [
        ("task-0001", "0x1234567890abcdef1234567890abcdef12345678", "0x1234567890abcdef1234567890abcdef12345678", 1, 10),
        ("task-0001", "0x", "0x1234567890abcdef1234567890abcdef12345678", 2, 10),
        ("训练任务-ü", "0x" + "ab" * 300, "0x", 99, 10**20),
    ]
    for i, (tid, secret, root, nonce, fee) in enumerate(ft_inputs):
        m = {
            "chainId": 31337 + i,
            "contract": contracts[i % 2],
            "id": tid,
            "encryptedSecret": secret,
            "modelRootHash": root,
            "nonce": nonce,
            "taskFee": fee,
            "user": users[i % 2],
            "provider": providers[(i + 1) % 2],
        }
        msg = {k: m[k] for k in ["id", "encryptedSecret", "modelRootHash", "nonce", "taskFee", "user", "provider"]}
        out.append(case("fine_tuning", "0G Fine-Tuning Serving", "VerifierMessage", msg, KEY, m))
    # Batch-signed settlement: one signature over TEESettlementBatch(bytes32 provider,TEESettlement[] settlements).
    for i, count in enumerate([1, 3, 50]):
        provider = providers[i % 2]
        entries = [
            {
                "requestsHash": "0x" + keccak(b"batch" + bytes([i, j])).hex(),
                "nonce": j + 1 if i < 2 else 2**64 + j,
                "provider": provider,
                "user": "0x" + keccak(b"user" + bytes([j])).hex(),
                "totalFee": (j + 1) * 10**15 if i < 2 else 2**128 - 1 - j,
            }
            for j in range(count)
        ]
        m = {"chainId": 42 + i, "contract": contracts[i % 2], "provider": provider, "settlements": entries}
        msg = {"provider": provider, "settlements": entries}
        out.append(case("inference_batch", "0G Inference Serving", "TEESettlementBatch", msg, KEY, m))
    tee_signer = Account.from_key(KEY).address.lower()
    for i, (domain_name, expires) in enumerate([("0G Inference Serving", 1_800_000_000_000), ("0G Fine-Tuning Serving", 1)]):
        m = {
            "chainId": 7 + i,
            "contract": contracts[i % 2],
            "provider": providers[i % 2],
            "signer": tee_signer,
            "measurement": "0x" + keccak(b"compose-hash" + bytes([i])).hex(),
            "expiresAt": expires,
            "domainName": domain_name,
        }
        msg = {k: m[k] for k in ["provider", "signer", "measurement", "expiresAt"]}
        out.append(case("attestation", domain_name, "TeeAttestation", msg, ATTESTOR_KEY, m))
    print(json.dumps({"generator": "eth-account 0.13.7 encode_typed_data + Account.sign_message", "cases": out}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
