# List the recipes.
default:
    @just --list

# Serve the API, or run another steward command: just run create-admin --email you@example.com
run *args:
    cargo run --release -- {{ args }}

# Run every test (the PostgreSQL ones need `just db-up` first).
test:
    cargo test --workspace

lint:
    cargo clippy --workspace --all-targets -- -D warnings

fmt:
    cargo fmt --all

# The crates' API docs, with no broken or private intra-doc links (CI checks this too).
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace

fmt-check:
    cargo fmt --all -- --check

# Compose checks JWT_SECRET for the whole file even when only db starts;
# the db never reads it, so a placeholder lets this run without one.

# Start PostgreSQL for the tests and wait until it is ready.
db-up:
    JWT_SECRET="${JWT_SECRET:-unused-by-db}" docker compose up -d --wait db

# Apply pending migrations to DATABASE_URL.
migrate:
    cargo run --release -- migrate

# Write the OpenAPI document to openapi.json.
openapi:
    cargo run --release -- openapi > openapi.json

# The browser test of the interactive docs (/docs) in headless Chromium; installs chromium if missing.
docs-test:
    bash tests/docs/run.sh

# What CI runs.
ci:
    bash .ci/run

# Contract fuzzing: schemathesis against /openapi.json (installs it into tests/fuzz/.venv if missing).
fuzz *args:
    bash tests/fuzz/run.sh {{ args }}

# The performance benchmark: release build, fresh databases, wrk load, pgbench/serde/Argon2id ceilings; writes bench/results/latest.md.
bench:
    bash bench/run.sh
