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
-- PUT /api/v1/users/{id} by its manager, no transaction around it
-- (api::Db::write_one_as): the sign-in and standing, then the update,
-- made only while the row is the one the first statement read, with its
-- trail (the user.updated event and the access-log entry) in the same
-- statement (persistence::users::update_names_traced). \gset keeps the
-- first statement's columns (the subject's, which come last) for the
-- second's binds, as Steward keeps the row it read; pgbench stores a null
-- as '', which NULLIF turns back (names and e-mails are never empty).
\set i random(1, :callers)
\set j random(1, 5)
\set n random(1, 1000000)
SELECT "users"."id", "users"."email", "users"."first_name", "users"."last_name", "users"."admin", "users"."registered_at", "sessions"."expires_at", "sessions"."last_used_at", "sessions"."second_factor", "subjects"."id", "subjects"."email", "subjects"."first_name", "subjects"."last_name", "subjects"."admin", "subjects"."registered_at", "shares"."scopes", "shares"."expires_at", EXISTS (SELECT "user_managers"."user_id", "user_managers"."manager_id", "user_managers"."since" FROM "user_managers" WHERE (("user_managers"."user_id" = "subjects"."id") AND ("user_managers"."manager_id" = bench_id('account', :i)))) FROM ((("sessions" INNER JOIN "users" ON ("sessions"."user_id" = "users"."id")) LEFT OUTER JOIN "users" AS "subjects" ON ("subjects"."id" = bench_id('managed', (:i - 1) * 5 + :j))) LEFT OUTER JOIN "shares" ON ((("shares"."subject_id" = "subjects"."id") AND ("shares"."grantee_id" = bench_id('account', :i))) AND (("shares"."expires_at" IS NULL) OR ("shares"."expires_at" > now())))) WHERE ((((("sessions"."id" = bench_id('session', :i)) AND ("sessions"."user_id" = bench_id('account', :i))) AND ("sessions"."revoked_at" IS NULL)) AND ("sessions"."expires_at" > now())) AND ("users"."password_hash" IS NOT NULL)) LIMIT 1 \gset s_
WITH updated AS (UPDATE users SET first_name = NULLIF(:s_first_name, ''), last_name = 'Lee ' || :n WHERE id = bench_id('managed', (:i - 1) * 5 + :j) AND first_name IS NOT DISTINCT FROM NULLIF(:s_first_name, '') AND last_name IS NOT DISTINCT FROM NULLIF(:s_last_name, '') AND email IS NOT DISTINCT FROM NULLIF(:s_email, '') AND admin = :s_admin::boolean RETURNING id), events_added AS (INSERT INTO events (id, type, at, user_id, actor_id, data) SELECT v.* FROM (VALUES (gen_random_uuid(), 'user.updated', now(), bench_id('managed', (:i - 1) * 5 + :j), bench_id('account', :i), replace('{"id"="91d9b68d-c1c1-480b-b145-148137b9745a","first_name"="Kim","last_name"="Lee","admin"=false,"registered_at"="2026-12-02T06=28=48.580249Z","display_name"="Kim Lee","is_managed"=true}', '=', chr(58)))) AS v WHERE EXISTS (SELECT 1 FROM updated)), logged AS (INSERT INTO access_log (id, user_id, at, actor_id, actor_display_name, action, scope, via) SELECT v.* FROM (VALUES (gen_random_uuid(), bench_id('managed', (:i - 1) * 5 + :j), now(), bench_id('account', :i), 'Bench manager', 'user.update', 'data' || chr(58) || 'write', 'manager')) AS v WHERE EXISTS (SELECT 1 FROM updated)) SELECT id FROM updated;
