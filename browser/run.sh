#!/usr/bin/env bash
# Candor's browser tests: starts target/debug/candor with its demo trust center in a fresh
# temporary directory, then runs `node --test browser/tests/` against it with Debian's chromium
# (driven by playwright-core; no browser is ever downloaded) and axe-core.
#
# Called from the repo root as `bash browser/run.sh` by scripts/test and CI; arguments, if any,
# are test files to run instead of all of browser/tests/ (paths from the repo root).
# Without /usr/bin/chromium or node it prints SKIPPED and exits 0, except with CI=true, where
# that is a failure. Environment passed to the tests: CANDOR_URL, CANDOR_SETUP_LINK, and
# CANDOR_BROWSER_DATA (the server's data directory, whose SQLite database a test may fill).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo-server.sh
root="$(pwd)"
started=$(date +%s)

CHROMIUM=/usr/bin/chromium

missing() { # $1: what is missing, $2: how to get it
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: browser tests cannot run: $1 is missing and CI=true ($2)." >&2
    exit 1
  fi
  echo "SKIPPED: browser tests (no $1; $2)"
  exit 0
}
[ -x "$CHROMIUM" ] || missing "$CHROMIUM" "apt-get install chromium"
command -v node >/dev/null 2>&1 || missing "node" "apt-get install nodejs npm"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "FAIL: browser tests need Node 20 or newer (found $(node --version))." >&2
  exit 1
fi

if [ ! -d browser/node_modules/playwright-core ] || [ ! -d browser/node_modules/axe-core ]; then
  command -v npm >/dev/null 2>&1 || missing "npm" "apt-get install npm"
  echo "browser: installing playwright-core and axe-core (npm ci)"
  (cd browser && npm ci --no-audit --no-fund)
fi

candor_binary browser

# A free port on the loopback interface.
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
# By name, not by address: passkeys (WebAuthn) are bound to a domain name, never to an IP address.
base="http://localhost:$port"

work="$(mktemp -d "${TMPDIR:-/tmp}/candor-browser.XXXXXX")"
server_pid=""
cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -s "$work/server.err" ]; then
    echo "--- last lines of the server's log ($work/server.err; its data is kept in $work) ---" >&2
    tail -n 30 "$work/server.err" >&2 || true
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_demo_server "$work" "$port" "$bin" "CANDOR_PUBLIC_URL=$base"
wait_until_ready browser "$base" "$work"
setup_link="$(setup_link_of "$work")"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(browser/tests/)
echo "browser: candor is ready; running node --test ${tests[*]}"

status=0
CANDOR_URL="$base" CANDOR_SETUP_LINK="$setup_link" CANDOR_BROWSER_DATA="$work/candor-data" node --test "${tests[@]}" || status=$?

echo "browser: done in $(( $(date +%s) - started ))s (exit status $status)"
exit "$status"
