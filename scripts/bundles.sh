#!/usr/bin/env bash
# Builds the release .contract bundles (Wasm + metadata) with cargo-contract and prints where they are and
# their sizes against the 123 KiB code limit and our 64 KiB target.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
CONTRACTS=(ledger inference fine_tuning)
LIMIT=$((123 * 1024))
TARGET=$((64 * 1024))
for c in "${CONTRACTS[@]}"; do
  echo "[bundles] cargo contract build --release --manifest-path $c/Cargo.toml"
  cargo contract build --release --quiet --manifest-path "$c/Cargo.toml" >/dev/null
done
printf '\n%-12s %10s %10s %8s  %s\n' contract "wasm (B)" "KiB" "target" bundle
for c in "${CONTRACTS[@]}"; do
  wasm="target/ink/$c/$c.wasm"
  size=$(stat -c %s "$wasm")
  ok=$([ "$size" -le "$TARGET" ] && echo "<=64KiB" || { [ "$size" -le "$LIMIT" ] && echo ">64KiB" || echo "OVER LIMIT"; })
  printf '%-12s %10d %10.1f %8s  %s\n' "$c" "$size" "$(awk -v s="$size" 'BEGIN{print s/1024}')" "$ok" "target/ink/$c/$c.contract"
  [ "$size" -le "$LIMIT" ] || { echo "[bundles] $c exceeds the 123 KiB code limit"; exit 1; }
done
