//! C4: the feed of events, for admins.

use actix_web::get;
use actix_web::{web, HttpRequest, HttpResponse};
use persistence::events;

use crate::act::On;
use crate::extract::Query;
use crate::validation::Fault;
use crate::{ApiError, AppState, Caller};

/// The feed's query: `after` (a position, exclusive; from the start when
/// absent) and `limit` (1 to 1000, default 100).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    #[param(minimum = 0, required = false)]
    pub after: Option<i64>,
    #[param(default = 100, minimum = 1, maximum = 1000, required = false)]
    pub limit: i64,
}

fn integer(raw: &str, min: i64, max: i64) -> Result<i64, Fault> {
    match raw.trim().parse::<i64>() {
        Err(_) => {
            Err(Fault::new("int_parsing", "Input should be a valid integer, unable to parse string as an integer"))
        }
        Ok(n) if n < min => {
            Err(Fault::new("greater_than_equal", format!("Input should be greater than or equal to {min}")))
        }
        Ok(n) if n > max => Err(Fault::new("less_than_equal", format!("Input should be less than or equal to {max}"))),
        Ok(n) => Ok(n),
    }
}

fn events_query(req: &HttpRequest) -> Result<EventsQuery, ApiError> {
    let query = Query::of(req);
    let mut errors = Vec::new();
    let after = query.parse("after", None, &mut errors, |raw| integer(raw, 0, i64::MAX).map(Some));
    let limit = query.parse("limit", 100, &mut errors, |raw| integer(raw, 1, 1000));
    if errors.is_empty() {
        Ok(EventsQuery { after, limit })
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// List events
///
/// Every change, in position order, after `after`. An event appears only
/// once no event with a lower position can still appear, so a reader that
/// pages with `after` (the last position it read) never misses one.
/// Admins only.
#[utoipa::path(
    tag = "events", operation_id = "list_events_api_v1_events_get",
    params(EventsQuery),
    responses(
        (status = 200, description = "Events in position order", body = Vec<crate::dto::Event>),
        (status = 403, description = "Not an admin", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/events")]
pub async fn list_events(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .db
        .act_as(&caller, events_query(&req), On::Caller, |c, access, query| {
            if !access.caller.admin {
                return Err(ApiError::Forbidden("Only an admin may read the events"));
            }
            // Number what has finished, then read: what is read is a
            // prefix of the feed, which later reads only extend.
            events::sequence(c)?;
            let page = events::after(c, query.after.unwrap_or(0), query.limit)?;
            Ok(page.into_iter().map(crate::dto::Event::new).collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
