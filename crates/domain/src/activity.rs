use chrono::{DateTime, Utc};

use crate::text::{checked_text, TextError};
use crate::{ActivityId, UserId};

/// The most points one trace holds.
pub const TRACE_MAX_POINTS: usize = 100_000;

/// An activity's name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityName(String);

impl ActivityName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        checked_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sport, free text: trimmed, 1 to 50 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sport(String);

impl Sport {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        checked_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Something a person did, kept for them: the data that scopes protect.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: ActivityId,
    pub user_id: UserId,
    pub name: String,
    pub sport: String,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: Option<i64>,
    pub distance_meters: Option<f64>,
    pub created_at: DateTime<Utc>,
}

/// One GPS fix of a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TracePoint {
    pub time: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
    pub elevation: Option<f64>,
    pub heart_rate: Option<i32>,
}

/// Why a point of a trace is refused. The messages are the ones the API
/// answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    #[error("Value error, latitude must be between -90 and 90")]
    Latitude,
    #[error("Value error, longitude must be between -180 and 180")]
    Longitude,
    #[error("Input should be a finite number")]
    Elevation,
    #[error("Input should be greater than or equal to 20")]
    HeartRateTooLow,
    #[error("Input should be less than or equal to 300")]
    HeartRateTooHigh,
    #[error("Value error, points must be in non-decreasing time order")]
    OutOfOrder,
}

impl PointError {
    /// The field of the point that is wrong, as the wire names it.
    pub fn field(self) -> &'static str {
        match self {
            PointError::Latitude => "lat",
            PointError::Longitude => "lon",
            PointError::Elevation => "elevation",
            PointError::HeartRateTooLow | PointError::HeartRateTooHigh => "heart_rate",
            PointError::OutOfOrder => "time",
        }
    }
}

/// A fault in one point of a trace: which point, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceFault {
    pub index: usize,
    pub error: PointError,
}

/// Checks a whole trace and lists every fault: latitude in -90..=90,
/// longitude in -180..=180, elevation finite, heart rate 20..=300, and
/// times that never go backwards.
pub fn check_trace(points: &[TracePoint]) -> Vec<TraceFault> {
    let mut faults = Vec::new();
    let mut fault = |index, error| faults.push(TraceFault { index, error });
    for (i, p) in points.iter().enumerate() {
        if !(-90.0..=90.0).contains(&p.lat) {
            fault(i, PointError::Latitude);
        }
        if !(-180.0..=180.0).contains(&p.lon) {
            fault(i, PointError::Longitude);
        }
        if p.elevation.is_some_and(|e| !e.is_finite()) {
            fault(i, PointError::Elevation);
        }
        match p.heart_rate {
            Some(hr) if hr < 20 => fault(i, PointError::HeartRateTooLow),
            Some(hr) if hr > 300 => fault(i, PointError::HeartRateTooHigh),
            _ => {}
        }
        if i > 0 && p.time < points[i - 1].time {
            fault(i, PointError::OutOfOrder);
        }
    }
    faults
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn names_and_sports_as_a_table() {
        assert_eq!(ActivityName::parse("  Morning run ").unwrap().as_str(), "Morning run");
        assert_eq!(ActivityName::parse(" "), Err(TextError::Empty));
        assert!(ActivityName::parse(&"a".repeat(200)).is_ok());
        assert_eq!(ActivityName::parse(&"a".repeat(201)), Err(TextError::TooLong(200)));
        assert_eq!(Sport::parse(&"a".repeat(51)), Err(TextError::TooLong(50)));
        assert_eq!(Sport::parse("ru\nn"), Err(TextError::ControlChar));
    }

    #[test]
    fn traces_list_every_fault() {
        let t0 = Utc::now();
        let p = |s: i64, lat, lon, hr| TracePoint {
            time: t0 + Duration::seconds(s),
            lat,
            lon,
            elevation: None,
            heart_rate: hr,
        };
        let ok = [p(0, 0.0, 0.0, Some(60)), p(0, 90.0, -180.0, Some(20)), p(1, -90.0, 180.0, Some(300))];
        assert!(check_trace(&ok).is_empty(), "bounds are inclusive; equal times are fine");
        let bad = [p(5, 91.0, 0.0, None), p(4, 0.0, -181.0, Some(19)), p(6, 0.0, 0.0, Some(301))];
        let got: Vec<_> = check_trace(&bad).into_iter().map(|f| (f.index, f.error.field())).collect();
        assert_eq!(got, [(0, "lat"), (1, "lon"), (1, "heart_rate"), (1, "time"), (2, "heart_rate")]);
    }
}
