//! A ceiling on request heads. actix refuses more than 96 headers or a
//! head over its 128 KiB buffer; below that, one huge header would still
//! be read, matched and carried through every layer. Steward's own limit
//! is much lower: no legitimate client sends 16 KiB of headers (a token
//! is at most 4 KiB).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;

pub const MAX_HEADER_BYTES: usize = 16 * 1024;

pub async fn limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let size: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if size > MAX_HEADER_BYTES {
        let res = crate::ApiError::HeadersTooLarge(MAX_HEADER_BYTES).error_response();
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
