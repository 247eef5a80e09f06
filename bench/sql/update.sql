-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all), with the bound
-- parameters written as expressions of pgbench variables. bench_id() is the
-- seed's id function (bench/sql/seed-postgres.sql); now() stands for the
-- time Steward binds. "-- checkout" marks where Steward takes a pooled
-- connection (no statement of its own: a connection in use is not pinged).
-- PUT /api/v1/users/{id}: authenticate, find the user (access), then in a
-- transaction update the names and read the user back.
\set i random(1, :callers)
\set j random(1, 5)
\set n random(1, 1000000)
-- checkout
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."manager_id", "users"."registered_at", "sessions"."expires_at" FROM ("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) WHERE ((((("sessions"."id" = bench_id('session', :i)) AND ("sessions"."user_id" = bench_id('account', :i))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
-- checkout
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."manager_id", "users"."registered_at" FROM "users" WHERE ("users"."id" = bench_id('managed', (:i - 1) * 5 + :j)) LIMIT 1;
-- checkout
BEGIN;
UPDATE "users" SET "last_name" = 'Lee ' || :n WHERE ("users"."id" = bench_id('managed', (:i - 1) * 5 + :j));
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."manager_id", "users"."registered_at" FROM "users" WHERE ("users"."id" = bench_id('managed', (:i - 1) * 5 + :j)) LIMIT 1;
COMMIT;
