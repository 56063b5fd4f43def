# Shared by browser/run.sh, security/run.sh and security/tls.sh: start a throwaway Candor with its
# demo trust center, wait until it is ready, find the owner's setup link. Source it; it defines
# functions only.

# start_demo_server WORK PORT BIN [NAME=VALUE ...]
# Runs `BIN serve` in WORK listening on 127.0.0.1:PORT. Every CANDOR_* variable of the caller's
# environment is dropped (a database URL there would stop it running on a fresh SQLite demo);
# extra NAME=VALUE settings are added. Sets server_pid; output goes to WORK/server.{out,err}.
start_demo_server() {
  local work="$1" port="$2" bin="$3"
  shift 3
  (
    cd "$work"
    for v in $(env | sed -n 's/^\(CANDOR_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
    export CANDOR_LISTEN="127.0.0.1:$port" CANDOR_LOG_FORMAT=json
    for setting in "$@"; do export "${setting?}"; done
    exec "$bin" serve >"$work/server.out" 2>"$work/server.err"
  ) &
  server_pid=$!
}

# wait_until_ready LABEL URL WORK
# Polls URL/readyz (certificate not checked: loopback only) for up to 60 s; fails with the
# server's output if it exits or never answers 200.
wait_until_ready() {
  local label="$1" url="$2" work="$3" code
  echo "$label: waiting for candor at $url (server pid $server_pid, data in $work)"
  for _ in $(seq 1 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "FAIL: candor exited before it was ready:" >&2
      cat "$work/server.out" "$work/server.err" >&2 || true
      return 1
    fi
    if command -v curl >/dev/null 2>&1; then
      code="$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz" || true)"
    else
      code="$(node -e 'fetch(process.argv[1]).then(r=>console.log(r.status),()=>console.log(0))' "$url/readyz" 2>/dev/null || true)"
    fi
    [ "$code" = "200" ] && return 0
    sleep 0.2
  done
  echo "FAIL: candor did not answer 200 on $url/readyz within 60 s." >&2
  return 1
}

# setup_link_of WORK: the owner's one-time setup link that `serve` printed on stdout.
setup_link_of() {
  local link
  link="$(grep -o "http[s]*://[^[:space:]]*/admin/setup/[A-Za-z0-9_-]*" "$1/server.out" | head -n 1 || true)"
  if [ -z "$link" ]; then
    echo "FAIL: candor printed no owner setup link (http://.../admin/setup/<token>) on stdout:" >&2
    cat "$1/server.out" >&2 || true
    return 1
  fi
  echo "$link"
}

# candor_binary LABEL: sets bin to the debug build of candor (under CARGO_TARGET_DIR or ./target,
# run from the repository's root), building it first when it is missing, and says so when sources
# are newer than the binary (the checks then run what was built).
candor_binary() {
  local label="$1" newer
  bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/candor"
  if [ ! -x "$bin" ]; then
    echo "$label: $bin is missing; building it (cargo build -p candor)"
    cargo build -p candor
  else
    newer="$(find crates migrations demo Cargo.toml Cargo.lock -newer "$bin" -type f -not -path "*/tests/*" -not -path "*/benches/*" -print -quit 2>/dev/null || true)"
    [ -z "$newer" ] || echo "NOTE: $newer is newer than $bin; $label runs the binary as built (cargo build -p candor to rebuild)."
  fi
}
