#!/usr/bin/env bash
# Property-based API conformance: schemathesis (PyPI) generates requests from the OpenAPI document
# at /api/v1/openapi.json, valid and invalid ones, sends them to a throwaway Candor with its demo
# trust center, and checks every answer: no server error, a status the document lists for that
# operation, the content type it lists, and a body that matches its schema.
#
# Starts target/debug/candor (built if missing) in a fresh temporary directory, completes the
# owner setup and signs in with curl, and creates a read-write API token through the back office,
# as a person would. Installs schemathesis with pip when it is missing. Exits non-zero when a
# check fails. SCHEMATHESIS_EXAMPLES sets the examples per operation (default 8: a run of a few
# minutes); SECURITY_KEEP=1 keeps the temporary directory (server log, report).
#
# Called from the repo root as `bash security/schemathesis.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo-server.sh
root="$(pwd)"

for tool in curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: schemathesis.sh needs $tool (apt-get install $tool)." >&2; exit 1; }
done
if ! python3 -c 'import schemathesis' 2>/dev/null; then
  echo "schemathesis: installing it (python3 -m pip install schemathesis)"
  python3 -m pip install -q schemathesis
fi

candor_binary schemathesis

work="$(mktemp -d "${TMPDIR:-/tmp}/candor-schemathesis.XXXXXX")"
server_pid=""
cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] || [ -n "${SECURITY_KEEP:-}" ]; then
    echo "schemathesis: logs, report and data kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
start_demo_server "$work" "$port" "$bin" "CANDOR_PUBLIC_URL=$base"
wait_until_ready schemathesis "$base" "$work"
setup_link="$(setup_link_of "$work")"

# A form request with the owner's cookie jar; sets $code and leaves the body in $work/body.
jar="$work/owner.jar"
: >"$jar"
request() { # URL [curl args...]
  local url="$1"
  shift
  code="$(curl -sS --max-time 30 -b "$jar" -c "$jar" -o "$work/body" -w '%{http_code}' "$@" "$url")"
}
csrf() { { grep -o 'name="_csrf" value="[^"]*"' "$work/body" || true; } | head -n 1 | sed 's/.*value="//; s/"$//'; }

email="owner@example.com"
password="st-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')-passphrase"
request "$setup_link"
[ "$code" = "200" ] || { echo "FAIL: the setup link answered $code." >&2; exit 1; }
request "$setup_link" -H "Origin: $base" --data-urlencode "_csrf=$(csrf)" --data-urlencode "name=API Conformance" \
  --data-urlencode "email=$email" --data-urlencode "password=$password" --data-urlencode "confirm=$password"
[ "$code" = "303" ] || { echo "FAIL: owner setup answered $code, not 303." >&2; exit 1; }
request "$base/admin/login"
request "$base/admin/login" -H "Origin: $base" --data-urlencode "_csrf=$(csrf)" --data-urlencode "next=/admin" \
  --data-urlencode "email=$email" --data-urlencode "password=$password"
[ "$code" = "303" ] || { echo "FAIL: the owner could not sign in (status $code)." >&2; exit 1; }
request "$base/admin/tokens"
request "$base/admin/tokens" -H "Origin: $base" --data-urlencode "_csrf=$(csrf)" \
  --data-urlencode "name=schemathesis" --data-urlencode "scope=read-write" --data-urlencode "expires_days=1"
token="$({ grep -o '<p class="token">[^<]*</p>' "$work/body" || true; } | sed 's/<[^>]*>//g' | head -n 1)"
[ -n "$token" ] || { echo "FAIL: creating an API token showed no token (status $code)." >&2; exit 1; }
echo "schemathesis: owner signed in, read-write API token created; testing $base/api/v1/openapi.json"

# Phases: explicit examples and property-based fuzzing (valid and invalid data). The coverage
# phase is left out: with schemathesis 4.32.5 on Python 3.11 it stops with an internal error
# (hypothesis cannot describe one of its filter lambdas) before sending anything.
started=$(date +%s)
# Run from the temporary directory: schemathesis keeps a cache in `.schemathesis/` there.
cd "$work"
python3 -m schemathesis.cli --no-color run "$base/api/v1/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,fuzzing \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-8}" \
  --workers 2 \
  --generation-database none \
  --report junit --report-dir "$work/report" \
  --output-sanitize true
echo "schemathesis: PASS in $(($(date +%s) - started)) s"
