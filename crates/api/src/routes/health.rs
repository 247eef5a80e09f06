//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::get;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::{ApiError, AppState};

/// The process is up.
#[utoipa::path(
    tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "The process is up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers.
#[utoipa::path(
    tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready: the database answers"),
        (status = 503, description = "The database does not answer"),
    ))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Any failure to reach the database is a 503 (never a 500): this is
    // what a load balancer polls.
    state.db.run(persistence::ping).await.map_err(|e| match e {
        ApiError::Unavailable { .. } => e,
        other => ApiError::Unavailable { why: other.to_string(), lost: false },
    })?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok" })))
}
