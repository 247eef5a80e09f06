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
# shellcheck source=../lib/steward.sh
source "$root/tests/lib/steward.sh"

mkdir -p "$out"
rm -f "$out/docs.png" "$out/list-users.png" "$out/docs-failure.png" "$out/sign-in-with-otp.png" "$out/otp-failure.png"
tmp="$(mktemp -d)"
cleanup() {
  steward_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

steward_start docs-test "$tmp" "$out/server.log"

email="docs-test@example.org"
password="a docs test passphrase"
code="$(curl -s -o "$tmp/register.json" -w '%{http_code}' --max-time 30 \
  -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\": \"$email\", \"password\": \"$password\"}")"
if [ "$code" != 201 ] && [ "$code" != 200 ]; then
  echo "docs-test: registering $email answered $code: $(cat "$tmp/register.json")" >&2
  exit 1
fi

# A second account, whose second factor the test turns on.
mfa_email="docs-test-otp@example.org"
code="$(curl -s -o "$tmp/register-otp.json" -w '%{http_code}' --max-time 30 \
  -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\": \"$mfa_email\", \"password\": \"$password\"}")"
if [ "$code" != 201 ]; then
  echo "docs-test: registering $mfa_email answered $code: $(cat "$tmp/register-otp.json")" >&2
  exit 1
fi

status=0
# Every step of the test has its own 30 s limit; this bounds the whole run.
(cd "$here" && BASE_URL="$base" EMAIL="$email" PASSWORD="$password" MFA_EMAIL="$mfa_email" \
  timeout -k 10 300 node --test docs.test.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "docs-test: the server's log ($out/server.log):" >&2
  tail -n 50 "$out/server.log" >&2
fi
exit "$status"
