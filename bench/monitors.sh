#!/usr/bin/env bash
# The built-in monitors at scale: 1,000 HTTP monitors checking a local test service every 20 s,
# run by the release `candor serve` on SQLite. Measures, over 60 s once every monitor has been
# checked: the server's CPU time (utime + stime from /proc/PID/stat) as a share of one core,
# its peak RSS (VmHWM), and how many checks the test service answered.
#
# Usage: bash bench/monitors.sh [MONITORS] [SECONDS]   (defaults: 1000, 60)
# Builds the release binary and the benchmark's helper (crates/candor-web/examples/monitors.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo-server.sh
monitors="${1:-1000}"
seconds="${2:-60}"
target_port=18341
candor_port=18342

cargo build --release -p candor -p candor-web --example monitors
dir="${CARGO_TARGET_DIR:-$PWD/target}/release"
bin="$dir/candor"
helper="$dir/examples/monitors"
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
count() { curl -s --max-time 5 "http://127.0.0.1:$target_port/count"; }

work=$(mktemp -d)
target_pid=""
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$target_pid" ] || kill "$target_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$helper" target "127.0.0.1:$target_port" &
target_pid=$!
(
  cd "$work"
  for v in $(env | sed -n 's/^\(CANDOR_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
  CANDOR_DEMO=false CANDOR_DATA_DIR="$work/data" "$bin" init >/dev/null
)
"$helper" seed "$work/data" "$monitors" "http://127.0.0.1:$target_port/health"

start_demo_server "$work" "$candor_port" "$bin" \
  CANDOR_DEMO=false CANDOR_DATA_DIR="$work/data" CANDOR_LOG_LEVEL=warn \
  CANDOR_STATUS_MONITOR_ALLOW_PRIVATE=true
wait_until_ready "monitors" "http://127.0.0.1:$candor_port" "$work"

# Every monitor's first check falls within its 20 s interval; let a full round pass first.
sleep 25
c0=$(cpu_ticks "$server_pid"); n0=$(count); t0=$(date +%s.%N)
sleep "$seconds"
c1=$(cpu_ticks "$server_pid"); n1=$(count); t1=$(date +%s.%N)
peak=$(peak_kb "$server_pid")

elapsed=$(echo "$t1 - $t0" | bc -l)
cpu_s=$(echo "($c1 - $c0) / $ticks" | bc -l)
printf 'date: %s; cores: %s; %s monitors every 20 s; measured over %.1f s\n' \
  "$(date -u +%Y-%m-%d)" "$(nproc)" "$monitors" "$elapsed"
printf 'checks answered: %s (%.1f per second; expected %.1f)\n' \
  "$((n1 - n0))" "$(echo "($n1 - $n0) / $elapsed" | bc -l)" "$(echo "$monitors / 20" | bc -l)"
printf 'CPU: %.2f s of CPU time = %.1f%% of one core\n' "$cpu_s" "$(echo "100 * $cpu_s / $elapsed" | bc -l)"
printf 'peak RSS: %.1f MB\n' "$(echo "$peak / 1024" | bc -l)"
if grep -q '"level":"ERROR"' "$work/server.out" "$work/server.err" 2>/dev/null; then
  echo "errors in the server log:" >&2
  grep '"level":"ERROR"' "$work/server.out" "$work/server.err" | head -5 >&2
fi
