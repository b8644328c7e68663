#!/usr/bin/env bash
# The marketplace page against a real dev node (part of `make node-e2e`; needs substrate-contracts-node, which
# `make node` installs): builds the services with a 10-second minimum lock time (SERVING_DEV_LOCK=1, a build for
# test chains only; see service-core's MIN_LOCK_TIME_MS) into target/dev-lock, starts a fresh dev node, deploys
# with a 20-second lock time, registers Charlie's inference service with a new TEE key and has the owner
# acknowledge it, then runs web/e2e/node-e2e.mjs (Bob's story through the page, checked from Node). Screenshots:
# target/web-screens/node-*.png. Prints timings.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
say() { printf '[web-node] %s\n' "$*"; }
t0=$(date +%s)
PORT=${WEB_NODE_PORT:-9955}
URL=ws://127.0.0.1:$PORT
OUT=target/dev-lock
bash scripts/bundles.sh >/dev/null
bash scripts/web.sh build >/dev/null
cargo build -q --locked -p serving-cli

# The test-chain build of the services (their metadata is the release one; only the code hash differs).
mkdir -p target/contract-build-tmp "$OUT/bundles"
for m in inference fine_tuning inference/full fine_tuning/full; do
  SERVING_DEV_LOCK=1 CARGO_TARGET_DIR=$PWD/$OUT TMPDIR=$PWD/target/contract-build-tmp \
    cargo contract build --release --quiet --manifest-path "$m/Cargo.toml" >/dev/null
done
for c in inference fine_tuning inference_full fine_tuning_full; do
  f=$(find "$OUT/ink" -name "$c.contract" -not -path '*/bundles/*' | head -1)
  [ -n "$f" ] || { say "no $c.contract under $OUT/ink"; exit 1; }
  mkdir -p "$OUT/bundles/$c" && cp "$f" "${f%.contract}.wasm" "${f%.contract}.json" "$OUT/bundles/$c/"
done
for c in ledger ledger_full; do mkdir -p "$OUT/bundles/$c" && cp target/ink/$c/$c.{contract,wasm,json} "$OUT/bundles/$c/"; done
say "test-chain bundles built in $(( $(date +%s) - t0 )) s"

substrate-contracts-node --dev --tmp --rpc-port "$PORT" >target/web-node.log 2>&1 &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 1; done

SERVING_BUNDLES=$OUT/bundles bash scripts/deploy.sh --url "$URL" --suri //Alice --lock-ms 20000 --out "$OUT/deployment.json" >/dev/null
. "$OUT/deployment.env"
CHARLIE=5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y
rm -f "$OUT/tee-key.json"
target/debug/serving keygen --out "$OUT/tee-key.json" >/dev/null
SIGNER=$(target/debug/serving address --key "$OUT/tee-key.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')
cargo contract call --contract "$INFERENCE" --manifest-path inference/Cargo.toml --message add_or_update_service \
  --args "{ service_type: \"chatbot\", url: \"https://charlie.example/v1\", input_price: 1000000, output_price: 2000000, model: \"llama-3.1-8b\", verifiability: \"TeeML\", additional_info: \"\", tee_signer: $SIGNER }" \
  --value 1000000000000 --suri //Charlie --url "$URL" -x --skip-confirm >/dev/null
cargo contract call --contract "$INFERENCE" --manifest-path inference/Cargo.toml --message set_tee_signer_acknowledgement \
  --args "$CHARLIE" true --suri //Alice --url "$URL" -x --skip-confirm >/dev/null
say "dev node up, deployed, Charlie registered and acknowledged: $(( $(date +%s) - t0 )) s"

t1=$(date +%s)
# The page reads the test-chain build's metadata (its code hash is the deployed one).
for c in ledger inference fine_tuning; do cp "$OUT/bundles/$c/$c.json" "web/dist/metadata/$c.json"; done
(cd web && SERVING_METADATA="$PWD/../$OUT/bundles" node e2e/node-e2e.mjs "../$OUT/deployment.json" "../$OUT/tee-key.json")
say "Bob's story through the page on a dev node: $(( $(date +%s) - t1 )) s (total $(( $(date +%s) - t0 )) s)"
