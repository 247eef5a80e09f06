//! C3: a user's access log, read by the user or any of its managers.

use actix_web::get;
use actix_web::{web, HttpRequest, HttpResponse};
use domain::AccessEntryId;
use persistence::access_log;

use crate::act::{Need, On};
use crate::dto::AccessEntry;
use crate::extract::Page;
use crate::{ApiError, AppState, Caller};

/// The log's query: `limit` (1 to 100, default 50) and `before` (the id
/// of the last entry of the previous page).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    #[param(default = 50, minimum = 1, maximum = 100, required = false)]
    pub limit: i64,
    #[param(value_type = Option<String>, format = Uuid)]
    pub before: Option<AccessEntryId>,
}

/// Read a user's access log
///
/// Who read or changed this user's data, newest first, a page at a time:
/// every request by someone other than the user. By the user itself or
/// any of its managers; reading the log leaves no entry.
#[utoipa::path(
    tag = "users",
    operation_id = "read_access_log_api_v1_users__user_id__access_log_get",
    params(("user_id" = String, Path), AccessLogQuery),
    responses(
        (status = 200, description = "A page of the log", body = Vec<AccessEntry>),
        (status = 403, description = "A grantee: the log is the user's and its managers'", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/users/{user_id}/access-log")]
pub async fn read_access_log(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let entries = state
        .db
        .act_as(&caller, Page::of(&req), On::listing(&path, Need::Log), |c, access, page: Page<AccessEntryId>| {
            access_log::page(c, access.subject.id, page.limit, page.before)?
                .ok_or_else(|| page.unknown_before("entry of this user's access log"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(entries.iter().map(AccessEntry::from).collect::<Vec<_>>()))
}
