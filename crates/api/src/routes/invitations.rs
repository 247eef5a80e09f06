//! C1: invitations to co-manage, as their invitees and the managers of
//! their users see them.

use actix_web::{delete, get, post};
use actix_web::{web, HttpResponse};
use domain::access::InvitationRole;
use domain::EventType;
use persistence::invitations;

use crate::act::On;
use crate::dto::{Invitation, InvitationsList, Manager, UserResponse};
use crate::error::Resource;
use crate::events::{emit, event};
use crate::{ApiError, AppState, Caller};
use domain::access_log::Action;

/// List invitations
///
/// Live invitations addressed to the caller (`received`), and live
/// invitations on the users the caller manages, whoever of their managers
/// sent them (`sent`), oldest first.
#[utoipa::path(
    tag = "managers", operation_id = "list_invitations_api_v1_invitations__get",
    responses(
        (status = 200, description = "Received and sent invitations", body = InvitationsList),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/invitations/")]
pub async fn list_invitations(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let list = state
        .db
        .act_as(&caller, Ok(()), On::Caller, |c, access, ()| {
            let me = access.caller.id;
            let received = invitations::received_by(c, me, access.now)?;
            let sent = invitations::sent_on(c, me, access.now)?;
            Ok(InvitationsList {
                received: received.into_iter().map(Invitation::from).collect(),
                sent: sent.into_iter().map(Invitation::from).collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Accept an invitation
///
/// Its invitee becomes a manager of its user; the answer is that user.
/// Anyone else, and an expired, withdrawn, declined or used invitation:
/// 404.
#[utoipa::path(
    tag = "managers", operation_id = "accept_invitation_api_v1_invitations__invitation_id__accept_post",
    params(("invitation_id" = String, Path)),
    responses(
        (status = 200, description = "The user the caller now manages", body = UserResponse),
        (status = 404, description = "Invitation not found", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "The caller already manages the user", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/invitations/{invitation_id}/accept")]
pub async fn accept_invitation(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .db
        .write_as(&caller, Ok(()), On::invitation(&path, Some(Action::ManagerJoin)), |c, access, ()| {
            let Some((invitation, InvitationRole::Invitee)) = &access.invitation else {
                // A manager may withdraw it, not accept it for someone else.
                return Err(ApiError::NotFound(Resource::Invitation));
            };
            invitations::accept(c, invitation.id, access.caller.id, access.now)?;
            let joined = Manager::new(&access.caller, access.now);
            emit(c, access, [event(EventType::ManagerJoined, access.subject.id, Some(access.caller.id), &joined)])?;
            Ok(access.subject.clone())
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// Decline or withdraw an invitation
///
/// By its invitee (declining it) or any manager of its user (withdrawing
/// it).
#[utoipa::path(
    tag = "managers", operation_id = "delete_invitation_api_v1_invitations__invitation_id__delete",
    params(("invitation_id" = String, Path)),
    responses(
        (status = 204, description = "Declined or withdrawn"),
        (status = 404, description = "Invitation not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/invitations/{invitation_id}")]
pub async fn delete_invitation(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state
        .db
        .write_as(&caller, Ok(()), On::invitation(&path, None), |c, access, ()| {
            let (invitation, _role) = access.invitation.as_ref().expect("On::Invitation decides an invitation");
            Ok(invitations::delete(c, invitation.id)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
