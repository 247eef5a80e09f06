-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all), with the bound
-- parameters written as expressions of pgbench variables. bench_id() is the
-- seed's id function (bench/sql/seed-postgres.sql); now() stands for the
-- time Steward binds. Each request takes one pooled connection in one
-- blocking hop (api::act): authentication, the access decision and the
-- work; a write's statements are one transaction.
-- PUT /api/v1/users/{id}: authenticate, decide (the caller manages the
-- user), change the last name and read the user back, in one transaction.
\set i random(1, :callers)
\set j random(1, 5)
BEGIN;
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", "sessions"."expires_at" FROM ("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) WHERE ((((("sessions"."id" = bench_id('session', :i)) AND ("sessions"."user_id" = bench_id('account', :i))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", EXISTS (SELECT "user_managers"."user_id", "user_managers"."manager_id", "user_managers"."since" FROM "user_managers" WHERE (("user_managers"."user_id" = "users"."id") AND ("user_managers"."manager_id" = bench_id('account', :i)))) FROM "users" WHERE ("users"."id" = bench_id('managed', (:i - 1) * 5 + :j)) LIMIT 1;
UPDATE "users" SET "last_name" = 'Lee' WHERE ("users"."id" = bench_id('managed', (:i - 1) * 5 + :j));
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at" FROM "users" WHERE ("users"."id" = bench_id('managed', (:i - 1) * 5 + :j)) LIMIT 1;
COMMIT;
