-- The SQLite twin of seed-postgres.sql (same rows, same shape), for the
-- sqlite3 shell. run.sh replaces {{callers}}, {{writers}}, {{fill_accounts}},
-- {{fill_shares}}, {{fill_activities}} and {{hash}} first (SQLite 3.40's
-- generate_series refuses bounds taken from a table in a join).
-- Ids are random 16-byte blobs, like Steward's v4 UUIDs; times are
-- Steward's fixed-width UTC text. No pgbench here, so no id function.
PRAGMA foreign_keys = OFF;
PRAGMA synchronous = OFF;
BEGIN;

CREATE TEMP TABLE acc (i INTEGER PRIMARY KEY, id BLOB NOT NULL);
INSERT INTO acc SELECT value, randomblob(16) FROM generate_series(1, {{callers}} + {{writers}} + {{fill_accounts}});

CREATE TEMP TABLE man (i INTEGER PRIMARY KEY, a INTEGER NOT NULL, j INTEGER NOT NULL, id BLOB NOT NULL);
INSERT INTO man
SELECT (acc.i - 1) * 5 + j.value, acc.i, j.value, randomblob(16)
FROM acc, generate_series(1, 5) j
WHERE acc.i <= {{callers}} OR acc.i > {{callers}} + {{writers}};

INSERT INTO users (id, email, email_normalized, password_hash, first_name, last_name, admin, registered_at)
SELECT acc.id, 'bench' || acc.i || '@example.org', 'bench' || acc.i || '@example.org', '{{hash}}', 'Caller', acc.i, 0,
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-60 days', '+' || (acc.i / 1000) || ' seconds') || printf('.%06dZ', (acc.i % 1000) * 1000)
FROM acc;

INSERT INTO users (id, email, email_normalized, password_hash, first_name, last_name, admin, registered_at)
SELECT man.id, NULL, NULL, NULL, 'Kid', man.j, 0,
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-30 days', '+' || (man.a / 1000 + man.j) || ' seconds') || printf('.%06dZ', (man.a % 1000) * 1000)
FROM man JOIN acc ON acc.i = man.a;

-- Each managed user's one manager (C1's relation).
INSERT INTO user_managers (user_id, manager_id, since)
SELECT man.id, acc.id,
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-30 days', '+' || (man.a / 1000 + man.j) || ' seconds') || printf('.%06dZ', (man.a % 1000) * 1000)
FROM man JOIN acc ON acc.i = man.a;

INSERT INTO shares (id, subject_id, grantee_id, scopes, created_at, expires_at)
SELECT randomblob(16), man.id, acc.id, 'data:read',
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-10 days', '+' || (acc.i / 1000 + k.value) || ' seconds') || printf('.%06dZ', (acc.i % 1000) * 1000),
       NULL
FROM generate_series(1, 2) k, acc JOIN man ON man.i = ((acc.i - 1 + k.value) % {{callers}}) * 5 + k.value
WHERE acc.i <= {{callers}};

INSERT INTO shares (id, subject_id, grantee_id, scopes, created_at, expires_at)
SELECT randomblob(16), man.id, g.id, 'data:read data:write',
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-5 days', '+' || (s.value / 1000) || ' seconds') || printf('.%06dZ', (s.value % 1000) * 1000),
       NULL
FROM generate_series(1, min({{fill_shares}}, {{fill_accounts}})) s
JOIN man ON man.i = ({{callers}} + {{writers}} + s.value - 1) * 5 + 3
JOIN acc g ON g.i = {{callers}} + {{writers}} + (s.value % {{fill_accounts}}) + 1;

INSERT INTO activities (id, user_id, name, sport, started_at, duration_seconds, distance_meters, created_at)
SELECT randomblob(16), man.id, 'Morning run', 'running',
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || n.value || ' minutes') || '.000000Z', 1800, 5000.0,
       strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z'
FROM generate_series(1, {{callers}} * 10) n JOIN man ON man.i = (n.value - 1) / 2 + 1;

INSERT INTO activities (id, user_id, name, sport, started_at, duration_seconds, distance_meters, created_at)
SELECT randomblob(16), man.id, 'Ride', 'cycling',
       strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || n.value || ' minutes') || '.000000Z', 3600, 20000.0,
       strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z'
FROM generate_series(1, CASE WHEN {{fill_accounts}} > 0 THEN {{fill_activities}} ELSE 0 END) n
JOIN man ON man.i = ({{callers}} + {{writers}} + (n.value - 1) % {{fill_accounts}}) * 5 + ((n.value - 1) / {{fill_accounts}}) % 5 + 1;

COMMIT;
