//! The audit trail: privileged and security-relevant actions (who, what, when, from where)
//! in `audit_log`, and `GET /api/audit` for access admins. Writing an entry never fails
//! the action it records: a failed write is logged at error.

use crate::http::extract::QueryParams;
use axum::{extract::State, routing::get, Json, Router};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    db::entities::audit,
    error::DbContext,
    http::error::ApiError,
    identity::{AccessAdmin, Guarded},
    security::ClientIp,
    state::AppState,
};

/// One action to record.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub actor_id: Option<Uuid>,
    pub actor: Option<String>,
    pub action: &'static str,
    pub target: Option<String>,
    pub detail: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub success: bool,
}

impl Entry {
    pub fn new(action: &'static str, ip: ClientIp) -> Self {
        Self {
            action,
            ip: ip.label(),
            success: true,
            ..Default::default()
        }
    }

    pub fn by(mut self, actor_id: Uuid, actor: impl Into<String>) -> Self {
        self.actor_id = Some(actor_id);
        let actor = actor.into();
        if !actor.is_empty() {
            self.actor = Some(actor);
        }
        self
    }

    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn failed(mut self) -> Self {
        self.success = false;
        self
    }
}

/// Appends `entry` at `at`.
pub async fn record(db: &impl ConnectionTrait, at: OffsetDateTime, entry: Entry) {
    let action = entry.action;
    let row = audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(at),
        actor_id: Set(entry.actor_id),
        actor: Set(entry.actor.map(|a| a.chars().take(200).collect())),
        action: Set(entry.action.to_owned()),
        target: Set(entry.target.map(|t| t.chars().take(200).collect())),
        detail: Set(entry.detail.map(|d| d.to_string())),
        ip: Set(entry.ip),
        success: Set(entry.success),
    };
    if let Err(err) = row.insert(db).await {
        tracing::error!(action, error = %err, "Could not write an audit entry.");
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/audit", get(list))
}

/// Filters for `GET /api/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action, e.g. `login_failed`.
    pub action: Option<String>,
    /// Only this actor's entries.
    pub actor_id: Option<Uuid>,
    /// At most this many entries, newest first (default 100, at most 500).
    pub limit: Option<u64>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub success: bool,
}

/// The audit list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditView>,
}

/// The newest audit entries (access admins).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditList), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Guarded<AccessAdmin>,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let mut select = audit::Entity::find();
    if let Some(action) = &query.action {
        select = select.filter(audit::Column::Action.eq(action.as_str()));
    }
    if let Some(actor) = query.actor_id {
        select = select.filter(audit::Column::ActorId.eq(actor));
    }
    let rows = select
        .order_by_desc(audit::Column::At)
        .order_by_desc(audit::Column::Id)
        .limit(query.limit.unwrap_or(100).clamp(1, 500))
        .all(&state.db)
        .await
        .db("listing the audit trail")?;
    Ok(Json(AuditList {
        entries: rows
            .into_iter()
            .map(|r| AuditView {
                id: r.id,
                at: r.at,
                actor_id: r.actor_id,
                actor: r.actor,
                action: r.action,
                target: r.target,
                detail: r.detail.and_then(|d| serde_json::from_str(&d).ok()),
                ip: r.ip,
                success: r.success,
            })
            .collect(),
    }))
}
