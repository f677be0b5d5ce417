//! Avatars (seed 004: `POST /profile/avatar`, multipart field `avatar`). The upload is judged
//! by its content, never its name or type header: JPEG, PNG or WebP of at most 5 MB, whose
//! declared size stays inside a pixel budget before a single pixel is decoded (a tiny file
//! declaring a huge image is refused), decoded under `image` limits, turned upright, shrunk
//! to at most 512 px and encoded afresh (so EXIF, GPS and any other metadata are gone).
//! The result goes to the object store (`avatars/<user>/<uuid>.jpg|png`) and the previous
//! avatar is removed. The profile's `avatar_url` is `/uploads/avatars/<user>/<file>`, as
//! the seed's server answers it: relative to the app's base URL, so an app pointed at
//! `…/chatme` fetches `…/chatme/uploads/avatars/<user>/<file>`, which [`serve`] answers.

use std::io::Cursor;

use axum::{
    body::Body,
    extract::{multipart::MultipartRejection, Multipart, State},
    http::{header, StatusCode},
    response::Response,
    Json,
};
use image::{
    codecs::jpeg::JpegEncoder, imageops::FilterType, DynamicImage, ImageDecoder, ImageFormat,
    ImageReader, Limits,
};
use object_store::{path::Path as ObjectPath, ObjectStore};
use platform::{
    http::{error::ApiError, extract::PathParams},
    i18n::Msg,
    identity::AuthUser,
    sql::stmt,
    state::AppState,
};
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{accounts, error::LiveError, LiveRuntime};

/// The largest upload.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// The request body limit of the upload route: the file plus the multipart framing.
pub const MAX_BODY: usize = MAX_BYTES + 64 * 1024;

/// The longest side of a stored avatar.
pub const MAX_SIDE: u32 = 512;

/// The most pixels an upload may declare (about a 40-megapixel photo).
pub const PIXEL_BUDGET: u64 = 40_000_000;

/// The decoder's own limits, a second line behind the pixel budget.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 * 1024 * 1024);
    limits
}

/// What went wrong with an upload.
#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the image is larger than the pixel budget")]
    TooManyPixels,
    #[error("the file is larger than 5 MB")]
    TooLarge,
    #[error("the image cannot be read")]
    Corrupt,
    #[error("encoding: {0}")]
    Encode(String),
}

impl From<AvatarError> for ApiError {
    fn from(err: AvatarError) -> Self {
        let (status, msg) = match err {
            AvatarError::NotAnImage => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Msg::new(
                    "File harus gambar JPEG, PNG atau WebP",
                    "The file must be a JPEG, PNG or WebP image",
                ),
            ),
            AvatarError::TooManyPixels => (
                StatusCode::BAD_REQUEST,
                Msg::new(
                    "Resolusi gambar terlalu besar",
                    "The image resolution is too large",
                ),
            ),
            AvatarError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Msg::new("Ukuran file maksimal 5 MB", "The file may be at most 5 MB"),
            ),
            AvatarError::Corrupt => (
                StatusCode::BAD_REQUEST,
                Msg::new(
                    "Gambar rusak atau tidak bisa dibaca",
                    "The image is damaged or cannot be read",
                ),
            ),
            AvatarError::Encode(cause) => {
                tracing::error!(%cause, "Encoding an avatar failed.");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Msg::new("Terjadi kesalahan server", "Internal server error"),
                )
            }
        };
        ApiError::Client { status, msg }
    }
}

/// A processed avatar: the new bytes and their extension (`jpg` or `png`).
#[derive(Debug)]
pub struct Processed {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
}

/// Checks, decodes, turns upright, shrinks and re-encodes `upload` (CPU work: call it off
/// the async threads).
pub fn process(upload: &[u8]) -> Result<Processed, AvatarError> {
    if upload.len() > MAX_BYTES {
        return Err(AvatarError::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|_| AvatarError::NotAnImage)?;
    if !matches!(
        reader.format(),
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)
    ) {
        return Err(AvatarError::NotAnImage);
    }
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => AvatarError::TooManyPixels,
        _ => AvatarError::Corrupt,
    })?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(AvatarError::Corrupt);
    }
    if u64::from(width) * u64::from(height) > PIXEL_BUDGET {
        return Err(AvatarError::TooManyPixels);
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => AvatarError::TooManyPixels,
        _ => AvatarError::Corrupt,
    })?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    if image.width() > MAX_SIDE || image.height() > MAX_SIDE {
        image = image.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
    }
    let mut bytes = Vec::new();
    let extension = if image.color().has_alpha() {
        image
            .to_rgba8()
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .map_err(|e| AvatarError::Encode(e.to_string()))?;
        "png"
    } else {
        JpegEncoder::new_with_quality(&mut bytes, 85)
            .encode_image(&image.to_rgb8())
            .map_err(|e| AvatarError::Encode(e.to_string()))?;
        "jpg"
    };
    Ok(Processed { bytes, extension })
}

/// The avatars' store as the domain's personal data reaches it: set once prepared.
pub type MediaCell = std::sync::Arc<std::sync::OnceLock<std::sync::Arc<dyn ObjectStore>>>;

/// Every avatar object of `user` (the current one and any an interrupted replacement left).
async fn objects_of(store: &dyn ObjectStore, user: Uuid) -> Result<Vec<ObjectPath>, DbErr> {
    use futures::TryStreamExt;
    let prefix = ObjectPath::from_iter(["avatars", user.to_string().as_str()]);
    store
        .list(Some(&prefix))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .map_err(|e| DbErr::Custom(format!("listing avatars: {e}")))
}

/// `user`'s avatar images for their data export, as `avatars/<file>`.
pub async fn files_of(
    store: &dyn ObjectStore,
    user: Uuid,
) -> Result<Vec<platform::domain::ExportFile>, DbErr> {
    let mut files = Vec::new();
    for key in objects_of(store, user).await? {
        let bytes = store
            .get(&key)
            .await
            .map_err(|e| DbErr::Custom(format!("reading an avatar: {e}")))?
            .bytes()
            .await
            .map_err(|e| DbErr::Custom(format!("reading an avatar: {e}")))?;
        let name = key.filename().unwrap_or("avatar").to_owned();
        files.push(platform::domain::ExportFile {
            name: format!("avatars/{name}"),
            bytes: bytes.to_vec(),
        });
    }
    Ok(files)
}

/// Deletes every avatar image of `user` (their erasure).
pub async fn remove_all(store: &dyn ObjectStore, user: Uuid) -> Result<(), DbErr> {
    for key in objects_of(store, user).await? {
        match store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(DbErr::Custom(format!("deleting an avatar: {e}"))),
        }
    }
    Ok(())
}

/// The prefix of an `avatar_url` (relative to the app's base URL `…/chatme`).
const URL_PREFIX: &str = "/uploads/";

/// The prefix URLs had before m0302 made them relative (the migration rewrites them; a
/// replica still running the old code may write one more).
const LEGACY_URL_PREFIX: &str = "/chatme/uploads/";

/// The object key behind an `avatar_url` this module made (anything else: `None`).
fn key_of(url: &str) -> Option<ObjectPath> {
    let rest = url
        .strip_prefix(URL_PREFIX)
        .or_else(|| url.strip_prefix(LEGACY_URL_PREFIX))?;
    let mut parts = rest.split('/');
    let (Some("avatars"), Some(user), Some(file), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    valid_name(user, file).then(|| ObjectPath::from_iter(["avatars", user, file]))
}

/// `user` is a UUID and `file` is `<uuid>.jpg|png`: the only names this module writes.
fn valid_name(user: &str, file: &str) -> bool {
    let Some((stem, ext)) = file.rsplit_once('.') else {
        return false;
    };
    user.parse::<Uuid>().is_ok() && stem.parse::<Uuid>().is_ok() && matches!(ext, "jpg" | "png")
}

fn upload_error(status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return AvatarError::TooLarge.into();
    }
    ApiError::bad_request(Msg::new(
        "Kirim gambar sebagai multipart/form-data dengan field avatar",
        "Send the image as multipart/form-data in the field avatar",
    ))
}

/// The file of the first `avatar` field (or the first field with a file name), at most
/// [`MAX_BYTES`].
async fn read_upload(mut multipart: Multipart) -> Result<Vec<u8>, ApiError> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| upload_error(e.status()))?
    {
        if field.name() != Some("avatar") && field.file_name().is_none() {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| upload_error(e.status()))? {
            if bytes.len() + chunk.len() > MAX_BYTES {
                return Err(AvatarError::TooLarge.into());
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(upload_error(StatusCode::BAD_REQUEST))
}

/// The form `POST /chatme/api/profile/avatar` takes (for the OpenAPI document only: the
/// handler reads the multipart stream itself, field by field).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct AvatarForm {
    /// A JPEG, PNG or WebP image, at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    avatar: Vec<u8>,
}

/// Replaces the caller's avatar.
#[utoipa::path(post, path = "/chatme/api/profile/avatar", tag = "live",
    request_body(content = AvatarForm, content_type = "multipart/form-data", description = "field `avatar`: a JPEG, PNG or WebP image, at most 5 MB"),
    responses((status = 200, description = "`{message, avatar_url, user}`"),
        (status = 400, description = "No file, a damaged image or one of too many pixels"),
        (status = 401), (status = 413, description = "Larger than 5 MB"),
        (status = 415, description = "Not a JPEG, PNG or WebP image")),
    security(("bearer" = [])))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, ApiError> {
    let multipart = multipart.map_err(|_| upload_error(StatusCode::BAD_REQUEST))?;
    let upload = read_upload(multipart).await?;
    let processed = tokio::task::spawn_blocking(move || process(&upload))
        .await
        .map_err(|e| AvatarError::Encode(e.to_string()))??;
    let user = claims.sub;
    let file = format!("{}.{}", Uuid::now_v7(), processed.extension);
    let key = ObjectPath::from_iter(["avatars", &user.to_string(), &file]);
    let url = format!("{URL_PREFIX}avatars/{user}/{file}");
    let store = &state.domain::<LiveRuntime>().media;
    store
        .put(&key, processed.bytes.into())
        .await
        .map_err(|e| AvatarError::Encode(e.to_string()))?;
    let now = state.clock.unix();
    let replaced = async {
        accounts::ensure_account(&state.db, user, now).await?;
        let txn = state.db.begin().await?;
        let old: Option<String> = txn
            .query_one(stmt(
                txn.get_database_backend(),
                "SELECT avatar_url FROM live_profiles WHERE user_id = ?",
                vec![user.into()],
            ))
            .await?
            .map(|r| r.try_get("", "avatar_url"))
            .transpose()?
            .flatten();
        txn.execute(stmt(
            txn.get_database_backend(),
            "UPDATE live_profiles SET avatar_url = ?, updated_at = ? WHERE user_id = ?",
            vec![url.as_str().into(), now.into(), user.into()],
        ))
        .await?;
        txn.commit().await?;
        Ok::<_, sea_orm::DbErr>(old)
    }
    .await;
    let old = match replaced {
        Ok(old) => old,
        Err(err) => {
            // The profile still names the old file: the new one goes.
            let _ = store.delete(&key).await;
            return Err(LiveError::from(err).into());
        }
    };
    if let Some(old_key) = old.as_deref().and_then(key_of) {
        if let Err(err) = store.delete(&old_key).await {
            tracing::warn!(%user, error = %err, "Removing the previous avatar failed.");
        }
    }
    Ok(Json(json!({
        "message": Msg::new("Avatar diperbarui", "Avatar updated").localized(),
        "avatar_url": url,
        "user": accounts::load(&state, user).await?,
    })))
}

/// Serves a stored avatar at `/chatme/uploads/avatars/<user>/<file>` (public, like the
/// seed's `uploads/avatars/`).
pub(crate) async fn serve(
    State(state): State<AppState>,
    PathParams((user, file)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::from(LiveError::NotFound(Msg::new(
            "Avatar tidak ditemukan",
            "Avatar not found",
        )))
    };
    if !valid_name(&user, &file) {
        return Err(not_found());
    }
    let key = ObjectPath::from_iter(["avatars", user.as_str(), file.as_str()]);
    let stored = state
        .domain::<LiveRuntime>()
        .media
        .get(&key)
        .await
        .map_err(|_| not_found())?;
    let bytes = stored.bytes().await.map_err(|_| not_found())?;
    let content_type = if file.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header("x-content-type-options", "nosniff")
        .body(Body::from(bytes))
        .map_err(|_| not_found())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_objects() {
        let (user, file) = (Uuid::now_v7(), format!("{}.jpg", Uuid::now_v7()));
        let key = ObjectPath::from_iter(["avatars", user.to_string().as_str(), file.as_str()]);
        assert_eq!(
            key_of(&format!("/uploads/avatars/{user}/{file}")),
            Some(key.clone())
        );
        assert_eq!(
            key_of(&format!("/chatme/uploads/avatars/{user}/{file}")),
            Some(key)
        );
        assert_eq!(key_of(&format!("/uploads/avatars/{user}/../{file}")), None);
        assert_eq!(key_of("https://elsewhere.example/a.jpg"), None);
    }
}
