#!/usr/bin/env bash
# CDN-origin benchmark: Candor serving its precompressed public pages against nginx serving the
# same precompressed files (`candor export-site` writes NAME.gz next to each file) with
# `gzip_static on`, in the same run, on loopback. Both are asked for gzip (nginx-light has no
# brotli module), so both send the very same bytes; the script checks that first.
#
#   bash bench/origin.sh
#
# Needs: cargo, curl, wrk, nginx (Debian: apt-get install -y wrk nginx-light curl).
# Prints a Markdown table and writes it to bench/results/origin-<UTC date>.md.
#
# Knobs (environment, all optional):
#   BENCH_DURATION   seconds per measured run            (default 10)
#   BENCH_WARMUP     seconds of warm-up before each run  (default 2)
#   BENCH_THREADS    wrk threads                         (default 2)
#   BENCH_CONNS      wrk connections                     (default 64)
#   BENCH_PATHS      space-separated paths               (default "/ /s/encryption")
#   BENCH_ROUNDS     rounds; the table shows medians     (default 3)
#   BENCH_CANDOR_BIN       a release binary to use instead of building one
#   BENCH_KEEP=1     keep the temporary directory (always kept when the script fails)
#
# Figures per server and path: requests per second, p50 and p99 latency (wrk --latency), and
# bytes on the wire per page view (status line, headers and body of one gzip response, from
# curl), plus the bytes of a repeat view (a conditional request answered 304).
set -Eeuo pipefail

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
ROUNDS=${BENCH_ROUNDS:-3}
read -r -a PATHS <<<"${BENCH_PATHS:-/ /s/encryption}"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib/common.sh"
RESULTS_DIR="$ROOT/bench/results"

for tool in curl wrk nginx awk cmp; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install -y wrk nginx-light curl)"
done
while read -r v; do unset "$v"; done < <(compgen -e | grep '^CANDOR_' || true)

if [[ -n ${BENCH_CANDOR_BIN:-} ]]; then
    CANDOR=$BENCH_CANDOR_BIN
else
    log "building the release binary"
    (cd "$ROOT" && cargo build --release -p candor) >&2
    CANDOR="$ROOT/target/release/candor"
fi
[[ -x $CANDOR ]] || die "$CANDOR is not an executable"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/candor-origin.XXXXXX")
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

PUBLIC_URL="http://trust.candor-bench.test"
cd "$TMP"
chmod 755 "$TMP"
CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn "$CANDOR" init >init.log 2>&1 || { cat init.log >&2; die "candor init failed"; }
CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn "$CANDOR" export-site site/ >export.log 2>&1 || { cat export.log >&2; die "candor export-site failed"; }
chmod -R a+rX site
log "$(cat export.log) ($(find site -name '*.gz' | wc -l) .gz, $(find site -name '*.br' | wc -l) .br)"

SERVERS=()
declare -A PORT MAINPID LABEL
start_nginx() { # name workers label
    local name=$1 workers=$2 label=$3 dir="$TMP/$1" port
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
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    gzip_static on;
    gzip_vary on;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    types { text/html html; text/css css; application/json json; application/xml xml; }
    default_type text/html;
    charset utf-8;
    server {
        listen 127.0.0.1:$port;
        root $TMP/site;
        index index.html;
        location / { try_files \$uri \$uri.html \$uri/ =404; }
    }
}
EOF
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
    PIDS+=($!)
    SERVERS+=("$name") PORT[$name]=$port MAINPID[$name]=$! LABEL[$name]=$label
    wait_http "http://127.0.0.1:$port/" "nginx ($name)"
}
start_nginx nginx-1 1 "nginx gzip_static, 1 worker"
start_nginx nginx-auto auto "nginx gzip_static, auto ($(nproc) workers)"
REFS=("${SERVERS[@]}")

start_candor() { # name dir label [env...]
    local name=$1 dir=$2 label=$3 port
    shift 3
    port=$(free_port)
    mkdir -p "$dir"
    if [[ ! -e $dir/init.log ]]; then
        (cd "$dir" && CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn "$CANDOR" init >init.log 2>&1) || die "candor init in $dir failed"
    fi
    (cd "$dir" && exec env "$@" CANDOR_LISTEN="127.0.0.1:$port" CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn \
        "$CANDOR" serve >"$TMP/$name.log" 2>&1) &
    PIDS+=($!)
    SERVERS+=("$name") PORT[$name]=$port MAINPID[$name]=$! LABEL[$name]=$label
    wait_http "http://127.0.0.1:$port/healthz" "$name"
}
# Candor as it runs by default: one tokio worker thread per core (here as many as nginx auto).
start_candor candor "$TMP" "**Candor** (tokio, $(nproc) worker threads)" BENCH_ROLE=default
# One worker thread, as nginx with one worker: the comparison for the tail latency.
start_candor candor-1 "$TMP/one" "**Candor** (tokio, 1 worker thread)" TOKIO_WORKER_THREADS=1
CANDOR_PORT=${PORT[candor]}

# --- same bytes, and bytes per view ----------------------------------------------------------
declare -A VIEW REPEAT
for path in "${PATHS[@]}"; do
    for name in "${SERVERS[@]}"; do
        url="http://127.0.0.1:${PORT[$name]}$path"
        read -r code size enc < <(curl -s -H 'Accept-Encoding: gzip' -D "$TMP/head-$name" -o "$TMP/body-$name" \
            -w '%{http_code} %{size_header} ' "$url"; awk -F': ' 'tolower($1) == "content-encoding" { gsub(/\r/, "", $2); print $2 }' "$TMP/head-$name")
        [[ $code == 200 && ${enc:-} == gzip ]] || die "$name answered $code (${enc:-no} encoding) for $path"
        VIEW[$path|$name]=$((size + $(wc -c <"$TMP/body-$name")))
        tag=$(awk -F': ' 'tolower($1) == "etag" { gsub(/\r/, "", $2); print $2 }' "$TMP/head-$name")
        read -r code size < <(curl -s -H 'Accept-Encoding: gzip' -H "If-None-Match: $tag" -o /dev/null -w '%{http_code} %{size_header}\n' "$url")
        [[ $code == 304 ]] || die "$name answered $code to a conditional request for $path"
        REPEAT[$path|$name]=$size
    done
    for name in "${REFS[@]}" candor-1; do
        cmp -s "$TMP/body-$name" "$TMP/body-candor" || die "gzip bodies differ for $path ($name, candor)"
    done
    br=$(curl -s -H 'Accept-Encoding: br' -o /dev/null -w '%{size_header} %{size_download}' "http://127.0.0.1:$CANDOR_PORT$path" | awk '{ print $1 + $2 }')
    VIEW[$path|candor-br]=$br
    log "$path: identical gzip bodies ($(wc -c <"$TMP/body-candor") bytes); Candor with brotli: $br bytes per view"
done

# --- load ------------------------------------------------------------------------------------
declare -A V
bench() { # round name path
    local url="http://127.0.0.1:${PORT[$2]}$3" out="$TMP/wrk-$1-$2-${3//\//_}.txt"
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -H 'Accept-Encoding: gzip' "$url" >/dev/null
    wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' "$url" >"$out"
    local rps p50 p99
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    log "round $1 $3 $2: $rps req/s, p50 $p50 ms, p99 $p99 ms"
    V[$3|$2|rps]+="$rps " V[$3|$2|p50]+="$p50 " V[$3|$2|p99]+="$p99 "
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
NS=${#SERVERS[@]}
for round in $(seq "$ROUNDS"); do
    for path in "${PATHS[@]}"; do
        for ((i = 0; i < NS; i++)); do bench "$round" "${SERVERS[$(((i + round - 1) % NS))]}" "$path"; done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

ROWS=()
for path in "${PATHS[@]}"; do
    for srv in "${SERVERS[@]}"; do
        k="$path|$srv"
        row="| \`$path\` | ${LABEL[$srv]} | $(median ${V[$k|rps]}) | $(median ${V[$k|p50]}) | $(median ${V[$k|p99]})"
        row+=" | ${VIEW[$k]} | ${REPEAT[$k]} |"
        ROWS+=("$row")
    done
done
REPORT=$(
    cat <<EOF
CDN origin, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD || echo ' + local changes'); load average before $LOAD_BEFORE, after $LOAD_AFTER.
\`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -H 'Accept-Encoding: gzip'\` after a ${WARMUP}s warm-up; median of $ROUNDS rounds, order rotated. nginx: gzip_static, open_file_cache.
Bytes per view: status line, headers and gzip body of one response; repeat view: a 304 to If-None-Match (headers only).

| path | server | req/s | p50 (ms) | p99 (ms) | bytes per view (gzip) | bytes per repeat view (304) |
|---|---|---:|---:|---:|---:|---:|
$(printf '%s\n' "${ROWS[@]}")

Candor with brotli (what browsers get): $(for p in "${PATHS[@]}"; do printf '`%s` %s bytes per view; ' "$p" "${VIEW[$p|candor-br]}"; done)
EOF
)
mkdir -p "$RESULTS_DIR"
printf '%s\n' "$REPORT" >"$RESULTS_DIR/origin-$(date -u +%Y-%m-%d).md"
printf '%s\n' "$REPORT"
