//! Part B: activities and traces, the data that scopes protect. Reading
//! needs `data:read` on the user, writing and deleting `data:write`.

use actix_web::http::header::LOCATION;
use actix_web::{delete, get, post, put};
use actix_web::{web, HttpRequest, HttpResponse};
use domain::access_log::Action;
use domain::ActivityId;
use persistence::activities::{self, NewActivity};

use crate::act::On;
use crate::dto::{ActivityCreate, ActivityResponse, Trace, TracePointDto};
use crate::error::Resource;
use crate::extract::{Json, Page};
use crate::{ApiError, AppState, Caller};

/// The `{activity_id}` of a path. Read inside the hop, after access to the
/// user is decided, so a stranger learns nothing from a malformed one.
fn activity_id(raw: &str) -> Result<ActivityId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound(Resource::Activity))
}

/// The list's query: `limit` (1 to 100, default 50) and `before` (the id
/// of the last activity of the previous page).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivitiesQuery {
    #[param(default = 50, minimum = 1, maximum = 100, required = false)]
    pub limit: i64,
    #[param(value_type = Option<String>, format = Uuid)]
    pub before: Option<ActivityId>,
}

/// List activities
///
/// A user's activities, newest first (`started_at`, then `id`), a page at
/// a time.
#[utoipa::path(
    tag = "activities",
    operation_id = "list_activities_api_v1_users__user_id__activities_get",
    params(("user_id" = String, Path), ActivitiesQuery),
    responses(
        (status = 200, description = "A page of activities", body = Vec<ActivityResponse>),
        (status = 403, description = "No data:read on this user", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/users/{user_id}/activities")]
pub async fn list_activities(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .db
        .act_as(&caller, Page::of(&req), On::user(&path, Action::ActivityList), |c, access, page: Page<ActivityId>| {
            activities::list(c, access.subject.id, page.limit, page.before)?
                .ok_or_else(|| page.unknown_before("activity of this user"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.iter().map(ActivityResponse::from).collect::<Vec<_>>()))
}

/// Record an activity
#[utoipa::path(
    tag = "activities",
    operation_id = "create_activity_api_v1_users__user_id__activities_post",
    params(("user_id" = String, Path)),
    request_body = ActivityCreate,
    responses(
        (status = 201, description = "The activity", body = ActivityResponse),
        (status = 403, description = "No data:write on this user", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/users/{user_id}/activities")]
pub async fn create_activity(
    caller: Caller,
    path: web::Path<String>,
    body: Json<ActivityCreate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let activity = state
        .db
        .write_as(
            &caller,
            body.into_inner(),
            On::user(&path, Action::ActivityCreate),
            |c, access, new: ActivityCreate| {
                let new = NewActivity {
                    name: new.name,
                    sport: new.sport,
                    started_at: new.started_at,
                    duration_seconds: new.duration_seconds,
                    distance_meters: new.distance_meters,
                };
                Ok(activities::create(c, access.subject.id, &new, access.now)?)
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/users/{}/activities/{}", activity.user_id, activity.id)))
        .json(ActivityResponse::from(&activity)))
}

/// Read an activity
#[utoipa::path(
    tag = "activities",
    operation_id = "get_activity_api_v1_users__user_id__activities__activity_id__get",
    params(("user_id" = String, Path), ("activity_id" = String, Path)),
    responses(
        (status = 200, description = "The activity", body = ActivityResponse),
        (status = 403, description = "No data:read on this user", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User or activity not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/users/{user_id}/activities/{activity_id}")]
pub async fn get_activity(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let activity = state
        .db
        .act_as(&caller, Ok(()), On::user(&path.0, Action::ActivityRead), move |c, access, ()| {
            activities::find(c, access.subject.id, activity_id(&path.1)?)?.ok_or(ApiError::NotFound(Resource::Activity))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ActivityResponse::from(&activity)))
}

/// Delete an activity
///
/// Deletes the activity and its trace.
#[utoipa::path(
    tag = "activities",
    operation_id = "delete_activity_api_v1_users__user_id__activities__activity_id__delete",
    params(("user_id" = String, Path), ("activity_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "No data:write on this user", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User or activity not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/users/{user_id}/activities/{activity_id}")]
pub async fn delete_activity(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state
        .db
        .write_as(&caller, Ok(()), On::user(&path.0, Action::ActivityDelete), move |c, access, ()| {
            let found = activities::delete(c, access.subject.id, activity_id(&path.1)?)?;
            found.then_some(()).ok_or(ApiError::NotFound(Resource::Activity))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Upload a trace
///
/// Replaces the activity's whole trace: up to 100,000 points in
/// non-decreasing time order.
#[utoipa::path(
    tag = "activities",
    operation_id = "put_trace_api_v1_users__user_id__activities__activity_id__trace_put",
    params(("user_id" = String, Path), ("activity_id" = String, Path)),
    request_body(content = Vec<TracePointDto>, description = "Up to 100,000 points, in time order"),
    responses(
        (status = 204, description = "Stored"),
        (status = 403, description = "No data:write on this user", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User or activity not found", body = crate::dto::HttpErrorDoc),
        (status = 413, description = "Body over the trace limit", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[put("/users/{user_id}/activities/{activity_id}/trace")]
pub async fn put_trace(
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Json<Trace>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state
        .db
        .write_as(&caller, body.into_inner(), On::user(&path.0, Action::TraceWrite), move |c, access, Trace(points)| {
            let found = activities::put_trace(c, access.subject.id, activity_id(&path.1)?, &points)?;
            found.then_some(()).ok_or(ApiError::NotFound(Resource::Activity))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Read a trace
///
/// The activity's points in time order; `[]` when none was uploaded.
#[utoipa::path(
    tag = "activities",
    operation_id = "get_trace_api_v1_users__user_id__activities__activity_id__trace_get",
    params(("user_id" = String, Path), ("activity_id" = String, Path)),
    responses(
        (status = 200, description = "The trace", body = Vec<TracePointDto>),
        (status = 403, description = "No data:read on this user", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User or activity not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/users/{user_id}/activities/{activity_id}/trace")]
pub async fn get_trace(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let points = state
        .db
        .act_as(&caller, Ok(()), On::user(&path.0, Action::TraceRead), move |c, access, ()| {
            activities::get_trace(c, access.subject.id, activity_id(&path.1)?)?
                .ok_or(ApiError::NotFound(Resource::Activity))
        })
        .await?;
    let body =
        crate::state::blocking(move || serde_json::to_vec(&points.iter().map(TracePointDto::from).collect::<Vec<_>>()))
            .await?
            .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
}
