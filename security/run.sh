#!/usr/bin/env bash
# Candor's external security tests: black-box checks against a running server, the way an
# attacker or a customer's security reviewer would probe it (see docs/SECURITY-TESTS.md).
#
# Starts target/debug/candor with its demo trust center in a fresh temporary directory (like
# browser/run.sh), completes the owner setup and signs in with curl, creates a read-write API
# token, then runs each check and prints one line per check: `PASS name`, `FAIL name: why` or
# `SKIPPED name: why`. Exits non-zero when any check fails.
#
# Called from the repo root as `bash security/run.sh`; arguments, if any, are the names of the
# checks to run (default: all). Needs curl and python3. The sqlmap checks need sqlmap (Debian
# package `sqlmap`): with CI=true it is installed with apt-get, otherwise they are skipped.
# SECURITY_KEEP=1 keeps the temporary directory (server log, sqlmap logs) for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/demo-server.sh
root="$(pwd)"
started=$(date +%s)

for tool in curl python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then
      echo "security: $tool is missing; installing it (apt-get install -y $tool)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y "$tool" >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$tool" >/dev/null 2>&1; } || true
    fi
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "FAIL: security tests need $tool (apt-get install $tool)." >&2
      exit 1
    fi
  fi
done

candor_binary security

work="$(mktemp -d "${TMPDIR:-/tmp}/candor-security.XXXXXX")"
server_pid=""
stop() { # $1: pid
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  if [ -f "$work/forwarder.pid" ]; then stop "$(cat "$work/forwarder.pid")"; fi
  stop "$server_pid"
  if [ "$status" -ne 0 ] || [ -n "${SECURITY_KEEP:-}" ]; then
    if [ "$status" -ne 0 ] && [ -z "${checks_ran:-}" ] && [ -s "$work/server.err" ]; then
      echo "--- last lines of the server's log ($work/server.err) ---" >&2
      tail -n 20 "$work/server.err" >&2 || true
    fi
    echo "security: logs and data kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port="$(free_port)"
base="http://127.0.0.1:$port"

# A real SMTP server, so the password-reset form sends mail (aiosmtpd; installed by scripts/test).
mail_settings=()
if python3 -c 'import aiosmtpd' 2>/dev/null; then
  mkfifo "$work/sink.stdin"
  # Holding the fifo open keeps the sink alive; it exits when this script does.
  exec 7<>"$work/sink.stdin"
  python3 scripts/lib/smtp_sink.py "$work/mail" <"$work/sink.stdin" >"$work/sink.out" 2>"$work/sink.err" &
  for _ in $(seq 1 100); do grep -q '^ready' "$work/sink.out" 2>/dev/null && break; sleep 0.1; done
  sink_port="$(sed -n 's/^ready //p' "$work/sink.out")"
  [ -n "$sink_port" ] || { echo "FAIL: the test SMTP server did not start: $(cat "$work/sink.err")" >&2; exit 1; }
  mail_settings=(CANDOR_SMTP_HOST=127.0.0.1 "CANDOR_SMTP_PORT=$sink_port" CANDOR_SMTP_TLS=off
    "CANDOR_MAIL_FROM=Security Tests <trust@example.com>")
elif [ "${CI:-}" = "true" ]; then
  echo "FAIL: Python's aiosmtpd is missing and CI=true (pip install aiosmtpd)." >&2
  exit 1
fi

start_demo_server "$work" "$port" "$bin" "${mail_settings[@]}"
wait_until_ready security "$base" "$work"
setup_link="$(setup_link_of "$work")"

# ---------------------------------------------------------------------------------------------
# HTTP helpers. Every request has a time limit; responses go to files under $work.

CURL=(curl -sS --max-time 30)
n=0
# A new pair of file names for one response: sets $resp (headers) and $body.
new_resp() { n=$((n + 1)); resp="$work/r$n.headers"; body="$work/r$n.body"; }
# The value of the last header NAME in a header file (case-insensitive), without CR.
header() { # $1: header file, $2: name
  { grep -i "^$2:" "$1" || true; } | tail -n 1 | sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r'
}
# Every value of header NAME, one a line.
headers_all() { { grep -i "^$2:" "$1" || true; } | sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r'; }
status_of() { head -n 1 "$1" | awk '{print $2}'; }
csrf_of() { # $1: HTML file: the first hidden _csrf value in it
  { grep -o 'name="_csrf" value="[^"]*"' "$1" || true; } | head -n 1 | sed 's/.*value="//; s/"$//'
}
# Requests set $resp (header file), $body (body file) and $code (status), and return 0; call
# them directly, not in $(...), or those variables stay in the subshell.
# get JAR URL [curl args...]: a GET with a cookie jar.
get() {
  local jar="$1" url="$2"
  shift 2
  new_resp
  "${CURL[@]}" -b "$jar" -c "$jar" -D "$resp" -o "$body" "$@" "$url" >/dev/null
  code="$(status_of "$resp")"
}
# post JAR URL [curl args...]: a form POST with our Origin (fields as --data-urlencode k=v).
post() {
  local jar="$1" url="$2"
  shift 2
  new_resp
  "${CURL[@]}" -b "$jar" -c "$jar" -D "$resp" -o "$body" -H "Origin: $base" "$@" "$url" >/dev/null
  code="$(status_of "$resp")"
}
# plain URL [curl args...]: a request without a cookie jar.
plain() {
  local url="$1"
  shift
  new_resp
  "${CURL[@]}" -D "$resp" -o "$body" "$@" "$url" >/dev/null
  code="$(status_of "$resp")"
}

owner_email="owner@example.com"
owner_password="sec-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')-passphrase"

# sign_in JAR EMAIL PASSWORD [NEXT]: fetches a fresh login form (new CSRF pair) and posts it.
sign_in() {
  local jar="$1" email="$2" password="$3" next="${4:-/admin}" csrf
  get "$jar" "$base/admin/login"
  csrf="$(csrf_of "$body")"
  post "$jar" "$base/admin/login" --data-urlencode "_csrf=$csrf" --data-urlencode "next=$next" \
    --data-urlencode "email=$email" --data-urlencode "password=$password"
}

# Owner setup through the one-time link, sign-in, and an API token.
owner_jar="$work/owner.jar"
: >"$owner_jar"
get "$owner_jar" "$setup_link"
[ "$code" = "200" ] || { echo "FAIL: the setup link answered $code." >&2; exit 1; }
csrf="$(csrf_of "$body")"
post "$owner_jar" "$setup_link" --data-urlencode "_csrf=$csrf" --data-urlencode "name=Security Tests" \
  --data-urlencode "email=$owner_email" --data-urlencode "password=$owner_password" \
  --data-urlencode "confirm=$owner_password"
[ "$code" = "303" ] || { echo "FAIL: owner setup answered $code, not 303:" >&2; head -c 2000 "$body" >&2; exit 1; }
sign_in "$owner_jar" "$owner_email" "$owner_password"
[ "$code" = "303" ] || { echo "FAIL: the owner could not sign in (status $code)." >&2; exit 1; }
get "$owner_jar" "$base/admin/tokens"
csrf="$(csrf_of "$body")"
post "$owner_jar" "$base/admin/tokens" --data-urlencode "_csrf=$csrf" --data-urlencode "name=security tests" \
  --data-urlencode "scope=read-write" --data-urlencode "expires_days=1"
api_token="$({ grep -o '<p class="token">[^<]*</p>' "$body" || true; } | sed 's/<[^>]*>//g' | head -n 1)"
if [ -z "$api_token" ]; then
  echo "FAIL: creating an API token showed no token (<p class=\"token\">; status $code)." >&2
  exit 1
fi
# api URL [curl args...]: an API request with the bearer token.
api() {
  local url="$1"
  shift
  plain "$url" -H "Authorization: Bearer $api_token" "$@"
}
json_field() { # $1: JSON file, $2: Python expression on `d`
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
api "$base/api/v1/faq"
[ "$code" = "200" ] || { echo "FAIL: GET /api/v1/faq with the new token answered $code." >&2; exit 1; }
faq_slug="$(json_field "$body" 'next(i["slug"] for i in d["items"] if i["state"] == "published")')"
echo "security: owner signed in, API token created, test item faq/$faq_slug"

# Every page the sitemap lists, as paths.
sitemap_paths() {
  "${CURL[@]}" "$base/sitemap.xml" | grep -o '<loc>[^<]*</loc>' | sed 's/<[^>]*>//g; s#^https\?://[^/]*##'
}

# ---------------------------------------------------------------------------------------------
# Checks. Each runs in a subshell with `set -e`. `why "reason"` records a failure and returns 0,
# so a check can collect every problem; it passes when it records none and returns 0.
# `skip "reason"` marks it skipped.

why() { echo "$*" >>"$reasons"; }
skip() { echo "$*" >"$skipped"; }
failed_yet() { [ -s "$reasons" ]; }

# A `next` target is harmless when the browser stays on this site: a path under /admin, never
# `//host` (scheme-relative), no backslash (browsers read it as a slash), no control character.
local_admin_path() { # $1: value
  python3 - "$1" "$base" <<'PY2'
import sys, urllib.parse
v, base = sys.argv[1], sys.argv[2]
ok = (v.startswith("/admin") and not v.startswith("//") and "\\" not in v
      and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in v)
      and urllib.parse.urlsplit(urllib.parse.urljoin(base + "/", v)).netloc
          == urllib.parse.urlsplit(base).netloc)
sys.exit(0 if ok else 1)
PY2
}

# --- sqlmap -----------------------------------------------------------------------------------

# Decided once, before the checks run: ready, skip, or fail:<why>.
sqlmap_state=""
ensure_sqlmap() {
  [ -z "$sqlmap_state" ] || return 0
  if command -v sqlmap >/dev/null 2>&1; then
    sqlmap_state=ready
  elif [ "${CI:-}" = "true" ]; then
    echo "security: sqlmap is missing; installing it (apt-get install -y sqlmap)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y sqlmap >"$work/apt.log" 2>&1; then
      apt-get update >>"$work/apt.log" 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y sqlmap >>"$work/apt.log" 2>&1 || true
    fi
    if command -v sqlmap >/dev/null 2>&1; then
      sqlmap_state=ready
    else
      sqlmap_state="fail:sqlmap is missing and apt-get install -y sqlmap failed ($(tail -n 1 "$work/apt.log"))"
    fi
  else
    echo "SKIPPED: sqlmap (apt-get install sqlmap)"
    sqlmap_state=skip
  fi
}

# sqlmap_scan NAME [sqlmap args...]: runs sqlmap with the suite's settings and judges its log.
# Zero injection points expected. The run must also have finished its tests ("do not appear to
# be injectable"): a scan that could not reach the target proves nothing. A 5xx answer fails too
# (malformed input must never break a handler). Returns 1 on failure; sets $scan_log, $scan_codes.
scan_codes=""
sqlmap_scan() {
  local name="$1"
  shift
  case "$sqlmap_state" in
    ready) ;;
    fail:*) why "${sqlmap_state#fail:}"; return 1 ;;
    *) skip "sqlmap is not installed (apt-get install sqlmap)"; return 0 ;;
  esac
  local out="$work/sqlmap/$name"
  mkdir -p "$out"
  scan_log="$out.log"
  local rc=0 found t0=$SECONDS
  TERM=dumb timeout 600 sqlmap --batch --level=2 --risk=1 --flush-session --output-dir="$out" \
    --disable-coloring --time-sec=2 --technique=BEUST --timeout=30 --retries=1 "$@" \
    </dev/null >"$scan_log" 2>&1 || rc=$?
  # A parameter that "appears to be ... injectable" counts unless sqlmap's own false-positive
  # check then says it "does not seem to be injectable" (a heuristic answer that differed for
  # another reason, such as a rate limit, is rejected by that check).
  found="$(awk '
    /is vulnerable|identified the following injection point/ { n++ }
    match($0, /parameter \047[^\047]*\047 appears to be .* injectable/) {
      p = substr($0, RSTART, RLENGTH); sub(/ appears to be.*/, "", p); seen[p]++
    }
    match($0, /parameter \047[^\047]*\047 does not seem to be injectable/) {
      p = substr($0, RSTART, RLENGTH); sub(/ does not seem.*/, "", p); delete seen[p]
    }
    END { for (p in seen) n++; print n + 0 }' "$scan_log")"
  scan_codes="$(grep -A1 "HTTP error codes detected" "$scan_log" | tail -n 1 || true)"
  echo "security:   sqlmap $name: $((SECONDS - t0))s, $(grep -c "testing '" "$scan_log" || true) tests, answers: ${scan_codes:-all 2xx/3xx}" >>"$work/notes"
  if [ "$found" -gt 0 ]; then
    why "sqlmap ($name) reports $found injection finding(s): $(grep -E "is vulnerable|' injectable" "$scan_log" | head -n 3 | tr '\n' ' ')(log: $scan_log)"
    return 1
  fi
  if [ "$rc" -eq 124 ]; then
    why "sqlmap ($name) did not finish within 10 minutes (log: $scan_log)"
    return 1
  fi
  if ! grep -q "do not appear to be injectable" "$scan_log"; then
    why "sqlmap ($name) did not complete its tests: $({ grep -E '\[(CRITICAL|ERROR)\]' "$scan_log" || tail -n 1 "$scan_log"; } | head -n 1) (log: $scan_log)"
    return 1
  fi
  if echo "$scan_codes" | grep -qE '(^|, )5[0-9][0-9] \('; then
    why "sqlmap ($name): the server answered with a server error while probed: $scan_codes (log: $scan_log)"
    return 1
  fi
}

# How many times sqlmap saw status CODE, from "401 (Unauthorized) - 903 times, 429 (...) - 3 times".
code_count() { # $1: codes line, $2: code
  local c
  c="$(echo "$1" | grep -oE "(^|, )$2 \([^)]*\) - [0-9]+ times" | grep -oE '[0-9]+ times' | grep -oE '[0-9]+' || true)"
  echo "${c:-0}"
}

# a. The public search box.
check_sqlmap_search() {
  sqlmap_scan search -u "$base/search?q=encryption" -p q
}

# b. The sign-in form's email and password.
check_sqlmap_login() {
  [ "$sqlmap_state" = "ready" ] || { sqlmap_scan login; return $?; }
  # Sign-in backs off per client address after three failures; sqlmap sends hundreds. Through
  # the forwarder each connection comes from a new 127.x.y.z address, so every probe is
  # processed in full instead of being answered 429 (see security/lib/fresh_source.py).
  local fport login rc=0
  start_forwarder
  login="http://127.0.0.1:$fport/admin/login"
  # The CSRF pair (cookie candor_login + hidden _csrf) changes on every GET of the form:
  # --csrf-url fetches a fresh form before each probe, and sqlmap keeps the cookie it sets.
  # The base email is made unique per request (--eval) unless it is the value under test, so the
  # per-account backoff never engages either. 401 is the normal answer to a failed sign-in.
  sqlmap_scan login -u "$login" \
    --data "_csrf=x&next=/admin&email=probe@example.com&password=wrong-password" \
    -p email,password --csrf-token=_csrf --csrf-url="$login" \
    --headers="Origin: http://127.0.0.1:$fport" --ignore-code=401 \
    --eval='import random; email = email if email != "probe@example.com" else "probe-%d@example.com" % random.getrandbits(48)' || rc=$?
  stop_forwarder
  [ "$rc" -eq 0 ] || return 0
  local reached refused limited
  reached="$(code_count "$scan_codes" 401)"
  refused="$(code_count "$scan_codes" 403)"
  limited="$(code_count "$scan_codes" 429)"
  # The probes count only if they got past the CSRF check and the backoff to the credentials.
  if [ "$reached" -lt 100 ] || [ "$refused" -gt $((reached / 20)) ] || [ "$limited" -gt $((reached / 20)) ]; then
    why "too few probes reached the credential check (401: $reached, 403 CSRF refusals: $refused, 429 backoff: $limited; log: $scan_log)"
  fi
}

# c. The API with a read-write token.
check_sqlmap_api() {
  local auth="Authorization: Bearer $api_token"
  # The {slug} and {kind} path segments of GET /api/v1/{kind}/{slug}.
  sqlmap_scan api-slug -u "$base/api/v1/faq/$faq_slug*" --headers="$auth" --ignore-code=404 || return 0
  [ ! -s "$skipped" ] || return 0
  sqlmap_scan api-kind -u "$base/api/v1/faq*/$faq_slug" --headers="$auth" --ignore-code=404 || return 0
  # POST /api/v1/faq JSON: slug and question. With a fixed slug, every probe of the question would
  # stop at "409 slug taken" before the question reaches the INSERT, so the question is probed
  # in a second run without a slug (it is then derived from the question: new for each probe).
  sqlmap_scan api-create-slug -u "$base/api/v1/faq" --headers="$auth" --ignore-code=400,404,409,422 \
    --data '{"slug":"sqlmap-probe*","body":{"question":"Is this a probe?","answer":"Yes."}}' || return 0
  sqlmap_scan api-create-question -u "$base/api/v1/faq" --headers="$auth" --ignore-code=400,404,409,422 \
    --data '{"body":{"question":"Is this a sqlmap probe*","answer":"Yes."}}' || return 0
  local conflicts
  conflicts="$(code_count "$scan_codes" 409)"
  # PUT /api/v1/faq/{slug}: the question goes into the UPDATE of the draft.
  api "$base/api/v1/faq" -H 'Content-Type: application/json' \
    --data '{"slug":"sqlmap-put-probe","body":{"question":"Put probe?","answer":"Yes."}}'
  [ "$code" = "201" ] || { why "could not create faq/sqlmap-put-probe (status $code)"; return 0; }
  sqlmap_scan api-replace -u "$base/api/v1/faq/sqlmap-put-probe" --method=PUT --headers="$auth" \
    --ignore-code=400,404,422 --data '{"body":{"question":"Is this a put probe*","answer":"Yes."}}' || return 0
  local name
  for name in api-slug api-kind api-create-slug api-create-question api-replace; do
    if [ "$(code_count "$(grep -A1 "HTTP error codes detected" "$work/sqlmap/$name.log" | tail -n 1)" 401)" -gt 0 ]; then
      why "sqlmap ($name) was answered 401: the bearer token was not sent"
    fi
  done
  # The question probes must have reached the INSERT: count the items they created.
  api "$base/api/v1/faq"
  local probes
  probes="$(json_field "$body" 'sum(1 for i in d["items"] if i["slug"].startswith("is-this-a-sqlmap-probe"))')"
  [ "$probes" -ge 50 ] || why "only $probes question probes were stored by POST /api/v1/faq; the scan did not reach the database"
  echo "security:   sqlmap api-create-question: $probes probe items created ($conflicts probes answered 409: slug taken)" >>"$work/notes"
}

# --- d. open redirect after sign-in -------------------------------------------------------------

check_open_redirect() {
  local jar="$work/redirect.jar" next location shown q
  local evil=(
    "https://evil.example" "//evil.example" '/\evil.example' "https:evil.example"
    "/%2F%2Fevil.example" "///evil.example" "/\\/evil.example" " //evil.example"
    "https://evil.example/admin" "//evil.example/admin" '/admin\..\..\\evil.example'
    $'/admin\r\nLocation: https://evil.example' "javascript:alert(1)//admin" "/admin/../..//evil.example"
  )
  for next in "${evil[@]}"; do
    : >"$jar"
    # The sign-in form carries ?next= in a hidden field: an unsafe value must not get in.
    q="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$next")"
    get "$jar" "$base/admin/login?next=$q"
    shown="$({ grep -o 'name="next" value="[^"]*"' "$body" || true; } | sed 's/.*value="//; s/"$//; s/&#34;/"/g; s/&#39;/'"'"'/g; s/&#60;/</g; s/&#62;/>/g; s/&amp;/\&/g')"
    local_admin_path "$shown" || why "GET /admin/login?next=$q puts '$shown' into the form"
    sign_in "$jar" "$owner_email" "$owner_password" "$next"
    location="$(header "$resp" location)"
    if [ "$code" != "303" ]; then
      why "sign-in with next=$(printf %q "$next") answered $code, not 303"
    elif ! local_admin_path "$location"; then
      why "sign-in with next=$(printf %q "$next") redirects to '$location'"
    fi
  done
  failed_yet && return 0
  # A safe target is kept, so the check does not pass merely because every next is ignored.
  : >"$jar"
  sign_in "$jar" "$owner_email" "$owner_password" "/admin/tokens"
  [ "$(header "$resp" location)" = "/admin/tokens" ] || why "a safe next=/admin/tokens was not honoured (Location '$(header "$resp" location)')"
}

# Every sign-in must redirect somewhere: a next= with a control character must fall back to
# /admin like any other refused value, not break the response.
check_login_next_control_chars() {
  local jar="$work/ctl.jar" next location cookies bad=() sample="" q shown carried=()
  for next in $'/admin\x01' $'/admin/x\x1b[31m' $'/admin\x7f'; do
    : >"$jar"
    # A link to the sign-in page must not carry such a value into the form either.
    q="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/"))' "$next")"
    get "$jar" "$base/admin/login?next=$q"
    shown="$({ grep -o 'name="next" value="[^"]*"' "$body" || true; } | sed 's/.*value="//; s/"$//')"
    local_admin_path "$shown" || carried+=("$q")
    sign_in "$jar" "$owner_email" "$owner_password" "$next"
    location="$(header "$resp" location)"
    cookies="$(headers_all "$resp" set-cookie | grep -c '^candor_session=' || true)"
    if [ "$code" != "303" ] || ! local_admin_path "$location" || [ "$cookies" -eq 0 ]; then
      bad+=("$(printf %q "$next")")
      sample="${sample:-status $code, Location '$location', $cookies session cookie(s), body '$(head -c 60 "$body")'}"
    fi
  done
  if [ ${#carried[@]} -gt 0 ]; then
    why "GET /admin/login?next=${carried[*]} puts the value into the sign-in form's hidden next field"
  fi
  if [ ${#bad[@]} -gt 0 ]; then
    why "POST /admin/login with the right credentials and next=${bad[*]} answers $sample; expected 303, Location /admin and the session cookie (the unsafe next ignored, as for any other)"
  fi
}

# --- e, f. headers -------------------------------------------------------------------------------

header_targets() {
  sitemap_paths
  printf '%s\n' "/search?q=x" /nope /healthz /readyz /sitemap.xml /robots.txt /feed.atom /trust.json \
    /assets/site.css /api/v1/openapi.json /admin/login /admin /api/v1/faq "/api/v1/faq#token" \
    /admin/forgot /documents/request /documents/nda /viewer /viewer/signin /admin/assets/passkeys.js \
    "/api/v1/nope#token" "/admin#owner" "/admin/tokens#owner"
}

# fetch_headers TARGET: a path, with #token (API token) or #owner (owner's session) appended to
# send credentials.
fetch_headers() {
  local path="${1%%#*}"
  case "$1" in
    *"#token") plain "$base$path" -H "Authorization: Bearer $api_token" ;;
    *"#owner") plain "$base$path" -b "$owner_jar" ;;
    *) plain "$base$path" ;;
  esac
}

check_clickjacking() {
  local p xfo csp count=0
  while read -r p; do
    count=$((count + 1))
    fetch_headers "$p"
    xfo="$(header "$resp" x-frame-options)"
    csp="$(header "$resp" content-security-policy)"
    [ "$xfo" = "DENY" ] || why "$p: X-Frame-Options is '$xfo', not DENY"
    [[ "$csp" == *"frame-ancestors 'none'"* ]] || why "$p: the CSP lacks frame-ancestors 'none' ('$csp')"
  done < <(sitemap_paths; echo /admin/login)
  [ "$count" -gt 10 ] || why "only $count pages to check: is the sitemap empty?"
  echo "security:   clickjacking: $count pages" >>"$work/notes"
}

check_security_headers() {
  local t csp cc count=0
  while read -r t; do
    count=$((count + 1))
    fetch_headers "$t"
    [ -n "$code" ] || { why "$t: no answer"; continue; }
    csp="$(header "$resp" content-security-policy)"
    if [ -z "$csp" ]; then
      why "$t ($code): no Content-Security-Policy"
    elif [[ "$csp" == *unsafe-inline* ]] || [[ "$csp" == *unsafe-eval* ]]; then
      why "$t ($code): the CSP allows unsafe-inline or unsafe-eval ('$csp')"
    fi
    [ "$(header "$resp" x-content-type-options)" = "nosniff" ] || why "$t ($code): X-Content-Type-Options is not nosniff"
    [ -n "$(header "$resp" referrer-policy)" ] || why "$t ($code): no Referrer-Policy"
    case "$t" in
      /admin* | /api/*)
        cc="$(header "$resp" cache-control)"
        [[ "$cc" == *no-store* ]] || why "$t ($code): Cache-Control is '$cc', not no-store"
        ;;
    esac
  done < <(header_targets)
  echo "security:   security-headers: $count responses" >>"$work/notes"
}

# --- g. session fixation and session end ---------------------------------------------------------

check_session_fixation() {
  local jar="$work/fixation.jar" planted set_cookie new_id
  for planted in "attacker-chosen-value" "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"; do
    printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tcandor_session\t%s\n' "$planted" >"$jar"
    sign_in "$jar" "$owner_email" "$owner_password"
    [ "$code" = "303" ] || { why "sign-in with a planted session cookie answered $code"; continue; }
    set_cookie="$(headers_all "$resp" set-cookie | { grep '^candor_session=' || true; } | head -n 1)"
    new_id="$(echo "$set_cookie" | sed 's/^candor_session=//; s/;.*//')"
    if [ -z "$new_id" ]; then
      why "sign-in set no new candor_session cookie"
    elif [ "$new_id" = "$planted" ]; then
      why "sign-in kept the planted session id"
    fi
    [[ "$set_cookie" == *HttpOnly* ]] || why "the session cookie is not HttpOnly ($set_cookie)"
    [[ "$set_cookie" == *SameSite=Lax* || "$set_cookie" == *SameSite=Strict* ]] || why "the session cookie has no SameSite ($set_cookie)"
    plain "$base/admin" -b "candor_session=$planted"
    if [ "$code" != "303" ] || [[ "$(header "$resp" location)" != /admin/login* ]]; then
      why "the planted id gets GET /admin status $code (Location '$(header "$resp" location)'), not a 303 to /admin/login"
    fi
    plain "$base/admin" -b "candor_session=$new_id"
    [ "$code" = "200" ] || why "the new session id does not open /admin (status $code)"
  done
}

check_session_logout() {
  local jar="$work/logout.jar" id csrf
  : >"$jar"
  sign_in "$jar" "$owner_email" "$owner_password"
  [ "$code" = "303" ] || { why "sign-in answered $code"; return 0; }
  id="$(awk '$6 == "candor_session" {print $7}' "$jar" | tail -n 1)"
  get "$jar" "$base/admin"
  csrf="$(csrf_of "$body")"
  post "$jar" "$base/admin/logout" --data-urlencode "_csrf=$csrf"
  [ "$code" = "303" ] || why "POST /admin/logout answered $code"
  plain "$base/admin" -b "candor_session=$id"
  [ "$code" = "303" ] || why "the session id still opens /admin after sign-out (status $code)"
}

# --- h. CSRF --------------------------------------------------------------------------------------

check_csrf() {
  local a="$work/csrf-a.jar" b="$work/csrf-b.jar" csrf_a csrf_b state
  local url="$base/admin/content/faq/$faq_slug/unpublish"
  : >"$a"
  : >"$b"
  sign_in "$a" "$owner_email" "$owner_password"
  [ "$code" = "303" ] || { why "sign-in A answered $code"; return 0; }
  sign_in "$b" "$owner_email" "$owner_password"
  [ "$code" = "303" ] || { why "sign-in B answered $code"; return 0; }
  get "$a" "$base/admin"
  csrf_a="$(csrf_of "$body")"
  get "$b" "$base/admin"
  csrf_b="$(csrf_of "$body")"
  { [ -n "$csrf_a" ] && [ -n "$csrf_b" ]; } || { why "no _csrf field on /admin"; return 0; }
  [ "$csrf_a" != "$csrf_b" ] || why "two sessions share one CSRF token"

  expect() { # $1: what, $2: expected status, then curl args
    local what="$1" want="$2"
    shift 2
    plain "$url" -b "$a" "$@"
    [ "$code" = "$want" ] || why "$what: POST $url answered $code, expected $want"
  }
  expect "no _csrf" 403 -H "Origin: $base" --data "x=1"
  expect "empty _csrf" 403 -H "Origin: $base" --data "_csrf="
  expect "_csrf of another session" 403 -H "Origin: $base" --data-urlencode "_csrf=$csrf_b"
  expect "right _csrf, Origin https://evil.example" 403 -H "Origin: https://evil.example" --data-urlencode "_csrf=$csrf_a"
  expect "right _csrf, Origin null" 403 -H "Origin: null" --data-urlencode "_csrf=$csrf_a"
  expect "right _csrf, no Origin, Referer https://evil.example/x" 403 -H "Referer: https://evil.example/x" --data-urlencode "_csrf=$csrf_a"
  expect "right _csrf, neither Origin nor Referer" 403 --data-urlencode "_csrf=$csrf_a"
  api "$base/api/v1/faq/$faq_slug"
  state="$(json_field "$body" 'd["state"]')"
  [ "$state" = "published" ] || why "a refused request changed faq/$faq_slug (state '$state')"
  # The sign-in form has its own pair (cookie + field): a post without the cookie is refused.
  plain "$base/admin/login" -H "Origin: $base" --data-urlencode "email=$owner_email" \
    --data-urlencode "password=$owner_password" --data "_csrf=forged"
  [ "$code" = "403" ] || why "a sign-in without the login cookie answered $code, expected 403 (login CSRF)"

  expect "right _csrf and Origin" 303 -H "Origin: $base" --data-urlencode "_csrf=$csrf_a"
  api "$base/api/v1/faq/$faq_slug"
  state="$(json_field "$body" 'd["state"]')"
  [ "$state" = "draft" ] || why "the accepted unpublish did not take effect (state '$state')"
  api "$base/api/v1/faq/$faq_slug/publish" -X POST
  [ "$code" = "200" ] || why "could not publish faq/$faq_slug again (status $code)"
}

# start_forwarder: a local forwarder through which each connection comes from a new 127.x.y.z
# address (security/lib/fresh_source.py), so per-address backoff does not mask what is probed.
# Sets $fport; stop it with stop_forwarder.
start_forwarder() {
  python3 "$root/security/lib/fresh_source.py" "$port" "$work/forwarder.port" &
  echo $! >"$work/forwarder.pid"
  for _ in $(seq 1 50); do [ -s "$work/forwarder.port" ] && break; sleep 0.1; done
  fport="$(cat "$work/forwarder.port")"
}
stop_forwarder() {
  stop "$(cat "$work/forwarder.pid")"
  rm -f "$work/forwarder.pid" "$work/forwarder.port"
}

# c. The "forgot your password?" form's email.
check_sqlmap_forgot() {
  [ "$sqlmap_state" = "ready" ] || { sqlmap_scan forgot; return $?; }
  [ ${#mail_settings[@]} -gt 0 ] || { skip "no test SMTP server (pip install aiosmtpd)"; return 0; }
  local fport forgot rc=0
  start_forwarder
  forgot="http://127.0.0.1:$fport/admin/forgot"
  # Every request counts against the address and the email, so each probe comes from a new
  # address, and the base email is unique per request unless it is the value under test.
  sqlmap_scan forgot -u "$forgot" --data "_csrf=x&email=probe@example.com" -p email \
    --csrf-token=_csrf --csrf-url="$forgot" --headers="Origin: http://127.0.0.1:$fport" \
    --eval='import random; email = email if email != "probe@example.com" else "probe-%d@example.com" % random.getrandbits(48)' || rc=$?
  stop_forwarder
  [ "$rc" -eq 0 ] || return 0
}

# d. The access-request form (name, email, company, reason) and the viewer sign-in form.
check_sqlmap_request() {
  [ "$sqlmap_state" = "ready" ] || { sqlmap_scan request; return $?; }
  [ ${#mail_settings[@]} -gt 0 ] || { skip "no test SMTP server (pip install aiosmtpd)"; return 0; }
  local fport url signin rc=0
  start_forwarder
  url="http://127.0.0.1:$fport/documents/request"
  signin="http://127.0.0.1:$fport/viewer/signin"
  # Every request counts against the address and the email: a new source address per
  # connection, and a unique email per probe unless the email is the value under test.
  sqlmap_scan request -u "$url" --data "_csrf=x&name=Probe&email=probe@example.com&company=Probe&reason=r&all=on" \
    -p name,email,company,reason --csrf-token=_csrf --csrf-url="$url" --headers="Origin: http://127.0.0.1:$fport" \
    --ignore-code=422 \
    --eval='import random; email = email if email != "probe@example.com" else "probe-%d@example.com" % random.getrandbits(48)' || rc=$?
  if [ "$rc" -eq 0 ]; then
    sqlmap_scan viewer-signin -u "$signin" --data "_csrf=x&email=probe@example.com" -p email \
      --csrf-token=_csrf --csrf-url="$signin" --headers="Origin: http://127.0.0.1:$fport" --ignore-code=422 \
      --eval='import random; email = email if email != "probe@example.com" else "probe-%d@example.com" % random.getrandbits(48)' || rc=$?
  fi
  stop_forwarder
  [ "$rc" -eq 0 ] || return 0
}

# --- h2. user enumeration on the password-reset form ---------------------------------------------

# reset_request EMAIL LABEL: one request for a reset link from a fresh form and a fresh source
# address; appends "LABEL seconds" to $work/reset-timings.
reset_request() {
  local jar="$work/reset-enum.jar" csrf t
  : >"$jar"
  get "$jar" "http://127.0.0.1:$fport/admin/forgot"
  csrf="$(csrf_of "$body")"
  new_resp
  t="$("${CURL[@]}" -b "$jar" -c "$jar" -D "$resp" -o "$body" -w '%{time_total}' \
    -H "Origin: http://127.0.0.1:$fport" --data-urlencode "_csrf=$csrf" --data-urlencode "email=$1" \
    "http://127.0.0.1:$fport/admin/forgot")"
  code="$(status_of "$resp")"
  echo "$2 $t" >>"$work/reset-timings"
}

check_reset_enumeration() {
  [ ${#mail_settings[@]} -gt 0 ] || { skip "no test SMTP server (pip install aiosmtpd)"; return 0; }
  local k fport before
  : >"$work/reset-timings"
  before="$(ls "$work/mail" 2>/dev/null | grep -c '\.eml$' || true)"
  start_forwarder
  # Three of each: every request counts against the email address too, and a fourth for the
  # owner within the hour would be answered 429 (by design).
  for k in 1 2 3; do
    reset_request "$owner_email" known
    [ "$code" = "200" ] || why "round $k: asking a reset link for the owner answered $code, expected 200"
    [ "$k" -gt 1 ] || normalized "$resp" "$body" "$owner_email" >"$work/reset-known.txt"
    reset_request "nobody-$k-$RANDOM@example.com" unknown
    [ "$code" = "200" ] || why "round $k: asking a reset link for an unknown address answered $code, expected 200"
    [ "$k" -gt 1 ] || normalized "$resp" "$body" "nobody" >"$work/reset-unknown.txt"
  done
  stop_forwarder
  if ! diff -u "$work/reset-known.txt" "$work/reset-unknown.txt" >"$work/reset-enum.diff"; then
    why "the reset form answers a known and an unknown address differently: $(grep -E '^[-+][^-+]' "$work/reset-enum.diff" | head -n 4 | tr '\n' ' ')"
  fi
  # The known address really was mailed (three links), the unknown ones not: the same answer
  # hides real work.
  for _ in $(seq 1 100); do
    [ "$(ls "$work/mail" | grep -c '\.eml$' || true)" -ge $((before + 3)) ] && break
    sleep 0.1
  done
  sleep 0.5
  local got
  got="$(ls "$work/mail" | grep -c '\.eml$' || true)"
  [ "$got" -eq $((before + 3)) ] || why "expected 3 reset mails (for the owner only), the SMTP server got $((got - before))"
  python3 - "$work/reset-timings" >"$work/reset-timing.txt" <<'PY2' || why "$(cat "$work/reset-timing.txt")"
import statistics, sys
t = {"known": [], "unknown": []}
for line in open(sys.argv[1]):
    label, secs = line.split()
    t[label].append(float(secs) * 1000)
k, u = statistics.median(t["known"]), statistics.median(t["unknown"])
ratio = max(k, u) / max(min(k, u), 0.001)
# The answer is given before the lookup (which runs in the background), so both sides are a
# couple of milliseconds; below 3 ms of difference the ratio is scheduler noise, not a signal.
print(f"median reset request: {k:.1f} ms for the owner's email, {u:.1f} ms for unknown emails "
      f"(3 + 3 requests; ratio {ratio:.2f}, limit 1.50 unless within 3 ms)")
sys.exit(0 if ratio <= 1.5 or abs(k - u) < 3 else 1)
PY2
  echo "security:   reset-enumeration: $(cat "$work/reset-timing.txt")" >>"$work/notes"
}

# --- i. user enumeration on sign-in ----------------------------------------------------------------

# login_failure EMAIL LABEL: one failed sign-in with a fresh form; appends "LABEL seconds" to
# $work/timings (the POST alone is timed) and leaves the response in $resp/$body/$code.
login_failure() {
  local jar="$work/enum.jar" csrf t
  : >"$jar"
  get "$jar" "$base/admin/login"
  csrf="$(csrf_of "$body")"
  new_resp
  t="$("${CURL[@]}" -b "$jar" -c "$jar" -D "$resp" -o "$body" -w '%{time_total}' -H "Origin: $base" \
    --data-urlencode "_csrf=$csrf" --data-urlencode "next=/admin" --data-urlencode "email=$1" \
    --data-urlencode "password=not-the-password-$RANDOM" "$base/admin/login")"
  code="$(status_of "$resp")"
  echo "$2 $t" >>"$work/timings"
}

# The response with the parts that legitimately differ (the CSRF token, the email echoed back
# into the form, the date and length) blanked out: status, header names, cookies, body.
normalized() { # $1: header file, $2: body file, $3: email
  python3 - "$1" "$2" "$3" <<'PY2'
import re, sys
head = open(sys.argv[1], encoding="utf-8", errors="replace").read().replace("\r", "")
body = open(sys.argv[2], encoding="utf-8", errors="replace").read()
lines = head.strip().split("\n")
print(lines[0])
names = sorted(l.split(":", 1)[0].lower() for l in lines[1:] if ":" in l)
print(" ".join(n for n in names if n not in ("date", "content-length")))
for l in lines[1:]:
    if l.lower().startswith("set-cookie:"):
        print("set-cookie", re.sub(r"=[^;]*", "=...", l.split(":", 1)[1].strip(), count=1))
body = re.sub(r'name="_csrf" value="[^"]*"', 'name="_csrf" value=""', body)
print(body.replace(sys.argv[3], "EMAIL"))
PY2
}

check_user_enumeration() {
  local rounds=10 k ghost known unknown
  local reset_jar="$work/enum-reset.jar"
  : >"$work/timings"
  for k in $(seq 1 "$rounds"); do
    # A different unknown address each round: the backoff also counts per address, and one that
    # reached its limit would answer 429 at once and spoil the timing.
    ghost="nobody-$k-$RANDOM@example.com"
    if [ $((k % 2)) -eq 1 ]; then
      login_failure "$owner_email" known
      known="$code"
      [ "$k" -gt 1 ] || normalized "$resp" "$body" "$owner_email" >"$work/enum-known.txt"
      login_failure "$ghost" unknown
      unknown="$code"
      [ "$k" -gt 1 ] || normalized "$resp" "$body" "$ghost" >"$work/enum-unknown.txt"
    else
      login_failure "$ghost" unknown
      unknown="$code"
      login_failure "$owner_email" known
      known="$code"
    fi
    if [ "$known" != "401" ] || [ "$unknown" != "401" ]; then
      why "round $k: a failed sign-in answered $known (owner's email) and $unknown (unknown email), expected 401 for both"
      return 0
    fi
    # A successful sign-in clears the backoff of this address and of the owner's account, so
    # every timed attempt is processed in full (never a quick 429).
    : >"$reset_jar"
    sign_in "$reset_jar" "$owner_email" "$owner_password"
    [ "$code" = "303" ] || { why "round $k: the owner could not sign in (status $code)"; return 0; }
  done
  if ! diff -u "$work/enum-known.txt" "$work/enum-unknown.txt" >"$work/enum.diff"; then
    why "a wrong password and an unknown email get different answers: $(grep -E '^[-+][^-+]' "$work/enum.diff" | head -n 4 | tr '\n' ' ')"
  fi
  python3 - "$work/timings" >"$work/enum-timing.txt" <<'PY2' || why "$(cat "$work/enum-timing.txt")"
import statistics, sys
t = {"known": [], "unknown": []}
for line in open(sys.argv[1]):
    label, secs = line.split()
    t[label].append(float(secs) * 1000)
k, u = statistics.median(t["known"]), statistics.median(t["unknown"])
ratio = max(k, u) / min(k, u)
print(f"median failed sign-in: {k:.0f} ms with the owner's email, {u:.0f} ms with unknown emails "
      f"({len(t['known'])} + {len(t['unknown'])} attempts; ratio {ratio:.2f}, limit 1.50)")
sys.exit(0 if ratio <= 1.5 else 1)
PY2
  echo "security:   user-enumeration: $(cat "$work/enum-timing.txt")" >>"$work/notes"
}

# ---------------------------------------------------------------------------------------------

all_checks=(
  open-redirect login-next-control-chars clickjacking security-headers session-fixation
  session-logout csrf user-enumeration reset-enumeration sqlmap-search sqlmap-login sqlmap-forgot
  sqlmap-request sqlmap-api
)
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=("${all_checks[@]}")

passed=0 failed=0 skipped_n=0
checks_ran=yes
: >"$work/notes"
case " ${checks[*]} " in *" sqlmap-"*) ensure_sqlmap ;; esac
summary=()
for name in "${checks[@]}"; do
  fn="check_${name//-/_}"
  if ! declare -F "$fn" >/dev/null; then
    echo "FAIL $name: no such check (checks: ${all_checks[*]})"
    failed=$((failed + 1))
    continue
  fi
  reasons="$work/$name.reasons"
  skipped="$work/$name.skipped"
  : >"$reasons"
  : >"$skipped"
  t0=$(date +%s)
  set +e
  (
    set -euo pipefail
    "$fn"
  )
  rc=$?
  set -e
  secs=$(($(date +%s) - t0))
  if [ -s "$reasons" ]; then
    echo "FAIL $name: $(awk 'NR > 1 { printf "; " } { printf "%s", $0 }' "$reasons")"
    failed=$((failed + 1))
  elif [ "$rc" -ne 0 ]; then
    echo "FAIL $name: the check stopped with status $rc (an unexpected error; see the lines above)"
    failed=$((failed + 1))
  elif [ -s "$skipped" ]; then
    echo "SKIPPED $name: $(cat "$skipped")"
    skipped_n=$((skipped_n + 1))
  else
    echo "PASS $name"
    passed=$((passed + 1))
  fi
  summary+=("$(printf '%-26s %4ss' "$name" "$secs")")
done

if [ -s "$work/notes" ]; then cat "$work/notes"; fi
echo "security: time per check:"
printf 'security:   %s\n' "${summary[@]}"
echo "security: done in $(($(date +%s) - started))s"
echo "security: $passed passed, $failed failed, $skipped_n skipped"
[ "$failed" -eq 0 ]
