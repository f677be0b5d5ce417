//! JSON in and out: a body extractor whose rejections are localized `{"message"}` errors,
//! like every other error of the API (axum's own rejections answer in English plain text),
//! and an answer serialised ahead of time.

use axum::{
    body::Bytes,
    extract::{rejection::JsonRejection, FromRequest, Request},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::i18n::Msg;

/// A JSON answer already serialised (a read model keeps it in memory): sent as it is.
#[derive(Debug, Clone)]
pub struct SerializedJson(pub Bytes);

impl IntoResponse for SerializedJson {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

/// `Json<T>` with localized errors: 400 for malformed JSON or a wrong content type, 422 for
/// well-formed JSON of the wrong shape (a missing field, a wrong type), 413 when too large.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::payload_too_large();
    }
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(Msg::new(
            "Content-Type harus application/json",
            "Content-Type must be application/json",
        )),
        JsonRejection::JsonDataError(_) => ApiError::Client {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            msg: Msg::owned(
                format!("Isi JSON tidak sesuai: {detail}"),
                format!("The JSON does not have the expected shape: {detail}"),
            ),
        },
        _ => ApiError::bad_request(Msg::owned(
            format!("Body permintaan bukan JSON yang valid: {detail}"),
            format!("The request body is not valid JSON: {detail}"),
        )),
    }
}
