use chrono::{DateTime, Utc};
use domain::UserId;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::validation::{nullable, Fields, FromJson};

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

#[derive(Debug, ToSchema)]
pub struct ActivityCreate {
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub name: domain::ActivityName,
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    pub sport: domain::Sport,
    pub started_at: DateTime<Utc>,
    #[schema(minimum = 0)]
    pub duration_seconds: Option<i64>,
    #[schema(minimum = 0.0)]
    pub distance_meters: Option<f64>,
}

impl FromJson for ActivityCreate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        use crate::validation::{datetime, int_at_least, number_at_least, string};
        let mut f = Fields::of_body(body)?;
        let name = f.required("name", |v| Ok(domain::ActivityName::parse(string(v)?)?));
        let sport = f.required("sport", |v| Ok(domain::Sport::parse(string(v)?)?));
        let started_at = f.required("started_at", datetime);
        let duration = f.optional("duration_seconds", nullable(int_at_least(0)));
        let distance = f.optional("distance_meters", nullable(number_at_least(0.0)));
        f.finish(|| ActivityCreate {
            name: name.unwrap(),
            sport: sport.unwrap(),
            started_at: started_at.unwrap(),
            duration_seconds: duration.unwrap().flatten(),
            distance_meters: distance.unwrap().flatten(),
        })
    }
}

/// One GPS fix, as the wire writes it.
#[derive(Debug, Clone, serde::Deserialize, Serialize, ToSchema)]
#[schema(as = TracePoint)]
pub struct TracePointDto {
    pub time: DateTime<Utc>,
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevation: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 20, maximum = 300)]
    pub heart_rate: Option<i32>,
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
