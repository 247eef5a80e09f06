//! Activities and the points of their traces: the data that scopes protect.

use chrono::{DateTime, Utc};
use domain::UserId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::validation::request;

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityResponse {
    #[schema(value_type = String)]
    pub id: domain::ActivityId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub name: String,
    pub sport: String,
    pub started_at: DateTime<Utc>,
    #[schema(required = true)]
    pub duration_seconds: Option<i64>,
    #[schema(required = true)]
    pub distance_meters: Option<f64>,
    pub created_at: DateTime<Utc>,
}

impl From<&domain::Activity> for ActivityResponse {
    fn from(a: &domain::Activity) -> Self {
        ActivityResponse {
            id: a.id,
            user_id: a.user_id,
            name: a.name.clone(),
            sport: a.sport.clone(),
            started_at: a.started_at,
            duration_seconds: a.duration_seconds,
            distance_meters: a.distance_meters,
            created_at: a.created_at,
        }
    }
}

request! {
    pub struct ActivityCreate {
        #[schema(value_type = String, min_length = 1, max_length = 200)]
        pub name: domain::ActivityName = Required,
        #[schema(value_type = String, min_length = 1, max_length = 50)]
        pub sport: domain::Sport = Required,
        pub started_at: DateTime<Utc> = Required,
        #[schema(minimum = 0)]
        #[validate(range(min = 0))]
        pub duration_seconds: Option<i64> = Defaulted,
        #[schema(minimum = 0.0)]
        #[validate(range(min = 0.0))]
        pub distance_meters: Option<f64> = Defaulted,
    }
}

// A trace's points are read by serde's own derive while they are good (see
// `dto::Trace`), and through the shape, every fault listed, once serde
// refuses them. The bounds are checked by the domain (`check_trace`) on
// either path, not by validator.
request! {
    /// One GPS fix, as the wire writes it.
    #[derive(Clone, serde::Deserialize, Serialize)]
    #[schema(as = TracePoint)]
    pub struct TracePointDto {
        pub time: DateTime<Utc> = Required,
        #[schema(minimum = -90.0, maximum = 90.0)]
        pub lat: f64 = Required,
        #[schema(minimum = -180.0, maximum = 180.0)]
        pub lon: f64 = Required,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub elevation: Option<f64> = Defaulted,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(minimum = 20, maximum = 300)]
        pub heart_rate: Option<i32> = Defaulted,
    }
}

impl From<&domain::TracePoint> for TracePointDto {
    fn from(p: &domain::TracePoint) -> Self {
        TracePointDto { time: p.time, lat: p.lat, lon: p.lon, elevation: p.elevation, heart_rate: p.heart_rate }
    }
}

impl From<TracePointDto> for domain::TracePoint {
    fn from(p: TracePointDto) -> Self {
        domain::TracePoint {
            time: domain::time::micros(p.time),
            lat: p.lat,
            lon: p.lon,
            elevation: p.elevation,
            heart_rate: p.heart_rate,
        }
    }
}
