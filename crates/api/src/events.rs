//! C4: the events a change appends, in its own transaction (the write
//! closures of [`Db::write_as`](crate::Db::write_as) and
//! [`Db::write`](crate::Db::write) call [`emit`]). `data` is the response
//! DTO after the change, serialised here.

use chrono::{DateTime, Utc};
use domain::{EventType, UserId};
use persistence::events::NewEvent;
use persistence::AnyConnection;
use serde::Serialize;

use crate::ApiError;

/// An event about `user` by `actor`, carrying `data` as JSON.
pub fn event(kind: EventType, user: UserId, actor: Option<UserId>, data: &impl Serialize) -> NewEvent {
    // The DTOs hold strings, numbers and times only: this cannot fail.
    let data = serde_json::to_string(data).expect("a DTO serialises to JSON");
    NewEvent { kind, user, actor, data }
}

/// A deletion's event: its data is `{}`.
pub fn deleted(kind: EventType, user: UserId, actor: Option<UserId>) -> NewEvent {
    NewEvent { kind, user, actor, data: "{}".to_owned() }
}

/// Appends `events` on the change's connection, at the change's time.
pub fn emit(
    c: &mut AnyConnection,
    now: DateTime<Utc>,
    events: impl IntoIterator<Item = NewEvent>,
) -> Result<(), ApiError> {
    let events: Vec<NewEvent> = events.into_iter().collect();
    Ok(persistence::events::append(c, &events, now)?)
}
