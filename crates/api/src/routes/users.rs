//! Part A: the Users API.

use actix_web::http::header::LOCATION;
use actix_web::{delete, get, post, put};
use actix_web::{web, HttpRequest, HttpResponse};
use domain::{access, EventType, User};
use persistence::shares;
use persistence::users::{self, NameChanges};

use crate::act::On;
use crate::dto::{ManagedUserCreate, ManagedUserUpdate, UserResponse, UserSummary};
use crate::events::{self, deleted};
use crate::extract::{query_bools, Json};
use crate::{ApiError, AppState, Caller};
use domain::access_log::Action;

/// The list's query. Parsed by [`query_bools`], which accepts the
/// contract's spellings of a boolean (serde's would not).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    #[param(default = true, required = false)]
    pub include_managed: bool,
    #[param(default = true, required = false)]
    pub include_shared: bool,
}

/// List Users
///
/// List all users accessible to the current user.
#[utoipa::path(
    tag = "users", operation_id = "list_users_api_v1_users__get",
    params(ListUsersQuery),
    responses(
        (status = 200, description = "Successful Response", body = Vec<UserSummary>),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/users/")]
pub async fn list_users(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query_bools(&req, [("include_managed", true), ("include_shared", true)]);
    // One blocking hop and three statements (authentication, the managed
    // users, the shares), whatever the counts.
    let reachable = state
        .db
        .act_as(&caller, query, On::Caller, |c, access, [include_managed, include_shared]| {
            let me = access.caller.id;
            let managed = if include_managed { users::list_managed(c, me)? } else { Vec::new() };
            let shared = if include_shared { shares::received_by(c, me, access.now)? } else { Vec::new() };
            Ok(access::reachable(access.caller.clone(), managed, shared))
        })
        .await?;
    let out: Vec<UserSummary> = reachable.iter().map(|(user, scopes)| UserSummary::new(user, *scopes)).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Create Managed User
///
/// Create a new managed user.
#[utoipa::path(
    tag = "users", operation_id = "create_managed_user_api_v1_users__post",
    request_body = ManagedUserCreate,
    responses(
        (status = 201, description = "Successful Response", body = UserResponse,
            headers(("Location" = String, description = "The new user's URL"))),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/users/")]
pub async fn create_managed_user(
    caller: Caller,
    body: Json<ManagedUserCreate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .db
        .write_one_as(&caller, body.into_inner(), On::Caller, |c, access, new: ManagedUserCreate| {
            let me = access.caller.id;
            // The user, its manager and its event in one statement.
            let trail = |user: &User| {
                access.trail([events::event(EventType::UserCreated, user.id, Some(me), &UserResponse::from(user))])
            };
            Ok(users::create_managed(c, me, &new.first_name, new.last_name.as_ref(), access.now, trail)?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(UserResponse::from(&user)))
}

/// Get Managed User
///
/// Get details of a managed user.
#[utoipa::path(
    tag = "users", operation_id = "get_managed_user_api_v1_users__user_id__get",
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Successful Response", body = UserResponse),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/users/{user_id}")]
pub async fn get_managed_user(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let on = On::user(&path, Action::UserRead);
    let user = state.db.act_as(&caller, Ok(()), on, |_, access, ()| Ok(access.subject.clone())).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// Update Managed User
///
/// Update a managed user's details.
#[utoipa::path(
    tag = "users", operation_id = "update_managed_user_api_v1_users__user_id__put",
    params(("user_id" = String, Path)),
    request_body = ManagedUserUpdate,
    responses(
        (status = 200, description = "Successful Response", body = UserResponse),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[put("/users/{user_id}")]
pub async fn update_managed_user(
    caller: Caller,
    path: web::Path<String>,
    body: Json<ManagedUserUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let on = On::user(&path, Action::UserUpdate);
    let updated = state
        .db
        .write_one_as(&caller, body.into_inner(), on, |c, access, update: ManagedUserUpdate| {
            let changes = NameChanges {
                first_name: update.first_name.map(|n| Some(n.into_string())),
                last_name: update.last_name.map(|n| n.map(|n| n.into_string())),
            };
            let me = access.caller.id;
            // The update, its event and its entry in one statement, while
            // the row is still the one the decision read.
            let updated =
                |user: &User| vec![events::event(EventType::UserUpdated, user.id, Some(me), &UserResponse::from(user))];
            let trail = access.trail([]);
            let failed = events::failure_of(&trail);
            users::update_names_traced(c, &access.subject, &changes, trail, updated).map_err(failed)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&updated)))
}

/// Delete Managed User
///
/// Delete a managed user and all their data.
#[utoipa::path(
    tag = "users", operation_id = "delete_managed_user_api_v1_users__user_id__delete",
    params(("user_id" = String, Path)),
    responses(
        (status = 204, description = "Successful Response"),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/users/{user_id}")]
pub async fn delete_managed_user(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // A concurrent delete may have won: then this one is a 404 too. So may
    // a concurrent claim (C2): the user is an account now, and not deleted.
    let on = On::user(&path, Action::UserDelete);
    state
        .db
        .write_one_as(&caller, Ok(()), on, |c, access, ()| {
            let user = access.subject.id;
            // The deletion, the erasure and the event in one statement.
            let trail = access.trail([deleted(EventType::UserDeleted, user, Some(access.caller.id))]);
            Ok(users::delete_managed(c, user, &trail)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
