#!/usr/bin/env bash
# Optional: the contracts on a real node. Installs substrate-contracts-node 0.42 (once; ~50 min on 2 cores),
# starts a dev node, runs every command block of README.md and the three role guides against it in story order
# (scripts/guides.py: deploy, register, acknowledge, fund, settle with `serving settle`, refund, upgrade) and
# checks the money that moved (scripts/guides-check.sh), stops it, then runs the e2e story in tests/node.rs
# (ink_e2e's node backend spawns its own dev node). Prints timings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-node.sh
bash scripts/bundles.sh
. scripts/env.sh
say() { printf '[node] %s\n' "$*"; }
if ! command -v jq >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq
  else
    say "please install jq (the guides' commands read cargo-contract's JSON with it), then re-run"; exit 1
  fi
fi
t0=$(date +%s)
PORT=${NODE_PORT:-9944}
[ "$PORT" = 9944 ] || { say "the guides use ws://127.0.0.1:9944; NODE_PORT must be 9944 for them"; exit 1; }
mkdir -p target
substrate-contracts-node --dev --tmp --rpc-port "$PORT" >target/contracts-node.log 2>&1 &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  sleep 1
done
say "dev node up on port $PORT in $(( $(date +%s) - t0 )) s"
t1=$(date +%s)
python3 scripts/guides.py --check scripts/guides-check.sh
say "the guides' command blocks on a dev node: $(( $(date +%s) - t1 )) s"
kill $NODE_PID; trap - EXIT
t2=$(date +%s)
mkdir -p target/contract-build-tmp   # the contracts built with the repository's memcpy, as in make test
TMPDIR=$PWD/target/contract-build-tmp cargo test --locked -p serving-e2e-tests --features node --test node
say "e2e story on a node (tests/node.rs): $(( $(date +%s) - t2 )) s"
t3=$(date +%s)
bash scripts/web-node-e2e.sh
say "the marketplace page on a dev node (scripts/web-node-e2e.sh): $(( $(date +%s) - t3 )) s"
