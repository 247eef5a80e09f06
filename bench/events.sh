#!/usr/bin/env bash
# Issue 14's benchmark: what the events cost the writes, and how far the
# relay lags behind them, on PostgreSQL (SQLite's writers take turns in the
# process whatever the events do).
#
#   STEWARD_BASE=path/to/steward-without-events STEWARD_EVENTS=target/release/steward \
#     bash bench/events.sh
#
# 1. create, update and delete, each on a fresh database, alternating the
#    two builds (base, events, events, base, ... BENCH_ROUNDS times): the
#    ratio of the events build's requests/s to the base's.
# 2. the events build with EVENTS_NATS_URL on a nats-server of its own,
#    under a mixed load (40 % get, 30 % update, 20 % create, 10 % delete):
#    every 200 ms, the age of the oldest event not yet published (the lag).
#
# BENCH_ONLY=relay skips part 1. The events build's seeded users have the
# events it would have written for them (their creation), so that a delete
# pays the erasure of their data as it would in service; the base's have none.
# BENCH_EVENTS_FILLFACTOR=100 writes them on full pages (before migration 000013).
# Settings: BENCH_SECONDS=8 BENCH_WARMUP=2 BENCH_CONNECTIONS=64 BENCH_ROUNDS=2
# BENCH_POOL_SIZE=10 BENCH_PORT=18090; PGHOST/PGPORT/PGUSER as for psql.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=${BENCH_SECONDS:-8}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-64}
ROUNDS=${BENCH_ROUNDS:-2}
POOL=${BENCH_POOL_SIZE:-10}
PORT=${BENCH_PORT:-18090}
BASE=${STEWARD_BASE:-}
[ -n "$BASE" ] || [ "${BENCH_ONLY:-}" = relay ] || { echo "STEWARD_BASE: the steward binary without events" >&2; exit 2; }
EVENTS=${STEWARD_EVENTS:-$ROOT/target/release/steward}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
WRITERS=16
UPDATE_USERS=20     # per writer
DOOMED=3000         # per writer: what the delete scenario deletes
PASSWORD='bench correct horse battery'
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
URL="http://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/steward-events-bench.XXXXXX)
SPID="" NPID="" DB=""
log() { printf '[events-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cleanup() {
  local status=$?
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
  [ -n "$NPID" ] && kill "$NPID" 2>/dev/null
  [ -n "$DB" ] && psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
  wait 2>/dev/null || true
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

# wrk from Debian when missing, as bench/run.sh does.
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi
for tool in wrk psql curl; do command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }; done

start() { # binary [env...]
  local bin=$1
  shift
  (cd "$WORK" && exec env DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB" JWT_SECRET="$JWT_SECRET" \
    BIND_ADDR="127.0.0.1:$PORT" DATABASE_POOL_SIZE="$POOL" RUST_LOG=warn "$@" "$bin" serve) >>"$WORK/steward.log" 2>&1 &
  SPID=$!
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null --max-time 1 "$URL/readyz" && return 0
    sleep 0.05
  done
  echo "steward did not start; see $WORK/steward.log" >&2
  exit 1
}

stop() {
  kill -TERM "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=""
}

# A fresh database with WRITERS accounts, each with UPDATE_USERS + DOOMED
# managed users; the wrk data file for them.
prepare() { # binary [env...]
  [ -n "$DB" ] && psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
  DB="steward_events_bench_$$_$RANDOM"
  psql -X -q -d postgres -c "CREATE DATABASE \"$DB\""
  start "$@"
  local i token data="$WORK/data.lua"
  echo "return { writers = {" >"$data"
  local tokens=()
  for i in $(seq 1 "$WRITERS"); do
    curl -sf -o /dev/null -X POST "$URL/api/v1/auth/register" -H 'content-type: application/json' \
      -d "{\"email\": \"w$i@example.org\", \"password\": \"$PASSWORD\"}"
    token=$(curl -sf -X POST -u "w$i@example.org:$PASSWORD" "$URL/api/v1/auth/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    tokens+=("$token")
  done
  psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<SQL
INSERT INTO users (id, first_name, admin, registered_at)
  SELECT md5(u.email || j)::uuid, 'Kid', false, now() FROM users u, generate_series(1, $UPDATE_USERS + $DOOMED) j
  WHERE u.email IS NOT NULL;
INSERT INTO user_managers (user_id, manager_id, since)
  SELECT md5(u.email || j)::uuid, u.id, now() FROM users u, generate_series(1, $UPDATE_USERS + $DOOMED) j
  WHERE u.email IS NOT NULL;
SQL
  # The events build's users have the events that build would have written
  # for them: their creation (C4), numbered long ago, which a deletion's
  # erasure blanks. The base writes none, so its users have none.
  # BENCH_EVENTS_FILLFACTOR sets the table's fillfactor before they are
  # written (100: pages filled to the brim, as before migration 000013).
  if [ "${SEED_EVENTS:-0}" = 1 ]; then
    psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<SQL
${BENCH_EVENTS_FILLFACTOR:+ALTER TABLE events SET (fillfactor = $BENCH_EVENTS_FILLFACTOR);}
INSERT INTO events (position, id, type, at, user_id, actor_id, data)
  SELECT (SELECT coalesce(max(position), 0) FROM events) + row_number() OVER (), gen_random_uuid(), 'user.created',
         now(), m.user_id, m.manager_id,
         '{"id":"' || m.user_id || '","first_name":"Kid","last_name":null,"is_managed":true,"managers":["' || m.manager_id || '"]}'
  FROM user_managers m;
SQL
  fi
  psql -X -q -d "$DB" -c ANALYZE
  for i in $(seq 1 "$WRITERS"); do
    printf '{ token = "%s", users = { %s } },\n' "${tokens[$((i - 1))]}" \
      "$(psql -X -At -d "$DB" -c "SELECT string_agg('\"' || md5('w$i@example.org' || j)::uuid || '\"', ', ') FROM generate_series(1, $UPDATE_USERS) j")" >>"$data"
  done
  echo "}, doomed = {" >>"$data"
  # Interleaved across writers, so each wrk thread deletes for all of them.
  printf '%s\n' "${tokens[@]}" >"$WORK/tokens.txt"
  psql -X -At -F ' ' -d "$DB" -c "SELECT i, md5('w' || i || '@example.org' || j)::uuid
      FROM generate_series($((UPDATE_USERS + 1)), $((UPDATE_USERS + DOOMED))) j, generate_series(1, $WRITERS) i ORDER BY j, i" |
    awk 'NR == FNR {t[FNR] = $0; next} {printf "{ token = \"%s\", id = \"%s\" },\n", t[$1], $2}' "$WORK/tokens.txt" - >>"$data"
  echo "} }" >>"$data"
  DATA=$data
}

wrk_run() { # scenario seconds -> BENCH line
  BENCH_SCENARIO=$1 BENCH_DATA=$DATA BENCH_THREADS=2 BENCH_DOOMED_FROM=${BENCH_DOOMED_FROM:-0} \
    wrk -t 2 -c "$CONNS" -d "$2s" --timeout 10s -s "$ROOT/bench/lua/writes.lua" "$URL" | grep '^BENCH'
}

# CPU time per request (the log line's steward_us and postgres_us):
# ticks, pg_ticks, HZ.
. "$ROOT/bench/lib/cpu.sh"

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
log "machine: nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "${BENCH_ONLY:-}" = relay ] && ROUNDS=0
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="base events"; else order="events base"; fi
  for build in $order; do
    bin=$BASE SEED_EVENTS=0
    [ "$build" = events ] && bin=$EVENTS SEED_EVENTS=1
    for scenario in create update delete; do
      prepare "$bin"
      # A warm-up of deletes would use up the ids the measured run deletes.
      [ "$scenario" = delete ] || wrk_run "$scenario" "$WARMUP" >/dev/null
      s0=$(ticks "$SPID") p0=$(pg_ticks)
      line=$(wrk_run "$scenario" "$SECONDS_EACH")
      s1=$(ticks "$SPID") p1=$(pg_ticks)
      n=$(tr ' ' '\n' <<<"$line" | sed -n 's/^rps=//p')
      cpu=$(awk -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v hz="$HZ" -v n="$n" -v t="$SECONDS_EACH" \
        'BEGIN {printf "steward_us=%.1f postgres_us=%.1f", s * 1e6 / hz / (n * t), p * 1e6 / hz / (n * t)}')
      line="$line $cpu"
      log "round $round $build $scenario: $line"
      printf '%s\t%s\t%s\t%s\n' "$round" "$build" "$scenario" "$line" >>"$RESULTS"
      stop
    done
  done
done

# The relay under a mixed load: the age of the oldest unpublished event.
NATS_DIR="$WORK/nats"
NATS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/sbin/nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$NATS_DIR" >"$WORK/nats.log" 2>&1 &
NPID=$!
sleep 0.5
SEED_EVENTS=1 prepare "$EVENTS" EVENTS_NATS_URL="nats://127.0.0.1:$NATS_PORT"
LAGS="$WORK/lags.txt"
: >"$LAGS"
LAG_SQL="SELECT coalesce(extract(epoch FROM clock_timestamp() - min(at)), 0) FROM events
  WHERE position IS NULL OR position > (SELECT last_position FROM event_relay)"
(
  end=$((SECONDS + WARMUP + SECONDS_EACH + 1))
  while [ $SECONDS -lt $end ]; do
    psql -X -At -d "$DB" -c "$LAG_SQL" >>"$LAGS" 2>/dev/null || true
    sleep 0.2
  done
) &
SAMPLER=$!
# The warm-up deletes from the second half of the doomed users, the
# measured run from the first: no delete of it finds its user gone.
BENCH_DOOMED_FROM=$((WRITERS * DOOMED / 2)) wrk_run mixed "$WARMUP" >/dev/null
MIXED=$(wrk_run mixed "$SECONDS_EACH")
wait "$SAMPLER"
DRAINED_AT=$(date +%s.%N)
for _ in $(seq 1 200); do
  left=$(psql -X -At -d "$DB" -c "SELECT count(*) FROM events WHERE position IS NULL OR position > (SELECT last_position FROM event_relay)")
  [ "$left" = 0 ] && break
  sleep 0.05
done
DRAIN=$(awk -v a="$DRAINED_AT" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
TOTAL=$(psql -X -At -d "$DB" -c "SELECT count(*) FROM events")
log "mixed with the relay: $MIXED; events $TOTAL, unpublished after the load: $left (drained in ${DRAIN}s)"
stop

echo
echo "| scenario | round | base req/s | events req/s | ratio | base p99 ms | events p99 ms | CPU µs/req base: Steward, PostgreSQL | events: Steward, PostgreSQL |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for scenario in create update delete; do
  for round in $(seq 1 "$ROUNDS"); do
    b=$(awk -F'\t' -v r="$round" -v s="$scenario" '$1 == r && $2 == "base" && $3 == s {print $4}' "$RESULTS")
    e=$(awk -F'\t' -v r="$round" -v s="$scenario" '$1 == r && $2 == "events" && $3 == s {print $4}' "$RESULTS")
    field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
    printf '| %s | %s | %s | %s | %.2f | %s | %s | %s, %s | %s, %s |\n' "$scenario" "$round" "$(field "$b" rps)" "$(field "$e" rps)" \
      "$(awk -v a="$(field "$b" rps)" -v b="$(field "$e" rps)" 'BEGIN {print b / a}')" "$(field "$b" p99_ms)" "$(field "$e" p99_ms)" \
      "$(field "$b" steward_us)" "$(field "$b" postgres_us)" "$(field "$e" steward_us)" "$(field "$e" postgres_us)"
  done
done
echo
sort -g "$LAGS" | awk '{a[NR] = $1} END {p = int(NR * 0.99) + 1; if (p > NR) p = NR;
  printf "relay lag under the mixed load (%d samples, every 200 ms): median %.3f s, p99 %.3f s, max %.3f s\n", NR, a[int(NR / 2) + 1], a[p], a[NR]}'
echo "mixed load with the relay: $MIXED; $TOTAL events; all published ${DRAIN} s after the load ended"
