#!/usr/bin/env bash
# The browser test of the interactive API docs (/docs): installs what it
# needs (Debian's chromium, the test's npm packages), builds and starts
# steward on a free loopback port with a fresh SQLite database, registers an
# account, and runs tests/docs/docs.test.mjs in headless Chromium. Exits with
# the test's status; always stops the server. Runs from anywhere.
# The screenshot is tests/docs/out/docs.png; the server's log out/server.log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/out"

# Debian's chromium; never a browser download of Playwright's own.
if [ ! -x /usr/bin/chromium ]; then
  echo "docs-test: installing chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d "$here/node_modules" ]; then
  echo "docs-test: npm ci" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "docs-test: cargo build --release -p steward-server" >&2
(cd "$root" && cargo build --release -p steward-server)
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

mkdir -p "$out"
rm -f "$out/docs.png" "$out/list-users.png" "$out/docs-failure.png"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
base="http://127.0.0.1:$port"

# Started in the temporary folder, so that no .env of the work tree applies.
(
  cd "$tmp"
  exec env BIND_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$tmp/steward.db" \
    REGISTRATION=open WORKERS=2 RUST_LOG=warn \
    "$target/release/steward" serve
) >"$out/server.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 1 120); do
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/readyz" || true)" = 200 ]; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "docs-test: steward did not answer 200 on $base/readyz within 60 s; its log:" >&2
  cat "$out/server.log" >&2
  exit 1
fi

email="docs-test@example.org"
password="a docs test passphrase"
code="$(curl -s -o "$tmp/register.json" -w '%{http_code}' --max-time 30 \
  -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\": \"$email\", \"password\": \"$password\"}")"
if [ "$code" != 201 ] && [ "$code" != 200 ]; then
  echo "docs-test: registering $email answered $code: $(cat "$tmp/register.json")" >&2
  exit 1
fi

status=0
# Every step of the test has its own 30 s limit; this bounds the whole run.
(cd "$here" && BASE_URL="$base" EMAIL="$email" PASSWORD="$password" \
  timeout -k 10 300 node --test docs.test.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "docs-test: the server's log ($out/server.log):" >&2
  tail -n 50 "$out/server.log" >&2
fi
exit "$status"
