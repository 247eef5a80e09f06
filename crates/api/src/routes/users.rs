//! Part A: the Users API.

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::HashMap;

use domain::access::{self, Relation};
use domain::UserId;
use persistence::shares;
use persistence::users::{self, NameChanges};
use persistence::{AnyConnection, StoreError};

use crate::dto::{ManagedUserCreate, ManagedUserUpdate, UserResponse, UserSummary};
use crate::extract::{path_id, query_bools, Json};
use crate::{ApiError, AppState, Caller};

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
    get, path = "/api/v1/users/", tag = "users", operation_id = "list_users_api_v1_users__get",
    params(ListUsersQuery),
    responses(
        (status = 200, description = "Successful Response", body = Vec<UserSummary>),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn list_users(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let [include_managed, include_shared] = query_bools(&req, [("include_managed", true), ("include_shared", true)])?;
    let (me, now) = (caller.id(), persistence::now());
    // One blocking hop and at most two statements, whatever the counts.
    let (managed, shared) = state
        .db
        .run(move |c| {
            let managed = if include_managed { users::list_managed(c, me)? } else { Vec::new() };
            let shared = if include_shared { shares::received_by(c, me, now)? } else { Vec::new() };
            Ok((managed, shared))
        })
        .await?;
    let reachable = std::iter::once((caller.user.clone(), Relation::Itself.scopes()))
        .chain(managed.into_iter().map(|u| (u, Relation::Manager.scopes())))
        .chain(shared.into_iter().map(|(share, subject)| (subject, share.scopes)));
    // A user reachable in two ways appears once, where first reached, with
    // the union of the scopes.
    let mut out: Vec<UserSummary> = Vec::new();
    let mut position: HashMap<UserId, usize> = HashMap::new();
    for (user, scopes) in reachable {
        match position.get(&user.id) {
            Some(&i) => out[i].scopes = out[i].scopes.union(scopes),
            None => {
                position.insert(user.id, out.len());
                out.push(UserSummary::new(&user, scopes));
            }
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Create Managed User
///
/// Create a new managed user.
#[utoipa::path(
    post, path = "/api/v1/users/", tag = "users", operation_id = "create_managed_user_api_v1_users__post",
    request_body = ManagedUserCreate,
    responses(
        (status = 201, description = "Successful Response", body = UserResponse,
            headers(("Location" = String, description = "The new user's URL"))),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn create_managed_user(
    caller: Caller,
    body: Json<ManagedUserCreate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ManagedUserCreate { first_name, last_name } = body.into_inner()?;
    let manager = caller.id();
    let user = state
        .db
        .write(move |c| users::create_managed(c, manager, &first_name, last_name.as_ref(), persistence::now()))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(UserResponse::from(&user)))
}

/// The user at `raw_id` when the caller manages it, for `then` to act on
/// in the same blocking hop (the check and a write see the same row, and a
/// write costs one hop, not two). Every other case, and a user deleted
/// meanwhile, is the same 404.
fn managed_by<T>(
    caller: &Caller,
    raw_id: &str,
    then: impl FnOnce(&mut AnyConnection, domain::User) -> Result<T, StoreError> + Send + 'static,
) -> Result<impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static, ApiError> {
    let id: UserId = path_id(raw_id, ApiError::user_not_found())?;
    let me = caller.id();
    Ok(move |c: &mut AnyConnection| {
        let user = users::find(c, id)?.ok_or(StoreError::NotFound)?;
        access::may_manage(me, user.manager_id).map_err(|_| StoreError::NotFound)?;
        then(c, user)
    })
}

fn user_not_found(e: ApiError) -> ApiError {
    if matches!(e, ApiError::NotFound(_)) {
        ApiError::user_not_found()
    } else {
        e
    }
}

/// Get Managed User
///
/// Get details of a managed user.
#[utoipa::path(
    get, path = "/api/v1/users/{user_id}", tag = "users", operation_id = "get_managed_user_api_v1_users__user_id__get",
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Successful Response", body = UserResponse),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn get_managed_user(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = state.db.run(managed_by(&caller, &path, |_, user| Ok(user))?).await.map_err(user_not_found)?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// Update Managed User
///
/// Update a managed user's details.
#[utoipa::path(
    put, path = "/api/v1/users/{user_id}", tag = "users", operation_id = "update_managed_user_api_v1_users__user_id__put",
    params(("user_id" = String, Path)),
    request_body = ManagedUserUpdate,
    responses(
        (status = 200, description = "Successful Response", body = UserResponse),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn update_managed_user(
    caller: Caller,
    path: web::Path<String>,
    body: Json<ManagedUserUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let update = body.into_inner()?;
    let changes = NameChanges {
        first_name: update.first_name.map(|n| Some(n.into_string())),
        last_name: update.last_name.map(|n| n.map(|n| n.into_string())),
    };
    let update = managed_by(&caller, &path, move |c, user| users::update_names(c, user.id, &changes))?;
    let updated = state.db.write(update).await.map_err(user_not_found)?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&updated)))
}

/// Delete Managed User
///
/// Delete a managed user and all their data.
#[utoipa::path(
    delete, path = "/api/v1/users/{user_id}", tag = "users", operation_id = "delete_managed_user_api_v1_users__user_id__delete",
    params(("user_id" = String, Path)),
    responses(
        (status = 204, description = "Successful Response"),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn delete_managed_user(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // A concurrent delete may have won: then this one is a 404 too.
    state.db.write(managed_by(&caller, &path, |c, user| users::delete(c, user.id))?).await.map_err(user_not_found)?;
    Ok(HttpResponse::NoContent().finish())
}
