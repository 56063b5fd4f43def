#!/usr/bin/env bash
# Backup benchmark: `candor backup`, `candor restore` (into SQLite and into PostgreSQL) and
# `candor dr-drill` on an installation holding ROWS audit entries and MB megabytes of stored
# files: wall time and peak memory (RSS, from /usr/bin/time -v) of each, and the archive's size.
#
#   bash bench/backup.sh
#
# Needs: cargo, /usr/bin/time (Debian: apt-get install -y time); psql for the PostgreSQL restore
# (skipped without it). Prints a Markdown table and writes it to bench/results/backup-<UTC date>.md.
#
# Knobs (environment, all optional):
#   BENCH_ROWS        audit entries seeded               (default 100000)
#   BENCH_MB          megabytes of stored files          (default 1000)
#   BENCH_FILES       how many files they are split into (default 64)
#   BENCH_PROFILE     release or debug build             (default release)
#   BENCH_PG_ADMIN    PostgreSQL admin URL               (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_KEEP=1      keep the temporary directory
set -Eeuo pipefail

ROWS=${BENCH_ROWS:-100000}
MB=${BENCH_MB:-1000}
FILES=${BENCH_FILES:-64}
PROFILE=${BENCH_PROFILE:-release}
PG_ADMIN=${BENCH_PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[backup.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (Debian: apt-get install -y time)"
while read -r v; do unset "$v"; done < <(compgen -e | grep '^CANDOR_' || true)

flag=(); [[ $PROFILE == release ]] && flag=(--release)
log "building candor and the seeding example ($PROFILE)"
(cd "$ROOT" && cargo build "${flag[@]}" -p candor && cargo build "${flag[@]}" -p candor-app --example backup_seed) >&2
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE
CANDOR=$TARGET/candor
SEED=$TARGET/examples/backup_seed

TMP=$(mktemp -d "${TMPDIR:-/tmp}/candor-backup-bench.XXXXXX")
PGDB=""
cleanup() {
    [[ -n $PGDB ]] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
    [[ ${BENCH_KEEP:-} == 1 ]] && log "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

SRC=$TMP/src
export CANDOR_DEMO=false
log "seeding $ROWS rows and $MB MB in $FILES files"
CANDOR_DATA_DIR=$SRC CANDOR_DATABASE_URL=sqlite://$SRC/candor.db "$CANDOR" init >/dev/null
"$SEED" "sqlite://$SRC/candor.db" "$SRC" "$ROWS" "$MB" "$FILES" >&2

ROWS_OUT=()
# measure LABEL DATA_DIR DATABASE_URL ARGS...: runs candor under /usr/bin/time -v.
measure() {
    local label=$1 dir=$2 url=$3; shift 3
    log "$label"
    CANDOR_DATA_DIR=$dir CANDOR_DATABASE_URL=$url /usr/bin/time -v -o "$TMP/time.txt" "$CANDOR" "$@" >"$TMP/out.txt"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$TMP/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$TMP/time.txt")
    ROWS_OUT+=("| $label | $wall | $rss |")
    cat "$TMP/out.txt" >&2
}

measure "backup (SQLite source)" "$SRC" "sqlite://$SRC/candor.db" backup --to "$TMP/out"
ARCHIVE=$(ls "$TMP"/out/*.cbk)
SIZE=$(du -m "$ARCHIVE" | cut -f1)

mkdir -p "$TMP/r1" && cp -p "$SRC/master.keys" "$TMP/r1/"
measure "restore into SQLite" "$TMP/r1" "sqlite://$TMP/r1/candor.db" restore "$ARCHIVE"

if command -v psql >/dev/null && psql "$PG_ADMIN" -qc "SELECT 1" >/dev/null 2>&1; then
    PGDB=candor_backup_bench_$$
    psql "$PG_ADMIN" -qc "CREATE DATABASE $PGDB" >/dev/null
    PGURL=${PG_ADMIN%/*}/$PGDB
    mkdir -p "$TMP/r2" && cp -p "$SRC/master.keys" "$TMP/r2/"
    measure "restore into PostgreSQL" "$TMP/r2" "$PGURL" restore "$ARCHIVE"
    measure "backup (PostgreSQL source)" "$TMP/r2" "$PGURL" backup --to "$TMP/out2"
else
    log "PostgreSQL not reachable at $PG_ADMIN: its rows are skipped"
fi

measure "dr-drill (restore into scratch SQLite + checks)" "$SRC" "sqlite://$SRC/candor.db" dr-drill --from "$TMP/out"
RTO=$(grep -o 'RTO [0-9]* ms' "$TMP/out.txt" | head -1)

mkdir -p "$ROOT/bench/results"
RESULT=$ROOT/bench/results/backup-$(date -u +%Y-%m-%d).md
{
    echo "Backup benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $PROFILE build: $ROWS audit entries, $MB MB in $FILES files; archive $SIZE MB; drill $RTO."
    echo
    echo "| step | wall s | peak RSS MB |"
    echo "|---|---|---|"
    printf '%s\n' "${ROWS_OUT[@]}"
} | tee "$RESULT"
