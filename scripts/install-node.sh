#!/usr/bin/env bash
# Optional: installs substrate-contracts-node 0.42.0 (a local pallet-contracts chain) into the tools root.
# About 50 minutes of a cold 2-core machine, once; a no-op when it is already there. Not part of `make test`.
# Needs Debian's protobuf-compiler, clang and libclang-dev (installed here with apt-get when missing and root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --cargo-contract
. scripts/env.sh

VERSION=0.42.0
TOOLS_ROOT="${SERVING_TOOLS:-$HOME/.local/share/serving-tools}"
BIN="$TOOLS_ROOT/bin/substrate-contracts-node"
say() { printf '[node] %s\n' "$*"; }
t0=$(date +%s)

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
  say "substrate-contracts-node $VERSION: present in $TOOLS_ROOT/bin"
  exit 0
fi

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v clang >/dev/null || missing+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    say "please install: ${missing[*]} (e.g. sudo apt-get install ${missing[*]}), then re-run"
    exit 1
  fi
fi

# cargo downloads the published crate from crates.io and builds it with its own Cargo.lock (--locked). The
# runtime's Wasm build resolves its dependencies afresh unless WASM_BUILD_WORKSPACE_HINT points at that lockfile
# (otherwise it picks crates needing Rust >= 1.87): cargo unpacks the crate into its registry sources, the same
# folder this workspace's crates come from, so the hint is computed from where cargo keeps `ink`.
REG_SRC=$(cargo metadata --locked --format-version 1 --manifest-path Cargo.toml | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
print(next(os.path.dirname(os.path.dirname(p["manifest_path"])) for p in d["packages"] if p["name"] == "ink"))')
SRC="$REG_SRC/contracts-node-$VERSION"
say "building substrate-contracts-node $VERSION from crates.io (about 50 minutes on 2 cores, once; source in $SRC)"
# From outside this repository: its .cargo/config.toml patches rlibc for the contracts, not for the node.
mkdir -p "$TOOLS_ROOT"
(cd "$TOOLS_ROOT" && WASM_BUILD_WORKSPACE_HINT="$SRC" cargo +1.86 install "contracts-node@$VERSION" --locked --root "$TOOLS_ROOT")
say "installed $("$BIN" --version) in $(( $(date +%s) - t0 )) s"
