#!/usr/bin/env bash
# Page-serving benchmark: Candor's in-memory public pages against nginx serving the same HTML
# (`candor export-site` output) from disk, measured in the same run on loopback.
#
#   bash bench/pages.sh
#
# Needs: cargo, curl, wrk and nginx (Debian: apt-get install -y wrk nginx-light).
# Prints a Markdown table and writes it to bench/results/pages-<UTC date>.md.
#
# Knobs (environment, all optional):
#   BENCH_DURATION   seconds per measured run            (default 10)
#   BENCH_WARMUP     seconds of warm-up before each run  (default 2)
#   BENCH_THREADS    wrk threads                         (default 2)
#   BENCH_CONNS      wrk connections                     (default 64)
#   BENCH_PATHS      space-separated paths               (default "/ /s/encryption")
#   BENCH_ROUNDS     rounds; the table shows medians     (default 3)
#   BENCH_KEEP=1     keep the temporary directory (logs, site, nginx.conf, wrk output); it is
#                    always kept when the script fails
#
# Method (see docs/PERFORMANCE.md): release build, loopback, wrk and the servers share the
# machine's cores, so the figures that travel between machines are the ratios against nginx
# serving the same bytes in the same run. Three nginx references run side by side:
#   - nginx-1      the minimal configuration, `worker_processes 1` (the primary reference);
#   - nginx-auto   `worker_processes auto` (one worker per core, as many as Candor's tokio
#                  runtime has worker threads);
#   - nginx-1-ofc  one worker plus open_file_cache (no open/fstat/close per request).
# Each run also records the CPU used by the server, by wrk and by unrelated processes, so a run
# disturbed by other work on the machine shows up in the table.
set -Eeuo pipefail

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
read -r -a PATHS <<<"${BENCH_PATHS:-/ /s/encryption}"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib/common.sh"
RESULTS_DIR="$ROOT/bench/results"

for tool in cargo curl wrk nginx awk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install -y wrk nginx-light curl)"
done

# Candor rejects unknown CANDOR_* variables and would pick up a caller's database URL; the
# benchmark is defined on a fresh SQLite data directory, so start from a clean slate.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^CANDOR_' || true)

# --- 1. release build ------------------------------------------------------------------------
log "building the release binary"
(cd "$ROOT" && cargo build --release -p candor) >&2
CANDOR="$ROOT/target/release/candor"
[[ -x $CANDOR ]] || die "$CANDOR was not built"

# --- clean-up --------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/candor-bench.XXXXXX")
PIDS=()    # servers: our children, not reaped before clean-up, so their PIDs cannot be reused
SAMPLER="" # the RSS sampler while one runs
cleanup() {
    local rc=$?
    if [[ -n $SAMPLER ]]; then kill "$SAMPLER" 2>/dev/null || true; fi
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 2. data directory and static export -----------------------------------------------------
# Absolute links (feeds, sitemap, canonical URLs) contain the public URL, which defaults to
# http://<listen>; fix it so the exported files and the served pages are byte-identical.
PUBLIC_URL="http://trust.candor-bench.test"
cd "$TMP"
chmod 755 "$TMP" # nginx workers may run as another user and must read the site
log "candor init / export-site in $TMP"
CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn "$CANDOR" init >init.log 2>&1 || { cat init.log >&2; die "candor init failed"; }
CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn "$CANDOR" export-site site/ >export.log 2>&1 || { cat export.log >&2; die "candor export-site failed"; }
chmod -R a+rX site
log "$(cat export.log)"

# --- 3. servers ------------------------------------------------------------------------------
# Servers under test: name -> port, master PID, label in the table.
SERVERS=()
declare -A PORT MAINPID LABEL

start_nginx() { # name workers label [extra http-level directives]
    local name=$1 workers=$2 label=$3 extra=${4:-} dir="$TMP/$1" port
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
    # nginx closes a keep-alive connection after 1000 requests by default; Candor never does.
    keepalive_requests 1000000;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    types {
        text/html html;
        text/css css;
        text/plain txt;
        application/xml xml;
        application/atom+xml atom;
        application/json json;
        image/svg+xml svg;
        image/x-icon ico;
    }
    default_type text/html;
    charset utf-8;
    $extra
    server {
        listen 127.0.0.1:$port;
        root $TMP/site;
        index index.html;
        location / {
            # \$uri/ (after \$uri.html, so /policies is policies.html, not the policies/
            # directory) lets the index directive serve / as index.html.
            try_files \$uri \$uri.html \$uri/ =404;
        }
    }
}
EOF
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
    PIDS+=($!)
    SERVERS+=("$name") PORT[$name]=$port MAINPID[$name]=$! LABEL[$name]=$label
    wait_http "http://127.0.0.1:$port/" "nginx ($name)"
}

# The reference: the minimal configuration, one worker.
start_nginx nginx-1 1 "nginx, 1 worker"
# One worker per core: as many as Candor's tokio runtime has worker threads.
start_nginx nginx-auto auto "nginx, auto ($(nproc) workers)"
# Without a cache nginx opens, stats and closes the file on every request; with it, it is the
# practical limit for one worker.
start_nginx nginx-1-ofc 1 "nginx, 1 worker, open_file_cache" \
    "open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;"
REFS=("${SERVERS[@]}")

CANDOR_PORT=$(free_port)
CANDOR_LISTEN=127.0.0.1:$CANDOR_PORT CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn \
    "$CANDOR" serve >candor.log 2>&1 &
CANDOR_PID=$!
PIDS+=("$CANDOR_PID")
SERVERS+=(candor) PORT[candor]=$CANDOR_PORT MAINPID[candor]=$CANDOR_PID LABEL[candor]="**Candor**"
wait_http "http://127.0.0.1:$CANDOR_PORT/healthz" "candor"

# --- 5. idle RSS -----------------------------------------------------------------------------
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
sleep 1
IDLE_RSS_KB=$(status_kb "$CANDOR_PID" VmRSS)
log "candor ready on :$CANDOR_PORT, idle VmRSS ${IDLE_RSS_KB} kB; $(for n in "${REFS[@]}"; do printf '%s on :%s; ' "$n" "${PORT[$n]}"; done)"

# --- 4. same status and body -----------------------------------------------------------------
for path in "${PATHS[@]}"; do
    for name in "${SERVERS[@]}"; do
        code=$(curl -s -o "$TMP/body-$name" -w '%{http_code}' "http://127.0.0.1:${PORT[$name]}$path")
        [[ $code == 200 ]] || die "$name answered $code for $path"
    done
    for name in "${REFS[@]}"; do
        cmp -s "$TMP/body-$name" "$TMP/body-candor" || die "bodies differ for $path ($name $(wc -c <"$TMP/body-$name") bytes, candor $(wc -c <"$TMP/body-candor") bytes)"
    done
    log "$path: 200 from nginx and Candor, identical body ($(wc -c <"$TMP/body-candor") bytes)"
done

# --- 6. load ---------------------------------------------------------------------------------
# CPU ticks (user + system) used so far by a process and its children-processes' threads.
cpu_ticks() {
    local total=0 pid t
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] || continue
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}
nginx_pids() { # master pid -> master and workers
    local kids
    if command -v pgrep >/dev/null 2>&1; then kids=$(pgrep -P "$1" || true); else kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true); fi
    echo "$1" $kids
}

# CPU ticks (user + system) of every process on the machine: "pid comm ticks" lines. Used to
# see how much CPU unrelated processes took during a run (processes that ended during the run are
# missed, so it is a lower bound).
proc_ticks() {
    # grep fails when a process ends between the glob and the read; that is expected.
    { grep -H '' /proc/[0-9]*/stat 2>/dev/null || true; } | awk '{
        split($0, f, "/"); pid = f[3]
        comm = $0; sub(/^[^(]*\(/, "", comm); sub(/\) [^)]*$/, "", comm); gsub(/ /, "_", comm)
        sub(/^.*\) /, ""); print pid, comm, $12 + $13 }'
}
other_ticks() { # before-file after-file excluded-pids...
    local before=$1 after=$2; shift 2
    awk -v skip=" $* " 'NR == FNR { b[$1] = $3; next }
        $2 != "wrk" && index(skip, " " $1 " ") == 0 { d = $3 - b[$1]; if (d > 0) n += d }
        END { print n + 0 }' "$before" "$after"
}

fmt0() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
fmt2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

CLK_TCK=$(getconf CLK_TCK)
PEAK_LOAD_RSS_KB=0
declare -A V # "path|server|metric" -> space-separated values, one per round
WARNINGS=()

# One measured run. Runs in this shell (not a subshell): it starts the RSS sampler and updates
# PEAK_LOAD_RSS_KB and V.
bench() { # round name port path pids...
    local round=$1 name=$2 port=$3 path=$4; shift 4
    local url="http://127.0.0.1:$port$path" out="$TMP/wrk-$round-$name-${path//\//_}.txt"
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null
    if [[ $name == candor ]]; then
        (
            peak=0
            while kill -0 "$CANDOR_PID" 2>/dev/null; do
                r=$(status_kb "$CANDOR_PID" VmRSS)
                if ((r > peak)); then peak=$r; echo "$peak" >"$TMP/rss-peak"; fi
                sleep 0.2
            done
        ) &
        SAMPLER=$!
    fi
    local s0 s1 wrk_ticks
    s0=$(cpu_ticks "$@")
    proc_ticks >"$TMP/ticks-before"
    # The subshell's cutime + cstime after waiting for wrk is wrk's own CPU time.
    wrk_ticks=$(
        wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$out"
        awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$BASHPID/stat"
    )
    proc_ticks >"$TMP/ticks-after"
    s1=$(cpu_ticks "$@")
    local sampler=$SAMPLER
    if [[ -n $SAMPLER ]]; then
        kill "$SAMPLER" 2>/dev/null || true
        wait "$SAMPLER" 2>/dev/null || true
        SAMPLER=""
        local r
        r=$(cat "$TMP/rss-peak" 2>/dev/null || echo 0)
        if ((r > PEAK_LOAD_RSS_KB)); then PEAK_LOAD_RSS_KB=$r; fi
    fi
    local rps p50 p99 errs
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    [[ -n $rps ]] || { cat "$out" >&2; die "could not parse wrk output for $name $path"; }
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    errs=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$out")
    pct() { awk -v d="$1" -v hz="$CLK_TCK" -v s="$DURATION" 'BEGIN { printf "%.0f", 100 * d / hz / s }'; }
    local cpu wrkcpu other
    cpu=$(pct $((s1 - s0)))
    wrkcpu=$(pct "$wrk_ticks")
    other=$(pct "$(other_ticks "$TMP/ticks-before" "$TMP/ticks-after" "$@" "$BASHPID" ${sampler:+"$sampler"})")
    if ((errs > 0)); then WARNINGS+=("round $round, $name $path: $errs socket errors or non-2xx responses"); fi
    if ((other > 15)); then WARNINGS+=("round $round, $name $path: other processes used ${other}% of a core during the run"); fi
    log "round $round $path $name: $rps req/s, p50 $p50 ms, p99 $p99 ms; CPU: server $cpu%, wrk $wrkcpu%, other $other%"
    local k="$path|$name"
    V[$k|rps]+="$rps " V[$k|p50]+="$p50 " V[$k|p99]+="$p99 " V[$k|cpu]+="$cpu " V[$k|wrk]+="$wrkcpu " V[$k|other]+="$other "
}

ROUNDS=${BENCH_ROUNDS:-3}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    log "warning: load average is $LOAD_BEFORE on $(nproc) cores; if other work is still running it will distort the figures (see the \"other\" CPU figure of each run)"
fi
NS=${#SERVERS[@]}
for round in $(seq "$ROUNDS"); do
    for path in "${PATHS[@]}"; do
        # Rotate the order each round so no server always runs first or last.
        for ((i = 0; i < NS; i++)); do
            srv=${SERVERS[$(((i + round - 1) % NS))]}
            if [[ $srv == candor ]]; then
                bench "$round" candor "$CANDOR_PORT" "$path" "$CANDOR_PID"
            else
                bench "$round" "$srv" "${PORT[$srv]}" "$path" $(nginx_pids "${MAINPID[$srv]}")
            fi
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

HWM_KB=$(status_kb "$CANDOR_PID" VmHWM)
END_RSS_KB=$(status_kb "$CANDOR_PID" VmRSS)

# --- 7. report -------------------------------------------------------------------------------
ROWS=()
for path in "${PATHS[@]}"; do
    read -r -a c_rps <<<"${V[$path|candor|rps]}"
    for srv in "${SERVERS[@]}"; do
        k="$path|$srv"
        read -r -a rps <<<"${V[$k|rps]}"
        row="| \`$path\` | ${LABEL[$srv]}"
        row+=" | $(fmt0 "$(median "${rps[@]}")") | $(fmt2 "$(median ${V[$k|p50]})") | $(fmt2 "$(median ${V[$k|p99]})")"
        row+=" | $(fmt0 "$(median ${V[$k|cpu]})") / $(fmt0 "$(median ${V[$k|wrk]})") / $(fmt0 "$(median ${V[$k|other]})")"
        if [[ $srv == candor ]]; then
            for ref in "${REFS[@]}"; do
                read -r -a r_rps <<<"${V[$path|$ref|rps]}"
                ratios=()
                for ((j = 0; j < ${#c_rps[@]}; j++)); do
                    ratios+=("$(awk -v a="${c_rps[$j]}" -v b="${r_rps[$j]}" 'BEGIN { printf "%.3f", a / b }')")
                done
                range=$(printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }')
                cell="$(fmt2 "$(median "${ratios[@]}")")× ($range)"
                [[ $ref == nginx-1 ]] && cell="**$cell**"
                row+=" | $cell"
            done
        else
            row+="$(printf ' |%.0s' "${REFS[@]}")"
        fi
        ROWS+=("$row |")
    done
done

DATE=$(date -u +%Y-%m-%d)
REPORT=$(
    cat <<EOF
Page serving, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' + local changes'); load average before $LOAD_BEFORE, after $LOAD_AFTER.
\`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency\` after a ${WARMUP}s warm-up, loopback; wrk and the server share the cores.
Median of $ROUNDS rounds (server order rotated each round); ratios are medians of the per-round ratios, range in brackets.
Latencies in ms. CPU, in % of one core over the run: server / wrk / other processes on the machine (user + system time of processes that were still running at the end; interrupt and softirq time is not in these).

| path | server | req/s | p50 (ms) | p99 (ms) | CPU % server / wrk / other | Candor ÷ nginx 1 worker | Candor ÷ nginx auto | Candor ÷ nginx 1 worker + open_file_cache |
|---|---|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${ROWS[@]}")

Candor RSS: idle after start-up $(mb "$IDLE_RSS_KB") MB; under load (peak sampled VmRSS) $(mb "$PEAK_LOAD_RSS_KB") MB; VmHWM $(mb "$HWM_KB") MB; after the runs $(mb "$END_RSS_KB") MB.
$(if ((${#WARNINGS[@]})); then printf '\nWarnings:\n'; printf -- '- %s\n' "${WARNINGS[@]}"; fi)
EOF
)
mkdir -p "$RESULTS_DIR"
printf '%s\n' "$REPORT" >"$RESULTS_DIR/pages-$DATE.md"
printf '%s\n' "$REPORT"
log "written to bench/results/pages-$DATE.md"
