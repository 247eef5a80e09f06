//! HTTP tests through the real app, on PostgreSQL and on SQLite.
//!
//! Each test spawns `server::build` on port 0 over a database of its own
//! and talks to it with a real HTTP client.

mod helpers;

mod access_log;
mod activities;
mod auth;
mod authorization;
mod batch;
mod claims;
mod cli;
mod concurrency;
mod events;
mod faults;
mod limits;
mod managers;
mod mfa;
mod migration;
mod nul;
mod openapi;
mod operations;
mod outage;
mod relay;
mod shares;
mod sign_ins;
mod tokens;
mod users;
mod validation;
