//! Stand-ins for the error bodies in the OpenAPI document: the bodies
//! themselves are written by `crate::error`.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The body of every error but 422.
#[derive(Serialize, ToSchema)]
#[schema(as = HTTPError)]
pub struct HttpErrorDoc {
    pub detail: String,
}

// `ValidationError` in the document.
#[derive(ToSchema)]
#[schema(as = ValidationError)]
#[allow(dead_code)]
pub struct ValidationErrorDoc {
    #[schema(schema_with = loc_schema)]
    loc: Vec<Value>,
    msg: String,
    r#type: String,
}

/// A `loc`: field names and list indexes.
fn loc_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            AnyOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .build()
}

// `HTTPValidationError` in the document.
#[derive(ToSchema)]
#[schema(as = HTTPValidationError)]
#[allow(dead_code)]
pub struct HttpValidationErrorDoc {
    #[schema(required = false)]
    detail: Vec<ValidationErrorDoc>,
}
