//! The routes under `/sakip/api/v1` and `GET /sakip/api/v1/health`.

use axum::{
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{any, delete, get, post, put},
    Json, Router,
};
use platform::{i18n::Msg, security::ClientIp, state::AppState};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{
    api_keys,
    auth::{self, Caller},
    budget,
    cache::PerformanceCache,
    documents,
    entities::integration as integration_row,
    error::{Body, Path, SakipError},
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
    // The 405 answer is set on every route above (and on those routes only: other domains'
    // routers are merged later and keep theirs); the catch-all, added after, answers 404 for
    // any other path below the base, so nothing under `/sakip/api/v1` leaves the envelope.
    level_routes(router)
        .method_not_allowed_fallback(method_not_allowed)
        .route(BASE, any(not_found))
        .route(&at("/"), any(not_found))
        .route(&at("/{*rest}"), any(not_found))
}

/// Any path below `/sakip/api/v1` that names no route: 404 in the envelope.
async fn not_found() -> SakipError {
    SakipError::not_found("Rute tidak ditemukan", "Route not found")
}

/// A route asked with a method it does not take: 405 in the envelope (axum adds `Allow`).
async fn method_not_allowed() -> SakipError {
    SakipError::status(
        StatusCode::METHOD_NOT_ALLOWED,
        Msg::new(
            "Metode tidak diizinkan untuk rute ini",
            "Method not allowed for this route",
        ),
    )
}

/// `GET /sakip/api/v1/health`: `{status, timestamp, services: {database, redis,
/// external_apis}, details}` in the seed's words: `status` is `ok` or `error` (503), each
/// service `ok`, `error` or `unknown`. The database and Redis (when configured) decide the
/// status, as in the seed; Redis not configured is `unknown`. `external_apis` is `unknown`
/// without an active integration that has synced, `error` when one's last sync left it below
/// full health, else `ok` (it never makes the status `error`). `details` says more:
/// `redis` `not_configured`/`configured`, `external_apis` the active integrations and how
/// many of them are degraded.
#[utoipa::path(get, path = "/sakip/api/v1/health", tag = "sakip",
    responses((status = 200, description = "`{status: \"ok\", timestamp, services, details}`"), (status = 503, description = "`status: \"error\"`")))]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let word = |up: bool| if up { "ok" } else { "error" };
    let database = state.db.execute_unprepared("SELECT 1").await.is_ok();
    let redis = state.domain::<PerformanceCache>().redis_up().await;
    let active = integration_row::Entity::find()
        .filter(integration_row::Column::Status.eq("active"))
        .all(&state.db)
        .await
        .unwrap_or_default();
    let synced = active.iter().filter(|i| i.last_sync.is_some()).count();
    let degraded = active
        .iter()
        .filter(|i| i.last_sync.is_some() && i.health_score < 100)
        .count();
    let external = match (synced, degraded) {
        (0, _) => "unknown",
        (_, 0) => "ok",
        _ => "error",
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
            "status": word(healthy),
            "timestamp": planning::rfc3339(state.clock.now()),
            "services": {
                "database": word(database),
                "redis": redis.map_or("unknown", word),
                "external_apis": external,
            },
            "details": {
                "redis": if redis.is_some() { "configured" } else { "not_configured" },
                "external_apis": { "active": active.len(), "synced": synced, "degraded": degraded },
            },
        })),
    )
        .into_response()
}
