//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready: the database answers"),
        (status = 503, description = "The database does not answer"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.run(persistence::ping).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "detail": "Database unreachable" })),
    }
}
