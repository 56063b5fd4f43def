#!/usr/bin/env bash
# Candor's dependency audit: `cargo audit` against the advisory database snapshot kept beside the
# repository (../shared/advisory-db), offline. Advisories listed in security/audit-exceptions.txt
# (one `RUSTSEC-YYYY-NNNN  reason` a line; `#` starts a comment) are passed as --ignore.
#
# Called from anywhere as `bash security/audit.sh`. Without cargo-audit it prints SKIPPED and
# exits 0, except with CI=true, where it installs it (`cargo install cargo-audit --locked`, about
# ten minutes on two cores). Exits non-zero when an advisory that is not excepted applies.
set -euo pipefail
cd "$(dirname "$0")/.."

db="${CANDOR_ADVISORY_DB:-../shared/advisory-db}"
exceptions="security/audit-exceptions.txt"

if ! cargo audit --version >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "audit: cargo-audit is missing; installing it (cargo install cargo-audit --locked)"
    cargo install cargo-audit --locked
  else
    echo "SKIPPED: cargo audit (cargo install cargo-audit --locked)"
    exit 0
  fi
fi

if [ ! -d "$db" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: cargo audit: the advisory database $db is missing." >&2
    exit 1
  fi
  echo "SKIPPED: cargo audit (no advisory database at $db)"
  exit 0
fi

ignore=()
if [ -f "$exceptions" ]; then
  while read -r id reason; do
    case "$id" in ''|'#'*) continue ;; esac
    if ! [[ "$id" =~ ^RUSTSEC-[0-9]{4}-[0-9]{4}$ ]]; then
      echo "FAIL: $exceptions: '$id' is not an advisory id (RUSTSEC-YYYY-NNNN)." >&2
      exit 1
    fi
    if [ -z "$reason" ]; then
      echo "FAIL: $exceptions: $id has no reason; write why it does not affect Candor." >&2
      exit 1
    fi
    ignore+=(--ignore "$id")
    echo "audit: ignoring $id: $reason"
  done < "$exceptions"
fi

snapshot="$(cat "$db/SNAPSHOT" 2>/dev/null || true)"
echo "audit: cargo-audit $(cargo audit --version | awk '{print $NF}'); advisory database ${snapshot:-$db}"
status=0
cargo audit --db "$db" --no-fetch --stale "${ignore[@]}" || status=$?
if [ "$status" -eq 0 ]; then
  echo "PASS cargo-audit"
else
  echo "FAIL cargo-audit: advisories apply (see above); upgrade the crate (cargo tree -i CRATE shows who pulls it in) or add a reasoned line to $exceptions"
fi
exit "$status"
