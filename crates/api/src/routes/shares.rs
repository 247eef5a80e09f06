//! Part B: sharing a subject's data with a grantee.

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpResponse};
use domain::{access, Share, ShareId, UserId};
use persistence::{shares, users};

use crate::dto::{ShareCreate, ShareResponse, ShareUpdate, SharesList};
use crate::error::Loc;
use crate::extract::{path_id, Json};
use crate::{ApiError, AppState, Caller};

const SHARE_NOT_FOUND: ApiError = ApiError::NotFound("Share not found");

/// Answers a share with its subject's and grantee's names (one statement).
async fn respond(state: &AppState, list: Vec<Share>) -> Result<Vec<ShareResponse>, ApiError> {
    let mut ids: Vec<UserId> = list.iter().flat_map(|s| [s.subject, s.grantee]).collect();
    ids.sort();
    ids.dedup();
    let people =
        if ids.is_empty() { Default::default() } else { state.db.run(move |c| shares::users_by_id(c, &ids)).await? };
    Ok(list.iter().map(|s| ShareResponse::new(s, &people)).collect())
}

/// Loads a live share and decides what the caller may do with it: the
/// granter may do anything, the grantee may only leave, anyone else may
/// not know it exists.
enum Role {
    Granter,
    Grantee,
}

async fn role(state: &AppState, caller: &Caller, raw_id: &str) -> Result<(Share, Role), ApiError> {
    let id: ShareId = path_id(raw_id, SHARE_NOT_FOUND)?;
    let now = persistence::now();
    let share = state.db.run(move |c| shares::find_live(c, id, now)).await?.ok_or(SHARE_NOT_FOUND)?;
    let subject = share.subject;
    let manager = if subject == caller.id() {
        None
    } else {
        state.db.run(move |c| users::find(c, subject)).await?.and_then(|u| u.manager_id)
    };
    if access::may_grant(caller.id(), subject, manager).is_ok() {
        Ok((share, Role::Granter))
    } else if share.grantee == caller.id() {
        Ok((share, Role::Grantee))
    } else {
        Err(SHARE_NOT_FOUND)
    }
}

/// Share
///
/// Grants scopes on the caller (or a user the caller manages) to the
/// account with `grantee_email`.
#[utoipa::path(
    post, path = "/api/v1/shares/", tag = "shares", operation_id = "create_share_api_v1_shares__post",
    request_body = ShareCreate,
    responses(
        (status = 201, description = "The share", body = ShareResponse),
        (status = 404, description = "No such user of the caller's, or no account with that e-mail", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "The grantee already holds a share on this user", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn create_share(
    caller: Caller,
    body: Json<ShareCreate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner()?;
    let me = caller.id();
    let subject = new.user_id.unwrap_or(me);
    if subject != me {
        let manager = state.db.run(move |c| users::find(c, subject)).await?.and_then(|u| u.manager_id);
        access::may_grant(me, subject, manager).map_err(|_| ApiError::user_not_found())?;
    }
    let email = new.grantee_email.normalized().to_owned();
    let grantee = state
        .db
        .run(move |c| users::find_account_by_email(c, &email))
        .await?
        .map(|(u, _)| u)
        .ok_or(ApiError::NotFound("No account has that e-mail"))?;
    if grantee.id == me || grantee.id == subject {
        return Err(ApiError::validation(
            vec![Loc::from("body"), Loc::from("grantee_email")],
            "value_error",
            "Value error, you cannot share with yourself",
        ));
    }
    let (scopes, expires_at, grantee_id) = (new.scopes, new.expires_at, grantee.id);
    let share = state
        .db
        .write(move |c| shares::create(c, subject, grantee_id, scopes, expires_at, persistence::now()))
        .await
        .map_err(|e| if matches!(e, ApiError::NotFound(_)) { ApiError::user_not_found() } else { e })?;
    let body = respond(&state, vec![share]).await?.remove(0);
    Ok(HttpResponse::Created().insert_header((LOCATION, format!("/api/v1/shares/{}", body.id))).json(body))
}

/// List shares
///
/// The live shares on subjects the caller owns or manages (`granted`), and
/// those granted to the caller (`received`), oldest first.
#[utoipa::path(
    get, path = "/api/v1/shares/", tag = "shares", operation_id = "list_shares_api_v1_shares__get",
    responses(
        (status = 200, description = "Granted and received shares", body = SharesList),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn list_shares(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (me, now) = (caller.id(), persistence::now());
    let (granted, received) =
        state.db.run(move |c| Ok((shares::granted_by(c, me, now)?, shares::received_by(c, me, now)?))).await?;
    let n = granted.len();
    let all: Vec<Share> = granted.into_iter().chain(received.into_iter().map(|(s, _)| s)).collect();
    let mut answered = respond(&state, all).await?;
    let received = answered.split_off(n);
    Ok(HttpResponse::Ok().json(SharesList { granted: answered, received }))
}

/// Change a share
///
/// New scopes and, when given, a new end (`null`: none). Only whoever may
/// grant on its subject; the grantee gets 403.
#[utoipa::path(
    put, path = "/api/v1/shares/{share_id}", tag = "shares", operation_id = "update_share_api_v1_shares__share_id__put",
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
pub async fn update_share(
    caller: Caller,
    path: web::Path<String>,
    body: Json<ShareUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let change = body.into_inner()?;
    let (share, role) = role(&state, &caller, &path).await?;
    if let Role::Grantee = role {
        return Err(ApiError::Forbidden("A grantee may leave a share but not change it"));
    }
    let id = share.id;
    let updated = state
        .db
        .write(move |c| shares::update(c, id, change.scopes, change.expires_at))
        .await
        .map_err(|e| if matches!(e, ApiError::NotFound(_)) { SHARE_NOT_FOUND } else { e })?;
    Ok(HttpResponse::Ok().json(respond(&state, vec![updated]).await?.remove(0)))
}

/// End or leave a share
///
/// By whoever may grant on its subject, or by its grantee (leaving it).
#[utoipa::path(
    delete, path = "/api/v1/shares/{share_id}", tag = "shares", operation_id = "delete_share_api_v1_shares__share_id__delete",
    params(("share_id" = String, Path)),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "Share not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn delete_share(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (share, _) = role(&state, &caller, &path).await?;
    let id = share.id;
    state.db.write(move |c| shares::delete(c, id)).await.map_err(|e| {
        if matches!(e, ApiError::NotFound(_)) {
            SHARE_NOT_FOUND
        } else {
            e
        }
    })?;
    Ok(HttpResponse::NoContent().finish())
}
