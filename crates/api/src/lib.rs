//! Steward's HTTP API: handlers that extract, authorize, call and respond,
//! the [`Caller`] extractor, the one error type, and the OpenAPI document.
//!
//! The server mounts it with [`configure`] and wraps it in
//! [`auth::add_refreshed_token`] (sliding refresh).

mod access;
pub mod auth;
pub mod dto;
mod error;
pub mod extract;
pub mod header_limit;
pub mod metrics;
pub mod openapi;
pub mod request_log;
pub mod routes;
mod state;
pub mod validation;

use actix_web::{web, HttpResponse};

pub use auth::Caller;
pub use error::{ApiError, FieldError, Loc};
pub use state::{blocking, ApiConfig, AppState, Db};

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use routes::{activities, auth, health, shares, users};
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/openapi.json", web::get().to(openapi_json))
        .route(
            "/docs",
            web::get()
                .to(|| async { HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish() }),
        )
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .external_urls_from_iter_unchecked([("/docs/openapi.json", openapi::docs_document())])
                .config(utoipa_swagger_ui::Config::default().persist_authorization(true).try_it_out_enabled(true)),
        )
        .service(
            web::scope("/api/v1")
                .route("/users/", web::get().to(users::list_users))
                .route("/users/", web::post().to(users::create_managed_user))
                .route("/users/{user_id}", web::get().to(users::get_managed_user))
                .route("/users/{user_id}", web::put().to(users::update_managed_user))
                .route("/users/{user_id}", web::delete().to(users::delete_managed_user))
                .route("/auth/register", web::post().to(auth::register))
                .route("/auth/token", web::post().to(auth::login))
                .route("/auth/logout", web::post().to(auth::logout))
                .route("/auth/password", web::put().to(auth::change_password))
                .route("/auth/me", web::get().to(auth::read_me))
                .route("/auth/me", web::delete().to(auth::delete_me))
                .route("/shares/", web::get().to(shares::list_shares))
                .route("/shares/", web::post().to(shares::create_share))
                .route("/shares/{share_id}", web::put().to(shares::update_share))
                .route("/shares/{share_id}", web::delete().to(shares::delete_share))
                .route("/users/{user_id}/activities", web::get().to(activities::list_activities))
                .route("/users/{user_id}/activities", web::post().to(activities::create_activity))
                .route("/users/{user_id}/activities/{activity_id}", web::get().to(activities::get_activity))
                .route("/users/{user_id}/activities/{activity_id}", web::delete().to(activities::delete_activity))
                .route("/users/{user_id}/activities/{activity_id}/trace", web::put().to(activities::put_trace))
                .route("/users/{user_id}/activities/{activity_id}/trace", web::get().to(activities::get_trace)),
        )
        .default_service(web::to(not_found));
}

async fn openapi_json() -> HttpResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| openapi::document().to_string());
    HttpResponse::Ok().content_type("application/json").body(body.as_str())
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "detail": "Not Found" }))
}
