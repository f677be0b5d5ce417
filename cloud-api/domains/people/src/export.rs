//! A person's own data export (UU PDP art. 7 and 32, GDPR art. 15 and 20):
//! `GET /api/users/{id}/export`, for the person or an access admin, answers a ZIP of
//! everything held about them — their profile (with the national id in full: it is theirs),
//! access windows, face consents, the *list* of their face templates (when made, by which
//! model; never the templates themselves), and every other domain's records of them
//! ([`platform::domain::PersonalData::export`]), one folder per domain.

use std::io::{Cursor, Write};

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use zip::{write::SimpleFileOptions, CompressionMethod, ZipWriter};

use platform::{
    audit,
    domain::ExportFile,
    error::{DbContext, ServiceError},
    http::{error::ApiError, extract::PathParams},
    identity::{self, parse_roles, AuthUser},
    security::ClientIp,
    state::AppState,
};

use crate::{
    consent::self_or_admin,
    entities::{face_consent, face_template, profile},
    routes::parse_id,
    service::user_not_found,
};

/// What the README of every export says.
const README: &str = "Ekspor data pribadi Gerbang / Gerbang personal data export\n\n\
people/profile.json       profil, termasuk NIK lengkap / profile, national id in full\n\
people/face-consents.json persetujuan wajah / face consents\n\
people/face-templates.json daftar templat wajah (bukan templatnya) / the list of face\n\
                          templates (never the biometric templates themselves)\n\
<domain>/...              catatan tiap domain / each domain's records of you\n";

/// The ZIP of everything held about person `{id}`.
#[utoipa::path(get, path = "/api/users/{id}/export", tag = "people",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses((status = 200, content_type = "application/zip", description = "A ZIP of JSON files (never a face template)"),
        (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn export(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    self_or_admin(&claims, id)?;
    let user = identity::find_by_id(&state.db, id)
        .await?
        .ok_or_else(user_not_found)?;
    let windows = profile::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .db("reading access windows")?
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p.windows).ok())
        .unwrap_or_else(|| json!([]));
    let consents = face_consent::Entity::find()
        .filter(face_consent::Column::UserId.eq(id))
        .order_by_asc(face_consent::Column::GrantedAt)
        .all(&state.db)
        .await
        .db("reading face consents")?;
    let templates: Vec<serde_json::Value> = face_template::Entity::find()
        .filter(face_template::Column::UserId.eq(id))
        .order_by_asc(face_template::Column::CreatedAt)
        .all(&state.db)
        .await
        .db("reading face templates")?
        .into_iter()
        .map(|t| json!({ "id": t.id, "created_at": t.created_at.to_string(), "embedder_sha256": t.embedder_sha256 }))
        .collect();
    let mut files = vec![
        ExportFile {
            name: "README.txt".into(),
            bytes: README.as_bytes().to_vec(),
        },
        ExportFile::json(
            "people/profile.json",
            &json!({
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "phone": user.phone,
                "nik": user.nik,
                "department": user.department,
                "roles": parse_roles(&user.roles),
                "enabled": !user.disabled,
                "created_at": user.created_at.to_string(),
                "access_windows": windows,
            }),
        ),
        ExportFile::json("people/face-consents.json", &consents),
        ExportFile::json("people/face-templates.json", &templates),
    ];
    for (domain, data) in &state.personal_data {
        let theirs = data
            .export(&state.db, id)
            .await
            .db("reading a domain's records of a person")?;
        files.extend(theirs.into_iter().map(|f| ExportFile {
            name: format!("{domain}/{}", f.name),
            bytes: f.bytes,
        }));
    }
    let zip = zip_files(&files)?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("user_export", ip)
            .by(claims.sub, claims.email.clone())
            .target(format!("user:{id}"))
            .detail(json!({ "files": files.len(), "bytes": zip.len() })),
    )
    .await;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"gerbang-data-{id}.zip\""),
            ),
        ],
        zip,
    )
        .into_response())
}

fn zip_files(files: &[ExportFile]) -> Result<Vec<u8>, ServiceError> {
    let failed = |e: zip::result::ZipError| ServiceError::internal("writing a data export", e);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for file in files {
        zip.start_file(file.name.as_str(), options)
            .map_err(failed)?;
        zip.write_all(&file.bytes)
            .map_err(|e| ServiceError::internal("writing a data export", e))?;
    }
    Ok(zip.finish().map_err(failed)?.into_inner())
}
