#!/usr/bin/env bash
# C3's benchmark: the reads that leave an access-log entry, with the log and
# without it, side by side in one run. Two release builds of Steward (BEFORE:
# a build of the commit before the log, AFTER: this tree's), each on a fresh
# PostgreSQL database seeded through the API the same way, measured in
# alternating rounds with wrk (bench/lua/load.lua):
#   get            a manager's GET /api/v1/users/{id} (user.read, via manager)
#   grantee_trace  a grantee's GET .../activities/{id}/trace, 100 points
#                  (trace.read, via share)
# Then the log's table at 10,000,000 entries: the paged read's plan and time.
#
#   BENCH_BEFORE=path/to/steward   the build without the log (required)
#   BENCH_AFTER=path/to/steward    default: target/release/steward (built)
#   BENCH_SECONDS=8 BENCH_ROUNDS=3 BENCH_CONNS=64
#     (64 clients, as bench/run.sh and bench/events.sh load: enough that
#     both builds keep the cores busy, so the ratio is one of throughputs.
#     With 32 the build with the log, whose reads each wait up to a
#     millisecond for their batch, leaves the cores idler than the build
#     without it, and the ratio measures the clients' concurrency too: the
#     "cores" column of each round shows which.)
#   BENCH_LOG_ROWS=10000000        entries for the plan check (0: skip)
#   BENCH_SCENARIOS="get grantee_trace"  add `list` (a manager's GET /users/,
#                                  which leaves no entry) for issue 15's bar
#   BENCH_RESULTS=bench/results/issue-13.md
#   BENCH_AFTER_SQL="..."          SQL run on the after build's database once
#                                  it is seeded (an experiment on the schema:
#                                  what an index or a constraint costs)
# Each measurement also reads the CPU time that Steward and PostgreSQL (all
# its processes) spent meanwhile, as microseconds per request: where the
# log's cost lands, which req/s alone cannot tell on a machine whose other
# load moves from round to round; and the CPU time the virtual machine's
# host took from it meanwhile (steal), which slows a round for no reason
# of its own; and how many cores Steward and PostgreSQL kept busy between
# them (of 2 here; the load generator takes the rest).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BEFORE=${BENCH_BEFORE:?set BENCH_BEFORE to a build of the commit before the access log}
AFTER=${BENCH_AFTER:-$ROOT/target/release/steward}
SECS=${BENCH_SECONDS:-8}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-64}
LOG_ROWS=${BENCH_LOG_ROWS:-10000000}
SCENARIOS=${BENCH_SCENARIOS:-get grantee_trace}
RESULTS=${BENCH_RESULTS:-$BENCH/results/issue-13.md}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
STAMP=$(date +%Y%m%d%H%M%S)
OUT="$BENCH/out/access-log-$STAMP"
mkdir -p "$OUT"
SECRET="bench-secret-that-is-at-least-32-bytes-long"
PASSWORD="bench passphrase 2026"
PIDS=()
DBS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${DBS[@]}"; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" || true; done
}
trap cleanup EXIT
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# wrk from Debian when missing, as bench/run.sh does.
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi

[ -n "${BENCH_AFTER:-}" ] || (cd "$ROOT" && cargo build --release --quiet -p steward-server)

start() { # label binary port -> pid in SPID
  local db="steward_bench_log_${STAMP}_$1"
  psql -X -q -d postgres -c "CREATE DATABASE \"$db\""
  DBS+=("$db")
  (exec env DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db" JWT_SECRET="$SECRET" BIND_ADDR="127.0.0.1:$3" \
    DATABASE_POOL_SIZE=10 RUST_LOG=warn "$2" serve) >>"$OUT/steward-$1.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$3/readyz" && return 0
    sleep 0.05
  done
  echo "steward $1 did not start; see $OUT/steward-$1.log" >&2
  exit 1
}

field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

# 10 managers with 5 managed users each; each manager shares its first
# managed user (an activity with a 100-point trace) with one of 10 grantees.
seed() { # port -> Lua data file
  local api="http://127.0.0.1:$1/api/v1" data="$OUT/data-$1.lua" i j t m token gtoken user act
  local trace="["
  for j in $(seq 0 99); do
    trace+="{\"time\": \"2026-11-28T07:$(printf %02d $((j / 60))):$(printf %02d $((j % 60)))Z\", \"lat\": 52.5, \"lon\": 13.4, \"heart_rate\": 140}"
    [ "$j" = 99 ] || trace+=","
  done
  trace+="]"
  echo "return { callers = {" >"$data"
  local grantees=""
  for i in $(seq 1 10); do
    for who in m g; do
      curl -sf -o /dev/null "$api/auth/register" -H 'content-type: application/json' \
        -d "{\"email\": \"$who$i@example.org\", \"password\": \"$PASSWORD\"}"
    done
    token=$(curl -sf -X POST -u "m$i@example.org:$PASSWORD" "$api/auth/token" | field access_token)
    gtoken=$(curl -sf -X POST -u "g$i@example.org:$PASSWORD" "$api/auth/token" | field access_token)
    local ids=""
    for m in $(seq 1 5); do
      user=$(curl -sf "$api/users/" -H "authorization: Bearer $token" -H 'content-type: application/json' \
        -d "{\"first_name\": \"Kid $m\", \"last_name\": null}" | field id)
      ids+="\"$user\", "
      if [ "$m" = 1 ]; then
        curl -sf -o /dev/null "$api/shares/" -H "authorization: Bearer $token" -H 'content-type: application/json' \
          -d "{\"grantee_email\": \"g$i@example.org\", \"scopes\": [\"data:read\"], \"user_id\": \"$user\"}"
        act=$(curl -sf "$api/users/$user/activities" -H "authorization: Bearer $token" -H 'content-type: application/json' \
          -d '{"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"}' | field id)
        curl -sf -o /dev/null -X PUT "$api/users/$user/activities/$act/trace" -H "authorization: Bearer $token" \
          -H 'content-type: application/json' -d "$trace"
        grantees+="    { token = \"$gtoken\", path = \"/api/v1/users/$user/activities/$act/trace\" },
"
      fi
    done
    echo "    { token = \"$token\", managed = { $ids} }," >>"$data"
  done
  { echo "  },"; echo "  grantees = {"; printf '%s' "$grantees"; echo "  },"; echo "  writers = {}, accounts = 0, password = \"\" }"; } >>"$data"
  echo "$data"
}

wrk_rps() { # port scenario data seconds
  BENCH_SCENARIO=$2 BENCH_DATA=$3 wrk -t 2 -c "$CONNS" -d "$4s" --timeout 10s -s "$BENCH/lua/load.lua" \
    "http://127.0.0.1:$1" >"$OUT/wrk-$1-$2-$STAMP.txt" 2>&1
  local line
  line=$(grep '^BENCH ' "$OUT/wrk-$1-$2-$STAMP.txt" | tail -1)
  local errors
  errors=$(echo "$line" | tr ' ' '\n' | sed -n 's/^errors=//p')
  [ "$errors" = 0 ] || { echo "wrk errors on $1 $2: $line" >&2; exit 1; }
  echo "$line" | tr ' ' '\n' | sed -n 's/^rps=//p'
}

# ticks, pg_ticks, steal_ticks, HZ.
. "$BENCH/lib/cpu.sh"

log "starting both builds"
declare -A SPIDS=()
start before "$BEFORE" 18181
SPIDS[before]=$SPID
start after "$AFTER" 18182
SPIDS[after]=$SPID
log "seeding"
DATA_BEFORE=$(seed 18181)
DATA_AFTER=$(seed 18182)
if [ -n "${BENCH_AFTER_SQL:-}" ]; then
  log "on the after build's database: $BENCH_AFTER_SQL"
  psql -X -q -v ON_ERROR_STOP=1 -d "steward_bench_log_${STAMP}_after" -c "$BENCH_AFTER_SQL"
fi

declare -A SUM=()
ROWS=""
for r in $(seq 1 "$ROUNDS"); do
  for scenario in $SCENARIOS; do
    # Alternate which build goes first, so a drift of the machine falls
    # on both alike.
    order="before after"
    [ $((r % 2)) = 0 ] && order="after before"
    for build in $order; do
      port=18181 data=$DATA_BEFORE
      [ "$build" = after ] && port=18182 data=$DATA_AFTER
      wrk_rps "$port" "$scenario" "$data" 2 >/dev/null
      s0=$(ticks "${SPIDS[$build]}") p0=$(pg_ticks) t0=$(steal_ticks)
      rps=$(wrk_rps "$port" "$scenario" "$data" "$SECS")
      s1=$(ticks "${SPIDS[$build]}") p1=$(pg_ticks) t1=$(steal_ticks)
      cpu=$(awk -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v st=$((t1 - t0)) -v hz="$HZ" -v secs="$SECS" -v cores="$(nproc)" \
        -v n="$(awk -v r="$rps" -v t="$SECS" 'BEGIN {print r * t}')" \
        'BEGIN {printf "%.1f | %.1f | %.2f | %.1f", s * 1e6 / hz / n, p * 1e6 / hz / n, (s + p) / hz / secs, st * 100 / hz / secs / cores}')
      log "round $r $scenario $build: $rps req/s (CPU us/req steward | postgres | cores busy with both | stolen % of the cores: $cpu)"
      SUM[$scenario-$build]=$(awk -v a="${SUM[$scenario-$build]:-0}" -v b="$rps" 'BEGIN {print a + b}')
      ROWS+="| $r | $scenario | $build | $rps | $cpu |
"
    done
  done
done
ENTRIES=$(psql -X -At -d "steward_bench_log_${STAMP}_after" -c "SELECT count(*) FROM access_log")

PLAN=""
if [ "$LOG_ROWS" != 0 ]; then
  log "the log at $LOG_ROWS entries"
  DB="steward_bench_log_${STAMP}_after"
  psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<SQL
INSERT INTO access_log (id, user_id, at, actor_id, actor_display_name, action, scope, via)
SELECT steward_access_entry_id(now() - (g || ' seconds')::interval), u.ids[1 + g % cardinality(u.ids)],
       now() - (g || ' seconds')::interval,
       u.ids[1 + (g / 7) % cardinality(u.ids)], 'someone',
       'trace.read', 'data:read', 'share'
FROM (SELECT array_agg(id) AS ids FROM users) AS u, generate_series(1, $LOG_ROWS) AS g;
ANALYZE access_log;
SQL
  USER_ID=$(psql -X -At -d "$DB" -c "SELECT user_id FROM access_log GROUP BY user_id ORDER BY count(*) DESC LIMIT 1")
  CURSOR_ID=$(psql -X -At -d "$DB" -c "SELECT id FROM access_log WHERE user_id = '$USER_ID' ORDER BY id DESC OFFSET 100000 LIMIT 1")
  # The statements of persistence::access_log::page with `before`: the
  # cursor by its key, then the page after it, 100,000 entries deep, with
  # each entry's actor looked up (a deleted actor's id is not shown).
  PLAN=$(psql -X -At -d "$DB" <<SQL
SELECT count(*) || ' entries, ' || (SELECT count(*) FROM access_log WHERE user_id = '$USER_ID') || ' of the paged user' FROM access_log;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT id FROM access_log WHERE user_id = '$USER_ID' AND id = '$CURSOR_ID';
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT access_log.id, user_id, at, actor_id, actor_display_name, action, scope, via, users.id
FROM access_log LEFT JOIN users ON access_log.actor_id = users.id
WHERE user_id = '$USER_ID' AND access_log.id < '$CURSOR_ID'
ORDER BY access_log.id DESC LIMIT 50;
SQL
)
fi

{
  echo "# Issue 13: the access log's cost"
  echo
  echo "Run $STAMP on $(nproc) cores, $(psql -X -At -d postgres -c 'SHOW server_version'), wrk -t 2 -c $CONNS, $SECS s per measurement after a 2 s warm-up, $ROUNDS alternating rounds."
  echo "before: \`$BEFORE\`; after: \`$AFTER\`. Both on PostgreSQL, each on a database of its own, seeded alike through the API."
  [ -z "${BENCH_AFTER_SQL:-}" ] || echo "On the after build's database, once seeded: \`$BENCH_AFTER_SQL\`."
  echo
  echo "| round | scenario | build | req/s | Steward CPU µs/req | PostgreSQL CPU µs/req | cores busy with both | stolen CPU % |"
  echo "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"
  printf '%s' "$ROWS"
  echo
  for scenario in $SCENARIOS; do
    awk -v s="$scenario" -v b="${SUM[$scenario-before]}" -v a="${SUM[$scenario-after]}" -v n="$ROUNDS" \
      'BEGIN {printf "- %s: before %.0f req/s, after %.0f req/s (means of %d): after/before = %.3f\n", s, b / n, a / n, n, a / b}'
  done
  echo "- entries the after build wrote meanwhile: $ENTRIES"
  if [ -n "$PLAN" ]; then
    echo
    echo "## The paged read at $LOG_ROWS entries"
    echo
    echo '```'
    echo "$PLAN"
    echo '```'
  fi
} >"$RESULTS"
log "wrote $RESULTS"
cat "$RESULTS"
