//! Steward's HTTP API: handlers that extract, authorize, call and respond,
//! the [`Caller`] extractor, the one error type, and the OpenAPI document.
//!
//! The server mounts it with [`configure`] and wraps it in
//! [`auth::add_refreshed_token`] (sliding refresh).

pub mod act;
pub mod auth;
pub mod dto;
mod error;
pub mod events;
pub mod extract;
pub mod header_limit;
pub mod metrics;
pub mod openapi;
mod read_log;
pub mod request_log;
pub mod routes;
mod state;
pub mod validation;

use actix_web::{web, HttpResponse};

pub use auth::Caller;
pub use error::{ApiError, FieldError, Loc, Resource};
pub use state::{blocking, ApiConfig, AppState, Db};

/// Mounts the documented routes. Each is written once, at its handler
/// (`#[get("/users/")]` beside its `#[utoipa::path]`): this registration is
/// what serves it, what lists it in the OpenAPI document
/// ([`openapi::document`]), and what the `Allow` of a 405 is read from.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use routes::{
        access_log, activities, auth, claims, events, health, invitations, managers, mfa, shares, sign_ins, users,
    };
    cfg.service(health::healthz).service(health::readyz).service(
        utoipa_actix_web::scope("/api/v1")
            .service(users::list_users)
            .service(users::create_managed_user)
            .service(users::get_managed_user)
            .service(users::update_managed_user)
            .service(users::delete_managed_user)
            .service(auth::register)
            .service(auth::login)
            .service(auth::logout)
            .service(auth::change_password)
            .service(auth::read_me)
            .service(auth::delete_me)
            .service(mfa::read_mfa)
            .service(mfa::enroll_totp)
            .service(mfa::confirm_totp)
            .service(mfa::new_recovery_codes)
            .service(mfa::delete_mfa)
            .service(sign_ins::list_sign_ins)
            .service(sign_ins::delete_other_sign_ins)
            .service(sign_ins::delete_sign_in)
            .service(shares::create_share)
            .service(shares::list_shares)
            .service(shares::update_share)
            .service(shares::delete_share)
            .service(activities::list_activities)
            .service(activities::create_activity)
            .service(activities::get_activity)
            .service(activities::delete_activity)
            .service(activities::put_trace)
            .service(activities::get_trace)
            .service(managers::list_managers)
            .service(managers::invite_manager)
            .service(managers::leave_managers)
            .service(invitations::list_invitations)
            .service(invitations::accept_invitation)
            .service(invitations::delete_invitation)
            .service(claims::issue_claim_code)
            .service(claims::void_claim_code)
            .service(claims::redeem_claim_code)
            .service(access_log::read_access_log)
            .service(events::list_events),
    );
}

/// Mounts every route: the documented ones, the document itself, the
/// interactive docs, and the answer for anything else.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    routes(cfg);
    cfg.map(|cfg| {
        cfg.route("/openapi.json", web::get().to(openapi_json))
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
            .default_service(web::to(unrouted))
    });
}

async fn openapi_json() -> HttpResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| openapi::document().to_string());
    HttpResponse::Ok().content_type("application/json").body(body.as_str())
}

/// A request no route took: a 405 with `Allow` when its path is served
/// with other methods (as the original framework answers: the path
/// exists), a 404 otherwise.
async fn unrouted(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    match openapi::allowed_methods(req.path()) {
        Some(allow) => Err(ApiError::MethodNotAllowed(allow)),
        None => Err(ApiError::NotFound(error::Resource::Path)),
    }
}
