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
# ink_e2e gives each of the eleven contracts it builds its own cargo folder (target/ink/<contract>), so their
# common dependencies (core and alloc from source, ink!, the SCALE codec, our crates) would be compiled eleven
# times. Link the two folders cargo works in to one shared folder, as `serving build` does for the bundles
# (cli/src/build.rs, share_build_dirs): the same fingerprints, one compilation each.
share_ink_dirs() {
  local c sub
  for c in ledger inference fine_tuning ledger_full inference_full fine_tuning_full ledger_v2 ledger_full_v2 inference_v2 fine_tuning_v2 inference_full_v2 fine_tuning_full_v2 mock_service; do
    for sub in wasm32-unknown-unknown release; do
      mkdir -p "target/ink/.shared/$sub" "target/ink/$c"
      [ -L "target/ink/$c/$sub" ] && continue
      rm -rf "target/ink/$c/$sub"
      ln -s "$PWD/target/ink/.shared/$sub" "target/ink/$c/$sub"
    done
  done
}
share_ink_dirs
phase "e2e tests (sandbox)" env SERVING_EVENT_LOG="$PWD/target/interop/events-all" TMPDIR="$PWD/target/contract-build-tmp" \
  cargo test --locked -p serving-e2e-tests
phase "release bundles" bash scripts/bundles.sh
phase "demo (release bundles, sandbox)" bash -c 'cargo run -q --locked -p serving-cli -- demo --json > target/demo.json'
phase "interop (polkadot.js, cargo contract encode)" bash scripts/interop.sh
phase "web page (unit tests, Chromium against a scripted chain)" bash scripts/web.sh test
