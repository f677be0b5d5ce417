//! `GET /health` and `GET /metrics`.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use super::{
    db::{self, entities::device},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/health", tag = "platform", responses((status = 200, description = "Database and broker reachable"), (status = 503, description = "Degraded")))]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let database = match db::ping(&state.db).await {
        Ok(()) => "ok",
        Err(err) => {
            tracing::error!(error = %err, "Health check: database unreachable.");
            "error"
        }
    };
    let broker = if state.mqtt.is_connected() {
        "connected"
    } else {
        "disconnected"
    };
    let healthy = database == "ok" && broker == "connected";
    let body = Json(json!({
        "status": if healthy { "ok" } else { "degraded" },
        "database": database,
        "database_backend": format!("{:?}", state.db.get_database_backend()).to_lowercase(),
        "mqtt": broker,
        "mqtt_broker": if state.mqtt.external { "external" } else { "embedded" },
        "face_backend": "none",
        "version": env!("CARGO_PKG_VERSION"),
    }));
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "platform", responses((status = 200, description = "Prometheus/OpenMetrics text", content_type = "application/openmetrics-text")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match device::Entity::find()
        .filter(device::Column::Online.eq(true))
        .count(&state.db)
        .await
    {
        Ok(online) => {
            state.metrics.devices_online.set(online as i64);
        }
        Err(err) => tracing::warn!(error = %err, "Could not count online devices."),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
