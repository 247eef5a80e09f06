-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all; captured again
-- at the commit that made writes carry their events and access-log entries
-- in one statement), with the bound parameters written as expressions of
-- pgbench variables. bench_id() is the seed's id function
-- (bench/sql/seed-postgres.sql); now() stands for the time Steward binds,
-- gen_random_uuid() for the ids it makes. Each request takes one pooled
-- connection in one blocking hop (api::act): authentication, the access
-- decision and the work.
-- GET /api/v1/users/: authenticate, then the managed users and the shares
-- received (no access-log entry: a listing).
\set i random(1, :callers)
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", "sessions"."expires_at", "sessions"."last_used_at", "sessions"."second_factor" FROM ("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) WHERE ((((("sessions"."id" = bench_id('session', :i)) AND ("sessions"."user_id" = bench_id('account', :i))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at" FROM ("user_managers" INNER JOIN "users" ON ("users"."id" = "user_managers"."user_id")) WHERE ("user_managers"."manager_id" = bench_id('account', :i)) ORDER BY "users"."registered_at" ASC, "users"."id" ASC;
SELECT "shares"."id", "shares"."subject_id", "shares"."grantee_id", "shares"."scopes", "shares"."created_at", "shares"."expires_at", "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at" FROM ("shares" INNER JOIN "users" ON ("users"."id" = "shares"."subject_id")) WHERE (("shares"."grantee_id" = bench_id('account', :i)) AND (("shares"."expires_at" IS NULL) OR ("shares"."expires_at" > now()))) ORDER BY "shares"."created_at" ASC, "shares"."id" ASC;
