#!/usr/bin/env bash
# TLS check: starts Candor with a fresh self-signed certificate on its built-in TLS listener and
# runs testssl.sh (Debian package testssl.sh, command `testssl`) against it. Fails on any
# protocol below TLS 1.2, any cipher suite that is not AEAD (GCM, CCM or ChaCha20-Poly1305),
# a missing TLS 1.2 or 1.3, or a missing or short HSTS header. Also checks the HTTP→HTTPS
# redirect listener. Run from the repo root: `bash security/tls.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo-server.sh
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/candor"
[ -x "$bin" ] || cargo build -q -p candor

if ! command -v testssl >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    apt-get install -y -qq testssl.sh >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq testssl.sh >/dev/null; }
  else
    echo "SKIPPED: TLS check (no testssl; apt-get install testssl.sh)"
    exit 0
  fi
fi

work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
port="$(free_port)"; http_port="$(free_port)"
start_demo_server "$work" "$port" "$bin" CANDOR_TLS_CERT_FILE="$work/cert.pem" CANDOR_TLS_KEY_FILE="$work/key.pem" \
  CANDOR_REDIRECT_HTTP_LISTEN="127.0.0.1:$http_port" CANDOR_LOG_LEVEL=warn
server=$server_pid
wait_until_ready tls "https://127.0.0.1:$port" "$work"

fail=0
location="$(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$http_port/s/encryption?x=1")"
if [ "$location" = "https://127.0.0.1:$port/s/encryption?x=1" ]; then echo "PASS tls-redirect-listener"; else echo "FAIL tls-redirect-listener: got '$location'"; fail=1; fi

testssl --quiet --color 0 --warnings off --jsonfile-pretty "$work/testssl.json" -p -E -h "127.0.0.1:$port" >"$work/testssl.out" 2>&1 || true
python3 - "$work/testssl.json" <<'PY' || fail=1
import json, sys
scan = json.load(open(sys.argv[1]))["scanResult"][0]
findings = {f["id"]: f["finding"] for section in scan.values() if isinstance(section, list) for f in section}
problems = []
for old in ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]:
    if findings.get(old) != "not offered":
        problems.append(f"{old} must not be offered, testssl says: {findings.get(old)}")
for new in ["TLS1_2", "TLS1_3"]:
    if not str(findings.get(new, "")).startswith("offered"):
        problems.append(f"{new} must be offered, testssl says: {findings.get(new)}")
ciphers = [v for k, v in findings.items() if k.startswith("cipher-tls")]
if not ciphers:
    problems.append("testssl listed no cipher suites")
for c in ciphers:
    if not any(a in c for a in ("GCM", "CCM", "CHACHA20")):
        problems.append(f"non-AEAD cipher offered: {c}")
hsts = findings.get("HSTS_time", "")
if not hsts or "31536000" not in hsts:
    problems.append(f"HSTS missing or shorter than a year: {hsts!r}")
if problems:
    print("FAIL tls-testssl:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"PASS tls-testssl: TLS 1.2 and 1.3 only, {len(ciphers)} cipher suites all AEAD, HSTS {hsts}")
PY
exit $fail
