#!/usr/bin/env bash
# Status page benchmark: `/status` and `/api/v2/summary.json` with 50 components and 90 days of
# uptime history, served by `candor serve` (release) and by nginx serving the very same response
# bodies saved to disk, measured in the same run on loopback.
#
#   bash bench/status.sh
#
# Needs: cargo, curl, wrk and nginx (Debian: apt-get install -y wrk nginx-light curl).
# Prints a Markdown table and writes it to bench/results/status-<UTC date>.md.
#
# Knobs (environment, all optional):
#   BENCH_COMPONENTS  components on the page              (default 50, in 5 groups)
#   BENCH_DURATION    seconds per measured run            (default 10)
#   BENCH_WARMUP      seconds of warm-up before each run  (default 2)
#   BENCH_THREADS     wrk threads                         (default 2)
#   BENCH_CONNS       wrk connections                     (default 64)
#   BENCH_ROUNDS      rounds; the table shows medians     (default 3)
#   BENCH_KEEP=1      keep the temporary directory (always kept when the script fails)
#
# The page is filled by the `status_seed` example (one transaction through the store), then
# Candor serves it from its rendered site, as every visitor gets it. The references are nginx
# with one worker (the primary one) and with one worker per core, serving the bodies curl saved
# from Candor, so both sides send identical bytes. Candor's status clock keeps running (the
# maintenance clock every 5 s, the uptime roll-up every minute), as it does in production.
set -Eeuo pipefail

COMPONENTS=${BENCH_COMPONENTS:-50}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
ROUNDS=${BENCH_ROUNDS:-3}
PATHS=(/status /api/v2/summary.json)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib/common.sh"

for tool in cargo curl wrk nginx awk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install -y wrk nginx-light curl)"
done
# The benchmark is defined on a fresh SQLite data directory: no caller's CANDOR_* settings.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^CANDOR_' || true)

log "building the release binary and the seeding example"
(cd "$ROOT" && cargo build --release -p candor && cargo build --release -p candor-web --example status_seed) >&2
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CANDOR=$TARGET/release/candor
SEED=$TARGET/release/examples/status_seed
[[ -x $CANDOR && -x $SEED ]] || die "the release build is missing"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/candor-status-bench.XXXXXX")
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

# --- data: the demo trust center plus the status page -------------------------------------------
PUBLIC_URL="http://trust.candor-bench.test"
cd "$TMP"
chmod 755 "$TMP"
CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn "$CANDOR" init >init.log 2>&1 || { cat init.log >&2; die "candor init failed"; }
"$SEED" "sqlite://$TMP/candor-data/candor.db" "$COMPONENTS" 5 >seed.log 2>&1 || { cat seed.log >&2; die "seeding failed"; }
log "$(cat seed.log)"

CANDOR_PORT=$(free_port)
CANDOR_LISTEN=127.0.0.1:$CANDOR_PORT CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn "$CANDOR" serve >candor.log 2>&1 &
CANDOR_PID=$!
PIDS+=("$CANDOR_PID")
wait_http "http://127.0.0.1:$CANDOR_PORT/status" "candor"
# Let the first uptime roll-up (at start) land before the responses are saved.
sleep 2

# --- the same bodies on disk, for nginx ---------------------------------------------------------
mkdir -p site/api/v2
for path in "${PATHS[@]}"; do
    file="site$path"
    [[ $path == /status ]] && file=site/status.html
    curl -sf -o "$file" "http://127.0.0.1:$CANDOR_PORT$path" || die "could not save $path"
    log "$path: $(wc -c <"$file") bytes"
done
chmod -R a+rX site

declare -A PORT MAINPID LABEL
SERVERS=()
start_nginx() { # name workers label
    local name=$1 workers=$2 dir="$TMP/$1" port
    port=$(free_port)
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    types { text/html html; application/json json; }
    default_type text/html;
    charset utf-8;
    server {
        listen 127.0.0.1:$port;
        root $TMP/site;
        location / { try_files \$uri \$uri.html =404; }
    }
}
EOF
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
    PIDS+=($!)
    SERVERS+=("$name") PORT[$name]=$port MAINPID[$name]=$! LABEL[$name]=$3
    wait_http "http://127.0.0.1:$port/status" "nginx ($name)"
}
start_nginx nginx-1 1 "nginx, 1 worker"
start_nginx nginx-auto auto "nginx, auto ($(nproc) workers)"
REFS=("${SERVERS[@]}")
SERVERS+=(candor) PORT[candor]=$CANDOR_PORT MAINPID[candor]=$CANDOR_PID LABEL[candor]="**Candor**"

for path in "${PATHS[@]}"; do
    for name in "${SERVERS[@]}"; do
        curl -sf -o "$TMP/body-$name" "http://127.0.0.1:${PORT[$name]}$path" || die "$name failed on $path"
    done
    for name in "${REFS[@]}"; do
        cmp -s "$TMP/body-$name" "$TMP/body-candor" || die "$path: $name and Candor sent different bodies"
    done
done

# --- load ----------------------------------------------------------------------------------------
declare -A V
WARNINGS=()
bench() { # round name path
    local round=$1 name=$2 path=$3 url="http://127.0.0.1:${PORT[$2]}$3" out
    out="$TMP/wrk-$round-$name-${path//\//_}.txt"
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null
    wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$out"
    local rps p50 p99 errs
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    [[ -n $rps ]] || { cat "$out" >&2; die "could not read wrk's output for $name $path"; }
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    errs=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$out")
    ((errs == 0)) || WARNINGS+=("round $round, $name $path: $errs errors")
    log "round $round $path $name: $rps req/s, p50 $p50 ms, p99 $p99 ms"
    V[$path|$name|rps]+="$rps " V[$path|$name|p50]+="$p50 " V[$path|$name|p99]+="$p99 "
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
NS=${#SERVERS[@]}
for round in $(seq "$ROUNDS"); do
    for path in "${PATHS[@]}"; do
        for ((i = 0; i < NS; i++)); do
            bench "$round" "${SERVERS[$(((i + round - 1) % NS))]}" "$path"
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report --------------------------------------------------------------------------------------
ratio_cell() { # path ref metric: median of per-round candor/ref ratios, with the range
    local path=$1 ref=$2 metric=$3 c r ratios=() j
    read -r -a c <<<"${V[$path|candor|$metric]}"
    read -r -a r <<<"${V[$path|$ref|$metric]}"
    for ((j = 0; j < ${#c[@]}; j++)); do
        ratios+=("$(awk -v a="${c[$j]}" -v b="${r[$j]}" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')")
    done
    printf '%.2f× (%s)' "$(median "${ratios[@]}")" \
        "$(printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }')"
}
ROWS=()
for path in "${PATHS[@]}"; do
    for srv in "${SERVERS[@]}"; do
        row="| \`$path\` | ${LABEL[$srv]} | $(printf '%.0f' "$(median ${V[$path|$srv|rps]})") | $(printf '%.2f' "$(median ${V[$path|$srv|p50]})") | $(printf '%.2f' "$(median ${V[$path|$srv|p99]})")"
        if [[ $srv == candor ]]; then
            for ref in "${REFS[@]}"; do
                row+=" | $(ratio_cell "$path" "$ref" rps), p99 $(ratio_cell "$path" "$ref" p99)"
            done
        else
            row+=" | |"
        fi
        ROWS+=("$row |")
    done
done
SIZES="\`/status\` $(wc -c <"$TMP/site/status.html") bytes, \`/api/v2/summary.json\` $(wc -c <"$TMP/site/api/v2/summary.json") bytes"
DATE=$(date -u +%Y-%m-%d)
REPORT=$(
    cat <<EOF
Status page serving, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' + local changes'); load average before $LOAD_BEFORE, after $LOAD_AFTER.
$COMPONENTS components in 5 groups, 90 days of history each, 4 incidents (1 open), a notice, 2 maintenance windows; $SIZES.
\`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency\` after a ${WARMUP}s warm-up, loopback; wrk and the servers share the cores. Median of $ROUNDS rounds (server order rotated); ratios are medians of the per-round ratios (Candor ÷ nginx; throughput above 1 and p99 below 1 favour Candor), range in brackets.

| path | server | req/s | p50 (ms) | p99 (ms) | Candor ÷ nginx 1 worker | Candor ÷ nginx auto |
|---|---|---:|---:|---:|---:|---:|
$(printf '%s\n' "${ROWS[@]}")
$(if ((${#WARNINGS[@]})); then printf '\nWarnings:\n'; printf -- '- %s\n' "${WARNINGS[@]}"; fi)
EOF
)
mkdir -p "$ROOT/bench/results"
printf '%s\n' "$REPORT" >"$ROOT/bench/results/status-$DATE.md"
printf '%s\n' "$REPORT"
log "written to bench/results/status-$DATE.md"
