//! C1: a managed user's managers. Any manager may list them, invite an
//! account to become one, or leave; the last one cannot leave.

use actix_web::http::header::LOCATION;
use actix_web::{delete, get, post};
use actix_web::{web, HttpResponse};
use domain::{access, EventType, UserId};
use persistence::{invitations, managers, users};

use crate::act::{Need, On};
use crate::dto::{Invitation, Manager, ManagerInvite};
use crate::error::{Loc, Resource};
use crate::events::{emit, event};
use crate::extract::Json;
use crate::{ApiError, AppState, Caller};
use domain::access_log::Action;

/// List managers
///
/// The managers of a user the caller manages, oldest first.
#[utoipa::path(
    tag = "managers", operation_id = "list_managers_api_v1_users__user_id__managers_get",
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "The user's managers", body = Vec<Manager>),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/users/{user_id}/managers")]
pub async fn list_managers(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let on = On::listing(&path, Need::Manage);
    let list = state
        .db
        .act_as(&caller, Ok(()), on, |c, access, ()| {
            let list = managers::of_user(c, access.subject.id)?;
            Ok(list.iter().map(|(user, since)| Manager::new(user, *since)).collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Invite a manager
///
/// Invites the account with `email` to co-manage a user the caller
/// manages; the invitation lasts 7 days.
///
/// Where the contract is silent: the caller's own e-mail (a 422 at
/// `["body", "email"]`) is judged after access, as a share's "yourself"
/// is, so someone who does not manage the user gets its 404 whatever the
/// body names; and `Location` names the invitation's own path
/// (`/api/v1/invitations/{id}`, which its invitee accepts or declines).
#[utoipa::path(
    tag = "managers", operation_id = "invite_manager_api_v1_users__user_id__managers_post",
    params(("user_id" = String, Path)),
    request_body = ManagerInvite,
    responses(
        (status = 201, description = "The invitation", body = Invitation,
            headers(("Location" = String, description = "The invitation's URL"))),
        (status = 404, description = "No such user of the caller's, or no account with that e-mail", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "That account already manages the user or holds a live invitation for it", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/users/{user_id}/managers")]
pub async fn invite_manager(
    caller: Caller,
    path: web::Path<String>,
    body: Json<ManagerInvite>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let on = On::user(&path, Action::ManagerInvite);
    let body = state
        .db
        .write_as(&caller, body.into_inner(), on, |c, access, invite: ManagerInvite| {
            let invitee = users::find_account_by_email(c, invite.email.normalized())?
                .map(|(u, _)| u)
                .ok_or(ApiError::NotFound(Resource::Account))?;
            if invitee.id == access.caller.id {
                return Err(ApiError::validation(
                    vec![Loc::from("body"), Loc::from("email")],
                    "value_error",
                    "Value error, you already manage this user",
                ));
            }
            let user = access.subject.id;
            // Under the user's lock, so an accept committing meanwhile
            // cannot leave a live invitation for one of its managers.
            managers::lock_users(c, &[user])?;
            if managers::is_manager(c, user, invitee.id)? {
                return Err(ApiError::Conflict("manager"));
            }
            let invitation = invitations::create(c, user, invitee.id, access.caller.id, access.now)?;
            let body = Invitation::new(
                &invitation,
                access.subject.display_name(),
                invitee.display_name(),
                access.caller.display_name(),
            );
            emit(c, access, [event(EventType::ManagerInvited, user, Some(access.caller.id), &body)])?;
            Ok(body)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((LOCATION, format!("/api/v1/invitations/{}", body.id))).json(body))
}

/// Leave
///
/// The caller stops managing a user (`manager_id` is the caller). Removing
/// another manager is refused (403); the last manager cannot leave (409):
/// delete the user instead, or let it take over.
#[utoipa::path(
    tag = "managers", operation_id = "leave_managers_api_v1_users__user_id__managers__manager_id__delete",
    params(("user_id" = String, Path), ("manager_id" = String, Path)),
    responses(
        (status = 204, description = "The caller no longer manages the user"),
        (status = 403, description = "A manager may leave, not remove another", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User not found, or Manager not found", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "The last manager cannot leave", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/users/{user_id}/managers/{manager_id}")]
pub async fn leave_managers(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (user, manager) = path.into_inner();
    let on = On::user(&user, Action::ManagerLeave);
    let manager: Option<UserId> = manager.parse().ok();
    state
        .db
        .write_as(&caller, Ok(manager), on, |c, access, manager| {
            let (user, me) = (access.subject.id, access.caller.id);
            let manager = manager.ok_or(ApiError::NotFound(Resource::Manager))?;
            if manager != me {
                return Err(match managers::is_manager(c, user, manager)? {
                    true => ApiError::Forbidden("A manager may leave, not remove another manager"),
                    false => ApiError::NotFound(Resource::Manager),
                });
            }
            // Counted under the user's lock: of two last managers leaving
            // at once, the second counts after the first has gone.
            managers::lock_users(c, &[user])?;
            let all = managers::of_user(c, user)?;
            let Some((_, since)) = all.iter().find(|(m, _)| m.id == me) else {
                return Err(ApiError::Vanished);
            };
            access::may_leave(all.len() - 1).map_err(|_| {
                ApiError::Conflict("The last manager cannot leave: delete the user, or let it take over")
            })?;
            managers::remove(c, user, me)?;
            let gone = Manager::new(&access.caller, *since);
            emit(c, access, [event(EventType::ManagerLeft, user, Some(me), &gone)])
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
