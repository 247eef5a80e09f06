//! A trace body: up to 100,000 points, read fast by serde when good and,
//! to list every fault when not, point by point through the shape that
//! `TracePointDto`'s declaration gives.

use chrono::Utc;
use serde_json::Value;

use super::TracePointDto;
use crate::error::FieldError;
use crate::validation::body::read_object;
use crate::validation::FromJson;

/// Whether a JSON text may hold an escaped NUL (`\u0000`, any case): a
/// scan of the backslashes, which a trace has none of.
fn may_hold_nul(body: &[u8]) -> bool {
    body.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\\' && body.get(i + 1..i + 6).is_some_and(|tail| tail.eq_ignore_ascii_case(b"u0000")))
}

/// A whole trace: up to 100,000 points in time order.
#[derive(Debug)]
pub struct Trace(pub Vec<domain::TracePoint>);

fn trace_faults(points: &[domain::TracePoint]) -> Vec<FieldError> {
    use crate::Loc;
    domain::check_trace(points)
        .into_iter()
        .map(|f| {
            let fault = crate::validation::Fault::from(f.error);
            FieldError::new(
                vec![Loc::from("body"), Loc::Index(f.index), Loc::from(f.error.field())],
                fault.kind,
                fault.msg,
            )
        })
        .collect()
}

/// Where a field's faults stand among a point's: the domain's order.
fn field_rank(loc: &[crate::Loc]) -> (usize, usize) {
    use crate::Loc;
    let index = match loc.get(1) {
        Some(Loc::Index(i)) => *i,
        _ => 0,
    };
    let rank = match loc.get(2) {
        Some(Loc::Name(n)) => {
            ["lat", "lon", "elevation", "heart_rate", "time"].iter().position(|f| f == n).unwrap_or(5)
        }
        _ => 6,
    };
    (index, rank)
}

fn too_many_points() -> FieldError {
    FieldError::new(
        vec![crate::Loc::from("body")],
        "too_long",
        format!("List should have at most {} items after validation", domain::TRACE_MAX_POINTS),
    )
}

impl FromJson for Trace {
    const LIMIT: crate::validation::BodyLimit = crate::validation::BodyLimit::Trace;

    /// Good input takes the fast path: serde straight into typed points,
    /// then the domain's checks. Only input serde refuses is walked value
    /// by value, to list every fault.
    fn from_bytes(body: &[u8]) -> Result<Self, crate::ApiError> {
        // A NUL can only be written `\u0000` in JSON; a body that may hold
        // one (in any field, read or not) is walked, like every other body.
        if may_hold_nul(body) {
            return crate::validation::read_value(&crate::extract::parse_json(body)?);
        }
        match serde_json::from_slice::<Vec<TracePointDto>>(body) {
            Ok(points) => {
                if points.len() > domain::TRACE_MAX_POINTS {
                    return Err(crate::ApiError::Validation(vec![too_many_points()]));
                }
                let points: Vec<domain::TracePoint> = points.into_iter().map(Into::into).collect();
                let faults = trace_faults(&points);
                if faults.is_empty() {
                    Ok(Trace(points))
                } else {
                    Err(crate::ApiError::Validation(faults))
                }
            }
            // Serde's typed points hold no text (a time that does not
            // parse, a NUL in it included, takes this path), so only this
            // path needs the guard of `read_value`.
            Err(_) => crate::validation::read_value(&crate::extract::parse_json(body)?),
        }
    }

    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        use crate::Loc;
        let Some(items) = body.as_array() else {
            return Err(vec![FieldError::new(vec![Loc::from("body")], "list_type", "Input should be a valid list")]);
        };
        if items.len() > domain::TRACE_MAX_POINTS {
            return Err(vec![too_many_points()]);
        }
        // Every point is checked whole: a field that does not parse gets a
        // harmless stand-in (the previous time, 0 for a coordinate, none for
        // the optional ones) so the domain's checks still run on the rest,
        // and the domain's faults on stand-ins are dropped. So one response
        // lists every fault of every point.
        let mut errors = Vec::new();
        let mut points = Vec::with_capacity(items.len());
        let mut stand_ins: std::collections::HashSet<(usize, &str)> = Default::default();
        let mut last_time = chrono::DateTime::<Utc>::MIN_UTC;
        for (i, item) in items.iter().enumerate() {
            let mut mark = |field| {
                stand_ins.insert((i, field));
            };
            let p = read_object::<TracePointDto>(item, vec![Loc::from("body"), Loc::Index(i)], &mut errors);
            let time = p.time.unwrap_or_else(|| {
                mark("time");
                last_time
            });
            last_time = time;
            let point = TracePointDto {
                time,
                lat: p.lat.unwrap_or_else(|| {
                    mark("lat");
                    0.0
                }),
                lon: p.lon.unwrap_or_else(|| {
                    mark("lon");
                    0.0
                }),
                elevation: p.elevation.unwrap_or_else(|| {
                    mark("elevation");
                    None
                }),
                heart_rate: p.heart_rate.unwrap_or_else(|| {
                    mark("heart_rate");
                    None
                }),
            };
            points.push(point.into());
        }
        errors.extend(trace_faults(&points).into_iter().filter(|e| match (&e.loc[1], &e.loc[2]) {
            (Loc::Index(i), Loc::Name(field)) => !stand_ins.contains(&(*i, field.as_str())),
            _ => true,
        }));
        errors.sort_by_key(|e| field_rank(&e.loc));
        if errors.is_empty() {
            Ok(Trace(points))
        } else {
            Err(errors)
        }
    }
}
