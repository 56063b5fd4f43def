#!/usr/bin/env bash
# CPU time an idle `candor serve` uses in 60 s, with the demo and with content 50 times the
# demo's size. Usage: bash bench/idle.sh [BIN] (default: the debug binary, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo-server.sh
if [ -n "${1:-}" ]; then bin="$1"; else candor_binary idle; fi
ticks=$(getconf CLK_TCK)

cpu_ms() { awk -v t="$ticks" '{print ($14 + $15) * 1000 / t}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

measure() {
  local label="$1" work="$2" port="$3"
  start_demo_server "$work" "$port" "$bin"
  wait_until_ready "$label" "http://127.0.0.1:$port" "$work" >/dev/null
  sleep 8
  local c0 r0 c1 r1
  c0=$(cpu_ms "$server_pid"); r0=$(rss_kb "$server_pid")
  sleep 60
  c1=$(cpu_ms "$server_pid"); r1=$(rss_kb "$server_pid")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  printf '%s: %.0f ms CPU in 60 s; RSS %s kB -> %s kB\n' "$label" "$(echo "$c1 - $c0" | bc)" "$r0" "$r1"
}

demo=$(mktemp -d); big=$(mktemp -d)
trap 'rm -rf "$demo" "$big"' EXIT
measure "demo" "$demo" 18231
(cd "$big" && env -u CANDOR_DATABASE_URL "$bin" init >/dev/null 2>&1 && env -u CANDOR_DATABASE_URL "$bin" export exported >/dev/null 2>&1)
python3 bench/lib/scale_content.py "$big/exported" "$big/scaled" 50
(cd "$big" && env -u CANDOR_DATABASE_URL "$bin" import scaled >/dev/null 2>&1)
measure "50x the demo" "$big" 18232
