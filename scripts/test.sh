#!/usr/bin/env bash
# Runs every test: unit tests (verifier, ledger rules), the e2e suite in ink_e2e's sandbox (real
# pallet-contracts, contracts built by ink_e2e), and the release bundle build. Prints each phase's duration.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

phase() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "=== phase: $name"
  "$@"
  echo "=== phase: $name done in $(( $(date +%s) - t0 )) s"
}

phase setup bash scripts/setup.sh --cargo-contract
phase format cargo fmt --all -- --check
phase "unit tests" cargo test --locked --workspace --exclude serving-e2e-tests -F serving-verifier/std
# Every event the contracts emit during the suite is logged for the interop check (every event type decodes).
rm -rf target/interop/events-all
# ink_e2e builds each contract in a temporary workspace under TMPDIR: inside target/, cargo finds
# .cargo/config.toml there, so the tests run the contracts with our memcpy (mem/), as the release bundles do.
mkdir -p target/contract-build-tmp
phase "e2e tests (sandbox)" env SERVING_EVENT_LOG="$PWD/target/interop/events-all" TMPDIR="$PWD/target/contract-build-tmp" \
  cargo test --locked -p serving-e2e-tests
phase "release bundles" bash scripts/bundles.sh
phase "demo (release bundles, sandbox)" bash -c 'cargo run -q --locked -p serving-cli -- demo --json > target/demo.json'
phase "interop (polkadot.js, cargo contract encode)" bash scripts/interop.sh
