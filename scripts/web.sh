#!/usr/bin/env bash
# The marketplace page (web/): installs what it needs (Node.js and npm with apt-get when missing and root, the
# Node packages pinned by web/package-lock.json, Debian's chromium for the browser tests), then
#   scripts/web.sh build   builds web/dist from the release bundles' metadata (and ./deployment.json if present)
#   scripts/web.sh test    builds, then runs the page's unit tests and the browser tests (Chromium, scripted chain)
#   scripts/web.sh serve   builds, then serves web/dist on http://127.0.0.1:${WEB_PORT:-8080}/ (Ctrl-C stops)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
say() { printf '[web] %s\n' "$*"; }
cmd=${1:-build}

need_apt() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $* (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    say "please install $* (e.g. sudo apt-get install $*), then re-run"; exit 1
  fi
}
command -v node >/dev/null && command -v npm >/dev/null || need_apt nodejs npm
for c in ledger inference fine_tuning; do
  [ -f "target/ink/$c/$c.json" ] || { bash scripts/bundles.sh; break; }
done
(cd web && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
(cd web && npm run -s build >/dev/null)
say "built web/dist ($(du -sh web/dist | cut -f1))"

case "$cmd" in
  build) ;;
  test)
    [ -n "${CHROMIUM:-}" ] || command -v chromium >/dev/null || need_apt chromium
    (cd web && node --test test/*.test.mjs)
    say "screenshots in target/web-screens/"
    ;;
  serve)
    [ -f web/dist/deployment.json ] || say "no deployment.json (make deploy writes it): open the page with ?ws=ws://host:9944&ledger=<address>"
    say "http://127.0.0.1:${WEB_PORT:-8080}/"
    cd web && exec npx vite preview --host 127.0.0.1 --port "${WEB_PORT:-8080}" --strictPort
    ;;
  *) echo "usage: $0 build|test|serve"; exit 2 ;;
esac
