#!/usr/bin/env bash
# Interop tests: polkadot.js (@polkadot/api-contract, offline) and `cargo contract encode` against the release
# bundles' metadata and the fixtures the Rust e2e suite writes (target/interop/). Installs the Node packages
# (npm ci, pinned by interop/package-lock.json); installs Node.js itself with apt-get when missing and root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[interop] installing Node.js and npm (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
  else
    echo "[interop] Node.js >= 18 and npm are needed: install them (e.g. apt-get install nodejs npm), then re-run"
    exit 1
  fi
fi
for f in target/interop/calls.json target/interop/events.json; do
  [ -f "$f" ] || { echo "[interop] $f missing: run the e2e tests first (cargo test -p serving-e2e-tests --test sandbox interop::)"; exit 1; }
done
if [ -z "$(ls target/interop/events-all/*.jsonl 2>/dev/null | head -1)" ]; then
  echo "[interop] target/interop/events-all/ is empty: run the e2e suite with SERVING_EVENT_LOG=\$PWD/target/interop/events-all first (make test does)"
  exit 1
fi
for c in ledger inference fine_tuning ledger_full inference_full fine_tuning_full; do
  [ -f "target/ink/$c/$c.json" ] || { echo "[interop] target/ink/$c/$c.json missing: run scripts/bundles.sh first"; exit 1; }
done
# `serving sign` prints each settlement's arguments in cargo-contract's --args syntax (`args`) beside its SCALE call
# data (`callData`): `cargo contract encode` of the first must give exactly the second, on both inference paths
# and for fine-tuning (accounts given as SS58 and as hex).
cargo build -q --locked -p serving-cli
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
target/debug/serving keygen --out "$tmp/key.json" >/dev/null
BOB=5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty
CHARLIE_HEX=0x90b5ab205c6974c9ea841be688864633dc9ca8a357843eeacf2314649965fe22
cat > "$tmp/inference.json" <<JSON
{ "kind": "inference", "chainId": 42, "contract": "$BOB", "provider": "$CHARLIE_HEX", "settlements": [
  { "user": "$BOB", "totalFee": "340282366920938463463374607431768211455", "requestsHash": "0x$(printf '11%.0s' {1..32})", "nonce": 1 },
  { "user": "$CHARLIE_HEX", "totalFee": 7, "requestsHash": "0x$(printf 'ab%.0s' {1..32})", "nonce": "18446744073709551616" } ] }
JSON
cat > "$tmp/fine_tuning.json" <<JSON
{ "kind": "fine_tuning", "chainId": 42, "contract": "$CHARLIE_HEX", "provider": "$CHARLIE_HEX", "user": "$BOB",
  "id": "task \"1\"", "encryptedSecret": "0x0102", "modelRootHash": "0x$(printf 'cd%.0s' {1..32})", "nonce": 3, "taskFee": 5 }
JSON
# One field of `serving sign`'s output in $out (a list one item per line).
field() { python3 -c 'import json, sys; v = json.loads(sys.stdin.read())[sys.argv[1]]; print("\n".join(v) if isinstance(v, list) else v)' "$1" <<<"$out"; }
for run in "inference inference.json" "inference inference.json --batch" "fine_tuning fine_tuning.json"; do
  set -- $run
  out=$(target/debug/serving sign ${3:-} --key "$tmp/key.json" "$tmp/$2")
  mapfile -t args < <(field args)
  encoded=$(cargo contract encode "target/ink/$1/$1.json" --message "$(field message)" --args "${args[@]}" \
    | sed -n 's/.*Encoded data: //p' | tr 'A-F' 'a-f')
  [ "0x$encoded" = "$(field callData)" ] \
    || { echo "[interop] serving sign $1 ${3:-}: cargo contract encode of args differs from callData"; exit 1; }
  echo "[interop] serving sign $1 ${3:-}: args encode to callData (cargo contract encode)"
done

cd interop
npm ci --no-audit --no-fund --loglevel=error
node --test
