//! Supporting documents of achievements (bukti dukung): `POST
//! /performance/achievements/{id}/documents` (multipart, field `file`) stores the file through
//! `object_store` (a local directory, `[sakip] documents_dir`, by default `{data_dir}/sakip`)
//! and lists it in the achievement's `supporting_documents`; `GET …/documents/{doc}` answers
//! it. The type is judged by the content, never by the name or the client's content type: PDF,
//! PNG, JPEG, Office documents (OOXML and the older OLE2 format); the size is capped
//! (`max_document_bytes`, 10 MiB).

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{multipart::MultipartRejection, Multipart, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use object_store::{path::Path as ObjectPath, ObjectStore, PutPayload};
use platform::{error::ServiceError, i18n::Msg, security::ClientIp, state::AppState};
use sea_orm::{ActiveModelTrait, EntityTrait, QuerySelect, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    auth::Caller,
    cache::PerformanceCache,
    entities::{achievement, indicator},
    error::{ok, Answer, Path, SakipError},
    performance::achievement_json,
    planning::rfc3339,
};

/// Where documents live, and how large one may be.
pub struct DocumentStore {
    store: Arc<dyn ObjectStore>,
    pub max_bytes: usize,
}

impl std::fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentStore")
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl DocumentStore {
    /// Documents in `store` (`platform::files`), each at most `max_bytes`.
    pub fn new(store: Arc<dyn ObjectStore>, max_bytes: usize) -> Self {
        Self { store, max_bytes }
    }
}

/// The content type `bytes` really are, if it is one we accept.
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if bytes.starts_with(b"%PDF-") {
        return Some(("application/pdf", "pdf"));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(("image/png", "png"));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(("image/jpeg", "jpg"));
    }
    if bytes.starts_with(OLE2) {
        return Some(("application/x-ole-storage", "doc"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // An OOXML package names its parts near the start; any other zip is refused.
        let head = &bytes[..bytes.len().min(4096)];
        let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        if has(b"word/") {
            return Some((
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx",
            ));
        }
        if has(b"xl/") {
            return Some((
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ));
        }
        if has(b"ppt/") {
            return Some((
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "pptx",
            ));
        }
    }
    None
}

fn bad_type() -> SakipError {
    SakipError::status(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Msg::new(
            "Jenis berkas tidak didukung (PDF, dokumen Office, PNG atau JPEG)",
            "Unsupported file type (PDF, Office documents, PNG or JPEG)",
        ),
    )
}

fn too_large(max: usize) -> SakipError {
    SakipError::status(
        StatusCode::PAYLOAD_TOO_LARGE,
        Msg::owned(
            format!("Berkas paling besar {} MiB", max / (1024 * 1024)),
            format!("Files may be at most {} MiB", max / (1024 * 1024)),
        ),
    )
}

fn no_file() -> SakipError {
    SakipError::bad(Msg::new(
        "Kirim berkas pada field multipart `file`",
        "Send the file in the multipart field `file`",
    ))
}

fn no_achievement() -> SakipError {
    SakipError::not_found("Capaian tidak ditemukan", "Achievement not found")
}

async fn achievement_and_opd(
    state: &AppState,
    id: i32,
) -> Result<(achievement::Model, i32), SakipError> {
    let found = achievement::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(no_achievement)?;
    let opd = indicator::Entity::find_by_id(found.indicator_id)
        .one(&state.db)
        .await?
        .map(|i| i.opd_id)
        .ok_or_else(|| SakipError::not_found("Indikator tidak ditemukan", "Indicator not found"))?;
    Ok((found, opd))
}

fn documents_of(row: &achievement::Model) -> Vec<Value> {
    row.supporting_documents
        .as_deref()
        .and_then(|d| serde_json::from_str::<Vec<Value>>(d).ok())
        .unwrap_or_default()
}

/// A file name fit to show and to send back: its last path part, printable, at most 200
/// characters.
fn clean_name(raw: Option<&str>, ext: &str) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let name: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if name.trim().is_empty() {
        format!("dokumen.{ext}")
    } else {
        name
    }
}

/// `POST /performance/achievements/{id}/documents` (multipart `file`): answers the achievement
/// with the document added to `supporting_documents`.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    form: Result<Multipart, MultipartRejection>,
) -> Answer {
    let (_, opd) = achievement_and_opd(&state, id).await?;
    caller.write(opd)?;
    let mut form = form.map_err(|_| no_file())?;
    let docs = state.domain::<DocumentStore>();
    let mut file: Option<(Option<String>, Bytes)> = None;
    while let Some(mut field) = form.next_field().await.map_err(|_| no_file())? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(docs.max_bytes)
            } else {
                no_file()
            }
        })? {
            if body.len() + chunk.len() > docs.max_bytes {
                return Err(too_large(docs.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        file = Some((name, Bytes::from(body)));
        break;
    }
    let (name, body) = file.ok_or_else(no_file)?;
    if body.is_empty() {
        return Err(no_file());
    }
    let (content_type, ext) = sniff(&body).ok_or_else(bad_type)?;
    let doc = Uuid::now_v7();
    let key = ObjectPath::from_iter(["achievements", &id.to_string(), &doc.to_string()]);
    let size = body.len();
    docs.store
        .put(&key, PutPayload::from_bytes(body))
        .await
        .map_err(|e| ServiceError::internal("storing a supporting document", e))?;
    let now = state.clock.now();
    let entry = json!({
        "id": doc,
        "name": clean_name(name.as_deref(), ext),
        "content_type": content_type,
        "size": size,
        "uploaded_by": caller.id,
        "uploaded_at": rfc3339(now),
        "url": format!("/sakip/api/v1/performance/achievements/{id}/documents/{doc}"),
    });
    // One write transaction (SQLite: the write lock first; PostgreSQL: the row locked), so
    // concurrent uploads each append to the list the other left. New evidence is a change:
    // it clears the verification and bumps `updated_at` (which a pending verify checks).
    let txn = platform::db::begin_write(&state.db).await?;
    let current = achievement::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(no_achievement)?;
    let mut list = documents_of(&current);
    list.push(entry);
    let year = current.year;
    let mut row: achievement::ActiveModel = current.into();
    row.supporting_documents = Set(Some(Value::Array(list).to_string()));
    row.verified_by = Set(None);
    row.verified_at = Set(None);
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    txn.commit().await?;
    state
        .domain::<PerformanceCache>()
        .invalidate_achievements(opd, year)
        .await;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_document_upload",
        format!("achievement:{id}/{doc}"),
    )
    .await;
    ok(achievement_json(&saved))
}

/// `GET /performance/achievements/{id}/documents/{doc}`: the file, as an attachment.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, doc)): Path<(i32, Uuid)>,
) -> Result<Response, SakipError> {
    let (found, opd) = achievement_and_opd(&state, id).await?;
    caller.read(opd)?;
    let missing = || SakipError::not_found("Dokumen tidak ditemukan", "Document not found");
    let listed = documents_of(&found)
        .into_iter()
        .find(|d| d["id"] == json!(doc))
        .ok_or_else(missing)?;
    let key = ObjectPath::from_iter(["achievements", &id.to_string(), &doc.to_string()]);
    let bytes = match state.domain::<DocumentStore>().store.get(&key).await {
        Ok(got) => got
            .bytes()
            .await
            .map_err(|e| ServiceError::internal("reading a supporting document", e))?,
        Err(object_store::Error::NotFound { .. }) => return Err(missing()),
        Err(e) => return Err(ServiceError::internal("reading a supporting document", e).into()),
    };
    let content_type = listed["content_type"]
        .as_str()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let name = listed["name"].as_str().unwrap_or("dokumen");
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}
