# Sourced by tests/*/run.sh: run a release `steward` on a free loopback port
# over a fresh SQLite database, for a test that talks to it over HTTP.
#
#   steward_start LABEL TMP LOG [VAR=value ...]   sets $server_pid, $port, $base
#   steward_stop                                  stops it (call from the trap)
#
# It starts in TMP so that no .env of the work tree applies, and waits (60 s
# at most) for GET /readyz to answer 200; on failure it prints the log and
# exits 1. Needs $root, the repository's top folder.

server_pid=""

steward_binary() {
  local target="${CARGO_TARGET_DIR:-target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  echo "$target/release/steward"
}

steward_start() {
  local label="$1" tmp="$2" log="$3"
  shift 3
  port="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')"
  base="http://127.0.0.1:$port"
  local binary
  binary="$(steward_binary)"
  (
    cd "$tmp"
    exec env BIND_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$tmp/steward.db" \
      REGISTRATION=open WORKERS=2 RUST_LOG=warn SHUTDOWN_GRACE_SECONDS=2 "$@" \
      "$binary" serve
  ) >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    kill -0 "$server_pid" 2>/dev/null || break
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/readyz" || true)" = 200 ]; then
      return 0
    fi
    sleep 0.5
  done
  echo "$label: steward did not answer 200 on $base/readyz within 60 s; its log:" >&2
  cat "$log" >&2
  exit 1
}

steward_stop() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
