//! C4: the events a change appends, in its own transaction (the write
//! closures of [`Db::write_as`](crate::Db::write_as) call [`emit`], or hand
//! [`Access::trail`] to a store function that writes it in the change's
//! own statement). `data` is the response DTO after the change, serialised
//! here.

use domain::{EventType, UserId};
use persistence::events::NewEvent;
use persistence::trail::Trail;
use persistence::{AnyConnection, StoreError};
use serde::Serialize;

use crate::act::{unrecorded, Access};
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

/// Appends `events` on the change's connection, at the change's time,
/// with the request's access-log entry if no trail has taken it yet: one
/// statement for both (see `persistence::trail`). An entry that cannot be
/// written fails the request closed (503), as the helper's own would.
pub fn emit(
    c: &mut AnyConnection,
    access: &Access,
    events: impl IntoIterator<Item = NewEvent>,
) -> Result<(), ApiError> {
    let trail = access.trail(events);
    persistence::trail::append(c, &trail).map_err(failure_of(&trail))
}

/// What a failure to write `trail` (or the change that carries it) answers:
/// with an access-log entry in it, the request fails closed (503, see
/// `act::unrecorded`); otherwise as any store error.
pub fn failure_of(trail: &Trail) -> impl Fn(StoreError) -> ApiError {
    let logged = trail.entry.is_some();
    move |e| if logged { unrecorded(e) } else { e.into() }
}
