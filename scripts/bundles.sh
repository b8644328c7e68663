#!/usr/bin/env bash
# Builds the release .contract bundles (Wasm + metadata) with `serving build` (the contract-build library that
# cargo-contract wraps; no cargo-contract binary needed) and prints where they are and their sizes against the
# 123 KiB code limit and our 64 KiB target.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# A test-chain build's shorter lock time (service-core's MIN_LOCK_TIME_MS) never reaches a release bundle.
unset SERVING_DEV_LOCK
# The three contracts and their full builds (<contract>/full: the code their rarely used messages run in).
CONTRACTS=(ledger inference fine_tuning ledger_full inference_full fine_tuning_full)
LIMIT=$((123 * 1024))
TARGET=$((64 * 1024))
# A bundle is up to date when it is newer than every source it is built from (the contract, the crates it links,
# the lockfile and toolchain file); then it is not rebuilt (a warm `make demo` takes seconds). FORCE=1 rebuilds.
SOURCES=(service-core common mem verifier/src verifier/Cargo.toml interface Cargo.lock rust-toolchain.toml)
folder() { case "$1" in *_full) echo "${1%_full}" ;; *) echo "$1" ;; esac; }
for c in "${CONTRACTS[@]}"; do
  bundle="target/ink/$c/$c.contract"
  marker="target/ink/$c/.release"
  if [ -z "${FORCE:-}" ] && [ -f "$bundle" ] && [ -f "$marker" ] \
     && [ ! "$bundle" -nt "$marker" ] && [ ! "target/ink/$c/$c.wasm" -nt "$marker" ] \
     && [ -z "$(find $(folder "$c") "${SOURCES[@]}" -newer "$marker" -type f -not -path '*/target/*' 2>/dev/null | head -1)" ]; then
    echo "[bundles] $c: up to date ($bundle)"
    continue
  fi
  if [ -z "${built_cli:-}" ]; then
    cargo build -q --locked -p serving-cli
    built_cli=1
  fi
  echo "[bundles] serving build $c (release)"
  target/debug/serving build "$c" >/dev/null
  # ink_e2e writes its debug builds to the same folder: the marker says the files there are this release build
  # (a later debug build makes them newer than the marker, and the next run rebuilds).
  touch "target/ink/$c/.release"
done
printf '\n%-17s %10s %10s %8s  %s\n' contract "wasm (B)" "KiB" "target" bundle
for c in "${CONTRACTS[@]}"; do
  wasm="target/ink/$c/$c.wasm"
  size=$(stat -c %s "$wasm")
  ok=$([ "$size" -le "$TARGET" ] && echo "<=64KiB" || { [ "$size" -le "$LIMIT" ] && echo ">64KiB" || echo "OVER LIMIT"; })
  # A full build is only uploaded (calls load it only for the rarely used messages): the 64 KiB target is not its.
  case "$c" in *_full) [ "$ok" = "OVER LIMIT" ] || ok="upload" ;; esac
  printf '%-17s %10d %10.1f %8s  %s\n' "$c" "$size" "$(awk -v s="$size" 'BEGIN{print s/1024}')" "$ok" "target/ink/$c/$c.contract"
  [ "$size" -le "$LIMIT" ] || { echo "[bundles] $c exceeds the 123 KiB code limit"; exit 1; }
  # The code at a contract's address is loaded by every call to it: keep it within the 64 KiB target (issue 15).
  [ "$ok" != ">64KiB" ] || { echo "[bundles] $c exceeds the 64 KiB target for deployed code (docs/performance.md)"; exit 1; }
done
