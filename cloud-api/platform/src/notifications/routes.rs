//! The notification endpoints of seed 000; every caller sees and changes only their own.

use crate::http::extract::{PathParams, QueryParams};
use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, put},
    Json, Router,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::service::{push, NotificationView};
use crate::{
    audit,
    db::entities::{notification, user},
    error::{DbContext, ServiceError},
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::{AccessAdmin, AuthUser, Guarded},
    security::ClientIp,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/notifications", get(list).post(create))
        .route("/api/notifications/{id}/read", put(mark_read))
        .route("/api/notifications/{id}", axum::routing::delete(delete))
}

fn not_found() -> ServiceError {
    ServiceError::NotFound(Msg::new(
        "Notifikasi tidak ditemukan",
        "Notification not found",
    ))
}

/// Filters for `GET /api/notifications`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: Option<bool>,
    /// At most this many, newest first (default 50, at most 200).
    pub limit: Option<u64>,
}

/// The caller's notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<NotificationView>,
    /// How many of the caller's notifications are unread.
    pub unread: u64,
}

/// A notification written by an admin.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateNotification {
    /// The recipient; the caller when absent.
    pub user_id: Option<Uuid>,
    /// Defaults to `info`; 1–50 characters once trimmed (printable ASCII: the limit counts bytes).
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 50, pattern = "^[ -~]*[!-~][ -~]*$")]
    pub kind: Option<String>,
    /// 1–200 characters once trimmed.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub title: String,
    /// 1–2000 characters once trimmed.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub message: String,
}

/// `{"message", "notification"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub message: String,
    pub notification: NotificationView,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(ListQuery),
    responses((status = 200, body = NotificationList), (status = 401)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let mut select =
        notification::Entity::find().filter(notification::Column::UserId.eq(claims.sub));
    if query.unread == Some(true) {
        select = select.filter(notification::Column::Read.eq(false));
    }
    let rows = select
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(query.limit.unwrap_or(50).clamp(1, 200))
        .all(&state.db)
        .await
        .db("listing notifications")?;
    let unread = notification::Entity::find()
        .filter(notification::Column::UserId.eq(claims.sub))
        .filter(notification::Column::Read.eq(false))
        .count(&state.db)
        .await
        .db("counting unread notifications")?;
    Ok(Json(NotificationList {
        notifications: rows.into_iter().map(Into::into).collect(),
        unread,
    }))
}

/// Sends a notification to a user (access admins).
#[utoipa::path(post, path = "/api/notifications", tag = "notifications", request_body = CreateNotification,
    responses((status = 201, body = NotificationResponse, links(
            ("MarkRead" = (operation_ref = "#/paths/~1api~1notifications~1{id}~1read/put",
                parameters(("id" = "$response.body#/notification/id")))),
            ("Delete" = (operation_ref = "#/paths/~1api~1notifications~1{id}/delete",
                parameters(("id" = "$response.body#/notification/id")))))),
        (status = 400), (status = 401),
        (status = 403), (status = 404, description = "No such recipient")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create(
    State(state): State<AppState>,
    admin: Guarded<AccessAdmin>,
    ip: ClientIp,
    JsonBody(body): JsonBody<CreateNotification>,
) -> Result<(StatusCode, Json<NotificationResponse>), ApiError> {
    let title = body.title.trim();
    let message = body.message.trim();
    let kind = body.kind.as_deref().map(str::trim).unwrap_or("info");
    if title.is_empty() || message.is_empty() {
        return Err(ApiError::bad_request(Msg::new(
            "title dan message harus diisi",
            "title and message are required",
        )));
    }
    if title.chars().count() > 200
        || message.chars().count() > 2000
        || kind.is_empty()
        || kind.len() > 50
    {
        return Err(ApiError::bad_request(Msg::new(
            "title maksimal 200 karakter, message 2000, type 1-50",
            "title may have at most 200 characters, message 2000, type 1-50",
        )));
    }
    let recipient = body.user_id.unwrap_or(admin.claims.sub);
    if user::Entity::find_by_id(recipient)
        .one(&state.db)
        .await
        .db("looking up a recipient")?
        .is_none()
    {
        return Err(
            ServiceError::NotFound(Msg::new("User tidak ditemukan", "User not found")).into(),
        );
    }
    let now = state.clock.now();
    let row = notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(recipient),
        kind: Set(kind.to_owned()),
        title: Set(title.to_owned()),
        message: Set(message.to_owned()),
        device_id: Set(None),
        event_id: Set(None),
        read: Set(false),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await
    .db("creating a notification")?;
    let view = NotificationView::from(row);
    audit::record(
        &state.db,
        now,
        audit::Entry::new("notification_create", ip)
            .by(admin.claims.sub, admin.claims.email.clone())
            .target(format!("user:{recipient}"))
            .detail(json!({ "type": kind, "notification": view.id })),
    )
    .await;
    push(&state, std::slice::from_ref(&view)).await;
    let msg = Msg::new("Notifikasi terkirim", "Notification sent");
    Ok((
        StatusCode::CREATED,
        Json(NotificationResponse {
            message: msg.localized().to_owned(),
            notification: view,
        }),
    ))
}

async fn own(state: &AppState, user: Uuid, id: &str) -> Result<notification::Model, ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user))
        .one(&state.db)
        .await
        .db("loading a notification")?
        .ok_or_else(|| not_found().into())
}

/// Marks one of the caller's notifications read.
#[utoipa::path(put, path = "/api/notifications/{id}/read", tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NotificationResponse), (status = 401), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(id): PathParams<String>,
) -> Result<Json<NotificationResponse>, ApiError> {
    let row = own(&state, claims.sub, &id).await?;
    let mut active: notification::ActiveModel = row.into();
    active.read = Set(true);
    let row = active
        .update(&state.db)
        .await
        .db("marking a notification read")?;
    let msg = Msg::new("Notifikasi ditandai dibaca", "Notification marked read");
    Ok(Json(NotificationResponse {
        message: msg.localized().to_owned(),
        notification: row.into(),
    }))
}

/// Deletes one of the caller's notifications.
#[utoipa::path(delete, path = "/api/notifications/{id}", tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{\"message\"}`"), (status = 401), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(id): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let row = own(&state, claims.sub, &id).await?;
    notification::Entity::delete_by_id(row.id)
        .exec(&state.db)
        .await
        .db("deleting a notification")?;
    let msg = Msg::new("Notifikasi dihapus", "Notification deleted");
    Ok(Json(json!({ "message": msg.localized() })))
}
