//! The tables, written by hand: the id and time columns use Steward's own
//! SQL types (see [`crate::types`]), which `diesel print-schema` cannot
//! know. Keep in step with both `migrations/` folders.

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    users (id) {
        id -> Id,
        email -> Nullable<Text>,
        email_normalized -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        admin -> Bool,
        registered_at -> Ts,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    sessions (id) {
        id -> Id,
        user_id -> Id,
        created_at -> Ts,
        expires_at -> Ts,
        revoked_at -> Nullable<Ts>,
        last_used_at -> Ts,
        ip -> Nullable<Text>,
        last_ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        second_factor -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Ts;

    signin_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Ts,
        last_failed_at -> Ts,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    shares (id) {
        id -> Id,
        subject_id -> Id,
        grantee_id -> Id,
        scopes -> Text,
        created_at -> Ts,
        expires_at -> Nullable<Ts>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    activities (id) {
        id -> Id,
        user_id -> Id,
        name -> Text,
        sport -> Text,
        started_at -> Ts,
        duration_seconds -> Nullable<BigInt>,
        distance_meters -> Nullable<Double>,
        created_at -> Ts,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Id;

    activity_traces (activity_id) {
        activity_id -> Id,
        user_id -> Id,
        point_count -> Integer,
        points -> Binary,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    user_managers (user_id, manager_id) {
        user_id -> Id,
        manager_id -> Id,
        since -> Ts,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    invitations (id) {
        id -> Id,
        user_id -> Id,
        invitee_id -> Id,
        invited_by -> Id,
        created_at -> Ts,
        expires_at -> Ts,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    claim_codes (user_id) {
        user_id -> Id,
        code_hash -> Binary,
        keep_scopes -> Text,
        issued_by -> Id,
        created_at -> Ts,
        expires_at -> Ts,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    /// C4's outbox (see `crate::events`).
    events (seq) {
        seq -> BigInt,
        position -> Nullable<BigInt>,
        id -> Id,
        #[sql_name = "type"]
        kind -> Text,
        at -> Ts,
        user_id -> Id,
        actor_id -> Nullable<Id>,
        data -> Text,
    }
}

diesel::table! {
    event_relay (id) {
        id -> SmallInt,
        last_position -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    access_log (id) {
        id -> Id,
        user_id -> Id,
        at -> Ts,
        actor_id -> Nullable<Id>,
        actor_display_name -> Text,
        action -> Text,
        scope -> Nullable<Text>,
        via -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Ts};

    totp_factors (user_id) {
        user_id -> Id,
        secret_sealed -> Binary,
        enabled_at -> Nullable<Ts>,
        enroll_expires_at -> Nullable<Ts>,
        last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Id;

    recovery_codes (user_id, code_hash) {
        user_id -> Id,
        code_hash -> Binary,
    }
}

diesel::joinable!(totp_factors -> users (user_id));
diesel::joinable!(activities -> users (user_id));
diesel::joinable!(activity_traces -> activities (activity_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    shares,
    activities,
    activity_traces,
    user_managers,
    invitations,
    claim_codes,
    access_log,
    totp_factors,
    recovery_codes,
    events,
    event_relay
);
