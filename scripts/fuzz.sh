#!/usr/bin/env bash
# Fuzzes the verifier's parsing and hashing with libFuzzer (cargo fuzz), growing the committed corpus in
# verifier/fuzz/corpus/<target>/. Installs a pinned nightly toolchain and cargo-fuzz into the tools root first.
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET ...]
# The corpus is replayed on stable by `cargo test -p serving-verifier -F std` (verifier/tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
NIGHTLY=nightly-2025-06-01
CARGO_FUZZ_VERSION=0.12.0
TOOLS_ROOT="${SERVING_TOOLS:-$HOME/.local/share/serving-tools}"
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(signature sign_and_recover typed_messages attestation)

rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 || rustup toolchain install "$NIGHTLY" --profile minimal
if ! "$TOOLS_ROOT/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo "+$NIGHTLY" install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOLS_ROOT"
fi
cd verifier/fuzz
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  echo "[fuzz] $t for ${SECONDS_PER_TARGET} s"
  cargo "+$NIGHTLY" fuzz run "$t" "corpus/$t" -- -max_total_time="$SECONDS_PER_TARGET" -max_len=700 -print_final_stats=1 2>&1 \
    | grep -E "^(#[0-9]+.*DONE|stat::|==|SUMMARY|Done)" || true
  # Keep the committed corpus small: only inputs that add coverage.
  cargo "+$NIGHTLY" fuzz cmin "$t" "corpus/$t" >/dev/null 2>&1 || true
  echo "[fuzz] $t: $(ls "corpus/$t" | wc -l) corpus files"
done
