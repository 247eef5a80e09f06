#!/usr/bin/env bash
# Contract fuzzing: schemathesis (pinned in requirements.txt, installed into
# tests/fuzz/.venv when missing) against the service's own GET /openapi.json.
# Runs once per backend (FUZZ_BACKENDS, default "sqlite postgres"): builds
# and starts steward on a free loopback port with a fresh SQLite database,
# or a fresh PostgreSQL database made on the server at FUZZ_PG_URL (default
# TEST_DATABASE_URL's server, else postgres://postgres:postgres@127.0.0.1:5432;
# psql makes and drops it), registers an account, signs in, creates a few resources (two
# managed users, two activities and a trace, a second account and two shares
# to it) whose ids the fuzzer draws from half of the time, then fuzzes every
# operation but three (see below), authenticated, with a bounded number of examples
# per operation and a fixed seed: no 5xx, every status documented, every
# response valid against its documented schema. Exits with schemathesis's
# status and always stops the server. Runs from anywhere.
# The server's log is tests/fuzz/out/server-<backend>.log.
#
# FUZZ_MAX_EXAMPLES (default 50) and FUZZ_SEED (default 1) may be overridden;
# arguments are passed on to `schemathesis run`, e.g.
#   bash tests/fuzz/run.sh --report har,junit --report-dir /tmp/fuzz-report
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/out"
venv="$here/.venv"
max_examples="${FUZZ_MAX_EXAMPLES:-50}"
seed="${FUZZ_SEED:-1}"
backends="${FUZZ_BACKENDS:-sqlite postgres}"
# More than one backend: one run of this script each, so that each runs
# under `set -e` on its own and a failure on one still runs the other.
if [ "$(echo "$backends" | wc -w)" -gt 1 ]; then
  status=0
  for backend in $backends; do
    FUZZ_BACKENDS="$backend" bash "${BASH_SOURCE[0]}" "$@" || status=$?
  done
  exit "$status"
fi
backend="$(echo "$backends" | tr -d ' ')"
pg_server="${FUZZ_PG_URL:-${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}}"
pg_server="${pg_server%/*}"

if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "fuzz: installing schemathesis into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
fi

echo "fuzz: cargo build --release -p steward-server" >&2
(cd "$root" && cargo build --release -p steward-server)

# shellcheck source=../lib/steward.sh
source "$root/tests/lib/steward.sh"

mkdir -p "$out"
tmp=""
pg_db=""
fuzzer_pid=""
cleanup() {
  if [ -n "$fuzzer_pid" ] && kill -0 "$fuzzer_pid" 2>/dev/null; then
    kill "$fuzzer_pid" 2>/dev/null || true
    wait "$fuzzer_pid" 2>/dev/null || true
  fi
  fuzzer_pid=""
  steward_stop
  server_pid=""
  if [ -n "$pg_db" ]; then
    psql "$pg_server/postgres" -q -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
    pg_db=""
  fi
  [ -z "$tmp" ] || rm -rf "$tmp"
  tmp=""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmp="$(mktemp -d)"
case "$backend" in
  sqlite) steward_start "fuzz ($backend)" "$tmp" "$out/server-$backend.log" ;;
  postgres)
    command -v psql >/dev/null || { echo "fuzz: psql is needed to make a PostgreSQL database" >&2; exit 1; }
    pg_db="fuzz_$(date +%s)_$$"
    psql "$pg_server/postgres" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
    steward_start "fuzz ($backend)" "$tmp" "$out/server-$backend.log" \
      DATABASE_URL="$pg_server/$pg_db" JWT_SECRET="fuzzing-secret-that-is-at-least-32-bytes"
    ;;
  *) echo "fuzz: unknown backend $backend" >&2; exit 1 ;;
esac
echo "fuzz: $backend" >&2

# A few real resources, so that the fuzzer reaches more than 404s (see the
# dictionaries below). Each POST must answer 201; its "id" is kept.
api="$base/api/v1"
post() { # post PATH JSON [AUTH-ARGS...] -> prints the created resource's id
  local path="$1" body="$2" code
  shift 2
  code="$(curl -s -o "$tmp/answer.json" -w '%{http_code}' --max-time 30 -X POST "$api$path" \
    -H 'content-type: application/json' -d "$body" "$@")"
  if [ "$code" != 201 ]; then
    echo "fuzz: POST $path answered $code: $(cat "$tmp/answer.json")" >&2
    return 1
  fi
  "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])' <"$tmp/answer.json"
}

email="fuzz@example.org"
password="fuzzing is a fine passphrase"
me="$(post /auth/register "{\"email\": \"$email\", \"password\": \"$password\"}")"

code="$(curl -s -o "$tmp/token.json" -w '%{http_code}' --max-time 30 \
  -X POST -u "$email:$password" "$api/auth/token")"
token="$("$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin).get("access_token", ""))' \
  <"$tmp/token.json" 2>/dev/null || true)"
if [ "$code" != 200 ] || [ -z "$token" ]; then
  echo "fuzz: signing in answered $code: $(cat "$tmp/token.json")" >&2
  exit 1
fi
bearer=(-H "authorization: Bearer $token")

kim="$(post /users/ '{"first_name": "Kim", "last_name": null}' "${bearer[@]}")"
lou="$(post /users/ '{"first_name": "Lou", "last_name": "Doomed"}' "${bearer[@]}")"
activity='{"name": "Morning run", "sport": "running", "started_at": "2026-11-28T07:00:00Z", "distance_meters": 5000}'
run="$(post "/users/$kim/activities" "$activity" "${bearer[@]}")"
doomed_run="$(post "/users/$kim/activities" "$activity" "${bearer[@]}")"
code="$(curl -s -o "$tmp/answer.json" -w '%{http_code}' --max-time 30 -X PUT \
  "$api/users/$kim/activities/$run/trace" "${bearer[@]}" -H 'content-type: application/json' \
  -d '[{"time": "2026-11-28T07:00:00Z", "lat": 48.85, "lon": 2.35, "heart_rate": 120},
       {"time": "2026-11-28T07:00:05Z", "lat": 48.851, "lon": 2.351, "elevation": 35.5}]')"
if [ "$code" != 204 ]; then
  echo "fuzz: PUT .../trace answered $code: $(cat "$tmp/answer.json")" >&2
  exit 1
fi
grantee_email="coach@example.org"
post /auth/register "{\"email\": \"$grantee_email\", \"password\": \"a coach's good passphrase\"}" >/dev/null
share="$(post /shares/ "{\"grantee_email\": \"$grantee_email\", \"scopes\": [\"data:read\"], \"user_id\": \"$kim\"}" "${bearer[@]}")"
doomed_share="$(post /shares/ "{\"grantee_email\": \"$grantee_email\", \"scopes\": [\"data:read\", \"data:write\"]}" "${bearer[@]}")"

# Half of the generated ids are drawn from these (the rest stay random, so
# unknown ids are fuzzed too). The DELETE operations draw from resources of
# their own, so that deleting one leaves the others to the other operations.
cat >"$tmp/schemathesis.toml" <<TOML
[dictionaries.users]
values = ["$me", "$kim"]
[dictionaries.activities]
values = ["$run"]
[dictionaries.shares]
values = ["$share"]
[dictionaries.grantees]
values = ["$grantee_email"]
[dictionaries.doomed_users]
values = ["$lou"]
[dictionaries.doomed_activities]
values = ["$doomed_run"]
[dictionaries.doomed_shares]
values = ["$doomed_share"]

[parameters]
"path.user_id" = { dictionary = "users", probability = 0.5 }
"path.activity_id" = { dictionary = "activities", probability = 0.5 }
"path.share_id" = { dictionary = "shares", probability = 0.5 }
"body.grantee_email" = { dictionary = "grantees", probability = 0.5 }

[[operations]]
include-name = "DELETE /api/v1/users/{user_id}"
parameters = { "path.user_id" = { dictionary = "doomed_users", probability = 0.5 } }

[[operations]]
include-name = "DELETE /api/v1/users/{user_id}/activities/{activity_id}"
parameters = { "path.activity_id" = { dictionary = "doomed_activities", probability = 0.5 } }

[[operations]]
include-name = "DELETE /api/v1/shares/{share_id}"
parameters = { "path.share_id" = { dictionary = "doomed_shares", probability = 0.5 } }
TOML

# Excluded operations, since they act on the fuzzer's own sign-in and account:
# POST /api/v1/auth/logout revokes the very token every request carries (and
# with ?all=true every sign-in), after which everything is a 401 and nothing
# more is tested; PUT /api/v1/auth/password and DELETE /api/v1/auth/me would,
# whenever the generated password were right, change the account's password
# (revoking its other sign-ins) or delete the account with all its data and
# tokens. POST /api/v1/auth/token stays in: its fuzzed credentials are wrong,
# so after 20 failures from this address it answers 429, which
# its OpenAPI operation documents.
# Phases: examples, coverage and fuzzing; no stateful (link-following)
# phase, which would run for long. Run in the temporary folder so that no
# report lands in the work tree. In the background with `wait`, so that a
# signal to this script stops it at once (through the trap) rather than after
# the run.
(
  cd "$tmp"
  exec "$venv/bin/schemathesis" --config-file "$tmp/schemathesis.toml" run "$base/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --generation-database none \
    --workers 2 \
    --request-timeout 30 \
    --exclude-name 'POST /api/v1/auth/logout' \
    --exclude-name 'PUT /api/v1/auth/password' \
    --exclude-name 'DELETE /api/v1/auth/me' \
    --no-color \
    "$@"
) &
fuzzer_pid=$!
status=0
wait "$fuzzer_pid" || status=$?
fuzzer_pid=""
echo "fuzz: $backend finished with status $status" >&2
exit "$status"
