#!/usr/bin/env bash
# Installs what the project needs, idempotently: the pinned Rust toolchain (1.86 with rust-src, clippy, rustfmt
# and the wasm32 target); with --cargo-contract also cargo-contract 5.0.3 (only the interop check and a real
# node need the binary: bundles are built by `serving build`). Fast when everything is already there.
# Needs: rustup (https://rustup.rs) and a C compiler. Prints what it does with timings.
set -euo pipefail

TOOLCHAIN=1.86
CARGO_CONTRACT_VERSION=5.0.3
TOOLS_ROOT="${SERVING_TOOLS:-$HOME/.local/share/serving-tools}"

say() { printf '[setup] %s\n' "$*"; }
t0=$(date +%s)

if ! command -v rustup >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/rustup" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    say "rustup is not installed. Install it from https://rustup.rs (or your distribution's 'rustup' package), then re-run."
    exit 1
  fi
fi

have_toolchain() {
  rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1 || return 1
  local installed
  installed=$(rustup component list --toolchain "$TOOLCHAIN" --installed 2>/dev/null) || return 1
  for c in rust-src clippy rustfmt; do
    grep -q "^$c" <<<"$installed" || return 1
  done
  grep -q "^rust-std-wasm32-unknown-unknown" <<<"$installed" || return 1
}

if have_toolchain; then
  say "Rust $TOOLCHAIN with rust-src, clippy, rustfmt, wasm32-unknown-unknown: present"
else
  say "installing Rust $TOOLCHAIN (rust-src, clippy, rustfmt, wasm32-unknown-unknown)"
  if ! rustup toolchain install "$TOOLCHAIN" --profile minimal -c rust-src,clippy,rustfmt -t wasm32-unknown-unknown; then
    say "rustup could not install Rust $TOOLCHAIN. On a machine where rustup cannot download, follow the"
    say "fallback in docs/toolchain.md (Debian bookworm's rustc-web 1.85 linked as a rustup toolchain)."
    exit 1
  fi
fi

WANT_CC=""
for a in "$@"; do
  case "$a" in
    --cargo-contract) WANT_CC=1 ;;
    *) say "unknown option $a (use --cargo-contract)"; exit 2 ;;
  esac
done

CC_BIN="$TOOLS_ROOT/bin/cargo-contract"
if [ -z "$WANT_CC" ]; then
  say "cargo-contract: not needed here (scripts/setup.sh --cargo-contract installs it)"
elif [ -x "$CC_BIN" ] && "$CC_BIN" --version 2>/dev/null | grep -q "cargo-contract-contract $CARGO_CONTRACT_VERSION\|cargo-contract $CARGO_CONTRACT_VERSION"; then
  say "cargo-contract $CARGO_CONTRACT_VERSION: present in $TOOLS_ROOT/bin"
else
  say "installing cargo-contract $CARGO_CONTRACT_VERSION into $TOOLS_ROOT (about 12 minutes on 2 cores, once)"
  cargo "+$TOOLCHAIN" install cargo-contract --version "$CARGO_CONTRACT_VERSION" --locked --root "$TOOLS_ROOT"
fi

say "done in $(( $(date +%s) - t0 )) s"
