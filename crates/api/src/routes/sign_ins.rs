//! C5: the sign-ins a person can see and end. Only the account sees or
//! ends its own: another account's sign-in is answered as one that does
//! not exist.

use actix_web::{delete, get, web, HttpRequest, HttpResponse};
use domain::SessionId;
use persistence::sessions;

use crate::act::On;
use crate::auth::{self, Caller};
use crate::dto::SignIn;
use crate::error::Resource;
use crate::{ApiError, AppState};

/// List my sign-ins
///
/// The caller's live sign-ins (neither revoked nor past their limit), most
/// recently used first, then by id.
#[utoipa::path(
    tag = "auth", operation_id = "list_sign_ins_api_v1_auth_sign_ins_get",
    responses((status = 200, description = "The caller's live sign-ins", body = Vec<SignIn>)),
    security(("HTTPBearer" = []))
)]
#[get("/auth/sign-ins")]
pub async fn list_sign_ins(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let list = state
        .db
        .act_as(&caller, Ok(()), On::Caller, |c, access, ()| {
            let live = sessions::live_of(c, access.caller.id, access.now)?;
            Ok(live.into_iter().map(|s| SignIn::of(s, access.session)).collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// End a sign-in
///
/// Its tokens are refused from then on. The caller's own is a logout (the
/// cookie is cleared).
#[utoipa::path(
    tag = "auth", operation_id = "delete_sign_in_api_v1_auth_sign_ins__sign_in_id__delete",
    params(("sign_in_id" = String, Path)),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "Sign-in not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/auth/sign-ins/{sign_in_id}")]
pub async fn delete_sign_in(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id: Option<SessionId> = path.parse().ok();
    let own = state
        .db
        .write_as(&caller, Ok(id), On::Caller, |c, access, id| {
            let id = id.ok_or(ApiError::NotFound(Resource::SignIn))?;
            if !sessions::revoke_live(c, access.caller.id, id, access.now)? {
                return Err(ApiError::NotFound(Resource::SignIn));
            }
            Ok(id == access.session)
        })
        .await?;
    if own {
        auth::cancel_refresh(&req);
        return Ok(HttpResponse::NoContent().cookie(auth::cleared_cookie(state.config.cookie_secure)).finish());
    }
    Ok(HttpResponse::NoContent().finish())
}

/// End my other sign-ins
///
/// Every sign-in of the caller but the request's own.
#[utoipa::path(
    tag = "auth", operation_id = "delete_other_sign_ins_api_v1_auth_sign_ins_delete",
    responses((status = 204, description = "Ended")),
    security(("HTTPBearer" = []))
)]
#[delete("/auth/sign-ins")]
pub async fn delete_other_sign_ins(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .db
        .write_as(&caller, Ok(()), On::Caller, |c, access, ()| {
            Ok(sessions::revoke_all(c, access.caller.id, Some(access.session), access.now)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
