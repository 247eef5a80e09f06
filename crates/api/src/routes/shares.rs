//! Part B: sharing a subject's data with a grantee.

use actix_web::http::header::LOCATION;
use actix_web::{delete, get, post, put};
use actix_web::{web, HttpResponse};
use domain::access::ShareRole;
use domain::{EventType, Share, UserId};
use persistence::{shares, users, AnyConnection};

use crate::act::{Need, On};
use crate::dto::{ShareCreate, ShareResponse, ShareUpdate, SharesList};
use crate::error::{Loc, Resource};
use crate::events::{emit, event};
use crate::extract::Json;
use crate::{ApiError, AppState, Caller};
use domain::access_log::Action;

/// Answers shares with their subjects' and grantees' names (one
/// statement, on the connection the request already holds).
pub(crate) fn respond(c: &mut AnyConnection, list: Vec<Share>) -> Result<Vec<ShareResponse>, ApiError> {
    let mut ids: Vec<UserId> = list.iter().flat_map(|s| [s.subject, s.grantee]).collect();
    ids.sort();
    ids.dedup();
    let people = if ids.is_empty() { Default::default() } else { shares::users_by_id(c, &ids)? };
    Ok(list.iter().map(|s| ShareResponse::new(s, &people)).collect())
}

/// Share
///
/// Grants scopes on the caller (or a user the caller manages) to the
/// account with `grantee_email`.
#[utoipa::path(
    tag = "shares", operation_id = "create_share_api_v1_shares__post",
    request_body = ShareCreate,
    responses(
        (status = 201, description = "The share", body = ShareResponse),
        (status = 404, description = "No such user of the caller's, or no account with that e-mail", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "The grantee already holds a share on this user", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/shares/")]
pub async fn create_share(
    caller: Caller,
    body: Json<ShareCreate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    // The subject: the caller when `user_id` is absent, else a user the
    // caller may grant on (404 otherwise).
    let on = match &new {
        Ok(ShareCreate { user_id: Some(subject), .. }) => {
            On::User(Some(*subject), Need::Grant, Some(Action::ShareCreate))
        }
        _ => On::Caller,
    };
    let body = state
        .db
        .write_as(&caller, new, on, |c, access, new: ShareCreate| {
            let grantee = users::find_account_by_email(c, new.grantee_email.normalized())?
                .map(|(u, _)| u)
                .ok_or(ApiError::NotFound(Resource::Account))?;
            let subject = access.subject.id;
            if grantee.id == access.caller.id || grantee.id == subject {
                return Err(ApiError::validation(
                    vec![Loc::from("body"), Loc::from("grantee_email")],
                    "value_error",
                    "Value error, you cannot share with yourself",
                ));
            }
            let share = shares::create(c, subject, grantee.id, new.scopes, new.expires_at, access.now)?;
            let body = respond(c, vec![share])?.remove(0);
            emit(c, access, [event(EventType::ShareCreated, subject, Some(access.caller.id), &body)])?;
            Ok(body)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((LOCATION, format!("/api/v1/shares/{}", body.id))).json(body))
}

/// List shares
///
/// The live shares on subjects the caller owns or manages (`granted`), and
/// those granted to the caller (`received`), oldest first.
#[utoipa::path(
    tag = "shares", operation_id = "list_shares_api_v1_shares__get",
    responses(
        (status = 200, description = "Granted and received shares", body = SharesList),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/shares/")]
pub async fn list_shares(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let list = state
        .db
        .act_as(&caller, Ok(()), On::Caller, |c, access, ()| {
            let me = access.caller.id;
            let granted = shares::granted_by(c, me, access.now)?;
            let received = shares::received_by(c, me, access.now)?;
            let n = granted.len();
            let all: Vec<Share> = granted.into_iter().chain(received.into_iter().map(|(s, _)| s)).collect();
            let mut answered = respond(c, all)?;
            let received = answered.split_off(n);
            Ok(SharesList { granted: answered, received })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Change a share
///
/// New scopes and, when given, a new end (`null`: none). Only whoever may
/// grant on its subject; the grantee gets 403.
#[utoipa::path(
    tag = "shares", operation_id = "update_share_api_v1_shares__share_id__put",
    params(("share_id" = String, Path)),
    request_body = ShareUpdate,
    responses(
        (status = 200, description = "The changed share", body = ShareResponse),
        (status = 403, description = "The grantee may leave a share, not change it", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "Share not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[put("/shares/{share_id}")]
pub async fn update_share(
    caller: Caller,
    path: web::Path<String>,
    body: Json<ShareUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let updated = state
        .db
        .write_as(
            &caller,
            body.into_inner(),
            On::share(&path, Action::ShareUpdate),
            |c, access, change: ShareUpdate| {
                let Some((share, ShareRole::Granter)) = &access.share else {
                    return Err(ApiError::Forbidden("A grantee may leave a share but not change it"));
                };
                let updated = shares::update(c, share.id, change.scopes, change.expires_at)?;
                let body = respond(c, vec![updated])?.remove(0);
                emit(c, access, [event(EventType::ShareUpdated, share.subject, Some(access.caller.id), &body)])?;
                Ok(body)
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// End or leave a share
///
/// By whoever may grant on its subject, or by its grantee (leaving it).
#[utoipa::path(
    tag = "shares", operation_id = "delete_share_api_v1_shares__share_id__delete",
    params(("share_id" = String, Path)),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "Share not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/shares/{share_id}")]
pub async fn delete_share(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Its granter ends it, its grantee leaves it: either may.
    state
        .db
        .write_as(&caller, Ok(()), On::share(&path, Action::ShareDelete), |c, access, ()| {
            let (share, _role) = access.share.as_ref().expect("On::Share decides a share");
            // The share as it was, named while its people are still there.
            let was = respond(c, vec![share.clone()])?.remove(0);
            shares::delete(c, share.id)?;
            emit(c, access, [event(EventType::ShareDeleted, share.subject, Some(access.caller.id), &was)])
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
