//! The device gallery: one version counter for the whole gallery (bumped in the same
//! transaction as every enrolment, removal or access change), the snapshot devices pull from
//! `GET protocol::sync::GALLERY_PATH` (`?since=` → 304), and a sealed `GalleryNotice`
//! published (QoS 1, retained) on every enrolled device's `gallery` channel after each change.

use crate::PeopleRuntime;
use std::collections::HashMap;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use platform::http::extract::QueryParams;
use protocol::{
    sync::{GalleryPerson, GallerySnapshot},
    Channel, DeviceId, GalleryNotice, SiteId, Topic,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use uuid::Uuid;

use super::{cipher::embedding_bytes, entities::face_template};
use platform::{
    db::entities::{device, user},
    devices::device_from_headers,
    error::{DbContext, ServiceError},
    http::error::ApiError,
    sql::stmt,
    state::{AppState, Platform},
};

/// The gallery's current version.
pub async fn current_version(db: &impl ConnectionTrait) -> Result<u64, ServiceError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one(stmt(
            backend,
            "SELECT version FROM gallery_state WHERE id = 1",
            vec![],
        ))
        .await
        .db("reading the gallery version")?;
    let version: i64 = match row {
        Some(row) => row
            .try_get("", "version")
            .db("reading the gallery version")?,
        None => 0,
    };
    Ok(version.max(0) as u64)
}

/// Bumps the version inside the caller's transaction; publish with [`notify`] after commit.
pub async fn bump(db: &impl ConnectionTrait) -> Result<u64, ServiceError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one(stmt(
            backend,
            "UPDATE gallery_state SET version = version + 1, updated_at = ? WHERE id = 1 RETURNING version",
            vec![time::OffsetDateTime::now_utc().into()],
        ))
        .await
        .db("bumping the gallery version")?;
    let version: i64 = row
        .ok_or_else(|| ServiceError::internal("bumping the gallery version", "no gallery row"))?
        .try_get("", "version")
        .db("bumping the gallery version")?;
    Ok(version.max(0) as u64)
}

/// Tells every enrolled device that gallery `version` is ready. Best effort: a device that
/// misses it gets the retained notice when it reconnects, or pulls on its own schedule.
pub async fn notify(platform: &Platform, version: u64) {
    let devices = match device::Entity::find()
        .filter(device::Column::TokenHash.is_not_null())
        .all(&platform.db)
        .await
    {
        Ok(devices) => devices,
        Err(err) => {
            tracing::error!(error = %err, "Listing devices for a gallery notice failed.");
            return;
        }
    };
    let notice = GalleryNotice {
        v: protocol::VERSION,
        version,
    };
    let frame = protocol::seal(&notice, &platform.cloud_key);
    for row in devices {
        let (Ok(site), Ok(id)) = (SiteId::parse(&row.site), DeviceId::parse(&row.id)) else {
            continue;
        };
        let topic = Topic::new(&site, &id, Channel::Gallery).to_string();
        if let Err(err) = platform.mqtt.publish(topic, true, frame.clone()).await {
            tracing::warn!(device = %id, error = %err, "Gallery notice not published.");
        }
    }
    tracing::info!(version, "Gallery notice published.");
}

/// Everything a device needs: every person with a template of the current embedder.
pub async fn snapshot(platform: &Platform) -> Result<GallerySnapshot, ServiceError> {
    let runtime = platform.domain::<PeopleRuntime>();
    let embedder = runtime.embedder_sha256.clone().ok_or_else(|| {
        ServiceError::internal(
            "building the gallery",
            "the models manifest is not readable",
        )
    })?;
    let version = current_version(&platform.db).await?;
    let templates = face_template::Entity::find()
        .filter(face_template::Column::EmbedderSha256.eq(embedder.as_str()))
        .order_by_asc(face_template::Column::CreatedAt)
        .all(&platform.db)
        .await
        .db("loading face templates")?;
    let mut by_user: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut dim = 0u32;
    for row in templates {
        match runtime.cipher.open(row.user_id, &row.sealed) {
            Ok(embedding) => {
                dim = embedding.dim() as u32;
                by_user
                    .entry(row.user_id)
                    .or_default()
                    .push(B64.encode(embedding_bytes(&embedding)));
            }
            Err(_) => {
                tracing::error!(template = %row.id, "A face template does not open with the configured key; left out.")
            }
        }
    }
    let ids: Vec<Uuid> = by_user.keys().copied().collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .order_by_asc(user::Column::Name)
        .all(&platform.db)
        .await
        .db("loading gallery people")?;
    let windows = super::service::access_windows(&platform.db, Some(ids)).await?;
    let people = users
        .into_iter()
        .map(|u| GalleryPerson {
            id: u.id.to_string(),
            name: u.name,
            enabled: !u.disabled,
            windows: windows.get(&u.id).cloned().unwrap_or_default(),
            templates: by_user.remove(&u.id).unwrap_or_default(),
        })
        .collect();
    Ok(GallerySnapshot {
        version,
        embedder_sha256: embedder,
        dim,
        time_zone: runtime.time_zone_name.clone(),
        work_starts_at: runtime.work_starts_at.clone(),
        people,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct GalleryQuery {
    since: Option<u64>,
}

/// `GET /api/device/gallery` for devices.
#[utoipa::path(get, path = "/api/device/gallery", tag = "devices",
    params(("since" = Option<u64>, Query, description = "The version the device has; 304 when the gallery is not newer")),
    responses((status = 200, description = "`protocol::sync::GallerySnapshot`: version, embedder_sha256, dim, time_zone, work_starts_at, people (id, name, enabled, windows, templates as base64 little-endian f32)"),
        (status = 304, description = "Not newer than `since`"), (status = 401)),
    security(("device_token" = [])))]
pub(crate) async fn device_gallery(
    State(state): State<AppState>,
    headers: HeaderMap,
    QueryParams(query): QueryParams<GalleryQuery>,
) -> Result<Response, ApiError> {
    let device = device_from_headers(&state, &headers).await?;
    if let Some(since) = query.since {
        if current_version(&state.db).await? <= since {
            return Ok(StatusCode::NOT_MODIFIED.into_response());
        }
    }
    let snapshot = snapshot(&state).await?;
    tracing::debug!(device = %device.id, version = snapshot.version, people = snapshot.people.len(), "Gallery served.");
    Ok(Json(snapshot).into_response())
}
