-- pgbench ceiling (bench/run.sh): the statements Steward runs for one
-- request, as PostgreSQL logged them (log_statement = all), with the bound
-- parameters written as expressions of pgbench variables. bench_id() is the
-- seed's id function (bench/sql/seed-postgres.sql); now() stands for the
-- time Steward binds. Each request takes one pooled connection in one
-- blocking hop (api::act): authentication, the access decision and the
-- work; a write's statements are one transaction.
-- GET /api/v1/users/: authenticate, then the managed users and the live
-- shares received (crates/persistence/src/{sessions,users,shares}.rs).
\set i random(1, :callers)
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", "sessions"."expires_at" FROM ("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) WHERE ((((("sessions"."id" = bench_id('session', :i)) AND ("sessions"."user_id" = bench_id('account', :i))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1;
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at" FROM ("user_managers" INNER JOIN "users" ON ("users"."id" = "user_managers"."user_id")) WHERE ("user_managers"."manager_id" = bench_id('account', :i)) ORDER BY "users"."registered_at" ASC, "users"."id" ASC;
SELECT "shares"."id", "shares"."subject_id", "shares"."grantee_id", "shares"."scopes", "shares"."created_at", "shares"."expires_at", "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at" FROM ("shares" INNER JOIN "users" ON ("users"."id" = "shares"."subject_id")) WHERE (("shares"."grantee_id" = bench_id('account', :i)) AND (("shares"."expires_at" IS NULL) OR ("shares"."expires_at" > now()))) ORDER BY "shares"."created_at" ASC, "shares"."id" ASC;
