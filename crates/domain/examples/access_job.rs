//! A batch job deciding access with the domain crate alone: no web
//! framework, no database, no async runtime. Run it with
//! `cargo run -p steward-domain --example access_job`.
//!
//! A nightly report job gets rows from wherever it likes (here, made up)
//! and must only include the activities each coach may read, exactly as
//! the service would decide.

use chrono::{Duration, Utc};
use domain::access::{self, Grant, Relation};
use domain::{Scope, ScopeSet, UserId};

fn main() {
    let now = Utc::now();
    let parent = UserId::new();
    let child = UserId::new(); // managed by `parent`
    let coach = UserId::new();
    let stranger = UserId::new();

    // The parent shared the child's data with the coach, read-only, for a week.
    let grants = [Grant {
        grantee: coach,
        scopes: [Scope::DataRead].into_iter().collect(),
        expires_at: Some(now + Duration::days(7)),
    }];

    for (who, name) in [(parent, "parent"), (coach, "coach"), (stranger, "stranger")] {
        let relation = Relation::of(who, child, access::Managers::of(who, &[parent]), &grants, now);
        let held: ScopeSet = relation.scopes();
        let read = access::require(held, Scope::DataRead);
        let write = access::require(held, Scope::DataWrite);
        println!("{name:>8}: {relation:?}; read: {read:?}; write: {write:?}");
    }

    // A week and a day later the grant has ended: the coach holds nothing.
    let later = now + Duration::days(8);
    let held = Relation::of(coach, child, access::Managers::of(coach, &[parent]), &grants, later).scopes();
    assert!(held.is_empty());
    println!("   coach, after the grant ended: {:?}", access::require(held, Scope::DataRead));
}
