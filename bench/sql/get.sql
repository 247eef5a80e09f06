-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all; captured again
-- at the commit that made writes carry their events and access-log entries
-- in one statement), with the bound parameters written as expressions of
-- pgbench variables. bench_id() is the seed's id function
-- (bench/sql/seed-postgres.sql); now() stands for the time Steward binds,
-- gen_random_uuid() for the ids it makes. Each request takes one pooled
-- connection in one blocking hop (api::act): authentication, the access
-- decision and the work.
-- GET /api/v1/users/{id} by its manager: the sign-in and the user's
-- standing in one statement (persistence::access::authenticate_with_standing),
-- then the access-log entry (user.read, via manager), committed without
-- waiting for the disk. Steward batches reads' entries (api::read_log),
-- several to a statement under load; pgbench writes one per transaction, so
-- this ceiling holds more statements per request than Steward runs.
-- (A colon in a literal is chr(58): pgbench takes `:name` for a variable.)
\set i random(1, :callers)
\set j random(1, 5)
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", "sessions"."expires_at", "sessions"."last_used_at", "sessions"."second_factor", "subjects"."id", "subjects"."email", "subjects"."first_name", "subjects"."last_name", "subjects"."admin", "subjects"."registered_at", "shares"."scopes", "shares"."expires_at", EXISTS (SELECT "user_managers"."user_id", "user_managers"."manager_id", "user_managers"."since" FROM "user_managers" WHERE (("user_managers"."user_id" = "subjects"."id") AND ("user_managers"."manager_id" = bench_id('account', :i)))) FROM ((("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) LEFT OUTER JOIN "users" AS "subjects" ON ("subjects"."id" = bench_id('managed', (:i - 1) * 5 + :j))) LEFT OUTER JOIN "shares" ON ((("shares"."subject_id" = "subjects"."id") AND ("shares"."grantee_id" = bench_id('account', :i))) AND (("shares"."expires_at" IS NULL) OR ("shares"."expires_at" > now())))) WHERE ((((("sessions"."id" = bench_id('session', :i)) AND ("sessions"."user_id" = bench_id('account', :i))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) INSERT INTO access_log (id, user_id, at, actor_id, actor_display_name, action, scope, via) SELECT v.* FROM async, (VALUES (gen_random_uuid(), bench_id('managed', (:i - 1) * 5 + :j), now(), bench_id('account', :i), 'Bench manager', 'user.read', 'data' || chr(58) || 'read', 'manager') ) AS v;
