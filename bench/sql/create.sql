-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all), with the bound
-- parameters written as expressions of pgbench variables. bench_id() is the
-- seed's id function (bench/sql/seed-postgres.sql); now() stands for the
-- time Steward binds. "-- checkout" marks where Steward takes a pooled
-- connection (no statement of its own: a connection in use is not pinged).
-- POST /api/v1/users/: authenticate a writer, then insert a managed user.
\set w random(:callers + 1, :callers + :writers)
-- checkout
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."manager_id", "users"."registered_at", "sessions"."expires_at" FROM ("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) WHERE ((((("sessions"."id" = bench_id('session', :w)) AND ("sessions"."user_id" = bench_id('account', :w))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
-- checkout
INSERT INTO "users" ("id", "email", "email_normalized", "password_hash", "first_name", "last_name", "admin", "manager_id", "registered_at") VALUES (gen_random_uuid(), DEFAULT, DEFAULT, DEFAULT, 'Kim', DEFAULT, false, bench_id('account', :w), now());
