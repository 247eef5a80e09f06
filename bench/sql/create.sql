-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all; captured again
-- at the commit that made writes carry their events and access-log entries
-- in one statement), with the bound parameters written as expressions of
-- pgbench variables. bench_id() is the seed's id function
-- (bench/sql/seed-postgres.sql); now() stands for the time Steward binds,
-- gen_random_uuid() for the ids it makes. Each request takes one pooled
-- connection in one blocking hop (api::act): authentication, the access
-- decision and the work. (A colon in a literal is chr(58): pgbench
-- takes `:name` for a variable.)
-- POST /api/v1/users/ by a writer account: authenticate, then the user, its
-- manager and its user.created event in one statement, its own transaction
-- (Db::write_one_as: no BEGIN/COMMIT).
\set w random(:callers + 1, :callers + :writers)
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", "sessions"."expires_at", "sessions"."last_used_at", "sessions"."second_factor" FROM ("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) WHERE ((((("sessions"."id" = bench_id('session', :w)) AND ("sessions"."user_id" = bench_id('account', :w))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
WITH created AS (INSERT INTO users (id, first_name, last_name, admin, registered_at) VALUES (gen_random_uuid(), 'Kim', NULL, false, now()) RETURNING id), managed AS (INSERT INTO user_managers (user_id, manager_id, since) SELECT id, bench_id('account', :w), now() FROM created), events_added AS (INSERT INTO events (id, type, at, user_id, actor_id, data) SELECT v.* FROM (VALUES (gen_random_uuid(), 'user.created', now(), gen_random_uuid(), bench_id('account', :w), replace('{"id"="ac0ffe62-df29-45dd-8111-7fb2c593b1a8","first_name"="Kim","last_name"=null,"admin"=false,"registered_at"="2026-12-02T06=28=51.758610Z","display_name"="Kim","is_managed"=true}', '=', chr(58)))) AS v WHERE true) SELECT 1;
