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
  [ -f "$f" ] || { echo "[interop] $f missing: run the e2e tests first (cargo test -p serving-e2e-tests --test interop)"; exit 1; }
done
if [ -z "$(ls target/interop/events-all/*.jsonl 2>/dev/null | head -1)" ]; then
  echo "[interop] target/interop/events-all/ is empty: run the e2e suite with SERVING_EVENT_LOG=\$PWD/target/interop/events-all first (make test does)"
  exit 1
fi
for c in ledger inference fine_tuning; do
  [ -f "target/ink/$c/$c.json" ] || { echo "[interop] target/ink/$c/$c.json missing: run scripts/bundles.sh first"; exit 1; }
done
cd interop
npm ci --no-audit --no-fund --loglevel=error
node --test
