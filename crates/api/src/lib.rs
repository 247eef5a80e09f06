//! Steward's HTTP API: handlers that extract, authorize, call and respond,
//! the [`Caller`] extractor, the one error type, and the OpenAPI document.
//!
//! The server mounts it with [`configure`] and wraps it in
//! [`auth::add_refreshed_token`] (sliding refresh).

pub mod act;
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
pub use error::{ApiError, FieldError, Loc, Resource};
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
                .service(
                    resource("/users/", "GET, POST")
                        .route(web::get().to(users::list_users))
                        .route(web::post().to(users::create_managed_user)),
                )
                .service(
                    resource("/users/{user_id}", "GET, PUT, DELETE")
                        .route(web::get().to(users::get_managed_user))
                        .route(web::put().to(users::update_managed_user))
                        .route(web::delete().to(users::delete_managed_user)),
                )
                .service(resource("/auth/register", "POST").route(web::post().to(auth::register)))
                .service(resource("/auth/token", "POST").route(web::post().to(auth::login)))
                .service(resource("/auth/logout", "POST").route(web::post().to(auth::logout)))
                .service(resource("/auth/password", "PUT").route(web::put().to(auth::change_password)))
                .service(
                    resource("/auth/me", "GET, DELETE")
                        .route(web::get().to(auth::read_me))
                        .route(web::delete().to(auth::delete_me)),
                )
                .service(
                    resource("/shares/", "GET, POST")
                        .route(web::get().to(shares::list_shares))
                        .route(web::post().to(shares::create_share)),
                )
                .service(
                    resource("/shares/{share_id}", "PUT, DELETE")
                        .route(web::put().to(shares::update_share))
                        .route(web::delete().to(shares::delete_share)),
                )
                .service(
                    resource("/users/{user_id}/activities", "GET, POST")
                        .route(web::get().to(activities::list_activities))
                        .route(web::post().to(activities::create_activity)),
                )
                .service(
                    resource("/users/{user_id}/activities/{activity_id}", "GET, DELETE")
                        .route(web::get().to(activities::get_activity))
                        .route(web::delete().to(activities::delete_activity)),
                )
                .service(
                    resource("/users/{user_id}/activities/{activity_id}/trace", "GET, PUT")
                        .route(web::get().to(activities::get_trace))
                        .route(web::put().to(activities::put_trace)),
                ),
        )
        .default_service(web::to(not_found));
}

async fn openapi_json() -> HttpResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| openapi::document().to_string());
    HttpResponse::Ok().content_type("application/json").body(body.as_str())
}

/// A path of the API. A method it does not serve is a 405 with `Allow`
/// (as the original framework answers), not a 404: the path exists.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow.into()))
    }))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(error::Resource::Path))
}
