//! The routes under `/sakip/api/v1` and `GET /sakip/api/v1/health`.

use axum::{
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Json, Router,
};
use platform::{security::ClientIp, state::AppState};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{
    api_keys,
    auth::{self, Caller},
    budget,
    cache::PerformanceCache,
    documents,
    entities::integration as integration_row,
    error::{Body, Path},
    evaluation, integration, performance,
    planning::{self, Level, NodeInput},
    reports,
};

const BASE: &str = "/sakip/api/v1";

fn at(path: &str) -> String {
    format!("{BASE}{path}")
}

/// The four planning levels' routes: `POST /<level>`, `GET/PUT/DELETE /<level>/:id`.
fn level_routes(mut router: Router<AppState>) -> Router<AppState> {
    for level in Level::ALL {
        router = router
            .route(
                &at(&format!("/{}", level.name())),
                post(
                    move |State(s): State<AppState>,
                          c: Caller,
                          ip: ClientIp,
                          Body(b): Body<NodeInput>| {
                        planning::create_node(level, s, c, ip, b)
                    },
                ),
            )
            .route(
                &at(&format!("/{}/{{id}}", level.name())),
                get(
                    move |State(s): State<AppState>, c: Caller, Path(id): Path<i32>| {
                        planning::get_node(level, s, c, id)
                    },
                )
                .put(
                    move |State(s): State<AppState>,
                          c: Caller,
                          ip: ClientIp,
                          Path(id): Path<i32>,
                          Body(b): Body<NodeInput>| {
                        planning::update_node(level, s, c, ip, id, b)
                    },
                )
                .delete(
                    move |State(s): State<AppState>,
                          c: Caller,
                          ip: ClientIp,
                          Path(id): Path<i32>| {
                        planning::delete_node(level, s, c, ip, id)
                    },
                ),
            );
    }
    router
}

pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route(&at("/health"), get(health))
        .route(&at("/auth/login"), post(auth::login))
        .route(&at("/auth/refresh"), post(auth::refresh))
        .route(&at("/auth/logout"), post(auth::logout))
        .route(&at("/auth/me"), get(auth::me))
        .route(&at("/auth/mfa/enrol"), post(auth::mfa_enrol))
        .route(&at("/auth/mfa/confirm"), post(auth::mfa_confirm))
        .route(&at("/auth/mfa/verify"), post(auth::mfa_verify))
        .route(&at("/users"), get(auth::list_users).post(auth::create_user))
        .route(
            &at("/users/{id}"),
            put(auth::update_user).delete(auth::delete_user),
        )
        .route(
            &at("/opd"),
            get(planning::list_opd).post(planning::create_opd),
        )
        .route(
            &at("/opd/{id}"),
            get(planning::get_opd)
                .put(planning::update_opd)
                .delete(planning::delete_opd),
        )
        .route(
            &at("/renstra"),
            get(planning::list_renstra).post(planning::create_renstra),
        )
        .route(
            &at("/renstra/{id}"),
            get(planning::get_renstra)
                .put(planning::update_renstra)
                .delete(planning::delete_renstra),
        )
        .route(&at("/renstra/{id}/tree"), get(planning::tree))
        .route(&at("/indicators"), post(performance::create_indicator))
        .route(
            &at("/indicators/{id}"),
            get(performance::get_indicator)
                .put(performance::update_indicator)
                .delete(performance::delete_indicator),
        )
        .route(
            &at("/indicators/{id}/targets"),
            get(performance::get_targets).put(performance::put_targets),
        )
        .route(
            &at("/performance/achievements"),
            post(performance::submit_achievement),
        )
        .route(
            &at("/performance/achievements/{id}/verify"),
            post(performance::verify_achievement),
        )
        .route(
            &at("/performance/achievements/{id}/return"),
            post(performance::return_achievement),
        )
        .route(
            &at("/performance/achievements/{id}/documents"),
            // The upload is read in chunks and refused past `max_document_bytes`.
            post(documents::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            &at("/performance/achievements/{id}/documents/{doc}"),
            get(documents::download),
        )
        .route(&at("/performance/data"), get(performance::data))
        .route(
            &at("/budget/allocations"),
            get(budget::list_allocations).post(budget::create_allocation),
        )
        .route(
            &at("/budget/allocations/{id}/realizations"),
            post(budget::add_realization),
        )
        .route(&at("/budget/summary"), get(budget::summary))
        .route(
            &at("/evaluations"),
            get(evaluation::list).post(evaluation::create),
        )
        .route(
            &at("/evaluations/{id}"),
            get(evaluation::get).put(evaluation::update),
        )
        .route(&at("/reports/performance"), get(reports::performance))
        .route(&at("/dashboard/summary"), get(reports::dashboard))
        .route(
            &at("/integrations"),
            get(integration::list).post(integration::create),
        )
        .route(&at("/integrations/{id}"), get(integration::get))
        .route(&at("/integrations/{id}/sync"), post(integration::sync))
        .route(
            &at("/integrations/{id}/sync-logs"),
            get(integration::sync_logs),
        )
        .route(&at("/jobs/{id}"), get(integration::get_job))
        .route(&at("/api-keys"), get(api_keys::list).post(api_keys::create))
        .route(&at("/api-keys/{id}"), delete(api_keys::revoke));
    level_routes(router)
}

/// `GET /sakip/api/v1/health`: `{status, timestamp, services: {database, redis,
/// external_apis}}` (the seed's shape): 200 when the database (and Redis, when configured)
/// answers, else 503. `external_apis` is `not_configured` without an active integration,
/// else `degraded` when one's last sync left it below full health, else `connected`.
#[utoipa::path(get, path = "/sakip/api/v1/health", tag = "sakip",
    responses((status = 200, description = "`{status: \"healthy\", timestamp, services}`"), (status = 503)))]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let database = state.db.execute_unprepared("SELECT 1").await.is_ok();
    let redis = state.domain::<PerformanceCache>().redis_up().await;
    let active = integration_row::Entity::find()
        .filter(integration_row::Column::Status.eq("active"))
        .all(&state.db)
        .await
        .unwrap_or_default();
    let external = if active.is_empty() {
        "not_configured"
    } else if active
        .iter()
        .any(|i| i.last_sync.is_some() && i.health_score < 100)
    {
        "degraded"
    } else {
        "connected"
    };
    let healthy = database && redis != Some(false);
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if healthy { "healthy" } else { "unhealthy" },
            "timestamp": planning::rfc3339(state.clock.now()),
            "services": {
                "database": if database { "connected" } else { "disconnected" },
                "redis": match redis {
                    None => "not_configured",
                    Some(true) => "connected",
                    Some(false) => "disconnected",
                },
                "external_apis": external,
            },
        })),
    )
        .into_response()
}
