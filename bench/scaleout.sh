#!/usr/bin/env bash
# Scale-out benchmark: public-page throughput of one and of two `candor serve` instances on one
# PostgreSQL database, against nginx serving the same pages (`candor export-site` output) from
# disk, in the same run, on loopback.
#
#   bash bench/scaleout.sh
#
# Needs: cargo, curl, wrk, nginx, psql and a PostgreSQL server reachable at
# BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres; a database
# candor_bench_<pid> is created there and dropped at the end).
# Prints a Markdown table and writes it to bench/results/scaleout-<UTC date>.md.
#
# Knobs (environment, all optional):
#   BENCH_DURATION   seconds per measured run            (default 10)
#   BENCH_WARMUP     seconds of warm-up before each run  (default 2)
#   BENCH_CONNS      wrk connections in all              (default 64)
#   BENCH_PATH       the page                            (default /)
#   BENCH_ROUNDS     rounds; the table shows medians     (default 3)
#
# Every setup is loaded by two wrk processes at once, half the connections each; two instances
# get one each (a load
# balancer in front would add its own cost to both setups alike); their requests per second are
# added and the worse p99 is reported. On a machine with few cores the two instances share them
# with each other and with wrk, so the second instance adds redundancy more than throughput
# there; the figure that travels between machines is the ratio against nginx in the same run.
set -Eeuo pipefail

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64}
PAGE=${BENCH_PATH:-/}
ROUNDS=${BENCH_ROUNDS:-3}
PG_ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib/common.sh"
RESULTS_DIR="$ROOT/bench/results"

for tool in cargo curl wrk nginx psql awk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install -y wrk nginx-light curl postgresql-client)"
done
while read -r v; do unset "$v"; done < <(compgen -e | grep '^CANDOR_' || true)

log "building the release binary"
(cd "$ROOT" && cargo build --release -p candor) >&2
CANDOR="$ROOT/target/release/candor"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/candor-scaleout.XXXXXX")
DB="candor_bench_$$"
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    if [[ $rc != 0 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT

psql "$PG_ADMIN" -qc "CREATE DATABASE $DB" >/dev/null
PG_URL="${PG_ADMIN%/*}/$DB"
PUBLIC_URL="http://trust.candor-bench.test"
cd "$TMP"
chmod 755 "$TMP"
export CANDOR_DATABASE_URL=$PG_URL CANDOR_DATA_DIR=$TMP/data CANDOR_PUBLIC_URL=$PUBLIC_URL CANDOR_LOG_LEVEL=warn
"$CANDOR" init >init.log 2>&1 || { cat init.log >&2; die "candor init failed"; }
"$CANDOR" export-site site/ >export.log 2>&1 || { cat export.log >&2; die "candor export-site failed"; }
chmod -R a+rX site

# nginx, one worker per core, serving the exported pages.
NGINX_PORT=$(free_port)
mkdir -p nginx
cat >nginx/nginx.conf <<EOF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    default_type text/html;
    charset utf-8;
    open_file_cache max=1000 inactive=60s;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/site;
        index index.html;
        location / { try_files \$uri \$uri.html \$uri/ =404; }
    }
}
EOF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >nginx/stdout.log 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$NGINX_PORT$PAGE" nginx

# Two Candor instances on the one database and data directory.
PORTS=()
for i in 1 2; do
    port=$(free_port)
    CANDOR_LISTEN=127.0.0.1:$port "$CANDOR" serve >"candor-$i.log" 2>&1 &
    PIDS+=($!)
    PORTS+=("$port")
    wait_http "http://127.0.0.1:$port$PAGE" "candor instance $i"
done

rps_of() { awk '/^Requests\/sec/ { print $2 }' "$1"; }
p99_of() { to_ms "$(awk '$1 == "99%" { print $2 }' "$1")"; }

# One setup, one round: "rps p99". Each argument is a base URL that gets CONNS/n connections.
measure() {
    local n=$# conns=$((CONNS / $#)) i=0 out rps=0 p99=0
    for base in "$@"; do wrk -t1 -c"$conns" -d"${WARMUP}s" "$base$PAGE" >/dev/null & done
    wait
    for base in "$@"; do
        i=$((i + 1))
        wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$base$PAGE" >"wrk-$i.out" &
    done
    wait
    for i in $(seq "$n"); do
        out="wrk-$i.out"
        rps=$(awk -v a="$rps" -v b="$(rps_of "$out")" 'BEGIN { print a + b }')
        p99=$(awk -v a="$p99" -v b="$(p99_of "$out")" 'BEGIN { print (b > a) ? b : a }')
    done
    echo "$rps $p99"
}

declare -A RPS P99
NAMES=("nginx" "candor-1" "candor-2")
for round in $(seq "$ROUNDS"); do
    for name in "${NAMES[@]}"; do
        case $name in
            # Every setup gets the same load generator: two wrk processes of one thread each
            # (one wrk thread alone tops out near what one server does here, which made two
            # instances look faster than they are).
            nginx) read -r r p < <(measure "http://127.0.0.1:$NGINX_PORT" "http://127.0.0.1:$NGINX_PORT") ;;
            candor-1) read -r r p < <(measure "http://127.0.0.1:${PORTS[0]}" "http://127.0.0.1:${PORTS[0]}") ;;
            candor-2) read -r r p < <(measure "http://127.0.0.1:${PORTS[0]}" "http://127.0.0.1:${PORTS[1]}") ;;
        esac
        log "round $round $name: $r req/s, p99 $p ms"
        RPS[$name]+="$r " P99[$name]+="$p "
    done
done

NGINX_RPS=$(median ${RPS[nginx]})
DATE=$(date -u +%Y-%m-%d)
mkdir -p "$RESULTS_DIR"
{
    echo "### Scale-out: $PAGE on PostgreSQL, $DATE, $(nproc) cores"
    echo
    echo "\`wrk --latency\`, $CONNS connections in all, ${DURATION}s after ${WARMUP}s warm-up, median of $ROUNDS rounds; every setup is loaded by two wrk processes of one thread, half the connections each (one per instance for two instances), requests per second added, the worse p99."
    echo
    echo "| setup | req/s | p99 (ms) | ÷ nginx req/s |"
    echo "|---|---|---|---|"
    for name in "${NAMES[@]}"; do
        r=$(median ${RPS[$name]})
        p=$(median ${P99[$name]})
        label=$name
        [[ $name == nginx ]] && label="nginx (auto workers, open_file_cache), exported pages"
        [[ $name == candor-1 ]] && label="Candor, one instance"
        [[ $name == candor-2 ]] && label="Candor, two instances, one PostgreSQL"
        printf '| %s | %.0f | %.2f | %.2f |\n' "$label" "$r" "$p" "$(awk -v a="$r" -v b="$NGINX_RPS" 'BEGIN { print a / b }')"
    done
} | tee "$RESULTS_DIR/scaleout-$DATE.md"
