#!/usr/bin/env bash
# Optional: the contracts on a real node. Installs substrate-contracts-node 0.42 (once; ~50 min on 2 cores),
# starts a dev node, deploys the release bundles with scripts/deploy.sh and checks the registry, stops it,
# then runs the e2e story in tests/node.rs (ink_e2e's node backend spawns its own dev node). Prints timings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-node.sh
. scripts/env.sh
t0=$(date +%s)
PORT=${NODE_PORT:-9944}
substrate-contracts-node --dev --tmp --rpc-port "$PORT" >target/contracts-node.log 2>&1 &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  sleep 1
done
OUT=$(bash scripts/deploy.sh --url "ws://127.0.0.1:$PORT" --suri //Alice --out target/deployment.json)
echo "$OUT"
LEDGER=$(python3 -c 'import json; print(json.load(open("target/deployment.json"))["ledger"])')
INFERENCE=$(python3 -c 'import json; print(json.load(open("target/deployment.json"))["inference"])')
FOUND=$(cargo contract call --manifest-path ledger/Cargo.toml --contract "$LEDGER" --message get_service_address_by_name \
  --args '"inference"' '"v1"' --suri //Alice --url "ws://127.0.0.1:$PORT" --output-json)
python3 - "$FOUND" "$INFERENCE" <<'PY'
import json, sys
found, inference = sys.argv[1], sys.argv[2]
assert inference in found, f"ledger registry did not return the inference address {inference}: {found}"
print("[node] the ledger's registry returns the deployed inference contract")
PY
kill $NODE_PID; trap - EXIT
echo "[node] deploy on a dev node: $(( $(date +%s) - t0 )) s"
t1=$(date +%s)
cargo test --locked -p serving-e2e-tests --features node --test node
echo "[node] e2e story on a node: $(( $(date +%s) - t1 )) s"
