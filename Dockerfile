# syntax=docker/dockerfile:1

# Build stage. libpq, OpenSSL and SQLite are compiled from source by the
# workspace, so the stock Rust image (gcc, make, perl, pkg-config) is enough.
FROM rust:1-bookworm AS build
WORKDIR /src
# Only what the build reads, so an edit to docs or CI does not rebuild.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY migrations migrations
# Cache mounts keep the registry and compiled dependencies (the vendored C
# libraries take minutes) between builds; target/ lives only in the cache,
# so the binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p steward-server \
    && cp target/release/steward /usr/local/bin/steward

# Runtime stage.
FROM debian:bookworm-slim
# ca-certificates: for PostgreSQL over TLS (sslrootcert=system).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# The vendored OpenSSL looks for CA roots under /usr/local/ssl; point it at
# Debian's bundle.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_DIR=/etc/ssl/certs
# A fixed numeric uid, so volume ownership and runAsNonRoot checks are stable.
RUN groupadd --gid 10001 steward \
    && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin steward \
    && mkdir -p /app/data \
    && chown steward:steward /app/data
WORKDIR /app
COPY --from=build /usr/local/bin/steward /usr/local/bin/steward
USER 10001:10001
# The default binds to 127.0.0.1, unreachable from outside a container.
# With the SQLite default (./data/steward.db, and its generated jwt-secret
# beside it), mount a volume at /app/data to keep data across containers.
ENV BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
# No HEALTHCHECK: the image carries no HTTP client. docker-compose.yml probes
# GET /readyz with bash; orchestrators should probe /healthz and /readyz.
ENTRYPOINT ["/usr/local/bin/steward"]
CMD ["serve"]
