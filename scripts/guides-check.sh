# Sourced by scripts/guides.py (make node-e2e) after the guides' last block: their shell variables and files are
# visible. Checks that the story the guides tell moved exactly the money it says, on the node.
check() {
  if [ "$2" != "$3" ]; then echo "[check] FAILED: $1: expected $3, got $2" >&2; exit 1; fi
  echo "[check] ok: $1 = $3" >&2
}
# What `serving settle` recorded: every voucher settled, and the sums paid.
settled() { jq -r '[.vouchers[] | select(.state == "settled")] | length' "$1"; }
paid() { jq -r '[.vouchers[] | .settled // "0" | tonumber] | add' "$1"; }
check "per-voucher run: vouchers settled" "$(settled signed.json.state.json)" 2
check "per-voucher run: amount paid" "$(paid signed.json.state.json)" 500000000000
check "batch-signed run: vouchers settled" "$(settled signed-batch.json.state.json)" 2
check "batch-signed run: amount paid" "$(paid signed-batch.json.state.json)" 500000000000
