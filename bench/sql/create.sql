-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all), with the bound
-- parameters written as expressions of pgbench variables. bench_id() is the
-- seed's id function (bench/sql/seed-postgres.sql); now() stands for the
-- time Steward binds. Each request takes one pooled connection in one
-- blocking hop (api::act): authentication, the access decision and the
-- work; a write's statements are one transaction.
-- POST /api/v1/users/: authenticate a writer, then insert a managed user
-- and its first manager (one statement on PostgreSQL), in one transaction.
\set w random(:callers + 1, :callers + :writers)
BEGIN;
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", "sessions"."expires_at" FROM ("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) WHERE ((((("sessions"."id" = bench_id('session', :w)) AND ("sessions"."user_id" = bench_id('account', :w))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
WITH created AS (INSERT INTO users (id, first_name, last_name, admin, registered_at) VALUES (gen_random_uuid(), 'Kim', NULL, false, now()) RETURNING id) INSERT INTO user_managers (user_id, manager_id, since) SELECT id, bench_id('account', :w), now() FROM created;
COMMIT;
