-- Seeds a migrated Steward database for bench/run.sh, in SQL (psql -v ...).
-- Variables: callers, writers, fill_accounts, fill_shares, fill_activities,
-- hash (a real Argon2id hash made by Steward; every account gets it, so
-- every account signs in with the same password).
--
--   accounts 1..callers                 5 managed users and 2 received shares each
--   accounts callers+1..callers+writers the create scenario's callers (nothing else)
--   then fill_accounts filler accounts  5 managed users each; the large scale's bulk
--   sessions for callers and writers    what the pgbench scripts authenticate with
--   activities: 2 per caller's managed user, then fill_activities on filler users
--   shares: fill_shares more, filler users to filler accounts
--
-- Ids are md5()-made UUIDs (bench_id), scattered like Steward's random v4
-- ids, so the pgbench scripts can compute any of them.
\set ON_ERROR_STOP on
SET session_replication_role = replica;  -- no foreign-key triggers: the seed is consistent by construction

CREATE OR REPLACE FUNCTION bench_id(kind text, i bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT md5(kind || i::text)::uuid $$;

\set accounts (:callers + :writers + :fill_accounts)

INSERT INTO users (id, email, email_normalized, password_hash, first_name, last_name, admin, registered_at)
SELECT bench_id('account', a), 'bench' || a || '@example.org', 'bench' || a || '@example.org', :'hash',
       'Caller', a::text, false, now() - interval '60 days' + a * interval '1 millisecond'
FROM generate_series(1, :accounts) a;

INSERT INTO users (id, email, email_normalized, password_hash, first_name, last_name, admin, registered_at)
SELECT bench_id('managed', (a - 1) * 5 + j), NULL, NULL, NULL, 'Kid', j::text, false,
       now() - interval '30 days' + a * interval '1 millisecond' + j * interval '1 second'
FROM generate_series(1, :accounts) a, generate_series(1, 5) j
WHERE a <= :callers OR a > :callers + :writers;

-- Each managed user's one manager (C1's relation).
INSERT INTO user_managers (user_id, manager_id, since)
SELECT bench_id('managed', (a - 1) * 5 + j), bench_id('account', a),
       now() - interval '30 days' + a * interval '1 millisecond' + j * interval '1 second'
FROM generate_series(1, :accounts) a, generate_series(1, 5) j
WHERE a <= :callers OR a > :callers + :writers;

INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at)
SELECT bench_id('session', a), bench_id('account', a), now(), now() + interval '30 days', NULL
FROM generate_series(1, :callers + :writers) a;

-- Each caller receives data:read on a managed user of the next two callers.
INSERT INTO shares (id, subject_id, grantee_id, scopes, created_at, expires_at)
SELECT bench_id('share', (a - 1) * 2 + k),
       bench_id('managed', (((a - 1 + k) % :callers)) * 5 + k),
       bench_id('account', a), 'data:read',
       now() - interval '10 days' + a * interval '1 millisecond' + k * interval '1 second', NULL
FROM generate_series(1, :callers) a, generate_series(1, 2) k;

-- Filler shares: the 3rd managed user of filler account f, to filler account f+1.
INSERT INTO shares (id, subject_id, grantee_id, scopes, created_at, expires_at)
SELECT bench_id('share', 2 * :callers + s),
       bench_id('managed', (:callers + :writers + s - 1) * 5 + 3),
       bench_id('account', :callers + :writers + (s % :fill_accounts) + 1),
       'data:read data:write', now() - interval '5 days' + s * interval '1 millisecond', NULL
FROM generate_series(1, LEAST(:fill_shares, :fill_accounts)) s;

INSERT INTO activities (id, user_id, name, sport, started_at, duration_seconds, distance_meters, created_at)
SELECT bench_id('activity', n), bench_id('managed', (n - 1) / 2 + 1), 'Morning run', 'running',
       now() - n * interval '1 minute', 1800, 5000.0, now()
FROM generate_series(1, :callers * 10) n;

INSERT INTO activities (id, user_id, name, sport, started_at, duration_seconds, distance_meters, created_at)
SELECT bench_id('activity', :callers * 10 + n),
       bench_id('managed', (:callers + :writers + (n - 1) % :fill_accounts) * 5 + ((n - 1) / :fill_accounts) % 5 + 1),
       'Ride', 'cycling', now() - n * interval '1 minute', 3600, 20000.0, now()
FROM generate_series(1, CASE WHEN :fill_accounts > 0 THEN :fill_activities ELSE 0 END) n;

RESET session_replication_role;
VACUUM ANALYZE;
