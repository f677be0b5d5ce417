//! Getting a photo out of a request: `multipart/form-data` (the first file field, or a field
//! named `photo`, `image`, `file` or `face`) or JSON `{"image": "<base64 or data: URL>"}`;
//! with it, the enrolment form's `consent` (a multipart text field or a JSON boolean).

use axum::{
    body::Bytes,
    extract::{FromRequest, Multipart, Request},
    http::{header, StatusCode},
};
use base64::{
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD},
    Engine,
};
use serde::Deserialize;

use platform::{http::error::ApiError, i18n::Msg, state::AppState};

/// The largest photo accepted, decoded.
pub const MAX_PHOTO_BYTES: usize = 6 * 1024 * 1024;
/// The largest request body carrying a photo (base64 is 4/3 of the bytes).
pub const MAX_PHOTO_BODY: usize = MAX_PHOTO_BYTES * 4 / 3 + 64 * 1024;

const FIELDS: [&str; 4] = ["photo", "image", "file", "face"];

#[derive(Deserialize)]
struct ImageBody {
    #[serde(default, alias = "photo")]
    image: Option<String>,
    #[serde(default)]
    consent: Option<serde_json::Value>,
}

/// A photo and what was said with it.
#[derive(Debug)]
pub struct Upload {
    pub photo: Vec<u8>,
    /// `consent` was sent and is `true` (JSON `true`, or `"true"`, `"1"`, `"on"`, `"yes"`:
    /// what an HTML checkbox and a form library send).
    pub consent: bool,
}

fn affirmative(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "on" | "yes"
    )
}

fn too_large() -> ApiError {
    ApiError::Client {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        msg: Msg::owned(
            format!(
                "Foto terlalu besar (maksimal {} MB)",
                MAX_PHOTO_BYTES / (1024 * 1024)
            ),
            format!(
                "The photo is too large (at most {} MB)",
                MAX_PHOTO_BYTES / (1024 * 1024)
            ),
        ),
    }
}

fn unreadable(rejection_status: StatusCode) -> ApiError {
    if rejection_status == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::bad_request(Msg::new(
            "Body permintaan tidak terbaca",
            "Unreadable request body",
        ))
    }
}

/// Decodes base64 (plain or a `data:image/...;base64,` URL).
pub fn decode_base64_image(raw: &str) -> Result<Vec<u8>, ApiError> {
    let raw = raw.trim();
    let data = match raw.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map(|(_, d)| d).unwrap_or_default(),
        None => raw,
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > MAX_PHOTO_BYTES * 4 / 3 + 4 {
        return Err(too_large());
    }
    STANDARD
        .decode(&compact)
        .or_else(|_| STANDARD_NO_PAD.decode(&compact))
        .map_err(|_| {
            ApiError::bad_request(Msg::new(
                "Gambar base64 tidak valid",
                "The base64 image is not valid",
            ))
        })
}

/// The photo bytes of `request`; `missing` is the answer when it carries none.
pub async fn photo_from_request(
    request: Request,
    state: &AppState,
    missing: Msg,
) -> Result<Vec<u8>, ApiError> {
    Ok(upload_from_request(request, state, missing).await?.photo)
}

/// The photo of a request and its `consent` field.
pub async fn upload_from_request(
    request: Request,
    state: &AppState,
    missing: Msg,
) -> Result<Upload, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut consent = false;
    let bytes = if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|r| unreadable(r.status()))?;
        let mut found = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|r| unreadable(r.status()))?
        {
            if field.name() == Some("consent") && field.file_name().is_none() {
                let value = field.text().await.map_err(|r| unreadable(r.status()))?;
                consent = affirmative(&value);
                continue;
            }
            let wanted =
                field.file_name().is_some() || field.name().is_some_and(|n| FIELDS.contains(&n));
            if !wanted || found.is_some() {
                continue;
            }
            let data = field.bytes().await.map_err(|r| unreadable(r.status()))?;
            found = Some(data.to_vec());
        }
        found
    } else if content_type.starts_with("application/json") {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|r| unreadable(r.status()))?;
        let parsed: ImageBody = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(Msg::owned(
                format!("Body permintaan bukan JSON yang valid: {e}"),
                format!("The request body is not valid JSON: {e}"),
            ))
        })?;
        consent = match &parsed.consent {
            Some(serde_json::Value::Bool(given)) => *given,
            Some(serde_json::Value::String(given)) => affirmative(given),
            _ => false,
        };
        match parsed.image.as_deref().map(str::trim) {
            Some(image) if !image.is_empty() => Some(decode_base64_image(image)?),
            _ => None,
        }
    } else {
        return Err(ApiError::Client {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            msg: Msg::new(
                "Content-Type harus multipart/form-data atau application/json",
                "Content-Type must be multipart/form-data or application/json",
            ),
        });
    };
    let bytes = bytes
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::bad_request(missing))?;
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(too_large());
    }
    Ok(Upload {
        photo: bytes,
        consent,
    })
}
