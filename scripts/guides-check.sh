# Sourced by scripts/guides.py (make node-e2e) after the guides' last block: their shell variables and files are
# visible. Checks that the story the guides tell moved exactly the money it says, on the node.
check() {
  if [ "$2" != "$3" ]; then echo "[check] FAILED: $1: expected $3, got $2" >&2; exit 1; fi
  echo "[check] ok: $1 = $3" >&2
}
# What `serving settle` recorded, in its own summary (exact amounts; a rerun on a finished state file sends nothing).
for f in signed.json signed-batch.json; do
  summary=$(serving settle --url "$URL" --contract "$INFERENCE" --suri //Charlie "$f" 2>/dev/null)
  check "$f: vouchers settled" "$(jq -r '.counts.settled' <<<"$summary")" 2
  check "$f: vouchers in other states" "$(jq -r '.counts | del(.settled) | length' <<<"$summary")" 0
  check "$f: amount paid" "$(jq -r '.paidInStateFile' <<<"$summary")" 500000000000
done
# What the contracts say now (dry runs; after the owner guide's upgrade of the ledger to new code).
BOB=5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty; CHARLIE=5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y
view() {
  cargo contract call --contract "$1" --manifest-path "$2" --message "$3" --args "${@:4}" --suri //Alice --url "$URL" \
    2>&1 | sed -n 's/^ *Result //p'
}
contains() {
  case "$2" in *"$3"*) echo "[check] ok: $1 shows $3" >&2 ;; *) echo "[check] FAILED: $1: no \"$3\" in: $2" >&2; exit 1 ;; esac
}
# Bob funded 2·10^12, the provider settled 4 vouchers for 10^12 in all, Bob asked for the rest back (locked 24 h).
contains "Bob's sub-account with Charlie" "$(view "$INFERENCE" inference/Cargo.toml get_account $BOB $CHARLIE)" \
  "nonce: 4, balance: 1000000000000, pending_refund: 1000000000000"
# 5·10^12 deposited − 2·10^12 funded − 10^12 refunded = 2·10^12 available; plus 10^12 at the service.
contains "Bob's ledger (after the upgrade)" "$(view "$LEDGER" ledger/Cargo.toml get_ledger $BOB)" \
  "available_balance: 2000000000000, total_balance: 3000000000000"
contains "the recommended inference service" "$(view "$LEDGER" ledger/Cargo.toml get_recommended_service '"inference"')" \
  "$INFERENCE"
