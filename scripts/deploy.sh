#!/usr/bin/env bash
# Uploads the three contracts' full builds (the code their rarely used messages run in: the owner's, provider
# registration, stake withdrawal, closing a ledger; see docs/performance.md), instantiates the three release bundles
# (each given its full build's code hash) on a pallet-contracts node and registers the two services
# in the ledger as ("inference", "v1") and ("fine-tuning", "v1"), each the recommended version, with
# cargo-contract. Prints the contract addresses as JSON, SS58 and under "hex" (also written to --out, and as
# shell variables URL, LEDGER, INFERENCE, FINE_TUNING to the same name with .env for .json: `. ./deployment.env`).
# The default amounts fit substrate-contracts-node's dev accounts (2^60 ≈ 1.15·10^18 units each). Every run
# instantiates with a fresh random salt, so running it again deploys a new set instead of failing on addresses
# that are taken (--salt 0x… for a fixed one).
#
#   scripts/deploy.sh [--url ws://127.0.0.1:9944] [--suri //Alice] [--chain-id 42] [--lock-ms 86400000]
#                     [--min-stake 1000000000000] [--min-account 1000000000000] [--min-transfer 100000000000]
#                     [--penalty 30] [--salt 0x<bytes>] [--out deployment.json]
#
# --suri is the owner's secret URI (a dev account, a mnemonic, or a raw seed); keep real ones out of your
# shell history (e.g. --suri "$(cat owner.suri)").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

URL=ws://127.0.0.1:9944 SURI=//Alice CHAIN_ID=42 LOCK_MS=86400000 MIN_STAKE=1000000000000
MIN_ACCOUNT=1000000000000 MIN_TRANSFER=100000000000 PENALTY=30 OUT=""
SALT=0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
while [ $# -gt 0 ]; do
  case "$1" in
    --url) URL=$2 ;; --suri) SURI=$2 ;; --chain-id) CHAIN_ID=$2 ;; --lock-ms) LOCK_MS=$2 ;;
    --min-stake) MIN_STAKE=$2 ;; --min-account) MIN_ACCOUNT=$2 ;; --min-transfer) MIN_TRANSFER=$2 ;;
    --penalty) PENALTY=$2 ;; --salt) SALT=$2 ;; --out) OUT=$2 ;;
    *) echo "unknown option $1 (see the header of $0)"; exit 2 ;;
  esac
  shift 2 || { echo "$1 needs a value"; exit 2; }
done

# SERVING_BUNDLES: another folder of bundles (scripts/web-node-e2e.sh deploys a test-chain build from one).
BUNDLES=${SERVING_BUNDLES:-target/ink}
for c in ledger inference fine_tuning ledger_full inference_full fine_tuning_full; do
  [ -f "$BUNDLES/$c/$c.contract" ] || bash scripts/bundles.sh
done

say() { printf '[deploy] %s\n' "$*" >&2; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# SS58 (what cargo-contract prints) → 0x-hex of the 32 account bytes (what `serving` and its JSON take).
ss58_hex() {
  python3 - "$1" <<'PY'
import sys
a = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
n = 0
for ch in sys.argv[1]:
    n = n * 58 + a.index(ch)
raw = n.to_bytes(35, "big")  # 1-byte prefix (42 on a dev node), 32 account bytes, 2 checksum bytes
print("0x" + raw[1:33].hex())
PY
}

# Uploads a bundle's code (once per chain: a code already there is kept) and prints its code hash, the
# blake2-256 of the Wasm, as pallet-contracts computes it.
upload() {
  local name=$1 out
  say "uploading $name"
  if ! out=$(cargo contract upload "$BUNDLES/$name/$name.contract" --suri "$SURI" --url "$URL" -x --skip-confirm \
      --output-json 2>&1); then
    grep -q "already been uploaded" <<<"$out" || { printf '%s\n' "$out" >&2; exit 1; }
    say "$name: already uploaded"
  fi
  python3 -c 'import hashlib, sys; print("0x" + hashlib.blake2b(open(sys.argv[1], "rb").read(), digest_size=32).hexdigest())' \
    "$BUNDLES/$name/$name.wasm"
}

instantiate() {
  local name=$1; shift
  say "instantiating $name"
  cargo contract instantiate "$BUNDLES/$name/$name.contract" --constructor new --args "$@" \
    --salt "$SALT" --suri "$SURI" --url "$URL" -x --skip-confirm --output-json | json_field contract
}

call() {
  local name=$1 contract=$2 message=$3; shift 3
  say "$name.$message $*"
  cargo contract call --manifest-path "$name/Cargo.toml" --contract "$contract" --message "$message" --args "$@" \
    --suri "$SURI" --url "$URL" -x --skip-confirm --output-json >/dev/null
}

LEDGER_FULL=$(upload ledger_full)
INFERENCE_FULL=$(upload inference_full)
FINE_TUNING_FULL=$(upload fine_tuning_full)
LEDGER=$(instantiate ledger "$CHAIN_ID" "$MIN_ACCOUNT" "$MIN_TRANSFER" "$LEDGER_FULL")
INFERENCE=$(instantiate inference "$LEDGER" "$CHAIN_ID" "$LOCK_MS" "$MIN_STAKE" "$INFERENCE_FULL")
FINE_TUNING=$(instantiate fine_tuning "$LEDGER" "$CHAIN_ID" "$LOCK_MS" "$MIN_STAKE" "$PENALTY" "$FINE_TUNING_FULL")
# The names the guides use: ("inference", "v1") and ("fine-tuning", "v1"), each the recommended version.
call ledger "$LEDGER" register_service '"inference"' '"v1"' "$INFERENCE" '"LLM inference"'
call ledger "$LEDGER" register_service '"fine-tuning"' '"v1"' "$FINE_TUNING" '"model fine-tuning"'
call ledger "$LEDGER" set_recommended_service '"inference"' '"v1"'
call ledger "$LEDGER" set_recommended_service '"fine-tuning"' '"v1"'

RESULT=$(printf '{"url": "%s", "chainId": %s, "ledger": "%s", "inference": "%s", "fineTuning": "%s", "fullCode": {"ledger": "%s", "inference": "%s", "fineTuning": "%s"}, "hex": {"ledger": "%s", "inference": "%s", "fineTuning": "%s"}}' \
  "$URL" "$CHAIN_ID" "$LEDGER" "$INFERENCE" "$FINE_TUNING" "$LEDGER_FULL" "$INFERENCE_FULL" "$FINE_TUNING_FULL" \
  "$(ss58_hex "$LEDGER")" "$(ss58_hex "$INFERENCE")" "$(ss58_hex "$FINE_TUNING")")
if [ -n "$OUT" ]; then
  printf '%s\n' "$RESULT" > "$OUT"
  printf 'URL=%s\nLEDGER=%s\nINFERENCE=%s\nFINE_TUNING=%s\n' "$URL" "$LEDGER" "$INFERENCE" "$FINE_TUNING" \
    > "${OUT%.json}.env"
  say "wrote $OUT and ${OUT%.json}.env"
fi
printf '%s\n' "$RESULT"
