//! Request extractors that answer in the contract's shapes.
//!
//! [`Json`] reads a body but keeps its verdict until the handler asks
//! (`body.into_inner()?`), after the caller is authenticated: actix polls a
//! handler's extractors together, and the contract wants 401 before 413 or
//! 422 whatever arrives first.

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::{FieldError, Loc};
use crate::validation::{query_bool, BodyLimit, Fault, FromJson};
use crate::{ApiError, AppState};

/// A JSON body of type `T`, read and checked, its verdict held back until
/// [`Json::into_inner`].
pub struct Json<T>(Result<T, ApiError>);

impl<T> Json<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

/// Bodies larger than this are parsed on the blocking pool: a 100,000-point
/// trace (11 MB) takes tens of milliseconds of CPU, which on an async
/// worker would hold up every other request of that worker.
const PARSE_INLINE_MAX: usize = 64 * 1024;

impl<T: FromJson + Send + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Json<T>, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<AppState>>().map_or(64 * 1024, |s| match T::LIMIT {
            BodyLimit::Standard => s.config.body_limit,
            BodyLimit::Trace => s.config.trace_body_limit,
        });
        let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let declared_len =
            req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let result = async {
                if declared_len.is_some_and(|n| n > limit) {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                // The declared length (within the limit) saves re-allocating
                // and copying as a large body arrives.
                let mut body = web::BytesMut::with_capacity(declared_len.unwrap_or(0).min(limit));
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk
                        .map_err(|e| ApiError::validation(vec![Loc::from("body")], "json_invalid", e.to_string()))?;
                    if body.len() + chunk.len() > limit {
                        return Err(ApiError::PayloadTooLarge(limit));
                    }
                    body.extend_from_slice(&chunk);
                }
                if body.is_empty() {
                    return Err(ApiError::validation(vec![Loc::from("body")], "missing", "Field required"));
                }
                // A form or plain-text body is refused, so that a cookie
                // alone can never drive a cross-site write.
                if !content_type.as_deref().is_some_and(is_json) {
                    return Err(ApiError::UnsupportedMediaType);
                }
                if body.len() > PARSE_INLINE_MAX {
                    let body = body.freeze();
                    crate::state::blocking(move || T::from_bytes(&body)).await?
                } else {
                    T::from_bytes(&body)
                }
            }
            .await;
            Ok(Json(result))
        })
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses JSON; a body that is not JSON (or not UTF-8, or nested too
/// deep) is one fault at `["body", <byte offset>]`.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice::<Value>(body).map_err(|e| {
        let offset = byte_offset(body, e.line(), e.column());
        ApiError::Validation(vec![FieldError::new(
            vec![Loc::from("body"), Loc::Index(offset)],
            "json_invalid",
            format!("JSON decode error: {}", describe(&e)),
        )])
    })
}

/// serde_json's message without its " at line L column C" tail (the
/// offset says where).
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.split(" at line ").next().unwrap_or(&text).to_owned()
}

/// The byte offset of serde_json's (1-based line, 1-based column).
fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = body.split(|b| *b == b'\n').take(line.saturating_sub(1)).map(|l| l.len() + 1).sum();
    (line_start + column.saturating_sub(1)).min(body.len())
}

/// The value of the last pair named `name`: as the original framework
/// reads a query string or a form, the last of repeated keys wins.
pub fn last<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A request's query string, read the one way every parameter is read:
/// the last of repeated keys wins (as in the original framework), and a
/// value holding a NUL character is a fault at `["query", name]` before
/// anything parses it (the guard of [`crate::validation::read_value`], for
/// the query string).
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn of(req: &HttpRequest) -> Query {
        Query(serde_urlencoded::from_str(req.query_string()).unwrap_or_default())
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<Result<&str, FieldError>> {
        let raw = last(&self.0, name)?;
        Some(if crate::validation::storable(raw) {
            Ok(raw)
        } else {
            let fault = crate::validation::nul_fault();
            Err(FieldError::new(vec![Loc::from("query"), Loc::from(name)], fault.kind, fault.msg))
        })
    }

    /// `parse` of the value of `name`, `default` when absent; a value that
    /// does not parse is a fault at `["query", name]`, and `default` stands
    /// in so the other parameters are still read.
    pub fn parse<T>(
        &self,
        name: &str,
        default: T,
        errors: &mut Vec<FieldError>,
        parse: impl FnOnce(&str) -> Result<T, Fault>,
    ) -> T {
        match self.get(name) {
            None => default,
            Some(Err(fault)) => {
                errors.push(fault);
                default
            }
            Some(Ok(raw)) => parse(raw).unwrap_or_else(|fault| {
                errors.push(FieldError::new(vec![Loc::from("query"), Loc::from(name)], fault.kind, fault.msg));
                default
            }),
        }
    }
}

/// The booleans of a query string, by name, with their defaults. Every
/// bad value is listed at `["query", name]`.
pub fn query_bools<const N: usize>(req: &HttpRequest, params: [(&str, bool); N]) -> Result<[bool; N], ApiError> {
    let query = Query::of(req);
    let mut errors = Vec::new();
    let values = params.map(|(name, default)| query.parse(name, default, &mut errors, query_bool));
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A path id: anything that is not a UUID is an id that does not exist.
pub fn path_id<T: std::str::FromStr>(raw: &str, not_found: ApiError) -> Result<T, ApiError> {
    raw.parse().map_err(|_| not_found)
}

/// A keyset-paged list's query: `limit` (1 to 100, default 50) and
/// `before` (the id of the last item of the previous page). Activities
/// and the access log page alike.
pub struct Page<Id> {
    pub limit: i64,
    pub before: Option<Id>,
}

impl<Id: std::str::FromStr> Page<Id> {
    /// Reads the request's query; every fault at once, as a 422.
    pub fn of(req: &HttpRequest) -> Result<Page<Id>, ApiError> {
        let query = Query::of(req);
        let mut errors = Vec::new();
        let limit = query.parse("limit", 50, &mut errors, |raw| match raw.trim().parse::<i64>() {
            Err(_) => {
                Err(Fault::new("int_parsing", "Input should be a valid integer, unable to parse string as an integer"))
            }
            Ok(n) if n < 1 => Err(Fault::new("greater_than_equal", "Input should be greater than or equal to 1")),
            Ok(n) if n > 100 => Err(Fault::new("less_than_equal", "Input should be less than or equal to 100")),
            Ok(n) => Ok(n),
        });
        let before = query.parse("before", None, &mut errors, |raw| {
            raw.trim().parse::<Id>().map(Some).map_err(|_| Fault::new("uuid_parsing", "Input should be a valid UUID"))
        });
        if errors.is_empty() {
            Ok(Page { limit, before })
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    /// The 422 of a `before` that names nothing in this list (`what`).
    pub fn unknown_before(&self, what: &str) -> ApiError {
        ApiError::validation(
            vec![Loc::from("query"), Loc::from("before")],
            "value_error",
            format!("Value error, before names no {what}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_count_from_the_start_of_the_body() {
        let body = b"{\n  \"a\": ,\n}";
        let err = serde_json::from_slice::<Value>(body).unwrap_err();
        let at = byte_offset(body, err.line(), err.column());
        assert_eq!(body[at], b',', "offset {at} points at the fault");
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("Application/JSON"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }
}
