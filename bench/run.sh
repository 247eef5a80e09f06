#!/usr/bin/env bash
# Steward's performance benchmark: builds in release mode, starts Steward on
# fresh databases, seeds them in SQL, runs the HTTP load with wrk, runs the
# ceilings (pgbench on the endpoints' own statements, serde and Argon2id in
# process), and prints Markdown tables that it also writes to
# bench/results/latest.md. `just bench` runs it.
#
# Settings (environment):
#   BENCH_SECONDS=10               measured seconds per scenario (and per pgbench ceiling)
#   BENCH_SCALE=small              small | large | both (large: 1,000,000 users,
#                                  100,000 shares, 1,000,000 activities; both adds large/small ratios)
#   BENCH_BACKENDS=postgres,sqlite which databases, in this order
#   BENCH_CONNECTIONS=64           HTTP connections of each load
#   BENCH_WARMUP=2                 seconds of the same load before each measured one
#   BENCH_POOL_SIZE=10             Steward's DATABASE_POOL_SIZE, and pgbench's client count
#   BENCH_PORT=18080               where Steward listens (loopback only)
#   BENCH_RESULTS=bench/results/latest.md
#   BENCH_STEWARD=                 a steward binary to measure instead of building this
#                                  tree's (another commit's release build, for a
#                                  side-by-side run; the report names it)
#   BENCH_ONLY=                    a subset of the scenarios, for a quick look while
#                                  profiling: e.g. "list get" (list get update create
#                                  mixed signin interference trace); write such a run's
#                                  results elsewhere (BENCH_RESULTS=/tmp/quick.md)
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres (PGPASSWORD if needed): the server
#                                  in which a fresh database is made, and dropped at the end
#
# Everything runs on this machine and every load is bounded in time. wrk,
# pgbench and sqlite3 are installed from Debian when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
SECONDS_EACH=${BENCH_SECONDS:-10}
SCALE=${BENCH_SCALE:-small}
BACKENDS=${BENCH_BACKENDS:-postgres,sqlite}
CONNS=${BENCH_CONNECTIONS:-64}
WARMUP=${BENCH_WARMUP:-2}
POOL=${BENCH_POOL_SIZE:-10}
PORT=${BENCH_PORT:-18080}
RESULTS=${BENCH_RESULTS:-$BENCH/results/latest.md}
ONLY=${BENCH_ONLY:-}
wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}

CALLERS=1000      # accounts with 5 managed users and 2 received shares
WRITERS=64        # accounts the create scenario uses
TOKENS=64         # callers signed in for the load (one token each)
WRITER_TOKENS=16
PASSWORD='bench correct horse battery'
TRACE_POINTS=100000
LARGE_USERS=1000000 LARGE_SHARES=100000 LARGE_ACTIVITIES=1000000

case "$SCALE" in small) SCALES=(small) ;; large) SCALES=(large) ;; both) SCALES=(small large) ;;
  *) echo "BENCH_SCALE must be small, large or both" >&2; exit 2 ;; esac
IFS=',' read -r -a BACKEND_LIST <<<"$BACKENDS"
for b in "${BACKEND_LIST[@]}"; do
  case "$b" in postgres | sqlite) ;; *) echo "BENCH_BACKENDS: unknown backend $b" >&2; exit 2 ;; esac
done

STARTED_AT=$(date +%s)
STAMP=$(date -u +%Y%m%d%H%M%S)
OUT="$BENCH/out/$STAMP"             # raw outputs: wrk, pgbench, Steward's logs (ignored by git)
WORK=$(mktemp -d /tmp/steward-bench.XXXXXX)   # Steward's working folder (no .env above it), SQLite files
mkdir -p "$OUT" "$(dirname "$RESULTS")"
ROWS="$OUT/rows.tsv"                # one line per measured figure; the tables are made from it
: >"$ROWS"
NOTES="$OUT/notes.md"
: >"$NOTES"
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
URL="http://127.0.0.1:$PORT"
API="$URL/api/v1"
STEWARD=${BENCH_STEWARD:-$ROOT/target/release/steward}
CEILINGS="$BENCH/ceilings/target/release/steward-bench-ceilings"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; }
row() { local IFS=$'\t'; printf '%s\n' "$*" >>"$ROWS"; }

# ---------------------------------------------------------------- cleanup
SPID=""
DATABASES=()
BG_PIDS=()
cleanup() {
  local status=$?
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$SPID" ] && stop_steward
  for db in "${DATABASES[@]}"; do
    psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
need_apt() { # command package
  command -v "$1" >/dev/null 2>&1 && return
  log "installing $2 (apt-get)"
  if ! apt-get install -y "$2" >"$OUT/apt-$2.log" 2>&1; then
    apt-get update >>"$OUT/apt-$2.log" 2>&1
    apt-get install -y "$2" >>"$OUT/apt-$2.log" 2>&1
  fi
}
need_apt wrk wrk
need_apt curl curl
need_apt sqlite3 sqlite3
need_apt pgbench postgresql-client
need_apt psql postgresql-client

pg_up() { pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; }
if [[ ",$BACKENDS," == *",postgres,"* ]] && ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "starting this machine's PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL does not answer on $PGHOST:$PGPORT" >&2; exit 1; }
fi

# ---------------------------------------------------------------- build
log "building Steward (cargo build --release) and the ceilings"
REVISION="commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$ROOT" status --porcelain -- crates migrations Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  REVISION+=" with uncommitted changes in crates/, migrations/ or Cargo files"
fi
if [ -n "${BENCH_STEWARD:-}" ]; then
  [ -x "$STEWARD" ] || { echo "BENCH_STEWARD: $STEWARD is not an executable" >&2; exit 2; }
  REVISION="the binary $STEWARD"
else
  (cd "$ROOT" && cargo build --release --quiet)
fi
cargo build --release --quiet --manifest-path "$BENCH/ceilings/Cargo.toml"

# ---------------------------------------------------------------- machine
mib() { awk '{printf "%.1f", $1 / 1024}'; }
load_now() { cut -d' ' -f1-3 /proc/loadavg; }
# The share of both CPUs busy over 3 s, measured while nothing of the
# benchmark runs: what other work on the machine takes from it.
busy_now() {
  local a b
  a=$(awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6}' /proc/stat)
  sleep 3
  b=$(awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; printf "%.0f %%", t ? 100 * (1 - (y[2] - x[2]) / t) : 0}'
}
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
RAM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
PG_VERSION=$(psql -d postgres -Atc 'SHOW server_version' 2>/dev/null || echo "not reached")
MACHINE="nproc $(nproc); CPU: $CPU_MODEL; RAM $RAM; kernel $(uname -r); PostgreSQL $PG_VERSION; $(rustc --version); $({ wrk --version 2>&1 || true; } | sed -n 1p | cut -d' ' -f1-2); pgbench $(pgbench --version | awk '{print $3}'); SQLite $(sqlite3 --version | cut -d' ' -f1)"
LOAD_AT_START="load average $(load_now), CPU busy $(busy_now)"
log "machine: $MACHINE"
log "other work at start: $LOAD_AT_START"

# ---------------------------------------------------------------- Steward
steward_env() {
  env DATABASE_URL="$DB_URL" JWT_SECRET="$JWT_SECRET" BIND_ADDR="127.0.0.1:$PORT" \
    DATABASE_POOL_SIZE="$POOL" SHUTDOWN_GRACE_SECONDS=5 "$@"
}

start_steward() { # label
  if curl -s -o /dev/null --max-time 1 "$URL/healthz"; then
    echo "something already listens on $URL: set BENCH_PORT" >&2; exit 1
  fi
  (cd "$WORK" && exec env DATABASE_URL="$DB_URL" JWT_SECRET="$JWT_SECRET" BIND_ADDR="127.0.0.1:$PORT" \
    DATABASE_POOL_SIZE="$POOL" SHUTDOWN_GRACE_SECONDS=5 "$STEWARD" serve) >>"$OUT/steward-$1.log" 2>&1 &
  SPID=$!
  local i
  for i in $(seq 1 600); do
    if curl -sf -o /dev/null --max-time 1 "$URL/readyz"; then return 0; fi
    kill -0 "$SPID" 2>/dev/null || { echo "Steward exited; see $OUT/steward-$1.log" >&2; SPID=""; exit 1; }
    sleep 0.05
  done
  echo "Steward not ready after 30 s; see $OUT/steward-$1.log" >&2
  exit 1
}

stop_steward() {
  [ -n "$SPID" ] || return 0
  kill -TERM "$SPID" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SPID" 2>/dev/null || true
  local st=0
  wait "$SPID" 2>/dev/null || st=$?
  # Steward stops with 0 on SIGTERM; anything else is worth a line in the report.
  [ "$st" = 0 ] || note "- Steward (pid $SPID) exited with status $st when stopped after: ${LAST_LOAD:-start-up} (see its log in bench/out/$STAMP)."
  SPID=""
}

status_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SPID/status"; }
metric() { # name: the value of an unlabelled metric
  local body
  body=$(curl -s --max-time 5 "$URL/metrics")
  awk -v m="$1" '$1 == m {v = $2} END {print v}' <<<"$body"
}

# ---------------------------------------------------------------- database
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
sqlite_db() { sqlite3 -bail "$SQLITE_FILE" "$@"; }

# Sets DB_URL (and DB or SQLITE_FILE) for a fresh database of this backend and scale.
fresh_database() { # backend scale
  if [ "$1" = postgres ]; then
    DB="steward_bench_${STAMP}_$2"
    DATABASES+=("$DB")
    psql -X -q -d postgres -c "CREATE DATABASE \"$DB\""
    local auth="$PGUSER"
    [ -n "${PGPASSWORD:-}" ] && auth="$PGUSER:$PGPASSWORD"
    DB_URL="postgres://$auth@$PGHOST:$PGPORT/$DB"
  else
    SQLITE_FILE="$WORK/steward-$2.db"
    rm -f "$SQLITE_FILE"*
    DB_URL="sqlite://$SQLITE_FILE"
  fi
}

# Counts of the seed for the large scale: users, shares and activities in
# all reach the issue's figures.
seed_sizes() { # scale -> sets FILL_ACCOUNTS FILL_SHARES FILL_ACTIVITIES
  if [ "$1" = small ]; then
    FILL_ACCOUNTS=0 FILL_SHARES=0 FILL_ACTIVITIES=0
  else
    local small_users=$((CALLERS * 6 + WRITERS + 1))
    FILL_ACCOUNTS=$(((LARGE_USERS - small_users + 5) / 6))
    FILL_SHARES=$((LARGE_SHARES - 2 * CALLERS))
    FILL_ACTIVITIES=$((LARGE_ACTIVITIES - 10 * CALLERS))
  fi
}

seed() { # hash backend scale
  local hash=$1 backend=$2 scale=$3 t0
  seed_sizes "$scale"
  t0=$(date +%s.%N)
  if [ "$backend" = postgres ]; then
    psql_db -v callers="$CALLERS" -v writers="$WRITERS" -v fill_accounts="$FILL_ACCOUNTS" \
      -v fill_shares="$FILL_SHARES" -v fill_activities="$FILL_ACTIVITIES" -v hash="$hash" \
      -f "$BENCH/sql/seed-postgres.sql" >"$OUT/seed-$backend-$scale.log" 2>&1 ||
      { echo "seeding PostgreSQL failed; see $OUT/seed-$backend-$scale.log" >&2; exit 1; }
    COUNTS=$(psql_db -Atc "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM shares) || ' shares, ' || (SELECT count(*) FROM activities) || ' activities, ' || pg_size_pretty(pg_database_size(current_database()))")
  else
    sed -e "s#{{callers}}#$CALLERS#g; s#{{writers}}#$WRITERS#g; s#{{fill_accounts}}#$FILL_ACCOUNTS#g" \
      -e "s#{{fill_shares}}#$FILL_SHARES#g; s#{{fill_activities}}#$FILL_ACTIVITIES#g; s#{{hash}}#$hash#g" \
      "$BENCH/sql/seed-sqlite.sql" | sqlite_db >"$OUT/seed-$backend-$scale.log" 2>&1 ||
      { echo "seeding SQLite failed; see $OUT/seed-$backend-$scale.log" >&2; exit 1; }
    COUNTS="$(sqlite_db "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM shares) || ' shares, ' || (SELECT count(*) FROM activities) || ' activities'"), $(du -h "$SQLITE_FILE" | cut -f1)B file"
  fi
  SEED_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  log "seeded $backend/$scale in ${SEED_SECONDS}s: $COUNTS"
}

# The callers' managed ids, as "email id" lines (lower-case hyphenated UUIDs).
managed_ids() { # backend
  local emails="" i
  for i in $(seq 1 "$TOKENS"); do emails+="${emails:+,}'bench$i@example.org'"; done
  if [ "$1" = postgres ]; then
    psql_db -At -F ' ' -c "SELECT a.email_normalized, m.id FROM users a JOIN user_managers um ON um.manager_id = a.id JOIN users m ON m.id = um.user_id WHERE a.email_normalized IN ($emails) ORDER BY 1, m.registered_at"
  else
    sqlite_db -separator ' ' "SELECT a.email_normalized, lower(hex(m.id)) FROM users a JOIN user_managers um ON um.manager_id = a.id JOIN users m ON m.id = um.user_id WHERE a.email_normalized IN ($emails) ORDER BY 1, m.registered_at" |
      awk '{h = $2; print $1, substr(h,1,8) "-" substr(h,9,4) "-" substr(h,13,4) "-" substr(h,17,4) "-" substr(h,21,12)}'
  fi
}

sign_in() { # email -> token
  curl -sf --max-time 30 -X POST -u "$1:$PASSWORD" "$API/auth/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# Signs in the load's callers and writers through the API and writes the
# Lua data file the wrk script reads; creates the trace's activity.
prepare_load() { # backend scale
  local data="$OUT/data-$1-$2.lua" i token ids
  declare -A managed=()
  while read -r email id; do managed[$email]+="\"$id\", "; done < <(managed_ids "$1")
  {
    echo "return {"
    echo "  accounts = $CALLERS, password = \"$PASSWORD\","
    echo "  callers = {"
    for i in $(seq 1 "$TOKENS"); do
      token=$(sign_in "bench$i@example.org")
      [ -n "$token" ] || { echo "sign-in of bench$i failed" >&2; exit 1; }
      ids=${managed[bench$i@example.org]:-}
      [ -n "$ids" ] || { echo "bench$i has no managed users" >&2; exit 1; }
      echo "    { token = \"$token\", managed = { $ids} },"
    done
    echo "  },"
    echo "  writers = {"
    for i in $(seq $((CALLERS + 1)) $((CALLERS + WRITER_TOKENS))); do
      token=$(sign_in "bench$i@example.org")
      [ -n "$token" ] || { echo "sign-in of bench$i failed" >&2; exit 1; }
      echo "    \"$token\","
    done
    echo "  },"
    echo "}"
  } >"$data"
  DATA_FILE=$data
  TRACE_TOKEN=$(sed -n '/token = "/{s/.*token = "\([^"]*\)".*/\1/p;q}' "$data")
  TRACE_USER=$(grep -m1 'managed = {' "$data" | sed 's/.*managed = { "\([^"]*\)".*/\1/')
  TRACE_ACTIVITY=$(curl -sf --max-time 10 -X POST "$API/users/$TRACE_USER/activities" \
    -H "authorization: Bearer $TRACE_TOKEN" -H 'content-type: application/json' \
    -d '{"name": "Trace run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"}' |
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  [ -n "$TRACE_ACTIVITY" ] || { echo "could not create the trace's activity" >&2; exit 1; }
}

# ---------------------------------------------------------------- measurements
# Parses wrk's BENCH line into W_* variables.
parse_wrk() { # file
  local line
  line=$(grep '^BENCH ' "$1" | tail -1)
  [ -n "$line" ] || { echo "wrk printed no result; see $1" >&2; exit 1; }
  eval "$(echo "$line" | tr ' ' '\n' | grep = | sed 's/^\([a-z0-9_]*\)=\(.*\)$/W_\1="\2"/')"
}

run_wrk() { # scenario seconds connections outfile
  BENCH_SCENARIO=$1 BENCH_DATA=$DATA_FILE timeout $(($2 + 30)) \
    wrk -t 2 -c "$3" -d "$2s" --timeout 10s -s "$BENCH/lua/load.lua" "$URL" >"$4" 2>&1
}

# One HTTP scenario on a fresh Steward process, so VmHWM is this
# scenario's peak: warm-up, then the measured load.
http_scenario() { # backend scale scenario [idle: measure idle RSS 2 s after the load]
  local backend=$1 scale=$2 scenario=$3 out="$OUT/wrk-$1-$2-$3.txt" s0 s1 w0 w1 c0 c1
  start_steward "$backend-$scale"
  LAST_LOAD="$backend/$scale $scenario"
  run_wrk "$scenario" "$WARMUP" "$CONNS" "$out.warmup"
  s0=$(metric steward_db_statements_total) w0=$(metric steward_db_pool_wait_seconds_sum) c0=$(metric steward_db_pool_wait_seconds_count)
  run_wrk "$scenario" "$SECONDS_EACH" "$CONNS" "$out"
  s1=$(metric steward_db_statements_total) w1=$(metric steward_db_pool_wait_seconds_sum) c1=$(metric steward_db_pool_wait_seconds_count)
  curl -s --max-time 5 "$URL/metrics" >"$OUT/metrics-$backend-$scale-$scenario.txt" || true
  parse_wrk "$out"
  local hwm stmts wait
  hwm=$(status_kib VmHWM)
  stmts=$(awk -v a="$s0" -v b="$s1" -v n="$W_requests" 'BEGIN {printf "%.1f", n ? (b - a) / n : 0}')
  wait=$(awk -v a="$w0" -v b="$w1" -v x="$c0" -v y="$c1" 'BEGIN {printf("%.2f", (y > x) ? (b - a) * 1000 / (y - x) : 0)}')
  if [ "${4:-}" = idle ]; then
    sleep 2
    row "$backend" "$scale" "idle-after-load" "" "" "" "" "$(status_kib VmRSS)"
  fi
  stop_steward
  row "$backend" "$scale" "$scenario" "$W_rps" "$W_p50_ms" "$W_p99_ms" "$W_errors" "$hwm" "$stmts" "$wait"
  log "$backend/$scale $scenario: $W_rps req/s, p50 $W_p50_ms ms, p99 $W_p99_ms ms, errors $W_errors, peak RSS $(echo "$hwm" | mib) MiB, $stmts statements and ${wait} ms pool wait a request"
}

# The list while sign-ins saturate the CPU: both at full connections.
signin_interference() { # backend scale
  local backend=$1 scale=$2 out="$OUT/wrk-$1-$2-list-during-signin.txt" bg
  start_steward "$backend-$scale"
  LAST_LOAD="$backend/$scale list during sign-ins"
  run_wrk list "$WARMUP" "$CONNS" "$out.warmup"
  run_wrk signin $((SECONDS_EACH + 2)) "$CONNS" "$out.signin" &
  bg=$!
  BG_PIDS+=("$bg")
  sleep 1
  run_wrk list "$SECONDS_EACH" "$CONNS" "$out"
  wait "$bg" || true
  parse_wrk "$out.signin"
  local signin_rps=$W_rps
  parse_wrk "$out"
  local hwm
  hwm=$(status_kib VmHWM)
  stop_steward
  row "$backend" "$scale" "list-during-signin" "$W_rps" "$W_p50_ms" "$W_p99_ms" "$W_errors" "$hwm" "" ""
  note "- $backend/$scale: during the list-with-sign-ins run, sign-ins ran at $signin_rps /s."
  log "$backend/$scale list during sign-ins: $W_rps req/s, p99 $W_p99_ms ms (sign-ins $signin_rps /s)"
}

# Upload and read back the 100,000-point trace, one connection: a warm-up
# round trip, then 5 measured; the median round trip.
trace_scenario() { # backend scale
  local backend=$1 scale=$2 i up down ups=() downs=() totals=() bytes
  start_steward "$backend-$scale"
  LAST_LOAD="$backend/$scale trace"
  local target="$API/users/$TRACE_USER/activities/$TRACE_ACTIVITY/trace"
  for i in 0 1 2 3 4 5; do
    up=$(curl -sf --max-time 60 -o /dev/null -w '%{time_total}' -X PUT "$target" \
      -H "authorization: Bearer $TRACE_TOKEN" -H 'content-type: application/json' --data-binary "@$OUT/trace.json")
    down=$(curl -sf --max-time 60 -o "$WORK/trace-back.json" -w '%{time_total}' "$target" -H "authorization: Bearer $TRACE_TOKEN")
    [ "$i" = 0 ] && continue
    ups+=("$up") downs+=("$down") totals+=("$(awk -v a="$up" -v b="$down" 'BEGIN {print a + b}')")
  done
  bytes=$(stat -c %s "$WORK/trace-back.json")
  local hwm
  hwm=$(status_kib VmHWM)
  stop_steward
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] * 1000}'; }
  local total_ms up_ms down_ms
  total_ms=$(med "${totals[@]}") up_ms=$(med "${ups[@]}") down_ms=$(med "${downs[@]}")
  row "$backend" "$scale" "trace" "$(awk -v t="$total_ms" 'BEGIN {printf "%.2f", 1000 / t}')" "$total_ms" "" "0" "$hwm" "" ""
  note "- $backend/$scale trace: upload median $up_ms ms, read-back median $down_ms ms ($bytes bytes back), 5 round trips after a warm-up."
  log "$backend/$scale trace: round trip $total_ms ms (upload $up_ms, read back $down_ms)"
}

# pgbench on the endpoints' statements, with as many clients as the pool.
# (A pooled connection in use is not pinged at checkout, so the statements
# are all Steward sends under load: persistence::pool::ALIVE_BYPASS.)
pg_ceiling() { # scale name files...
  local scale=$1 name=$2 variant
  shift 2
  for variant in essential; do
    local args=() f
    for f in "$@"; do
      local file=${f%@*} weight=""
      [[ "$f" == *@* ]] && weight="@${f#*@}"
      args+=(-f "$BENCH/sql/$file.sql$weight")
    done
    local out="$OUT/pgbench-$scale-$name-$variant.txt"
    timeout $((SECONDS_EACH + 60)) pgbench -n -M prepared -c "$POOL" -j 2 -T "$SECONDS_EACH" \
      -D callers="$CALLERS" -D writers="$WRITERS" "${args[@]}" "$DB" >"$out" 2>&1 ||
      { echo "pgbench failed; see $out" >&2; exit 1; }
    local tps
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | sed -n 1p)
    row postgres "$scale" "ceiling-$name-$variant" "$tps"
    log "pgbench $scale $name ($variant): $tps tps"
  done
}

# ---------------------------------------------------------------- in-process ceilings
# The serde and Argon2id ceilings are measured right before the scenario
# they bound (other work on the machine moves them); these two are context.
json_num() { echo "$1" | sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p"; }
"$CEILINGS" gen-trace "$OUT/trace.json" "$TRACE_POINTS" >"$OUT/trace-gen.json"
ARGON1=$("$CEILINGS" argon2 3 1)
ARGON_CONNS=$("$CEILINGS" argon2 5 "$CONNS")   # as many at once as sign-ins in flight: oversubscribed
log "Argon2id, 1 thread: $ARGON1"
log "Argon2id, $CONNS threads: $ARGON_CONNS"

argon_ceiling() { # backend scale
  local j
  j=$(ARGON2_HASH="$HASH" ARGON2_PASSWORD="$PASSWORD" "$CEILINGS" argon2 5)
  row "$1" "$2" ceiling-argon2 "$(json_num "$j" per_second)" "$(json_num "$j" threads)"
  log "Argon2id ceiling: $j"
}
serde_ceiling() { # backend scale
  local j
  j=$("$CEILINGS" serde "$OUT/trace.json" 7)
  row "$1" "$2" ceiling-serde "$(json_num "$j" total_ms)" "$(json_num "$j" parse_ms)" "$(json_num "$j" serialize_ms)" "$(json_num "$j" bytes)"
  log "serde ceiling: $j"
}

# ---------------------------------------------------------------- the runs
declare -A IDLE_RSS=() SEED_INFO=() LOAD_BEFORE=()
for scale in "${SCALES[@]}"; do
  for backend in "${BACKEND_LIST[@]}"; do
    LOAD_BEFORE[$backend-$scale]="load average $(load_now), CPU busy $(busy_now)"
    log "=== $backend, $scale database (other work: ${LOAD_BEFORE[$backend-$scale]})"
    fresh_database "$backend" "$scale"
    (cd "$WORK" && steward_env "$STEWARD" migrate >>"$OUT/steward-$backend-$scale.log" 2>&1)
    start_steward "$backend-$scale"
    sleep 1   # what start-up does in the background (the dummy password hash) is done by then
    IDLE_RSS[$backend-$scale]=$(status_kib VmRSS)
    curl -sf --max-time 30 -o /dev/null -X POST "$API/auth/register" -H 'content-type: application/json' \
      -d "{\"email\": \"proto@example.org\", \"password\": \"$PASSWORD\"}"
    if [ "$backend" = postgres ]; then
      HASH=$(psql_db -Atc "SELECT password_hash FROM users WHERE email_normalized = 'proto@example.org'")
    else
      HASH=$(sqlite_db "SELECT password_hash FROM users WHERE email_normalized = 'proto@example.org'")
    fi
    case "$HASH" in '$argon2id$'*) ;; *) echo "no Argon2id hash from the registered account" >&2; exit 1 ;; esac
    LAST_LOAD="$backend/$scale registration"
    stop_steward
    seed "$HASH" "$backend" "$scale"
    SEED_INFO[$backend-$scale]="$COUNTS (seeded in ${SEED_SECONDS} s)"
    start_steward "$backend-$scale"
    prepare_load "$backend" "$scale"
    LAST_LOAD="$backend/$scale sign-ins for the load"
    stop_steward
    # Each pgbench ceiling runs right before its scenario, so that both
    # see the same machine (other work on it comes and goes).
    declare -A PG_FILES=([list]=list [get]=get [update]=update [create]=create
      [mixed]="list@40 get@40 update@10 create@10")
    for scenario in list get update create mixed; do
      wanted "$scenario" || continue
      # shellcheck disable=SC2086
      [ "$backend" = postgres ] && pg_ceiling "$scale" "$scenario" ${PG_FILES[$scenario]}
      http_scenario "$backend" "$scale" "$scenario" "$([ "$scenario" = mixed ] && echo idle)"
    done
    if wanted signin || wanted interference; then argon_ceiling "$backend" "$scale"; fi
    if wanted signin; then http_scenario "$backend" "$scale" signin; fi
    if wanted interference; then signin_interference "$backend" "$scale"; fi
    if wanted trace; then
      serde_ceiling "$backend" "$scale"
      trace_scenario "$backend" "$scale"
    fi
  done
done

# Start-up: exec to the first 200 on /readyz, on an existing SQLite database.
if [ -n "${SQLITE_FILE:-}" ] && [ -f "$SQLITE_FILE" ]; then
  STARTUP_DB="the benchmark's seeded SQLite database ($(basename "$SQLITE_FILE"))"
else
  SQLITE_FILE="$WORK/startup.db"
  DB_URL="sqlite://$SQLITE_FILE"
  (cd "$WORK" && steward_env "$STEWARD" migrate >>"$OUT/steward-startup.log" 2>&1)
  STARTUP_DB="a migrated, empty SQLite database"
fi
DB_URL="sqlite://$SQLITE_FILE"
STARTUP=$(cd "$WORK" && steward_env "$CEILINGS" startup "127.0.0.1:$PORT" 5 -- "$STEWARD" serve)
STARTUP_MS=$(json_num "$STARTUP" median_ms)
log "start-up: $STARTUP"

# ---------------------------------------------------------------- the report
ELAPSED=$(($(date +%s) - STARTED_AT))
get() { # backend scale scenario column(4..)
  awk -F'\t' -v b="$1" -v s="$2" -v n="$3" -v c="$4" '$1 == b && $2 == s && $3 == n {print $c; exit}' "$ROWS"
}
fmt() { awk -v x="$1" -v d="${2:-1}" 'BEGIN {if (x == "") print "—"; else printf("%." d "f\n", x)}'; }
ok() { awk "BEGIN {exit !($1)}"; }

table() { # backend scale
  local b=$1 s=$2 n label rps p50 p99 err hwm stmts wait ceil ceil_label ratio target verdict short
  echo "| scenario | req/s | p50 ms | p99 ms | errors | peak RSS MiB | statements / request | pool wait ms | ceiling | ratio | target | verdict |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |"
  for n in list get update create mixed signin list-during-signin trace; do
    rps=$(get "$b" "$s" "$n" 4) p50=$(get "$b" "$s" "$n" 5) p99=$(get "$b" "$s" "$n" 6)
    err=$(get "$b" "$s" "$n" 7) hwm=$(get "$b" "$s" "$n" 8) stmts=$(get "$b" "$s" "$n" 9) wait=$(get "$b" "$s" "$n" 10)
    [ -n "$rps" ] || continue
    ceil="" ceil_label="" ratio="" target="" short=()
    case $n in
      list | get | update | create | mixed)
        label="$n"
        [ "$n" = list ] && label="list (5 managed, 2 shared)"
        [ "$n" = get ] && label="get"
        [ "$n" = mixed ] && label="mixed (40 % list, 40 % get, 10 % update, 10 % create)"
        ceil=$(get postgres "$s" "ceiling-$n-essential" 4)
        if [ "$b" = postgres ] && [ -n "$ceil" ]; then
          ratio=$(awk -v a="$rps" -v c="$ceil" 'BEGIN {printf "%.2f", a / c}')
          ceil_label="pgbench $(fmt "$ceil" 0) tps"
          ok "$ratio >= 0.5" || short+=("throughput")
          target="≥ 0.5 × pgbench, p99 ≤ 4 × p50, 0 errors, RSS ≤ 64"
        else
          ceil_label="none (no pgbench for SQLite)"
          target="p99 ≤ 4 × p50, 0 errors, RSS ≤ 64"
        fi
        ok "$p99 <= 4 * $p50" || short+=("p99 $(awk -v a="$p99" -v b="$p50" 'BEGIN {printf "%.1f", a / b}') × p50")
        ;;
      signin)
        label="sign-in (POST /auth/token)"
        ceil=$(get "$b" "$s" ceiling-argon2 4)
        ratio=$(awk -v a="$rps" -v c="$ceil" 'BEGIN {printf "%.2f", a / c}')
        ceil_label="Argon2id $(fmt "$ceil" 1) /s"
        target="≥ 0.9 × Argon2id, 0 errors, RSS ≤ 64"
        ok "$ratio >= 0.9" || short+=("throughput")
        ;;
      list-during-signin)
        label="list while sign-ins saturate"
        ceil=$(get "$b" "$s" list 6)
        ratio=$(awk -v a="$p99" -v c="$ceil" 'BEGIN {printf "%.2f", a / c}')
        ceil_label="list p99 alone $(fmt "$ceil" 2) ms"
        target="p99 ≤ 3 × alone"
        ok "$ratio <= 3" || short+=("p99 ${ratio} × alone")
        ;;
      trace)
        label="trace: upload + read back 100,000 points"
        ceil=$(get "$b" "$s" ceiling-serde 4)
        ratio=$(awk -v a="$p50" -v c="$ceil" 'BEGIN {printf "%.2f", a / c}')
        ceil_label="serde $(fmt "$ceil" 1) ms"
        target="≤ 3 × serde"
        ok "$ratio <= 3" || short+=("${ratio} × serde")
        ;;
    esac
    if [ "$n" != trace ] && [ "$n" != list-during-signin ]; then
      [ "$err" = 0 ] || short+=("$err errors")
      ok "$hwm <= 65536" || short+=("RSS")
    fi
    if [ ${#short[@]} -eq 0 ]; then verdict="meets"; else verdict="short: $(IFS=','; echo "${short[*]}" | sed 's/,/, /g')"; fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(fmt "$rps" 1)" "$(fmt "$p50" 2)" \
      "$(fmt "$p99" 2)" "$err" "$(echo "$hwm" | mib)" "$(fmt "$stmts" 1)" "$(fmt "$wait" 2)" "$ceil_label" "${ratio:-—}" "$target" "$verdict"
  done
}

scale_table() { # backend
  local b=$1 n small large ratio
  echo "| scenario | small req/s | large req/s | large / small | target | verdict |"
  echo "| --- | ---: | ---: | ---: | --- | --- |"
  for n in list get update create mixed signin trace; do
    small=$(get "$b" small "$n" 4) large=$(get "$b" large "$n" 4)
    [ -n "$small" ] && [ -n "$large" ] || continue
    ratio=$(awk -v a="$large" -v c="$small" 'BEGIN {printf "%.2f", a / c}')
    printf '| %s | %s | %s | %s | ≥ 0.8 | %s |\n' "$n" "$(fmt "$small" 1)" "$(fmt "$large" 1)" "$ratio" \
      "$(ok "$ratio >= 0.8" && echo meets || echo short)"
  done
}

COMMAND="BENCH_SECONDS=$SECONDS_EACH BENCH_SCALE=$SCALE BENCH_BACKENDS=$BACKENDS bash bench/run.sh"
{
  echo "# Steward benchmark"
  echo
  echo "- Command: \`$COMMAND\` (connections $CONNS, warm-up ${WARMUP} s, pool $POOL, workers = CPU count)"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); the whole run took $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
  echo "- Steward: $REVISION, release build"
  echo "- Machine: $MACHINE"
  echo "- Other work on the machine, measured while the benchmark itself was idle (load average 1/5/15 min; share of both CPUs busy over 3 s): at the start $LOAD_AT_START. The load average counts the benchmark's own threads too, just before; CPU busy is the cleaner figure."
  echo "- Load generator: wrk (2 threads) on the same 2 cores as Steward and PostgreSQL; pgbench likewise"
  echo
  for scale in "${SCALES[@]}"; do
    for backend in "${BACKEND_LIST[@]}"; do
      echo "## $backend, $scale database"
      echo
      echo "${SEED_INFO[$backend-$scale]}; other work just before: ${LOAD_BEFORE[$backend-$scale]}."
      echo
      table "$backend" "$scale"
      echo
      echo "- Idle RSS 1 s after start-up: $(echo "${IDLE_RSS[$backend-$scale]}" | mib) MiB (target ≤ 20: $(ok "${IDLE_RSS[$backend-$scale]} <= 20480" && echo meets || echo short)); idle 2 s after the mixed load: $(get "$backend" "$scale" idle-after-load 8 | mib) MiB."
      if [ "$backend" = postgres ]; then
        echo "- pgbench ceilings ($POOL clients, -M prepared, the endpoints' statements):" \
          "$(for n in list get update create mixed; do printf '%s %s tps; ' "$n" "$(fmt "$(get postgres "$scale" "ceiling-$n-essential" 4)" 0)"; done | sed 's/; $//')."
      fi
      echo
    done
  done
  if [ ${#SCALES[@]} -eq 2 ]; then
    for backend in "${BACKEND_LIST[@]}"; do
      echo "## Scale: $backend, large database against small"
      echo
      scale_table "$backend"
      echo
    done
  fi
  echo "## Ceilings and start-up"
  echo
  for scale in "${SCALES[@]}"; do
    for backend in "${BACKEND_LIST[@]}"; do
      echo "- $backend/$scale: serde on the 100,000-point trace ($(get "$backend" "$scale" ceiling-serde 7) bytes of JSON): parse $(get "$backend" "$scale" ceiling-serde 5) ms + serialise $(get "$backend" "$scale" ceiling-serde 6) ms = $(get "$backend" "$scale" ceiling-serde 4) ms (median of 7); Argon2id verifications $(fmt "$(get "$backend" "$scale" ceiling-argon2 4)" 1) /s on $(get "$backend" "$scale" ceiling-argon2 5) threads (each measured just before its scenario)"
    done
  done
  echo "- Argon2id at Steward's parameters (m=12288 KiB, t=3, p=1) at the start: $(fmt "$(json_num "$ARGON1" per_second)" 1) /s on 1 thread ($(json_num "$ARGON1" ms_per_hash_per_thread) ms each); $(fmt "$(json_num "$ARGON_CONNS" per_second)" 1) /s with $CONNS threads at once"
  echo "- Start-up, exec to the first 200 on /readyz, on $STARTUP_DB: median $STARTUP_MS ms of 5 (all: $(echo "$STARTUP" | sed -n 's/.*"all_ms": \[\(.*\)\].*/\1/p') ms); target ≤ 300 ms: $(ok "$STARTUP_MS <= 300" && echo meets || echo short)"
  echo
  echo "## Notes"
  echo
  echo "- req/s, p50 and p99 are wrk's, over the measured ${SECONDS_EACH} s after a ${WARMUP} s warm-up at the same load; errors are wrk's socket errors, timeouts (10 s) and answers ≥ 400."
  echo "- Each scenario runs on a fresh Steward process, so peak RSS is that scenario's VmHWM (warm-up included)."
  echo "- statements / request and pool wait come from Steward's /metrics (steward_db_statements_total, steward_db_pool_wait_seconds) over the measured run."
  echo "- Callers are $TOKENS signed-in accounts picked at random per request, each with 5 managed users and 2 received shares; creates come from $WRITER_TOKENS other accounts so the callers' lists do not grow."
  echo "- The trace row is one connection: req/s is round trips per second, p50 the median round trip (upload, then read back)."
  cat "$NOTES"
} >"$OUT/report.md"
cp "$OUT/report.md" "$RESULTS"
# Steward logs a line per request: keep the logs, compressed; the trace is made again each run.
gzip -f "$OUT"/steward-*.log 2>/dev/null || true
rm -f "$OUT/trace.json"
cat "$RESULTS"
log "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s; raw outputs in ${OUT#"$ROOT"/}; report in ${RESULTS#"$ROOT"/}"
